"""The recurrent weights and the activity of one network, laid out on its lattice.

Units sit on an n×n torus, unit i at row i // n and column i % n (:mod:`lmrnn.graphs.lattice`).
A network whose N is not a perfect square and has no lattice is laid out row by row on a
ceil(√N)-wide grid for pictures only; distance statistics then are not defined (None).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from lmrnn.analysis.common import check_fits, run_trials, single_network
from lmrnn.errors import LmrnnError
from lmrnn.graphs import torus_distance
from lmrnn.models import EnsembleRNN, MaskedRNN
from lmrnn.tasks import PERIODS, Collection, get_collection, trial_batch


def grid_shape(net: MaskedRNN) -> tuple[int, int]:
    """(rows, columns) of the picture grid: the lattice, or a near-square grid."""
    side = net.graph.lattice_side()
    if side is not None:
        return side, side
    cols = math.ceil(math.sqrt(net.n_units))
    return math.ceil(net.n_units / cols), cols


def on_grid(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(..., N) values -> (..., rows, cols), NaN where the grid has no unit."""
    rows, cols = shape
    out = np.full((*values.shape[:-1], rows * cols), np.nan)
    out[..., : values.shape[-1]] = values
    return out.reshape(*values.shape[:-1], rows, cols)


@dataclass(frozen=True)
class LatticeWeights:
    """The recurrent weight matrix W (W[i, j]: from unit j to unit i) seen on the lattice.

    Attributes:
        weight: (N, N) float64 masked recurrent weights.
        lattice_n: lattice side, or None without a lattice.
        centre: the unit whose connections are drawn (the middle of the lattice).
        incoming, outgoing: (rows, cols) W[centre, :] and W[:, centre] on the grid.
        distance: distinct torus distances between connected units (lattice spacings), or None.
        mean_abs: mean |W_ij| over the graph's edges at each distance, or None.
        n_edges: number of edges at each distance, or None.
        spectral_radius: largest |eigenvalue| of W.
    """

    weight: np.ndarray
    lattice_n: int | None
    centre: int
    incoming: np.ndarray
    outgoing: np.ndarray
    distance: np.ndarray | None
    mean_abs: np.ndarray | None
    n_edges: np.ndarray | None
    spectral_radius: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "lattice_n": self.lattice_n,
            "n_units": int(self.weight.shape[0]),
            "n_nonzero": int(np.count_nonzero(self.weight)),
            "spectral_radius": self.spectral_radius,
            "centre_unit": self.centre,
            "distance": self.distance,
            "mean_abs_weight_by_distance": self.mean_abs,
            "edges_by_distance": self.n_edges,
        }


def recurrent_on_lattice(model: MaskedRNN | EnsembleRNN, seed_index: int = 0) -> LatticeWeights:
    """Where the recurrent weights of ``model`` go on the lattice, and |W| by distance."""
    net = single_network(model, seed_index)
    w = net.recurrent_weight().detach().double().cpu().numpy()
    n_units = w.shape[0]
    shape = grid_shape(net)
    side = net.graph.lattice_side()
    centre = (shape[0] // 2) * shape[1] + shape[1] // 2 if side else n_units // 2
    centre = min(centre, n_units - 1)
    distance = mean_abs = n_edges = None
    if side is not None:
        dist = np.round(torus_distance(side).numpy(), 9)
        edges = net.graph.adjacency.numpy()
        distance, inverse = np.unique(dist[edges], return_inverse=True)
        n_edges = np.bincount(inverse, minlength=distance.size)
        mean_abs = np.bincount(inverse, weights=np.abs(w[edges]), minlength=distance.size) / n_edges
    radius = float(np.abs(np.linalg.eigvals(w)).max()) if n_units else 0.0
    return LatticeWeights(
        w, side, int(centre), on_grid(w[centre], shape), on_grid(w[:, centre], shape),
        distance, mean_abs, n_edges, radius,
    )  # fmt: skip


@dataclass(frozen=True)
class LatticeActivity:
    """The hidden activity of one noise-free trial, on the lattice over time.

    Attributes:
        task: the task; steps: (K,) the time steps drawn (the middle of each period shown).
        periods: the period of each drawn step; frames: (K, rows, cols) activity at those steps.
        hidden: (length, N) float64 the whole trial; period_starts: (5,) first step of each period.
    """

    task: str
    steps: np.ndarray
    periods: tuple[str, ...]
    frames: np.ndarray
    hidden: np.ndarray
    period_starts: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        starts = [*self.period_starts.tolist(), self.hidden.shape[0]]
        mean = {
            PERIODS[p]: float(self.hidden[starts[p] : starts[p + 1]].mean())
            for p in range(len(PERIODS))
            if starts[p + 1] > starts[p]
        }
        return {
            "task": self.task,
            "length": int(self.hidden.shape[0]),
            "period_starts": self.period_starts,
            "steps_drawn": self.steps,
            "periods_drawn": list(self.periods),
            "mean_activity_by_period": mean,
            "fraction_active": float((self.hidden > 0).mean()),
        }


def lattice_activity(
    model: MaskedRNN | EnsembleRNN,
    collection: Collection | str | list[str],
    task: str | None = None,
    seed: int = 0,
    seed_index: int = 0,
) -> LatticeActivity:
    """Hidden activity of one noise-free trial of ``task`` (default: the collection's first)."""
    coll = get_collection(collection)
    net = single_network(model, seed_index)
    check_fits(net, coll)
    name = coll.names[coll.index(task if task is not None else 0)]
    batch = trial_batch(coll, name, 1, seed, device=net.weight_ih.device, noise=False)
    _, hidden = run_trials(net, batch)
    length = int(batch.length[0])
    h = hidden[:length, 0].double().cpu().numpy()
    starts = batch.period_starts[0].cpu().numpy()
    bounds = [*starts.tolist(), length]
    shown = [p for p in range(len(PERIODS)) if bounds[p + 1] > bounds[p]]
    if not shown:
        raise LmrnnError(f"a trial of {name!r} has no steps to draw.")
    steps = np.array([(bounds[p] + bounds[p + 1] - 1) // 2 for p in shown], dtype=np.int64)
    frames = on_grid(h[steps], grid_shape(net))
    return LatticeActivity(name, steps, tuple(PERIODS[p] for p in shown), frames, h, starts)
