"""Lattice geometry, masks and graph metrics, checked against brute force and planted answers."""

from __future__ import annotations

import itertools
import math
import random

import networkx as nx
import pytest
import torch

from lmrnn.errors import LmrnnError
from lmrnn.graphs import (
    autapse,
    clustering_direction,
    compare_lm_er,
    dense,
    erdos_renyi,
    from_adjacency,
    graph_metrics,
    locality,
    locality_degree,
    small_world,
    to_networkx,
    torus_distance,
)
from lmrnn.graphs.metrics import undirected_clustering
from torus_helpers import torus_graph, wraps


def brute_locality(n: int, d: float) -> torch.Tensor:
    """Locality mask by explicit loops over every pair and every periodic image."""
    out = torch.zeros(n * n, n * n, dtype=torch.bool)
    for i, j in itertools.product(range(n * n), repeat=2):
        (ri, ci), (rj, cj) = divmod(i, n), divmod(j, n)
        best = min(
            math.hypot(ri - rj + a * n, ci - cj + b * n)
            for a, b in itertools.product((-1, 0, 1), repeat=2)
        )
        out[i, j] = best <= d + 1e-9
    return out


# --- geometry and counts ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "count"), [(0, 1), (1, 5), (1.5, 9), (2, 13), (4, 49), (6, 113), (10, 317)]
)
def test_locality_degree_counts_disk_points(d, count):
    assert locality_degree(d) == count


def test_locality_degree_matches_mask_on_large_torus():
    for d in (6, 10):
        g = locality(2 * d + 3, d)
        assert torch.equal(g.in_degree, torch.full((g.n_units,), locality_degree(d)))


@pytest.mark.parametrize("seed", range(12))
def test_locality_equals_brute_force(seed):
    rng = random.Random(seed)
    n, d = rng.randint(1, 7), rng.choice([0, 1, 1.5, 2, 2.3, 3, 5, 9])
    g = torus_graph(n, d) if wraps(n, d) else locality(n, d)  # locality refuses a wrap
    assert torch.equal(g.adjacency, brute_locality(n, d))
    assert torch.equal(g.in_degree, torch.full((n * n,), locality_degree(d, n)))


