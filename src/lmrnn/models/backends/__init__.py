"""Recurrence back-ends: the same numbers at different speeds.

``dense``: masked dense matmul per step under autograd (the paper's approach; the reference).
``batched``: dense stacked weights, hand-written backward with one weight-gradient product.
``banded``: block-banded lattice recurrence for locality-like graphs (see ``banded.py``).
``cudnn``: PyTorch's fused RNN kernel with the masked weight, one network, relu/tanh.
``fused``: Triton kernels running the sparse recurrence of S networks, one launch per time
step, in a neighbour format (see ``fused.py``); CUDA, or the CPU under TRITON_INTERPRET=1.
``fused-bf16``: the same with the recurrent weights rounded to bfloat16 inside the recurrence
(half the bytes per step; fp32 sums, fp32 weights and gradients outside).
``sparse``: compiled (numba) CPU loops over each unit's K neighbours, for graphs whose units
all have the same in-degree K (see ``sparse.py``): S·B·N·K multiply-adds per step, not S·B·N².

:func:`choose_backend` picks one from the device, the number of networks, the graph's
density and the activation, or checks a forced choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lmrnn.errors import LmrnnError, check_choice
from lmrnn.graphs import Graph
from lmrnn.models.backends import fused, sparse
from lmrnn.models.backends.banded import BandLayout, band_layout, banded_recurrence
from lmrnn.models.backends.batched import batched_recurrence
from lmrnn.models.backends.cudnn import FUSED_ACTIVATIONS, fused_recurrence
from lmrnn.models.backends.dense import dense_recurrence

BACKENDS = ("auto", "dense", "batched", "banded", "cudnn", "fused", "fused-bf16", "sparse")

# CPU thresholds, read off benchmarks/recurrence.py on the project's 2-core CPU (batch 64 x
# 100 steps): banded beat the rest from n = 30 whenever its neighbour rows were at most half
# of all rows (n = 50, d = 10: 2.1x dense, batched 1.5x); at n = 20 nothing beat the plain
# dense loop except banded on autapse pools. batched against dense, forward and backward of an
# ensemble on Mod-Cog inputs, freed memory kept (2026-12-07, BENCHMARKS.md): at the training
# batches of 4 x 350 batched is 1.2-1.7x faster from N = 100 (5 seeds: N = 144 1.21x, 256 1.29x,
# 400 1.74x; a tie at N = 49), since dense's autograd adds an N x N weight gradient at each of
# the 350 steps; at 64 x 100 a tie (0.93x at N = 100, 0.98x at 256, 1.10x at 400).
BANDED_MAX_ROW_FRACTION = 0.5
# sparse (its C++ loops): a whole training step on the 2-core CPU, Mod-Cog, 3 seeds, 1 and 2
# threads (`benchmarks/step.py --crossover`, BENCHMARKS.md, 2026-12-06): 1.6-2.6x the best
# other back-end up to K = 0.22 N (LM(16x16, d=4), LM(20x20, d=5), LM(30x30, d=8)), a tie at
# 0.37-0.44 N (0.91-1.07x), slower at 0.63 N (0.73-0.87x); autapse pools 1.5-1.8x banded.
SPARSE_MAX_DENSITY = 0.3
BANDED_MIN_SIDE = 25
BATCHED_MIN_UNITS = 150


@dataclass(frozen=True)
class GraphShape:
    """What the back-end choice needs to know about the graph(s) of a model.

    in_degree: K when every unit of every graph has K incoming edges, else None.
    """

    n_units: int
    lattice_n: int | None
    bandwidth: int | None
    diagonal: bool
    in_degree: int | None = None

    @classmethod
    def of(cls, graphs: list[Graph]) -> GraphShape:
        sides = {g.lattice_side() for g in graphs}
        side = sides.pop() if len(sides) == 1 else None
        widths = [g.row_bandwidth() for g in graphs] if side is not None else [None]
        bandwidth = None if None in widths else max(widths)
        unique = list({id(g): g for g in graphs}.values())
        degrees = {sparse.uniform_in_degree(g.adjacency) for g in unique}
        degree = degrees.pop() if len(degrees) == 1 else None
        diagonal = all(g.is_diagonal for g in graphs)
        return cls(graphs[0].n_units, side, bandwidth, diagonal, degree)

    def layout(self) -> BandLayout | None:
        """The banded layout, None when the units are not on a lattice (and not autapses)."""
        if self.diagonal:
            return BandLayout(self.lattice_n or 0, 0, 1, diagonal=True)
        if self.lattice_n is None:
            return None
        return band_layout(self.lattice_n, self.bandwidth)


#: The back-ends that run leaky units (alpha < 1); banded on autapse pools only. cudnn's fused
#: RNN has no leak.
LEAKY_BACKENDS = ("auto", "dense", "batched", "banded", "sparse", "fused", "fused-bf16")


def check_backend(name: str, shape: GraphShape, n_seeds: int, activation: str,
                  alpha: float = 1.0) -> str:  # fmt: skip
    """Raise unless back-end ``name`` can run this model; return ``name``."""
    check_choice("back-end", name, BACKENDS)
    leaky_ok = name in LEAKY_BACKENDS and (name != "banded" or shape.diagonal)
    if alpha != 1.0 and not leaky_ok:
        raise LmrnnError(
            f"back-end {name!r} does not run leaky units (alpha = {alpha:g}); use 'auto', "
            "'dense', 'batched', 'sparse' or 'fused' (or 'banded' for an autapse pool)."
        )
    if name == "cudnn" and n_seeds != 1:
        raise LmrnnError(f"back-end 'cudnn' runs one network, not an ensemble of {n_seeds}.")
    if name == "cudnn" and activation not in FUSED_ACTIVATIONS:
        raise LmrnnError(
            f"back-end 'cudnn' supports activations relu and tanh, not {activation!r}."
        )
    if name.startswith("fused") and activation not in FUSED_ACTIVATIONS:
        raise LmrnnError(
            f"back-end {name!r} supports activations relu and tanh, not {activation!r}."
        )
    if name == "sparse" and shape.in_degree is None:
        raise LmrnnError(
            "back-end 'sparse' needs graphs whose units all have the same in-degree, which "
            "this graph lacks; use 'dense', 'batched' or 'banded'."
        )
    if name == "banded" and shape.layout() is None:
        raise LmrnnError(
            "back-end 'banded' needs units on an n×n lattice (N a perfect square), "
            "which this graph lacks; use 'dense' or 'batched'."
        )
    return name


def choose_backend(
    requested: str, shape: GraphShape, device: torch.device, n_seeds: int, activation: str,
    alpha: float = 1.0,
) -> str:  # fmt: skip
    """The back-end to run: ``requested`` if forced (after checking), else the fastest kind.

    CUDA: ``cudnn`` for one relu/tanh network; for ensembles ``banded`` where it pays (as on
    the CPU), else ``batched``. CPU: ``sparse`` (where its compiled loops are available) for
    graphs whose units all have the same in-degree K <= :data:`SPARSE_MAX_DENSITY` N (autapse
    pools included); else ``banded`` for autapse pools and for
    lattices of side >= :data:`BANDED_MIN_SIDE` whose neighbour rows are at most
    :data:`BANDED_MAX_ROW_FRACTION` of all rows; else ``batched`` from
    :data:`BATCHED_MIN_UNITS` units, ``dense`` below. Leaky units (``alpha`` < 1) the same,
    save ``cudnn`` (no leak) and ``banded`` off autapse pools: on CUDA ``batched``.
    """
    check_backend(requested, shape, n_seeds, activation, alpha)
    if requested.startswith("fused") and not fused.available(device):
        raise LmrnnError(
            f"back-end {requested!r} needs the triton package and a CUDA device (on the CPU, "
            "only under TRITON_INTERPRET=1, for testing); use 'auto'."
        )
    if requested == "sparse" and torch.device(device).type != "cpu":
        raise LmrnnError(
            f"back-end 'sparse' runs on the CPU, not on {torch.device(device).type}; use 'auto'."
        )
    if requested != "auto":
        return requested
    layout = shape.layout()
    if alpha != 1.0 and torch.device(device).type == "cuda":
        return "banded" if layout is not None and layout.diagonal else "batched"
    banded_pays = layout is not None and (
        layout.diagonal
        or (layout.n >= BANDED_MIN_SIDE and layout.width <= BANDED_MAX_ROW_FRACTION * layout.n
            and alpha == 1.0)  # banded has leaky units on autapse pools only
    )  # fmt: skip
    if torch.device(device).type == "cuda":
        if n_seeds == 1 and activation in FUSED_ACTIVATIONS:
            return "cudnn"
        # H100, LM(50x50, d=6), 15 seeds: banded 6.5 vs batched 7.1 ms per network at
        # 64 x 100, a tie at 4 x 350 (BENCHMARKS.md)
        return "banded" if banded_pays else "batched"
    sparse_pays = (shape.in_degree is not None and activation in sparse.ACTIVATIONS
                   and shape.in_degree <= SPARSE_MAX_DENSITY * shape.n_units)  # fmt: skip
    if sparse_pays and sparse.compiled_available():
        return "sparse"
    if banded_pays:
        return "banded"
    return "batched" if shape.n_units >= BATCHED_MIN_UNITS else "dense"


def run_recurrence(
    backend: str,
    drive: torch.Tensor,
    h0: torch.Tensor,
    weight: torch.Tensor,
    activation: str,
    layout: BandLayout | None,
    mask: torch.Tensor | None = None,
    alpha: float = 1.0,
) -> torch.Tensor:
    """Run a stacked back-end (not ``cudnn``): drive (T, S, B, N), h0 (S, B, N),
    weight (S, N, N) masked -> hidden states (T, S, B, N). ``fused`` and ``sparse`` need
    ``mask`` (S, N, N) or (N, N) bool, the graphs; ``alpha``: the leak (dense, batched, and
    banded on autapse pools)."""
    if backend == "dense":
        return dense_recurrence(drive, h0, weight, activation, alpha)
    if backend == "batched":
        return batched_recurrence(drive, h0, weight, activation, alpha)
    if backend == "banded":
        return banded_recurrence(drive, h0, weight, activation, layout, alpha)
    if backend in ("fused", "fused-bf16"):
        graph = fused.graph_format(mask)
        return fused.fused_sparse_recurrence(drive, h0, weight, graph, activation,
                                             bf16=backend == "fused-bf16", alpha=alpha)  # fmt: skip
    if backend == "sparse":
        return sparse.sparse_recurrence(drive, h0, weight, sparse.graph_format(mask), activation,
                                        alpha)  # fmt: skip
    raise LmrnnError(f"back-end {backend!r} cannot run stacked networks; use dense or batched.")


__all__ = [
    "BACKENDS",
    "BandLayout",
    "GraphShape",
    "band_layout",
    "banded_recurrence",
    "batched_recurrence",
    "check_backend",
    "choose_backend",
    "dense_recurrence",
    "fused_recurrence",
    "run_recurrence",
]
