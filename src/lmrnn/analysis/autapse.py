"""The autapse-pool mechanism (paper Fig 3f-h): two classes of autapses, ablations, and
vector addition.

A trained autapse pool (d = 0) has one recurrent weight per unit, W_ii. The paper finds two
classes: W_ii near 0 (the unit follows its input, h ≈ φ(b_t)) and W_ii near 1 (the unit adds
its inputs up over the trial: memory). Here:

* **classes**: the optimal split of the W_ii into two groups on the line (exact 1-D
  2-means, i.e. the cut of the sorted weights that minimises the within-class sum of squares);
  the threshold is the midpoint between the largest low and the smallest high weight.
* **ablation** of a class, ``mode="autapse"`` (default, the paper's "ablating the autapses"):
  set those units' self-weights W_ii to 0; the units keep their input and readout, they only
  lose their memory. ``mode="silence"``: remove the units (zero their outgoing recurrent
  weights and readout weights), for comparison. Accuracy is then measured per task with
  :func:`lmrnn.train.evaluate` (noisy trials, the ``decision`` criterion).
* **vector addition** (Fig 3h): no dynamics; the pre-activation of a high-class unit is the
  running sum of its projected inputs, h0 + Σ_{n<=t} (W_in u_n + b_h) (eq. 5), that of a
  low-class unit its current projected input W_in u_t + b_h (its fixed point at W = 0); φ is
  applied once and the readout is the network's. ``mode="identity"`` sums for every unit
  (W replaced by I).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy.stats import gaussian_kde

from lmrnn.analysis.common import check_fits, single_network
from lmrnn.errors import LmrnnError, check_choice
from lmrnn.models import EnsembleRNN, MaskedRNN
from lmrnn.models.activations import ACTIVATIONS
from lmrnn.tasks import Collection, get_collection, performance, trial_batch
from lmrnn.tasks.registry import DLYDM, DM, MATCH
from lmrnn.train import evaluate

ABLATION_MODES = ("autapse", "silence")
ADDITION_MODES = ("classes", "identity")
DEFAULT_EVAL_SEED = 10_000  # the training engine's held-out evaluation seed


@dataclass(frozen=True)
class AutapseClasses:
    """The two classes of autapses.

    Attributes:
        weights: (N,) float64 self-weights W_ii.
        threshold: the cut; weights above it are in the high class.
        low, high: int64 unit indices of the near-0 and near-1 classes.
    """

    weights: np.ndarray
    threshold: float
    low: np.ndarray
    high: np.ndarray

    @property
    def dip_ratio(self) -> float:
        """How deep the valley between the classes is: the lowest density between the two class
        means over the lower of the two classes' peak densities (Gaussian KDE, half Scott's
        bandwidth). Near 0 for two separate modes, 0.55-0.85 for 256 uniform weights and
        0.5-0.8 for one normal mode cut in two; below 0.35 counts as bimodal."""
        if self.low.size < 2 or self.high.size < 2 or np.ptp(self.weights) == 0:
            return float("nan")
        kde = gaussian_kde(self.weights)
        kde.set_bandwidth(kde.factor / 2)
        lo, hi = self.weights[self.low].mean(), self.weights[self.high].mean()
        peaks = [
            kde(np.linspace(a, b, 200)).max()
            for a, b in ((self.weights.min(), self.threshold), (self.threshold, self.weights.max()))
        ]
        return float(kde(np.linspace(lo, hi, 200)).min() / min(peaks))

    def to_dict(self) -> dict[str, Any]:
        def mean(idx: np.ndarray) -> float:
            return float(self.weights[idx].mean()) if idx.size else float("nan")

        return {
            "threshold": self.threshold,
            "n_low": int(self.low.size),
            "n_high": int(self.high.size),
            "low_mean": mean(self.low),
            "high_mean": mean(self.high),
            "dip_ratio": self.dip_ratio,
            "low": self.low,
            "high": self.high,
            "weights": self.weights,
        }


def check_autapse_pool(net: MaskedRNN) -> None:
    """Raise unless ``net``'s recurrent graph has self-edges only (d = 0)."""
    if not net.graph.is_diagonal:
        raise LmrnnError(
            f"the autapse analysis needs an autapse pool (graph autapse or frozen_autapse, d = 0), "
            f"but this network's graph is {net.graph.kind!r} with {net.graph.n_edges} edges; "
            "train one with graph=autapse."
        )


