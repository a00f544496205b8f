"""Graph metrics through networkx: average shortest path length, diameter, clustering.

Definitions used (stated wherever the numbers are printed):

* Graphs are converted to a networkx ``DiGraph`` with edge j -> i for ``adjacency[i, j]``;
  **self-loops are removed first** (they change no path length, and networkx would count
  them in degrees for clustering).
* Shortest paths are directed. The average is over all ordered pairs of distinct units and
  the diameter is the largest distance, exactly as ``nx.average_shortest_path_length`` and
  ``nx.diameter`` define them; when the graph is not strongly connected (d = 0, for
  instance) both are reported as ``inf`` instead of raising. Both are also given for the
  undirected graph (an edge where either direction is one; networkx's default when a graph is
  built from an adjacency matrix, as the paper probably did): the same numbers for the
  symmetric locality masks, shorter paths for the directed random graphs. Distances come from
  ``nx.floyd_warshall_numpy`` up to :data:`FLOYD_LIMIT` units (fast), BFS above.
* Clustering is ``nx.average_clustering`` on the DiGraph: the directed clustering
  coefficient of Fagiolo (2007). On a symmetric graph (locality, autapse, dense) it equals
  the undirected coefficient (computed that way there, for speed); the Erdős–Rényi
  baseline is not symmetric.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx

from lmrnn.graphs.graph import Graph

FLOYD_LIMIT = 1500
DEFINITIONS = (
    "networkx on the directed graph with self-loops removed; path length = mean over ordered "
    "pairs, inf when not strongly connected; (u): the same on the undirected graph; "
    "clustering = nx.average_clustering on the DiGraph (Fagiolo 2007; equals the undirected "
    "coefficient for the symmetric LM graph)"
)


@dataclass(frozen=True)
class GraphMetrics:
    """Metrics of one graph. Path lengths and diameter in edges (inf if disconnected), of the
    directed graph and (``_undirected``) of its undirected version."""

    avg_shortest_path: float
    diameter: float
    clustering: float
    avg_shortest_path_undirected: float
    diameter_undirected: float

    @property
    def strongly_connected(self) -> bool:
        return math.isfinite(self.diameter)


def to_networkx(graph: Graph) -> nx.DiGraph:
    """The graph as a networkx DiGraph (edge j -> i for adjacency[i, j]), self-loops removed."""
    g = nx.DiGraph()
    g.add_nodes_from(range(graph.n_units))
    i, j = graph.edge_index.tolist()
    g.add_edges_from((b, a) for a, b in zip(i, j, strict=True) if a != b)
    return g


def _path_stats(g: nx.Graph) -> tuple[float, float]:
    n = g.number_of_nodes()
    if n < 2:
        return 0.0, 0.0
    if not (nx.is_strongly_connected(g) if g.is_directed() else nx.is_connected(g)):
        return math.inf, math.inf
    if n <= FLOYD_LIMIT:
        dist = nx.floyd_warshall_numpy(g)
        return float(dist.sum() / (n * (n - 1))), float(dist.max())
    total, longest = 0, 0
    for _, lengths in nx.all_pairs_shortest_path_length(g):
        total += sum(lengths.values())
        longest = max(longest, max(lengths.values()))
    return total / (n * (n - 1)), float(longest)


def graph_metrics(graph: Graph) -> GraphMetrics:
    """Average shortest path, diameter and average clustering of ``graph`` (see module doc)."""
    g = to_networkx(graph)
    avg, diam = _path_stats(g)
    symmetric = bool((graph.adjacency == graph.adjacency.t()).all())
    # On a symmetric graph the directed coefficient equals the undirected one, which
    # networkx computes several times faster; its undirected paths are its directed ones.
    clustering = nx.average_clustering(g.to_undirected() if symmetric else g)
    avg_u, diam_u = (avg, diam) if symmetric else _path_stats(g.to_undirected())
    return GraphMetrics(avg, diam, float(clustering), avg_u, diam_u)


def undirected_clustering(graph: Graph) -> float:
    """Average clustering of the undirected version (an edge if either direction exists)."""
    return float(nx.average_clustering(to_networkx(graph).to_undirected()))
