"""CPU threads that keep their speed when another process takes a core.

torch's OpenMP threads wait for each other at the end of every parallel region; when another
process keeps one of two cores busy, the thread that shares that core arrives late at every
one of the hundreds of regions of a training step, and the step takes 2-20 times as long as on
one thread (``benchmarks/busy.py``; no OpenMP wait policy fixes it without slowing the quiet
case). :class:`ThreadGovernor` therefore measures: every ``period`` steps it times a few steps
with the user's thread count and a few with one thread, and trains on with the faster until
the next probe, or sooner when steps suddenly slow down (a process started beside it).

Results do not depend on the choice: the back-ends' forward and backward passes give the same
bits on one thread and on several (pinned by a test), so a run is reproducible whatever the
load was.
"""

from __future__ import annotations

import statistics

import torch


class ThreadGovernor:
    """Chooses between ``most`` threads and one, from measured step times.

    Call :meth:`before_step` before a step and :meth:`after_step` with its wall time (s).
    ``period``: steps between probes; ``trial``: steps timed per thread count in a probe (the
    first of each is a warm-up and not counted); ``margin``: one thread is chosen only when its
    median step is this much faster (a relative margin: steps vary by several percent from one
    to the next, and a quiet machine should keep the user's count); ``slowdown``: a step this
    many times slower than the chosen count's probe time, ``patience`` times in a row, starts a
    probe at once. With ``most`` = 1 it does nothing.
    """

    def __init__(self, most: int | None = None, period: int = 200, trial: int = 5,
                 margin: float = 0.05, slowdown: float = 1.6,
                 patience: int = 3) -> None:  # fmt: skip
        self.most = most if most is not None else torch.get_num_threads()
        self.choices = (self.most, 1) if self.most > 1 else (1,)
        self.period, self.trial, self.margin = period, trial, margin
        self.slowdown, self.patience = slowdown, patience
        self.chosen = self.most
        self._probe: list[int] = []  # thread counts still to time in this probe
        self._times: dict[int, list[float]] = {}
        self._current: int | None = None
        self._expected: float | None = None
        self._slow = 0
        self._since = 0
        self.history: list[int] = []  # the count chosen at each probe's end

    @property
    def active(self) -> bool:
        return len(self.choices) > 1

    def before_step(self) -> None:
        if not self.active:
            return
        if not self._probe and self._since >= self.period:
            self._start_probe()
        threads = self._probe[0] if self._probe else self.chosen
        if threads != torch.get_num_threads():
            torch.set_num_threads(threads)
        self._current = threads

    def after_step(self, seconds: float) -> None:
        if not self.active:
            return
        self._since += 1
        if self._probe:
            times = self._times.setdefault(self._current, [])
            times.append(seconds)
            if len(times) >= self.trial:
                self._probe.pop(0)
                if not self._probe:
                    self._finish_probe()
            return
        if self._expected is not None and seconds > self.slowdown * self._expected:
            self._slow += 1
            if self._slow >= self.patience:
                self._start_probe()
        else:
            self._slow = 0

    def _start_probe(self) -> None:
        self._probe = list(self.choices)
        self._times = {}
        self._slow = 0

    def _finish_probe(self) -> None:
        typical = {t: statistics.median(v[1:] or v) for t, v in self._times.items()}
        one = typical.get(1, float("inf"))
        self.chosen = 1 if one < (1 - self.margin) * typical[self.most] else self.most
        self._expected = typical[self.chosen]
        self._since = 0
        self.history.append(self.chosen)
        torch.set_num_threads(self.chosen)

    def start(self) -> None:
        """Probe at the first step."""
        if self.active:
            self._start_probe()

    def restore(self) -> None:
        """Back to the user's thread count (when training ends)."""
        if self.active:
            torch.set_num_threads(self.most)
