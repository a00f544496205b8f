"""Wrapped locality masks for the tests that need one.

``locality(n, d)`` and ``ModelConfig(graph="locality")`` refuse a radius whose neighbourhood
wraps onto itself on the n x n torus (2⌊d⌋ + 1 > n). Tests of that wrapped geometry (a band
that covers every lattice row, a radius past the whole lattice) build the same mask here, from
:func:`lmrnn.graphs.within`, and pass it on as a custom graph placed on the same lattice.
"""

from __future__ import annotations

from typing import Any

from lmrnn.errors import LmrnnError
from lmrnn.graphs import Graph, from_adjacency, within
from lmrnn.graphs.checks import check_no_wrap
from lmrnn.models import ModelConfig


def wraps(n: int, d: float) -> bool:
    """True when a radius-d neighbourhood wraps onto itself on the n x n torus (the library's
    own rule, :func:`~lmrnn.graphs.checks.check_no_wrap`)."""
    try:
        check_no_wrap(n, d)
    except LmrnnError:
        return True
    return False


def torus_graph(n: int, d: float) -> Graph:
    """The radius-d torus mask on an n x n lattice, wrapped or not, as a custom graph."""
    return from_adjacency(within(n, d), lattice_n=n)


def torus_config(n: int, d: float, **fields: Any) -> ModelConfig:
    """A model config of the radius-d torus mask (wrapped or not) as a custom graph on the
    n x n lattice; ``fields`` are the other config fields."""
    return ModelConfig(graph="custom", adjacency=within(n, d), n=n, **fields)


def lattice_config(n: int, d: float, **fields: Any) -> ModelConfig:
    """The locality model config of (n, d), or, where d wraps the torus, the same mask as a
    custom graph (:func:`torus_config`)."""
    if wraps(n, d):
        return torus_config(n, d, **fields)
    return ModelConfig(graph="locality", n=n, d=d, **fields)
