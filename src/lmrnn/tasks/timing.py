"""Timing profiles: each base task as a table of period durations in milliseconds.

Every trial has the same five canonical periods, in this order; a period a task does not use
lasts 0 ms and is skipped::

    fixation -> stim1 -> delay -> stim2 -> decision

(go: stim1 is "stimulus"; match tasks: stim1 is "sample" and stim2 is "test"). A duration is a
constant, :class:`Uniform` (continuous, floored to a multiple of ``dt`` as neurogym does) or
:class:`Grid` (uniform over ``lo, lo + step, ..., hi``). Durations are floored to ``dt`` in one
place, :func:`lmrnn.tasks.batch.sample_durations`.
"""

from __future__ import annotations

from dataclasses import dataclass

from lmrnn.checks import check_int
from lmrnn.errors import LmrnnError

PERIODS: tuple[str, ...] = ("fixation", "stim1", "delay", "stim2", "decision")
FIXATION, STIM1, DELAY, STIM2, DECISION = range(5)


@dataclass(frozen=True)
class Uniform:
    """Continuous uniform duration on [lo, hi) ms, floored to a multiple of dt."""

    lo: int
    hi: int


@dataclass(frozen=True)
class Grid:
    """Uniform over the grid lo, lo + step, ..., hi (ms)."""

    lo: int
    hi: int
    step: int = 100


Duration = int | Uniform | Grid

_REACH = {"fixation": 500, "stim1": 500, "delay": 0, "stim2": 0, "decision": 500}
_REACTION = {"fixation": 500, "stim1": 0, "delay": 0, "stim2": 0, "decision": 500}
_DLY_REACH = {"fixation": 500, "stim1": 500, "delay": 500, "stim2": 0, "decision": 500}
_DM = {"fixation": Uniform(200, 500), "stim1": 500, "delay": 0, "stim2": 0, "decision": 200}
_DLY_DM = {"fixation": Uniform(200, 500), "stim1": 500, "delay": 500, "stim2": 500, "decision": 200}
_MATCH = {"fixation": 300, "stim1": 500, "delay": Grid(200, 1100), "stim2": 500, "decision": 900}


def _each(names: tuple[str, ...], table: dict[str, Duration]) -> dict[str, dict[str, Duration]]:
    return {name: table for name in names}


#: profile -> base task -> period -> duration (ms). `modcog` is the default.
PROFILES: dict[str, dict[str, dict[str, Duration]]] = {
    "modcog": {
        **_each(("go", "anti"), _REACH),
        **_each(("rtgo", "rtanti"), _REACTION),
        **_each(("dlygo", "dlyanti"), _DLY_REACH),
        **_each(("dm1", "dm2", "ctxdm1", "ctxdm2", "multidm"), _DM),
        **_each(("dlydm1", "dlydm2", "ctxdlydm1", "ctxdlydm2", "multidlydm"), _DLY_DM),
        **_each(("dms", "dnms", "dmc", "dnmc"), _MATCH),
    },
}
# neurogym 2.3.1's yang19 durations, for equivalence tests against it.
PROFILES["neurogym"] = {
    **PROFILES["modcog"],
    "dm1": {**_DM, "stim1": Grid(200, 600, 200)},
    **_each(
        ("dlydm1", "dlydm2", "ctxdlydm1", "ctxdlydm2", "multidlydm"), {**_DLY_DM, "delay": 1000}
    ),
    **_each(("dms", "dnms", "dmc", "dnmc"), {**_MATCH, "delay": 1000}),
}

#: Interval estimation: the delay is drawn from {0, 100, ..., 1100} ms.
INT_DELAY = Grid(0, 1100, 100)
#: Sequence generation: the decision period lasts 1000 ms.
SEQ_DECISION = 1000
#: One ring unit of displacement per this many ms (Int: of delay; Seq: of decision time).
MS_PER_UNIT = 100


def check_dt(dt: int, durations: dict[str, Duration], task: str) -> None:
    """Raise :class:`LmrnnError` unless ``dt`` divides every fixed duration and grid step."""
    check_int("dt", dt)
    if MS_PER_UNIT % dt:
        raise LmrnnError(
            f"dt={dt} ms does not divide {MS_PER_UNIT} ms, the unit of Int and Seq "
            "displacements; use a divisor of 100 such as 10, 20, 50 or 100."
        )
    for period, d in durations.items():
        fixed = [d] if isinstance(d, int) else [d.lo, d.step] if isinstance(d, Grid) else []
        for value in fixed:
            if value % dt:
                raise LmrnnError(
                    f"dt={dt} ms does not divide the {value} ms of period '{period}' of task "
                    f"'{task}'; use a divisor of 100 such as 10, 20, 50 or 100."
                )


def check_duration(d: object, period: str, task: str) -> None:
    """Raise :class:`LmrnnError` unless ``d`` is a duration: whole ms >= 0, a
    ``Uniform(lo, hi)`` with 0 <= lo <= hi or a ``Grid(lo, hi, step)`` with 0 <= lo <= hi,
    step >= 1 (all whole ms)."""

    def whole(x: object) -> bool:
        return isinstance(x, int) and not isinstance(x, bool) and x >= 0

    if isinstance(d, Uniform | Grid):
        ok = whole(d.lo) and whole(d.hi) and d.lo <= d.hi
        ok &= not isinstance(d, Grid) or (whole(d.step) and d.step >= 1)
    else:
        ok = whole(d)
    if not ok:
        raise LmrnnError(
            f"period '{period}' of task '{task}' lasts {d!r}; a duration is whole ms >= 0, "
            "Uniform(lo, hi) or Grid(lo, hi, step) with 0 <= lo <= hi and step >= 1."
        )


def duration_range(d: Duration, dt: int) -> tuple[int, int]:
    """Smallest and largest duration (ms, after flooring to dt) that ``d`` can produce."""
    if isinstance(d, int):
        return d, d
    if isinstance(d, Grid):
        return d.lo, d.lo + (d.hi - d.lo) // d.step * d.step
    lo = d.lo // dt * dt
    hi = (-(-d.hi // dt) - 1) * dt  # the largest multiple of dt strictly below hi
    return lo, max(lo, hi)
