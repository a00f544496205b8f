"""The graphs the paper compares, each returned as a :class:`~lmrnn.graphs.graph.Graph`.

All masks include self-edges where the paper's does: the locality mask contains each unit
(distance 0 <= d), and the random baselines keep that self-edge so edge counts match.
"""

from __future__ import annotations

import torch

from lmrnn.errors import LmrnnError
from lmrnn.graphs.checks import check_int, check_no_wrap, check_radius, check_seed
from lmrnn.graphs.graph import Graph
from lmrnn.graphs.lattice import locality_degree, within
from lmrnn.seeds import derive_seed

_GRAPH_STREAM = 0x67726170  # "grap": random graphs draw from a stream of their own


def _graph_generator(seed: int) -> torch.Generator:
    """The generator of a random graph of seed ``seed``.

    A stream of its own, apart from ``torch.Generator().manual_seed(seed)``: a model seeds its
    graph and its initial weights with the same number by default, and an Erdős–Rényi graph
    built from the largest of the very uniforms the weight init then draws would put only
    weights near +bound on its edges (spectral radius ~1.7 instead of ~0.6).
    """
    seed = check_seed("seed", seed)
    return torch.Generator().manual_seed(derive_seed(seed, _GRAPH_STREAM))


def locality(n: int, d: float) -> Graph:
    """The locality mask on an n×n torus: edge j -> i iff torus distance(i, j) <= d.

    N = n² units; every unit has in-degree ``locality_degree(d)`` (113 at d=6, 317 at d=10).
    d = 0 gives the identity: a pool of autapses. A radius whose neighbourhood wraps onto
    itself (2⌊d⌋ + 1 > n) is refused (:func:`~lmrnn.graphs.checks.check_no_wrap`); build such
    a mask with :func:`~lmrnn.graphs.lattice.within` and
    :func:`~lmrnn.graphs.graph.from_adjacency`.
    """
    n = check_int("lattice side n", n)
    d = check_radius("locality radius d", d)
    check_no_wrap(n, d)
    return Graph(within(n, d), kind="locality", lattice_n=n, d=d)


def autapse(n_units: int) -> Graph:
    """N isolated units, each connected only to itself: G = I (= locality with d = 0)."""
    n_units = check_int("number of units N", n_units)
    return Graph(torch.eye(n_units, dtype=torch.bool), kind="autapse", d=0.0)


def dense(n_units: int) -> Graph:
    """All-to-all connectivity, self-edges included: N² edges."""
    n_units = check_int("number of units N", n_units)
    return Graph(torch.ones(n_units, n_units, dtype=torch.bool), kind="dense")


def erdos_renyi(n_units: int, in_degree: int, seed: int) -> Graph:
    """A random graph in which every unit has exactly ``in_degree`` incoming edges.

    This is the paper's "random sparse graph with the same number of incoming edges": to
    match a locality mask use ``in_degree=locality_degree(d)``. Like the locality mask it
    contains every self-edge; the other in_degree - 1 sources of each unit are drawn
    uniformly without replacement from the other N - 1 units, independently per unit, so
    out-degrees vary and the graph is not symmetric.
    """
    n_units = check_int("number of units N", n_units)
    k = check_int("in_degree", in_degree)
    if k > n_units:
        raise LmrnnError(f"in_degree must be at most N = {n_units}, got {k}.")
    gen = _graph_generator(seed)
    score = torch.rand(n_units, n_units, generator=gen)
    score.fill_diagonal_(2.0)  # above every uniform draw: the self-edge is always kept
    sources = score.topk(k, dim=1).indices  # the k largest of iid uniforms: a uniform subset
    adjacency = torch.zeros(n_units, n_units, dtype=torch.bool)
    adjacency.scatter_(1, sources, True)
    return Graph(adjacency, kind="erdos_renyi", seed=seed)


def small_world(n: int, total_edges: int, local_radius: float, seed: int) -> Graph:
    """Every pair within ``local_radius`` on the n×n torus, plus random edges up to a total.

    Starts from ``locality(n, local_radius)`` (self-edges included), then adds directed
    edges drawn uniformly among the absent pairs until the graph has exactly
    ``total_edges`` edges. Radius 0 gives I plus random edges; radius d with
    ``total_edges = N * locality_degree(d)`` gives the locality mask itself (paper Fig 5f).
    A local radius that wraps the torus is refused, as by :func:`locality`.
    """
    n = check_int("lattice side n", n)
    check_no_wrap(n, check_radius("local_radius", local_radius))
    n_units = n * n
    have = n_units * locality_degree(local_radius, n)
    total = check_int("total_edges", total_edges)
    if not have <= total <= n_units * n_units:
        raise LmrnnError(
            f"total_edges must lie between the {have} edges within radius {local_radius} "
            f"and N² = {n_units * n_units}, got {total}."
        )
    gen = _graph_generator(seed)
    local = within(n, local_radius)
    absent = (~local).flatten().nonzero().squeeze(1)
    chosen = absent[torch.randperm(absent.numel(), generator=gen)[: total - have]]
    adjacency = local.flatten().clone()
    adjacency[chosen] = True
    return Graph(
        adjacency.view(n_units, n_units), kind="small_world", lattice_n=n, d=local_radius, seed=seed
    )