def test_torus_distance_is_a_translation_invariant_metric():
    n = 7
    dist = torus_distance(n)
    assert torch.equal(dist, dist.t())
    assert torch.all(dist.diagonal() == 0)
    # shifting both units by one row and one column changes no distance
    shift = torch.tensor([((i // n + 1) % n) * n + (i % n + 1) % n for i in range(n * n)])
    assert torch.equal(dist[shift][:, shift], dist)
    assert dist.max() == pytest.approx(math.hypot(3, 3))


def test_locality_is_symmetric_with_self_edges():
    g = locality(9, 2.5)
    assert torch.equal(g.adjacency, g.adjacency.t())
    assert g.adjacency.diagonal().all()
    assert g.row_bandwidth() == 2


def test_autapse_dense_and_d0():
    assert torch.equal(autapse(16).adjacency, torch.eye(16, dtype=torch.bool))
    assert torch.equal(locality(4, 0).adjacency, autapse(16).adjacency)
    assert autapse(16).is_diagonal and not locality(4, 1).is_diagonal
    assert dense(5).n_edges == 25 and dense(5).adjacency.all()


def test_large_d_is_dense():
    assert torus_graph(5, 10).adjacency.all()


# --- random graphs ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_erdos_renyi_exact_in_degree_with_self_edge(seed):
    rng = random.Random(seed)
    n_units = rng.randint(2, 60)
    k = rng.randint(1, n_units)
    g = erdos_renyi(n_units, k, seed)
    assert torch.equal(g.in_degree, torch.full((n_units,), k))
    assert g.adjacency.diagonal().all()
    assert g.n_edges == n_units * k
    assert g.neighbours.shape == (n_units, k)


def test_erdos_renyi_seeds():
    assert torch.equal(erdos_renyi(50, 5, 3).adjacency, erdos_renyi(50, 5, 3).adjacency)
    assert not torch.equal(erdos_renyi(50, 5, 3).adjacency, erdos_renyi(50, 5, 4).adjacency)


def test_erdos_renyi_sources_are_uniform():
    # over many seeds, each off-diagonal source is chosen with probability (k-1)/(N-1)
    n_units, k, seeds = 10, 4, 600
    freq = sum(erdos_renyi(n_units, k, s).adjacency.double() for s in range(seeds)) / seeds
    off = freq[~torch.eye(n_units, dtype=torch.bool)]
    expected = (k - 1) / (n_units - 1)
    sd = math.sqrt(expected * (1 - expected) / seeds)
    assert (off - expected).abs().max() < 5 * sd


def test_erdos_renyi_is_not_a_lattice():
    g = erdos_renyi(100, 13, 0)
    assert not torch.equal(g.adjacency, g.adjacency.t())


@pytest.mark.parametrize(("n", "d"), [(6, 1), (8, 2), (9, 3), (5, 0)])
def test_small_world_at_full_radius_is_the_lm_graph(n, d):
    lm = locality(n, d)
    sw = small_world(n, lm.n_edges, d, seed=1)
    assert torch.equal(sw.adjacency, lm.adjacency)


@pytest.mark.parametrize("seed", range(8))
def test_small_world_radius_zero_is_identity_plus_random(seed):
    n = 6
    total = n * n * locality_degree(2, n)
    g = small_world(n, total, 0, seed)
    assert g.n_edges == total
    assert g.adjacency.diagonal().all()
    assert g.row_bandwidth() > 2  # random long-range edges
    assert not torch.equal(g.adjacency, small_world(n, total, 0, seed + 100).adjacency)


def test_small_world_keeps_the_local_part():
    lm = locality(8, 1)
    g = small_world(8, lm.n_edges + 50, 1, 0)
    assert g.n_edges == lm.n_edges + 50
    assert g.adjacency[lm.adjacency].all()
    assert g.neighbours is None  # in-degrees now vary


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: locality(5, -1), "d must be a finite number >= 0"),
        (lambda: locality(0, 1), "lattice side n must be a whole number >= 1, got 0"),
        (lambda: locality(2.5, 1), "got 2.5"),
        (lambda: erdos_renyi(10, 11, 0), "in_degree must be at most N = 10, got 11"),
        (lambda: erdos_renyi(10, 0, 0), "in_degree must be a whole number >= 1"),
        (lambda: erdos_renyi(10, 3, -1), "seed must be a whole number in 0 .. 2"),
        (lambda: small_world(4, 10, 1, 0), "between the 80 edges within radius 1"),
        (lambda: small_world(4, 257, 1, 0), "N² = 256, got 257"),
        (lambda: from_adjacency([[1, 2], [0, 1]]), "only 0/1 or booleans"),
        (lambda: from_adjacency([[1, 0, 1]]), "square (N, N) array, got shape (1, 3)"),
        (lambda: from_adjacency(torch.ones(4, 4), lattice_n=3), "lattice side 3 needs N = 9"),
    ],
)
def test_bad_graph_input_is_refused(call, message):
    with pytest.raises(LmrnnError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_custom_adjacency_and_sparse_forms():
    a = torch.rand(16, 16) < 0.3
    g = from_adjacency(a.int().numpy(), lattice_n=4)
    assert torch.equal(g.adjacency, a) and g.kind == "custom" and g.lattice_side() == 4
    assert torch.equal(g.to_sparse().to_dense().bool(), a)
    i, j = g.edge_index
    assert a[i, j].all() and i.numel() == int(a.sum())


def test_neighbours_list_sources():
    g = locality(7, 1.5)
    nb = g.neighbours
    assert nb.shape == (49, 9)
    rows = torch.arange(49)[:, None].expand_as(nb)
    assert g.adjacency[rows, nb].all()
    assert torch.equal(nb, nb.sort(dim=1).values)


# --- metrics ---------------------------------------------------------------------------


def test_metrics_of_a_ring_lattice():
    # a 1-D ring of 9 units is the locality mask of a 1×9 strip: build it as a custom graph
    n = 9
    a = torch.zeros(n, n, dtype=torch.bool)
    for i in range(n):
        a[i, [(i - 1) % n, i, (i + 1) % n]] = True
    m = graph_metrics(from_adjacency(a))
    assert m.diameter == n // 2
    assert m.avg_shortest_path == pytest.approx(2 * sum(range(1, n // 2 + 1)) / (n - 1))
    assert m.clustering == 0


def test_metrics_agree_with_networkx_functions():
    graphs = (erdos_renyi(40, 4, seed) for seed in range(50))
    g = next(g for g in graphs if nx.is_strongly_connected(to_networkx(g)))  # finite paths
    m, nxg = graph_metrics(g), to_networkx(g)
    assert m.strongly_connected
    assert nx.number_of_selfloops(nxg) == 0
    assert m.avg_shortest_path == pytest.approx(nx.average_shortest_path_length(nxg))
    assert m.diameter == nx.diameter(nxg)
    assert m.clustering == pytest.approx(nx.average_clustering(nxg))


def test_undirected_paths_agree_with_networkx_and_equal_directed_ones_on_symmetric_graphs():
    for seed in range(10):
        g = erdos_renyi(40, 2, seed)  # sparse: often not strongly connected, yet connected
        m, undirected = graph_metrics(g), to_networkx(g).to_undirected()
        if nx.is_connected(undirected):
            expected = nx.average_shortest_path_length(undirected)
            assert m.avg_shortest_path_undirected == pytest.approx(expected)
            assert m.diameter_undirected == nx.diameter(undirected)
            assert m.avg_shortest_path_undirected <= m.avg_shortest_path  # more edges
        else:
            assert m.diameter_undirected == m.avg_shortest_path_undirected == math.inf
    lm = graph_metrics(locality(7, 2))
    assert (lm.avg_shortest_path_undirected, lm.diameter_undirected) == (
        lm.avg_shortest_path, lm.diameter)  # fmt: skip
    assert graph_metrics(locality(5, 0)).diameter_undirected == math.inf


def test_lattice_diameter_on_torus():
    # torus grid (d = 1): diameter n//2 + n//2 steps
    for n in (5, 6, 8):
        assert graph_metrics(locality(n, 1)).diameter == 2 * (n // 2)


def test_disconnected_graphs_report_inf():
    m = graph_metrics(locality(5, 0))
    assert m.diameter == math.inf and m.avg_shortest_path == math.inf
    assert not m.strongly_connected and m.clustering == 0


def test_directed_clustering_equals_undirected_on_symmetric_graphs():
    g = locality(8, 2)
    directed = float(nx.average_clustering(to_networkx(g)))
    assert directed == pytest.approx(undirected_clustering(g))


def test_lm_versus_er_directions():
    """What the paper's Fig 1d compares, measured: LM has longer paths, and clustering that
    is zero at d = 1 (a square grid has no triangles) but larger than ER's from d = 2."""
    rows = compare_lm_er(10, [0, 1, 2, 3], seed=0)
    for r in rows[2:]:
        assert r.lm.diameter > r.er.diameter
        assert r.lm.avg_shortest_path > r.er.avg_shortest_path
        assert r.lm.clustering > r.er.clustering
    assert rows[1].lm.clustering == 0 < rows[1].er.clustering
    assert rows[0].in_degree == 1 and rows[3].in_degree == locality_degree(3)
    assert clustering_direction(rows) == (
        "LM clustering vs ER: higher at d = 2, 3; lower at d = 1; equal at d = 0."
    )


@pytest.mark.parametrize("k", [1, 2, 4, 5, 8, 9, 13, 25, 100])
@pytest.mark.parametrize("shift", [-1e-6, -1e-12, 0.0, 1e-12, 1e-6])
def test_radii_at_a_boundary_agree_everywhere(k, shift):
    """d = sqrt(k) nudged either way: the mask, the degree with and without n, and the no-wrap
    check all agree with a brute-force count in float64."""
    from lmrnn.graphs.checks import check_no_wrap

    d = math.sqrt(k) + shift
    n = 2 * math.isqrt(k) + 3
    brute = sum(
        1 for x in range(-n, n + 1) for y in range(-n, n + 1) if x * x + y * y <= d * d + 1e-9
    )
    assert locality_degree(d) == brute
    mask = locality(n, d).adjacency
    assert torch.all(mask.sum(1) == brute) and locality_degree(d, n) == brute
    widest = max(2 * abs(x) + 1 for x in range(-n, n + 1) if x * x <= d * d + 1e-9)
    check_no_wrap(widest, d)
    with pytest.raises(LmrnnError, match="needs a lattice side n of at least"):
        check_no_wrap(widest - 1, d)
