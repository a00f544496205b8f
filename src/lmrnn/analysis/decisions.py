"""Psychometric curves of the decision-making tasks (Yang et al. 2019, Fig 1-2 style).

The DM tasks (the ``dm`` family: dm1, dm2, ctxdm1, ctxdm2, multidm; the ``dlydm`` family: their
delayed versions; and their Int/Seq compositions) show two stimuli at directions θ1 and θ2;
the answer is θ1 when the evidence for it is larger. The **signed evidence** of a trial is
Σ_rings w_r (s1_r - s2_r), the strength of stimulus 1 minus that of stimulus 2 on each ring,
weighted by the task's modality weights (dm: s1 - s2 = the signed coherence c ∈ ±{0.08, 0.16,
0.32, 0.64} per ring; ctxdm1 counts ring 1 only, multidm both; dlydm: differences of the
strengths {0.3, 0.6, 1.0}); see :mod:`lmrnn.tasks.families`.

The network's **choice** between the two offered answers: the one whose ring output has the
larger logit, averaged over the decision period (for Int/Seq tasks the two answers are moved as
the target is). P(choose direction 1) against the signed evidence is fitted by maximum
likelihood with a logistic with lapse,

    P(x) = λ/2 + (1 - λ) / (1 + exp(-k (x - b))),

slope k (per unit of evidence), bias b (the evidence at P = 0.5) and lapse λ ∈ [0, 1] (the
fraction of trials answered at random), with :func:`scipy.optimize.minimize` (L-BFGS-B).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy.optimize import minimize
from tqdm import tqdm

from lmrnn.analysis.activity import DM_FAMILIES, evidence
from lmrnn.analysis.common import Source, resolve, run_trials, select_tasks
from lmrnn.analysis.variance import task_seed
from lmrnn.checks import check_int, check_seed
from lmrnn.errors import LmrnnError
from lmrnn.tasks import RING, Collection, TrialBatch, performance, trial_batch

DEFAULT_PSYCHOMETRIC_TRIALS = 512  # trials per task
MAX_SLOPE = 500.0  # per unit of evidence: at the smallest coherence (0.08), a step
LEVEL_DECIMALS = 6  # evidence values equal to this many decimals are one level


def logistic_with_lapse(
    x: np.ndarray | float, slope: float, bias: float, lapse: float
) -> np.ndarray:
    """P(choose 1) = lapse/2 + (1 - lapse) σ(slope (x - bias))."""
    z = np.clip(slope * (np.asarray(x, dtype=np.float64) - bias), -500, 500)
    return lapse / 2 + (1 - lapse) / (1 + np.exp(-z))


@dataclass(frozen=True)
class LogisticFit:
    """A maximum-likelihood fit of :func:`logistic_with_lapse`.

    Attributes:
        slope: per unit of evidence (bounded to ±500); bias: the evidence at P = 0.5;
        lapse: in [0, 1], P spans [lapse/2, 1 - lapse/2].
        log_likelihood: at the fit (natural log, summed over trials); n: trials.
    """

    slope: float
    bias: float
    lapse: float
    log_likelihood: float
    n: int

    def predict(self, x: np.ndarray | float) -> np.ndarray:
        return logistic_with_lapse(x, self.slope, self.bias, self.lapse)

    def to_dict(self) -> dict[str, Any]:
        return {"slope": self.slope, "bias": self.bias, "lapse": self.lapse,
                "log_likelihood": self.log_likelihood, "n": self.n}  # fmt: skip


def _levels(x: np.ndarray, chose: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct evidence levels, P(choose 1) and trials at each."""
    levels, inverse = np.unique(np.round(x, LEVEL_DECIMALS), return_inverse=True)
    n = np.bincount(inverse, minlength=levels.size)
    k = np.bincount(inverse, weights=chose.astype(np.float64), minlength=levels.size)
    return levels, k / n, n


def fit_logistic(evidence: np.ndarray | Sequence[float],
                 chose_first: np.ndarray | Sequence[bool]) -> LogisticFit:  # fmt: skip
    """Fit P(choose 1 | evidence) by maximum likelihood (several starts, the best kept).

    Args:
        evidence: (n,) signed evidence per trial.
        chose_first: (n,) bool (or 0/1): the trial's choice was direction 1.
    """
    x = np.asarray(evidence, dtype=np.float64)
    y = np.asarray(chose_first)
    if x.ndim != 1 or y.shape != x.shape or x.size < 2 or not np.isfinite(x).all():
        raise LmrnnError(
            f"evidence and choices must be two finite 1-D arrays of the same length >= 2, got "
            f"shapes {x.shape} and {y.shape}."
        )
    if not np.isin(y, (0, 1)).all():
        raise LmrnnError("choices must be booleans or 0/1.")
    levels, p, n = _levels(x, y.astype(bool))
    k = p * n
    span = float(np.abs(levels).max()) or 1.0

    def nll(theta: np.ndarray) -> float:
        q = np.clip(logistic_with_lapse(levels, *theta), 1e-12, 1 - 1e-12)
        return float(-(k * np.log(q) + (n - k) * np.log1p(-q)).sum())

    bounds = [(-MAX_SLOPE, MAX_SLOPE), (-2 * span, 2 * span), (0.0, 1.0)]
    best = None
    for slope in (1.0, 10.0, 50.0, -10.0):
        for lapse in (0.01, 0.3):
            res = minimize(nll, np.array([slope / span, 0.0, lapse]), method="L-BFGS-B",
                           bounds=bounds)  # fmt: skip
            if best is None or res.fun < best.fun:
                best = res
    slope, bias, lapse = (float(v) for v in best.x)
    return LogisticFit(slope, bias, lapse, -float(best.fun), int(x.size))


