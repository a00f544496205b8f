"""LM versus Erdős–Rényi graphs of the same in-degree: the numbers behind the paper's Fig 1d."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lmrnn.graphs.checks import check_int, check_radius, check_seed
from lmrnn.graphs.lattice import locality_degree
from lmrnn.graphs.masks import erdos_renyi, locality
from lmrnn.graphs.metrics import DEFINITIONS, GraphMetrics, graph_metrics


@dataclass(frozen=True)
class ComparisonRow:
    """One radius d on an n×n torus: the LM graph and an ER graph with its in-degree."""

    d: float
    in_degree: int
    density: float
    lm: GraphMetrics
    er: GraphMetrics


def compare_lm_er(n: int, ds: Sequence[float], seed: int = 0) -> list[ComparisonRow]:
    """Metrics of locality(n, d) and erdos_renyi(n², locality_degree(d, n), seed) for each d."""
    n = check_int("lattice side n", n)
    ds = [check_radius("locality radius d", d) for d in ds]
    check_seed("seed", seed)
    rows = []
    for d in ds:
        k = locality_degree(d, n)
        rows.append(
            ComparisonRow(
                d=d,
                in_degree=k,
                density=k / (n * n),
                lm=graph_metrics(locality(n, d)),
                er=graph_metrics(erdos_renyi(n * n, k, seed)),
            )
        )
    return rows


def _fmt(x: float, digits: int = 3) -> str:
    return "inf" if x == float("inf") else f"{x:.{digits}f}"


def _d(d: float) -> str:
    return f"{d:g}"


def clustering_direction(rows: Sequence[ComparisonRow]) -> str:
    """One sentence saying at which d the LM clustering is above, below or equal to ER's."""
    groups = {"higher": [], "lower": [], "equal": []}
    for r in rows:
        diff = r.lm.clustering - r.er.clustering
        key = "equal" if abs(diff) < 1e-12 else ("higher" if diff > 0 else "lower")
        groups[key].append(_d(r.d))
    parts = [f"{k} at d = {', '.join(v)}" for k, v in groups.items() if v]
    return "LM clustering vs ER: " + "; ".join(parts) + "."


def format_comparison(rows: Sequence[ComparisonRow], n: int, seed: int) -> str:
    """A plain-text table of :func:`compare_lm_er` rows, with the definitions used."""
    lines = [
        f"LM (locality) vs ER (same in-degree, self-edge kept) on a {n}x{n} torus, ER seed {seed}; "
        "(u): the undirected ER graph (the LM graph is symmetric: its (u) numbers are its own)",
        f"metrics: {DEFINITIONS}",
        f"{'d':>4} {'in-deg':>6} {'density':>8} | {'diam LM':>7} {'diam ER':>7} "
        f"{'ER (u)':>6} | {'path LM':>7} {'path ER':>7} {'ER (u)':>6} | {'clust LM':>8} "
        f"{'clust ER':>8}",
    ]
    for r in rows:
        lines.append(
            f"{_d(r.d):>4} {r.in_degree:>6} {r.density:>8.4f} | "
            f"{_fmt(r.lm.diameter, 0):>7} {_fmt(r.er.diameter, 0):>7} "
            f"{_fmt(r.er.diameter_undirected, 0):>6} | "
            f"{_fmt(r.lm.avg_shortest_path):>7} {_fmt(r.er.avg_shortest_path):>7} "
            f"{_fmt(r.er.avg_shortest_path_undirected):>6} | "
            f"{_fmt(r.lm.clustering):>8} {_fmt(r.er.clustering):>8}"
        )
    lines.append(clustering_direction(rows))
    return "\n".join(lines)
