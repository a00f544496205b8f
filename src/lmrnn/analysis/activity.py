"""What a network does on each trial: its hidden states, inputs, outputs and the trial conditions.

:func:`record` runs noise-free trials with fixed timing through one network, as the task
variance does (``trial_batch(..., noise=False, timing="fixed")``: every period at the middle of
its range, so that the trials of a task differ only in their conditions; a seeded sample of
conditions per task, the seed made from ``seed`` and the task's name). The result,
:class:`Activity`, holds time-major arrays over every recorded trial (the tasks' trials one after
the other, padded to the longest) and one column per trial condition, and saves to one ``.npz``
file that numpy opens without lmrnn::

    import json, numpy as np
    with np.load("activity.npz") as f:                # no pickles: allow_pickle=False works
        meta = json.loads(str(f["metadata"]))         # tasks, dt, units, and every key's meaning
        hidden, mask = f["hidden"], f["mask"]         # (T, B, N) float32, (T, B) bool
        trials = {k: f[k] for k in meta["trial_columns"]}   # one row per trial
    # pandas: pd.DataFrame(trials)

Units: time in steps of ``dt`` ms (``metadata["dt"]``); directions are ring indices 0..15
(angle 2πi/16); labels are 0 (fixate) or direction + 1; activity is the network's φ(·) output
(dimensionless), logits are the readout's pre-softmax values.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from lmrnn import __version__
from lmrnn.analysis.common import Source, resolve, run_trials, select_tasks
from lmrnn.analysis.variance import task_seed
from lmrnn.checks import check_int, check_seed
from lmrnn.errors import LmrnnError
from lmrnn.tasks import PERIODS, Collection, TrialBatch, performance, trial_batch
from lmrnn.tasks.registry import DLYDM, DM

FORMAT = "lmrnn.activity/1"
DEFAULT_ACTIVITY_TRIALS = 32  # trials per task
DM_FAMILIES = (DM, DLYDM)

#: Every per-trial column: name -> (dtype, meaning). Each is a (B,) array, one row per trial.
TRIAL_COLUMNS: dict[str, tuple[str, str]] = {
    "task": ("int64", "index of the trial's task in metadata['tasks']"),
    "task_name": ("str", "the trial's task"),
    "rule": ("int64", "rule index of the task in the network's collection (its rule input)"),
    "family": ("str", "the task's family: reach, dm, dlydm or match"),
    "stim1_dir": ("int64", "direction of the first stimulus, 0..15 (angle 2πi/16)"),
    "stim2_dir": ("int64", "direction of the second stimulus, 0..15; -1 if there is none"),
    "stim1_strength_ring1": ("float32", "strength of stimulus 1 on ring 1 (0: not shown)"),
    "stim1_strength_ring2": ("float32", "strength of stimulus 1 on ring 2 (0: not shown)"),
    "stim2_strength_ring1": ("float32", "strength of stimulus 2 on ring 1 (0: not shown)"),
    "stim2_strength_ring2": ("float32", "strength of stimulus 2 on ring 2 (0: not shown)"),
    "coherence_ring1": ("float64", "DM families: stimulus 1 minus stimulus 2 strength on ring 1 "
                        "(the signed coherence of dm tasks); NaN for other tasks"),
    "coherence_ring2": ("float64", "as coherence_ring1, on ring 2"),
    "evidence": ("float64", "DM families: the task's modality weights times the coherences, "
                 "summed over rings (> 0: direction 1 is the answer); NaN for other tasks"),
    **{f"{p}_start": ("int64", f"first step of the {p} period (steps of dt)") for p in PERIODS},
    "length": ("int64", "steps of the trial (later steps are padding: mask False)"),
    "delay_ms": ("int64", "duration of the delay period in ms"),
    "response": ("int64", "target label at the first decision step (0: fixate, i + 1: "
                 "direction i)"),
    "output": ("int64", "the network's label (argmax of the logits) at the trial's last step"),
    "correct": ("bool", "the network's argmax is the target at every decision step"),
}  # fmt: skip

#: The arrays over time: name -> (shape, meaning).
ARRAYS: dict[str, tuple[str, str]] = {
    "hidden": ("(T, B, N) float32", "hidden states h_1..h_T, the network's activity"),
    "inputs": ("(T, B, n_in) float32", "inputs [fixation, ring 1 (16), ring 2 (16), rules]"),
    "logits": ("(T, B, 17) float32", "outputs: 0 = fixate, i + 1 = ring direction i"),
    "targets": ("(T, B) int64", "target labels (0 on padding)"),
    "mask": ("(T, B) bool", "True on each trial's own steps (False: padding)"),
}


@dataclass(frozen=True)
class Activity:
    """Noise-free trials of one network with fixed timing, time-major.

    B trials (those of ``tasks[0]``, then those of ``tasks[1]``, ...), T steps of ``dt`` ms
    (the longest trial; shorter ones padded with zeros, ``mask`` False), N hidden units.

    Attributes:
        hidden: (T, B, N) float32 hidden states h_1..h_T (the activity, φ's output).
        inputs: (T, B, n_in) float32 inputs [fixation, ring 1 (16), ring 2 (16), rule one-hot].
        logits: (T, B, 17) float32 outputs (0 = fixate, i + 1 = ring direction i).
        targets: (T, B) int64 target labels, 0 on padding.
        mask: (T, B) bool, True on the trial's own steps.
        trials: column -> (B,) array, the trial conditions (see :data:`TRIAL_COLUMNS`).
        tasks: the recorded tasks, in order (``trials["task"]`` indexes them).
        collection: every task of the network's collection, in rule order.
        dt: ms per step.
        seed: the seed the trials were drawn from.
        network_seed: the seed of the network's weights.
        run: the run folder, or None.
    """

    hidden: np.ndarray
    inputs: np.ndarray
    logits: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    trials: dict[str, np.ndarray] = field(repr=False)
    tasks: tuple[str, ...]
    collection: tuple[str, ...]
    dt: int
    seed: int
    network_seed: int
    run: str | None = None

    @property
    def n_trials(self) -> int:
        return int(self.hidden.shape[1])

    @property
    def n_units(self) -> int:
        return int(self.hidden.shape[2])

    def task_trials(self, task: str) -> np.ndarray:
        """(b,) int64 indices of the trials of ``task``."""
        if task not in self.tasks:
            raise LmrnnError(
                f"task {task!r} was not recorded; the activity has {', '.join(self.tasks)}."
            )
        return np.flatnonzero(self.trials["task"] == self.tasks.index(task))

    def states(self, task: str | None = None) -> np.ndarray:
        """(M, N) float32 the hidden states of every trial step (of ``task``'s trials only, if
        given), padding left out, trials one after the other."""
        trials = self.task_trials(task) if task is not None else np.arange(self.n_trials)
        hidden = self.hidden[:, trials].transpose(1, 0, 2)  # (b, T, N)
        return hidden[self.mask[:, trials].T]

    def metadata(self) -> dict[str, Any]:
        """What the ``.npz`` file's ``metadata`` string holds (JSON)."""
        return {
            "format": FORMAT,
            "lmrnn": __version__,
            "tasks": list(self.tasks),
            "collection": list(self.collection),
            "dt": self.dt,
            "periods": list(PERIODS),
            "n_units": self.n_units,
            "seed": self.seed,
            "network_seed": self.network_seed,
            "run": self.run,
            "arrays": {k: f"{shape}: {text}" for k, (shape, text) in ARRAYS.items()},
            "trial_columns": list(TRIAL_COLUMNS),
            "columns": {k: f"(B,) {dtype}: {text}" for k, (dtype, text) in TRIAL_COLUMNS.items()},
        }

    def save(self, path: str | Path) -> Path:
        """Write everything to one compressed ``.npz`` (plain arrays, no pickles) with the
        metadata as a JSON string under ``metadata``; returns the path."""
        path = Path(path)
        if path.suffix != ".npz":
            raise LmrnnError(f"activity is saved as .npz; got {str(path)!r}.")
        arrays = {k: getattr(self, k) for k in ARRAYS}
        np.savez_compressed(path, **arrays, **self.trials,
                            metadata=np.array(json.dumps(self.metadata())))  # fmt: skip
        return path

    @classmethod
    def load(cls, path: str | Path) -> Activity:
        """Read back an activity written by :meth:`save`."""
        try:
            with np.load(path, allow_pickle=False) as f:
                meta = json.loads(str(f["metadata"]))
                if meta.get("format") != FORMAT:
                    raise LmrnnError(f"{str(path)!r} is not an lmrnn activity file.")
                arrays = {k: f[k] for k in ARRAYS}
                trials = {k: f[k] for k in meta["trial_columns"]}
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            if isinstance(exc, LmrnnError):
                raise
            raise LmrnnError(f"cannot read activity file {str(path)!r}: {exc}.") from exc
        return cls(**arrays, trials=trials, tasks=tuple(meta["tasks"]),
                   collection=tuple(meta["collection"]), dt=int(meta["dt"]),
                   seed=int(meta["seed"]), network_seed=int(meta["network_seed"]),
                   run=meta["run"])  # fmt: skip

    def summary(self) -> dict[str, Any]:
        """Per task: trials, steps and accuracy (``decision`` criterion); for the JSON."""
        per_task = {}
        for i, task in enumerate(self.tasks):
            rows = self.trials["task"] == i
            per_task[task] = {
                "trials": int(rows.sum()),
                "steps": int(self.trials["length"][rows].max()),
                "accuracy": float(self.trials["correct"][rows].mean()),
            }
        return {"tasks": list(self.tasks), "n_trials": self.n_trials, "n_steps":
                int(self.hidden.shape[0]), "n_units": self.n_units, "dt": self.dt,
                "trial_seed": self.seed, "network_seed": self.network_seed,
                "per_task": per_task}  # fmt: skip


def evidence(batch: TrialBatch) -> tuple[torch.Tensor, torch.Tensor]:
    """The DM evidence of every trial of ``batch``: the coherences (B, 2) (stimulus 1 minus
    stimulus 2 strength on each ring) and their sum weighted by the task's modality weights
    (B,), both NaN for trials of tasks outside the DM families."""
    coll = batch.collection
    weights = coll.tables(batch.task.device)["floats"][:, :2].index_select(0, batch.task)
    s = batch.stim_strength.double()  # (B, stimulus, ring)
    coh = s[:, 0] - s[:, 1]
    dm = torch.tensor([coll.tasks[i].family in DM_FAMILIES for i in batch.task.tolist()],
                      device=coh.device)  # fmt: skip
    nan = torch.full_like(coh, float("nan"))
    coh = torch.where(dm.unsqueeze(1), coh, nan)
    return coh, (coh * weights.double()).sum(1)


def _columns(batch: TrialBatch, logits: torch.Tensor, index: int, task: str) -> dict[str, Any]:
    b = batch.task.numel()
    coh, ev = evidence(batch)
    strength = batch.stim_strength.float()
    last = (batch.length - 1).clamp(min=0)
    cols: dict[str, Any] = {
        "task": np.full(b, index, dtype=np.int64),
        "task_name": np.full(b, task),
        "rule": batch.task,
        "family": np.full(b, batch.collection.tasks[batch.collection.index(task)].family),
        "stim1_dir": batch.stim_dir[:, 0],
        "stim2_dir": batch.stim_dir[:, 1],
        "stim1_strength_ring1": strength[:, 0, 0],
        "stim1_strength_ring2": strength[:, 0, 1],
        "stim2_strength_ring1": strength[:, 1, 0],
        "stim2_strength_ring2": strength[:, 1, 1],
        "coherence_ring1": coh[:, 0],
        "coherence_ring2": coh[:, 1],
        "evidence": ev,
        **{f"{p}_start": batch.period_starts[:, i] for i, p in enumerate(PERIODS)},
        "length": batch.length,
        "delay_ms": batch.delay_ms,
        "response": batch.response,
        "output": logits.argmax(-1).gather(0, last.unsqueeze(0)).squeeze(0),
        "correct": performance(logits, batch, "decision"),
    }
    out = {}
    for name, (dtype, _) in TRIAL_COLUMNS.items():
        value = cols[name]
        value = value.cpu().numpy() if torch.is_tensor(value) else value
        out[name] = np.asarray(value, dtype=str if dtype == "str" else dtype)
    return out


def _pad(x: np.ndarray, steps: int) -> np.ndarray:
    return np.concatenate([x, np.zeros((steps - x.shape[0], *x.shape[1:]), x.dtype)], 0)


def record(
    source: Source,
    tasks: str | Sequence[str] | None = None,
    trials: int = DEFAULT_ACTIVITY_TRIALS,
    seed: int = 0,
    seed_index: int = 0,
    collection: Collection | str | Sequence[str] | None = None,
    progress: bool = False,
) -> Activity:
    """Record one network on ``trials`` noise-free, fixed-timing trials of each of ``tasks``.

    Args:
        source: a run folder (seed ``seed_index`` of its ensemble), or a network (a MaskedRNN,
            or an EnsembleRNN and ``seed_index``), which then needs ``collection``.
        tasks: a task name, a list of names, or None: every task of the collection.
        trials: trials per task; a task's trials are ``trial_batch(collection, task, trials,
            task_seed(seed, task), noise=False, timing="fixed")``, those of the task variance.
        seed: the seed of the trials.
        collection: the network's collection (only for a network given directly).
        progress: a tqdm bar over the tasks.

    Memory: the arrays take about 4·T·B·(N + n_in + 17) bytes (B = trials × tasks).
    """
    subject = resolve(source, collection, seed_index)
    coll, net = subject.collection, subject.net
    names = select_tasks(coll, tasks)
    trials, seed = check_int("trials", trials), check_seed("seed", seed)
    parts = []
    for index, task in enumerate(tqdm(names, disable=not progress, desc="recording", unit="task",
                                      leave=False)):  # fmt: skip
        batch = trial_batch(coll, task, trials, task_seed(seed, task), device=net.weight_ih.device,
                            noise=False, timing="fixed")  # fmt: skip
        logits, hidden = run_trials(net, batch)
        arrays = {"hidden": hidden, "inputs": batch.inputs, "logits": logits,
                  "targets": batch.targets, "mask": batch.mask}  # fmt: skip
        parts.append(({k: v.cpu().numpy() for k, v in arrays.items()},
                      _columns(batch, logits, index, task)))  # fmt: skip
    steps = max(p[0]["mask"].shape[0] for p in parts)
    arrays = {k: np.concatenate([_pad(p[0][k], steps) for p in parts], 1) for k in ARRAYS}
    columns = {k: np.concatenate([p[1][k] for p in parts]) for k in TRIAL_COLUMNS}
    return Activity(**arrays, trials=columns, tasks=names, collection=coll.names, dt=coll.dt,
                    seed=seed, network_seed=subject.network_seed, run=subject.run)  # fmt: skip
