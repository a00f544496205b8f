"""Input checks shared by the graph builders and the models; each raises :class:`LmrnnError`."""

from __future__ import annotations

import math
import numbers

from lmrnn.errors import LmrnnError


def check_int(name: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` as an int, or raise if it is not an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise LmrnnError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def check_radius(name: str, value: object) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number >= 0."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not math.isfinite(float(value)) or float(value) < 0:
        raise LmrnnError(f"{name} must be a finite number >= 0 (lattice spacings), got {value!r}.")
    return float(value)
