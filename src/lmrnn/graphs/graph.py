"""The :class:`Graph`: a fixed connectivity G on the hidden-to-hidden weights.

Convention: ``adjacency[i, j]`` is True iff unit j projects to unit i, i.e. the recurrent
weight W_ij (row i = receiving unit) may be non-zero. The in-degree of unit i is the sum of
row i. Self-connections (autapses) are edges like any other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from lmrnn.errors import LmrnnError


@dataclass(frozen=True, eq=False)
class Graph:
    """A directed graph on N hidden units, stored densely with derived sparse forms.

    Attributes:
        adjacency: (N, N) bool tensor on the CPU; ``adjacency[i, j]`` = edge j -> i.
        kind: how it was made ("locality", "autapse", "dense", "erdos_renyi",
            "small_world" or "custom").
        lattice_n: side n of the n×n lattice the units sit on (N = n*n), or None.
        d: locality radius in lattice spacings, where one defines the graph.
        seed: the random seed of a random graph, else None.
    """

    adjacency: torch.Tensor
    kind: str
    lattice_n: int | None = None
    d: float | None = None
    seed: int | None = None
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        a = self.adjacency
        if a.dtype != torch.bool or a.dim() != 2 or a.shape[0] != a.shape[1]:
            raise LmrnnError(
                f"a graph's adjacency must be a square (N, N) bool tensor, got {a.dtype} "
                f"of shape {tuple(a.shape)}."
            )
        if self.lattice_n is not None and self.lattice_n**2 != a.shape[0]:
            raise LmrnnError(
                f"lattice side {self.lattice_n} needs N = {self.lattice_n**2} units, "
                f"but the adjacency has N = {a.shape[0]}."
            )

    @property
    def n_units(self) -> int:
        """N, the number of hidden units."""
        return self.adjacency.shape[0]

    @property
    def in_degree(self) -> torch.Tensor:
        """(N,) int64: incoming edges of each unit, its self-edge included if present."""
        return self.adjacency.sum(dim=1)

    @property
    def n_edges(self) -> int:
        """Number of edges = number of recurrent weights allowed to be non-zero."""
        return int(self.adjacency.sum())

    @property
    def density(self) -> float:
        """n_edges / N²."""
        return self.n_edges / self.n_units**2

    @property
    def neighbours(self) -> torch.Tensor | None:
        """(N, K) int64 source units of each unit in increasing order, when every unit has
        the same in-degree K; None otherwise. ``adjacency[i, neighbours[i]]`` is all True."""
        if "neighbours" not in self._cache:
            deg = self.in_degree
            if bool((deg == deg[0]).all()):
                cols = self.adjacency.nonzero()[:, 1]  # row-major: grouped by receiving unit
                self._cache["neighbours"] = cols.view(self.n_units, int(deg[0]))
            else:
                self._cache["neighbours"] = None
        return self._cache["neighbours"]

    @property
    def edge_index(self) -> torch.Tensor:
        """(2, E) int64: row 0 the receiving unit i, row 1 the sending unit j of each edge."""
        return self.adjacency.nonzero().t()

    def to_sparse(self) -> torch.Tensor:
        """The adjacency as a coalesced sparse COO (N, N) float32 tensor of ones."""
        idx = self.edge_index
        # an explicit opt-in to invariant checks (some torch versions warn when left implicit)
        with torch.sparse.check_sparse_tensor_invariants(enable=True):
            sparse = torch.sparse_coo_tensor(idx, torch.ones(idx.shape[1]), (self.n_units,) * 2)
            return sparse.coalesce()

    @property
    def is_diagonal(self) -> bool:
        """True when the only edges are self-edges (an autapse pool or a subset of one)."""
        off_diagonal = ~torch.eye(self.n_units, dtype=torch.bool)
        return not bool(self.adjacency.logical_and(off_diagonal).any())

    def row_bandwidth(self) -> int | None:
        """Largest lattice-row distance (on the torus) spanned by an edge, or None without a
        lattice. A locality mask of radius d has row bandwidth floor(d)."""
        n = self.lattice_side()
        if n is None:
            return None
        if "row_bandwidth" not in self._cache:
            i, j = self.edge_index // n
            gap = (i - j).abs()
            gap = torch.minimum(gap, n - gap)
            self._cache["row_bandwidth"] = int(gap.max()) if gap.numel() else 0
        return self._cache["row_bandwidth"]

    def lattice_side(self) -> int | None:
        """``lattice_n``, or sqrt(N) when N is a perfect square, else None."""
        if self.lattice_n is not None:
            return self.lattice_n
        root = math.isqrt(self.n_units)
        return root if root * root == self.n_units else None


def from_adjacency(adjacency: object, lattice_n: int | None = None) -> Graph:
    """A user-given graph from an (N, N) array of booleans or of 0/1 numbers.

    ``adjacency[i, j]`` nonzero means unit j projects to unit i. ``lattice_n`` optionally
    places the units on an n×n lattice (needs N = n²), which the banded back-end uses.
    """
    a = torch.as_tensor(np.asarray(adjacency) if not torch.is_tensor(adjacency) else adjacency)
    if a.dim() != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise LmrnnError(
            "a custom adjacency must be a non-empty square (N, N) array, "
            f"got shape {tuple(a.shape)}."
        )
    if a.dtype != torch.bool:
        if not bool(((a == 0) | (a == 1)).all()):
            raise LmrnnError(
                "a custom adjacency must hold only 0/1 or booleans, got other values "
                f"(e.g. {a[(a != 0) & (a != 1)][0].item()!r})."
            )
        a = a != 0
    return Graph(a.detach().cpu().clone(), kind="custom", lattice_n=lattice_n)
