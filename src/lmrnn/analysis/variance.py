"""Task variance (Yang et al. 2019): how much each unit's activity varies within each task.

For each task, ``trials`` noise-free trials with fixed timing (every period at the middle of its
range, so that the trials differ only in their conditions: stimuli, strengths, matches, as in
Yang et al.'s test trials; a seeded sample of conditions, the seed made from ``seed`` and the
task's name) are run through one network. A unit's variance for the task is its variance across
trials at each time step after fixation (steps ``t >= period_starts[:, 1]``, the stim1 onset, and
``t < length``; population variance, ddof 0), averaged over those steps. Units
whose variance summed over tasks is at most ``threshold`` are dropped, and each kept unit's
row is divided by its maximum, giving the unit x task matrix of the paper's Fig 3a and
Figs 7-11.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from lmrnn.analysis.common import check_fits, run_trials, single_network
from lmrnn.checks import check_int
from lmrnn.errors import LmrnnError
from lmrnn.models import EnsembleRNN, MaskedRNN
from lmrnn.seeds import derive_seed
from lmrnn.tasks import Collection, TrialBatch, get_collection, trial_batch
from lmrnn.tasks.timing import STIM1

DEFAULT_TRIALS = 256
DEFAULT_THRESHOLD = 1e-3  # Yang et al.'s cut on the summed variance


@dataclass(frozen=True)
class TaskVariance:
    """The unit x task variance matrix of one network.

    Attributes:
        variance: (N, n_tasks) float64, raw variance of every unit (activity units squared).
        normalized: (n_kept, n_tasks) float64, rows of the kept units divided by their max.
        kept: (n_kept,) int64 indices of the units whose summed variance exceeds ``threshold``.
        tasks: task names, in the columns' order (rule order).
        threshold: the cut on the summed variance.
    """

    variance: np.ndarray
    normalized: np.ndarray
    kept: np.ndarray
    tasks: tuple[str, ...]
    threshold: float

    @property
    def preferred_task(self) -> np.ndarray:
        """(n_kept,) column index of each kept unit's largest variance."""
        return self.normalized.argmax(1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tasks": list(self.tasks),
            "threshold": self.threshold,
            "n_units": int(self.variance.shape[0]),
            "n_kept": int(self.kept.size),
            "kept": self.kept,
            "variance": self.variance,
            "normalized": self.normalized,
        }


def task_seed(seed: int, task: str) -> int:
    """The seed of the analysis trials of ``task``: from ``seed`` and the task's name, so that
    a task gets the same trials in any collection."""
    return derive_seed(seed, zlib.crc32(task.encode()))


def after_fixation(batch: TrialBatch) -> torch.Tensor:
    """(T, B) bool: the steps of each trial from stim1 onset to its end."""
    t = torch.arange(batch.mask.shape[0], device=batch.mask.device).unsqueeze(1)
    return (t >= batch.period_starts[:, STIM1]) & batch.mask


def trial_variance(hidden: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Each unit's variance across trials, averaged over time.

    Args:
        hidden: (T, B, N) activity of B trials of one task.
        valid: (T, B) bool, the steps that count.

    Returns:
        (N,) float64: at each step the population variance over the trials valid there,
        averaged over the steps with at least two valid trials (0 if there are none).
    """
    if hidden.dim() != 3 or tuple(valid.shape) != tuple(hidden.shape[:2]):
        raise LmrnnError(
            f"hidden must be (T, B, N) and valid (T, B), got {tuple(hidden.shape)} and "
            f"{tuple(valid.shape)}."
        )
    h = hidden.double()
    w = valid.to(h.dtype).unsqueeze(-1)  # (T, B, 1)
    count = w.sum(1)  # (T, 1)
    mean = (h * w).sum(1) / count.clamp(min=1)
    var = (((h - mean.unsqueeze(1)) ** 2) * w).sum(1) / count.clamp(min=1)  # (T, N)
    steps = (count >= 2).squeeze(1)
    if not bool(steps.any()):
        return torch.zeros(h.shape[-1], dtype=torch.float64)
    return var[steps].mean(0).cpu()


def check_threshold(threshold: float) -> float:
    """Return ``threshold`` if it is a finite number >= 0, else raise."""
    ok = isinstance(threshold, (int, float)) and not isinstance(threshold, bool)
    if not (ok and np.isfinite(threshold) and threshold >= 0):
        raise LmrnnError(f"threshold must be a finite number >= 0, got {threshold!r}.")
    return float(threshold)


def variance_matrix(
    variance: np.ndarray | torch.Tensor,
    tasks: Sequence[str],
    threshold: float = DEFAULT_THRESHOLD,
) -> TaskVariance:
    """Drop quiet units and normalise: ``variance`` (N, n_tasks) raw -> :class:`TaskVariance`."""
    var = np.asarray(variance, dtype=np.float64)
    if var.ndim != 2 or var.shape[1] != len(tasks):
        raise LmrnnError(
            f"variance must be (N, n_tasks) with one column per task ({len(tasks)}), got shape "
            f"{var.shape}."
        )
    check_threshold(threshold)
    kept = np.flatnonzero(var.sum(1) > threshold)
    rows = var[kept]
    normalized = rows / rows.max(1, keepdims=True) if kept.size else rows
    return TaskVariance(var, normalized, kept.astype(np.int64), tuple(tasks), float(threshold))


def task_variance(
    model: MaskedRNN | EnsembleRNN,
    collection: Collection | str | Sequence[str],
    trials: int = DEFAULT_TRIALS,
    seed: int = 0,
    seed_index: int = 0,
    threshold: float = DEFAULT_THRESHOLD,
) -> TaskVariance:
    """The task variance matrix of ``model`` (seed ``seed_index`` of an ensemble).

    Trials of a task are ``trial_batch(collection, task, trials, task_seed(seed, task),
    noise=False, timing="fixed")``.
    """
    coll = get_collection(collection)
    net = single_network(model, seed_index)
    check_fits(net, coll)
    trials = check_int("trials", trials, minimum=2)  # a variance needs two
    check_threshold(threshold)
    columns = []
    for name in coll.names:
        batch = trial_batch(coll, name, trials, task_seed(seed, name), device=net.weight_ih.device,
                            noise=False, timing="fixed")  # fmt: skip
        _, hidden = run_trials(net, batch)
        columns.append(trial_variance(hidden, after_fixation(batch)))
    return variance_matrix(torch.stack(columns, 1).numpy(), coll.names, threshold)