def autapse_weights(model: MaskedRNN | EnsembleRNN, seed_index: int = 0) -> np.ndarray:
    """(N,) float64 self-weights W_ii of an autapse pool."""
    net = single_network(model, seed_index)
    check_autapse_pool(net)
    return net.recurrent_weight().detach().diagonal().double().cpu().numpy()


def split_autapses(weights: np.ndarray | Sequence[float]) -> AutapseClasses:
    """Split self-weights (N,) into a low and a high class by exact 1-D 2-means.

    All-equal weights (a frozen pool) form one class: high if >= 0.5, else low.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.size == 0 or not np.isfinite(w).all():
        raise LmrnnError(f"autapse weights must be a non-empty finite 1-D array, got {w.shape}.")
    order = np.argsort(w, kind="stable")
    s = w[order]
    if s[-1] - s[0] < 1e-9:
        high = bool(s[0] >= 0.5)
        idx = np.arange(w.size, dtype=np.int64)
        empty = np.zeros(0, dtype=np.int64)
        return AutapseClasses(w, 0.5, empty if high else idx, idx if high else empty)
    n = s.size
    csum, csq = np.cumsum(s), np.cumsum(s**2)
    k = np.arange(1, n)  # low class = first k sorted weights
    sse_low = csq[k - 1] - csum[k - 1] ** 2 / k
    sse_high = (csq[-1] - csq[k - 1]) - (csum[-1] - csum[k - 1]) ** 2 / (n - k)
    cut = int(k[np.argmin(sse_low + sse_high)])
    threshold = float((s[cut - 1] + s[cut]) / 2)
    return AutapseClasses(
        w, threshold, np.sort(order[:cut]).astype(np.int64), np.sort(order[cut:]).astype(np.int64)
    )


def ablate(net: MaskedRNN, units: Sequence[int] | np.ndarray, mode: str = "autapse") -> MaskedRNN:
    """A copy of ``net`` with ``units`` ablated (see the module doc for the two modes)."""
    check_choice("ablation mode", mode, ABLATION_MODES)
    idx = torch.as_tensor(np.asarray(units, dtype=np.int64), device=net.weight_ih.device)
    if idx.numel() and not (int(idx.min()) >= 0 and int(idx.max()) < net.n_units):
        raise LmrnnError(f"units to ablate must be in 0..{net.n_units - 1}.")
    out = copy.deepcopy(net).eval()
    with torch.no_grad():
        if mode == "autapse":
            out.weight_hh[idx, idx] = 0.0
        else:
            out.weight_hh[:, idx] = 0.0
            out.weight_ho[:, idx] = 0.0
    return out


#: The tasks whose accuracy survives the near-1 ablation in the paper (Fig 3g).
REACTION_TIME_TASKS = ("rtgo", "rtanti")


def chance_levels(collection: Collection) -> np.ndarray:
    """(n_tasks,) accuracy of guessing among the answers a trial offers: 1/16 for go/anti
    tasks (any direction), 1/2 for decision-making (two directions shown) and match tasks
    (respond or fixate)."""
    two_way = (DM, DLYDM, MATCH)
    return np.array([0.5 if t.family in two_way else 1 / 16 for t in collection.tasks])


@dataclass(frozen=True)
class Ablation:
    """Per-task accuracy (``decision`` criterion) of the intact and ablated networks.

    accuracy: condition ("intact", "low", "high", "random": as many units as the near-1 class,
    drawn at random, the control for the near-1 ablation) -> (n_tasks,) float64.
    above_chance: condition -> the mean over tasks (rtgo and rtanti left out, as the paper
    does) of (accuracy - chance) / (1 - chance): 1 for a perfect network, 0 at each task's
    chance level.
    """

    tasks: tuple[str, ...]
    accuracy: dict[str, np.ndarray]
    chance: np.ndarray
    mode: str
    trials: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "trials": self.trials,
            "tasks": list(self.tasks),
            "chance": self.chance,
            "accuracy": {k: dict(zip(self.tasks, v.tolist(), strict=True))
                         for k, v in self.accuracy.items()},
            "mean": {k: float(v.mean()) for k, v in self.accuracy.items()},
            "above_chance": self.above_chance(),
        }  # fmt: skip

    def above_chance(self) -> dict[str, float]:
        kept = np.array([t not in REACTION_TIME_TASKS for t in self.tasks])
        if not kept.any():
            kept[:] = True
        scale = (1 - self.chance[kept]).clip(min=1e-9)
        return {k: float(((v[kept] - self.chance[kept]) / scale).mean())
                for k, v in self.accuracy.items()}  # fmt: skip


def task_accuracy(net: MaskedRNN, collection: Collection, trials: int, seed: int) -> np.ndarray:
    """(n_tasks,) ``decision`` accuracy of one network on ``trials`` evaluation trials per task."""
    result = evaluate(net, collection, trials, seed, (0,), criteria=("decision",))
    return result.accuracy[0, :, 0].double().numpy()


def ablation_study(
    model: MaskedRNN | EnsembleRNN,
    collection: Collection | str | Sequence[str],
    classes: AutapseClasses | None = None,
    trials: int = 256,
    seed: int = DEFAULT_EVAL_SEED,
    seed_index: int = 0,
    mode: str = "autapse",
) -> Ablation:
    """Accuracy per task of the intact pool, with each class ablated (Fig 3g), and with as many
    units as the near-1 class ablated at random (the control: drawn from ``seed``)."""
    coll = get_collection(collection)
    net = single_network(model, seed_index)
    check_fits(net, coll)
    if classes is None:
        classes = split_autapses(autapse_weights(net))
    check_autapse_pool(net)
    acc = {"intact": task_accuracy(net, coll, trials, seed)}
    for name in ("low", "high"):
        acc[name] = task_accuracy(ablate(net, getattr(classes, name), mode), coll, trials, seed)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(net.n_units, size=classes.high.size, replace=False)
    acc["random"] = task_accuracy(ablate(net, chosen, mode), coll, trials, seed)
    return Ablation(coll.names, acc, chance_levels(coll), mode, trials)


@dataclass(frozen=True)
class VectorAddition:
    """Accuracy of explicit vector addition, and one example readout per task.

    accuracy: task -> fraction of trials right (``decision`` criterion, noise-free trials).
    readout: task -> (16,) float64 ring-output logits at the first decision step of trial 0.
    target: task -> the label (1..16) that trial asks for.
    """

    mode: str
    accuracy: dict[str, float]
    readout: dict[str, np.ndarray]
    target: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "accuracy": self.accuracy, "readout": self.readout,
                "target": self.target}  # fmt: skip


@torch.no_grad()
def added_logits(net: MaskedRNN, inputs: torch.Tensor, integrators: torch.Tensor) -> torch.Tensor:
    """Logits (T, B, 17) of explicit vector addition on ``inputs`` (T, B, n_in).

    ``integrators``: (N,) bool, units whose pre-activation is the running sum of their
    projected inputs; the other units take their current projected input.
    """
    drive = torch.nn.functional.linear(inputs, net.weight_ih, net.bias_h)  # (T, B, N)
    summed = net.h0 + drive.cumsum(0)
    pre = torch.where(integrators, summed, drive)
    hidden = ACTIVATIONS[net.config.activation](pre)
    return torch.nn.functional.linear(hidden, net.weight_ho, net.bias_o)


def vector_addition(
    model: MaskedRNN | EnsembleRNN,
    collection: Collection | str | Sequence[str],
    classes: AutapseClasses | None = None,
    tasks: Sequence[str] = ("go", "anti"),
    trials: int = 256,
    seed: int = DEFAULT_EVAL_SEED,
    seed_index: int = 0,
    mode: str = "classes",
) -> VectorAddition:
    """Solve ``tasks`` (those of them in the collection) by explicit vector addition (Fig 3h)."""
    check_choice("vector-addition mode", mode, ADDITION_MODES)
    coll = get_collection(collection)
    net = single_network(model, seed_index)
    check_fits(net, coll)
    check_autapse_pool(net)
    present = [t for t in tasks if t in coll.names]
    if not present:
        raise LmrnnError(
            f"none of the tasks {', '.join(tasks)} is in the network's collection "
            f"({', '.join(coll.names[:4])}, ...); name tasks it was trained on."
        )
    if classes is None:
        classes = split_autapses(autapse_weights(net))
    device = net.weight_ih.device
    integrators = torch.zeros(net.n_units, dtype=torch.bool, device=device)
    integrators[torch.as_tensor(classes.high, device=device)] = True
    if mode == "identity":
        integrators[:] = True
    accuracy, readout, target = {}, {}, {}
    for task in present:
        batch = trial_batch(coll, task, trials, seed, device=device, noise=False)
        logits = added_logits(net, batch.inputs, integrators)
        accuracy[task] = float(performance(logits, batch, "decision").float().mean())
        t0 = int(batch.decision_start[0])
        readout[task] = logits[t0, 0, 1:].double().cpu().numpy()
        target[task] = int(batch.targets[t0, 0])
    return VectorAddition(mode, accuracy, readout, target)