def alternatives(batch: TrialBatch) -> tuple[torch.Tensor, torch.Tensor]:
    """(T, B) the labels the target would take at each step if direction 1, or direction 2,
    were the answer (the target moved by the trial's Int displacement and Seq drift; only the
    decision steps are meaningful)."""
    base = batch.base_response.unsqueeze(0)  # (1, B) label of the base task: dir + 1
    offset = (batch.targets - base) % RING  # how far the target sits from the base answer
    dirs = batch.stim_dir
    first = (dirs[:, 0].unsqueeze(0) + offset) % RING + 1
    second = (dirs[:, 1].unsqueeze(0) + offset) % RING + 1
    return first, second


def choices(logits: torch.Tensor, batch: TrialBatch) -> torch.Tensor:
    """(B,) bool: the network chose direction 1 (its logit above direction 2's, averaged over
    the decision period; see :func:`alternatives`). ``logits``: (T, B, 17)."""
    first, second = alternatives(batch)
    diff = logits.gather(-1, first.unsqueeze(-1)) - logits.gather(-1, second.unsqueeze(-1))
    t = torch.arange(batch.mask.shape[0], device=logits.device).unsqueeze(1)
    decision = ((t >= batch.decision_start) & batch.mask).to(diff.dtype)
    mean = (diff.squeeze(-1) * decision).sum(0) / decision.sum(0).clamp(min=1)
    return mean > 0


@dataclass(frozen=True)
class PsychometricCurve:
    """One task's psychometric curve.

    Attributes:
        task: its name.
        evidence: (L,) the distinct signed evidence levels, increasing.
        p_first: (L,) the fraction of trials at each level where the network chose direction 1.
        n: (L,) trials at each level.
        fit: the logistic with lapse fitted to the trials.
        accuracy: the fraction of trials right (``decision`` criterion).
        responded: the fraction of trials whose last step's argmax is a direction (not fixate).
    """

    task: str
    evidence: np.ndarray
    p_first: np.ndarray
    n: np.ndarray
    fit: LogisticFit
    accuracy: float
    responded: float

    def to_dict(self) -> dict[str, Any]:
        return {"evidence": self.evidence, "p_first": self.p_first, "n": self.n,
                "fit": self.fit.to_dict(), "accuracy": self.accuracy,
                "responded": self.responded}  # fmt: skip


@dataclass(frozen=True)
class Psychometric:
    """The psychometric curves of one network, one per DM task (in the collection's order)."""

    curves: dict[str, PsychometricCurve]
    trials: int
    seed: int
    network_seed: int
    run: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"trials": self.trials, "trial_seed": self.seed, "network_seed": self.network_seed,
                "tasks": list(self.curves),
                "curves": {t: c.to_dict() for t, c in self.curves.items()}}  # fmt: skip


def dm_tasks(collection: Collection, tasks: str | Sequence[str] | None = None) -> tuple[str, ...]:
    """The decision-making tasks among ``tasks`` (None: those of the collection); one sentence
    if a task named is not one, or if there are none."""
    names = select_tasks(collection, tasks)
    family = {t.name: t.family for t in collection.tasks}
    if tasks is None:
        names = tuple(n for n in names if family[n] in DM_FAMILIES)
        if not names:
            raise LmrnnError(
                "psychometric curves need a decision-making task (dm1, dm2, ctxdm1, ctxdm2, "
                "multidm or a delayed one), and this network's collection has none "
                f"({', '.join(collection.names[:4])}{', ...' if collection.n_tasks > 4 else ''})."
            )
    for name in names:
        if family[name] not in DM_FAMILIES:
            raise LmrnnError(
                f"psychometric curves need a decision-making task (the dm and dlydm families), "
                f"but {name!r} is a {family[name]} task."
            )
    return names


def psychometric(
    source: Source,
    tasks: str | Sequence[str] | None = None,
    trials: int = DEFAULT_PSYCHOMETRIC_TRIALS,
    seed: int = 0,
    seed_index: int = 0,
    collection: Collection | str | Sequence[str] | None = None,
    progress: bool = False,
) -> Psychometric:
    """Psychometric curves of one network (a run folder or a network, as
    :func:`lmrnn.analysis.record` takes) on ``trials`` noise-free trials with fixed timing per
    DM task (``tasks``: None for every DM task of the collection)."""
    subject = resolve(source, collection, seed_index)
    coll, net = subject.collection, subject.net
    names = dm_tasks(coll, tasks)
    trials, seed = check_int("trials", trials, minimum=2), check_seed("seed", seed)
    curves = {}
    for task in tqdm(names, disable=not progress, desc="psychometric", unit="task", leave=False):
        batch = trial_batch(coll, task, trials, task_seed(seed, task), device=net.weight_ih.device,
                            noise=False, timing="fixed")  # fmt: skip
        logits, _ = run_trials(net, batch)
        x = evidence(batch)[1].cpu().numpy()
        chose = choices(logits, batch).cpu().numpy()
        levels, p, n = _levels(x, chose)
        last = (batch.length - 1).unsqueeze(0)
        responded = logits.argmax(-1).gather(0, last).squeeze(0) > 0
        curves[task] = PsychometricCurve(
            task, levels, p, n, fit_logistic(x, chose),
            float(performance(logits, batch, "decision").float().mean()),
            float(responded.float().mean()),
        )  # fmt: skip
    return Psychometric(curves, trials, seed, subject.network_seed, subject.run)
