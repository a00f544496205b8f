"""Input checks of the lattice shared by the graph builders and the models; each raises
:class:`LmrnnError`. Whole numbers and seeds are :mod:`lmrnn.checks`' (``check_int`` is
re-exported here for those that import it from here)."""

from __future__ import annotations

import math
import numbers

from lmrnn.checks import check_int, check_seed
from lmrnn.errors import LmrnnError

__all__ = ["check_int", "check_no_wrap", "check_radius", "check_seed", "squared_radius"]


def check_radius(name: str, value: object) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number >= 0."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not math.isfinite(float(value)) or float(value) < 0:
        raise LmrnnError(f"{name} must be a finite number >= 0 (lattice spacings), got {value!r}.")
    return float(value)


# Squared lattice distances are integers; this slack keeps d = sqrt(k) from losing the boundary
# to floating-point rounding of d*d.
_EPS = 1e-9


def squared_radius(d: float) -> int:
    """The largest integer squared distance within radius ``d``: ⌊d² + ε⌋ (in float64), so that
    every comparison of lattice distances with ``d`` is one of integers."""
    return math.floor(float(d) * float(d) + _EPS)


def check_no_wrap(n: int, d: float) -> None:
    """Raise unless a radius-``d`` neighbourhood fits on the ``n`` x ``n`` torus without wrapping
    onto itself (n >= 2⌊d⌋ + 1): beyond that the mask is no longer the paper's disk (in the
    limit, every unit reads every unit). :func:`lmrnn.graphs.locality`,
    :func:`lmrnn.graphs.small_world`, :class:`lmrnn.models.ModelConfig`, training and the
    command line all refuse it; :func:`lmrnn.graphs.within` still computes the wrapped mask."""
    side = 2 * math.isqrt(squared_radius(d)) + 1  # the widest row of the disk
    if n < side:
        raise LmrnnError(
            f"d={d:g} needs a lattice side n of at least {side} (2d+1) so that a neighbourhood "
            f"does not wrap onto itself, got n={n}; use a larger n or a smaller d."
        )
