"""Connectivity graphs for the hidden-to-hidden weights: lattice geometry, masks, metrics.

``adjacency[i, j]`` True means unit j projects to unit i (W_ij may be non-zero). Depends on
nothing of the project but :mod:`lmrnn.errors` and :mod:`lmrnn.checks`.
"""

from lmrnn.graphs.comparison import (
    ComparisonRow,
    clustering_direction,
    compare_lm_er,
    format_comparison,
)
from lmrnn.graphs.graph import Graph, from_adjacency
from lmrnn.graphs.lattice import (
    lattice_coords,
    locality_degree,
    torus_distance,
    torus_offset,
    within,
)
from lmrnn.graphs.masks import autapse, dense, erdos_renyi, locality, small_world
from lmrnn.graphs.metrics import DEFINITIONS, GraphMetrics, graph_metrics, to_networkx

__all__ = [
    "DEFINITIONS",
    "ComparisonRow",
    "Graph",
    "GraphMetrics",
    "autapse",
    "clustering_direction",
    "compare_lm_er",
    "dense",
    "erdos_renyi",
    "format_comparison",
    "from_adjacency",
    "graph_metrics",
    "lattice_coords",
    "locality",
    "locality_degree",
    "small_world",
    "to_networkx",
    "torus_distance",
    "torus_offset",
    "within",
]
