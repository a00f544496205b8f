"""The statistics behind every verdict: tests over seeds at a stated level.

Each network of an experiment is trained from several seeds, each with its own initialisation
and its own data stream, so its per-seed performances are independent draws. Comparisons:

* **above** (:func:`compare`): Welch's t-test, one-sided, at level :data:`ALPHA`. ``a`` is
  above ``b`` when the test of "a > b" rejects; below when the test of "a < b" rejects;
  otherwise undecided. The difference is shown with its two-sided 95% Welch interval.
* **about the same** (:func:`equivalence`): two one-sided tests (TOST) against a margin: the
  difference is inside (-margin, +margin) when both reject; outside when one of the one-sided
  tests of "beyond the margin" rejects; otherwise undecided. So noise is never read as
  sameness, and a claim of sameness can fail.
* **every pair** (:func:`all_above`): an intersection-union test: "every a above its b" holds
  when each one-sided test rejects at ``ALPHA`` (no correction needed for a conjunction); it
  fails when one pair is below at ``ALPHA / m`` (Bonferroni over the m pairs, so that looking at
  many pairs does not make a false "fails" likely).
* **below a bound** (:func:`below`): a one-sample one-sided t-test of the mean against a number.

Fewer than two seeds on a side decide nothing (the variance is unknown): undecided, p = nan.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

ALPHA = 0.05
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Difference:
    """mean(a) - mean(b) with its 95% Welch interval and the test's outcome.

    ``p``: the p-value of the test that decided (or of the nearer one when undecided);
    ``sign``: 1 (a above b / equivalent / below the bound), -1 (the opposite), 0 (undecided).
    """

    diff: float
    low: float
    high: float
    p: float
    sign: int
    test: str

    def text(self) -> str:
        p = "p n/a" if math.isnan(self.p) else f"p = {self.p:.2g}"
        if math.isnan(self.low):
            return f"{self.diff:+.3f} ({self.test}, {p})"
        return f"{self.diff:+.3f} [{self.low:+.3f}, {self.high:+.3f}] ({self.test}, {p})"


def _clean(values: Sequence[float]) -> np.ndarray:
    x = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    return x


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """(difference, its standard error, Welch-Satterthwaite degrees of freedom)."""
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return float(a.mean() - b.mean()), 0.0, math.inf
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return float(a.mean() - b.mean()), se, df


def _p_greater(t_value: float, df: float) -> float:
    """P(T >= t) for Student's t with ``df`` degrees of freedom (a normal for df = inf)."""
    return float(sps.t.sf(t_value, df)) if math.isfinite(df) else float(sps.norm.sf(t_value))


def _tail(diff: float, se: float, df: float, shift: float = 0.0) -> tuple[float, float]:
    """One-sided p-values of "diff > shift" and "diff < shift"."""
    if se == 0:
        return (0.0 if diff > shift else 1.0), (0.0 if diff < shift else 1.0)
    t_value = (diff - shift) / se
    return _p_greater(t_value, df), _p_greater(-t_value, df)


def _interval(diff: float, se: float, df: float) -> tuple[float, float]:
    if se == 0:
        return diff, diff
    q = sps.t.ppf(0.5 + CONFIDENCE / 2, df) if math.isfinite(df) else sps.norm.ppf(0.975)
    return diff - q * se, diff + q * se


def compare(a: Sequence[float], b: Sequence[float], alpha: float = ALPHA) -> Difference:
    """Is ``a`` above ``b``? One-sided Welch tests both ways at ``alpha``."""
    x, y = _clean(a), _clean(b)
    if len(x) < 2 or len(y) < 2:
        diff = float(x.mean() - y.mean()) if len(x) and len(y) else math.nan
        return Difference(diff, math.nan, math.nan, math.nan, 0, "Welch t, too few seeds")
    diff, se, df = _welch(x, y)
    p_up, p_down = _tail(diff, se, df)
    low, high = _interval(diff, se, df)
    sign = 1 if p_up < alpha else -1 if p_down < alpha else 0
    return Difference(diff, low, high, min(p_up, p_down) if sign else p_up, sign, "Welch t")


def equivalence(a: Sequence[float], b: Sequence[float], margin: float,
                alpha: float = ALPHA) -> Difference:  # fmt: skip
    """Are ``a`` and ``b`` within ``margin`` of each other? TOST at ``alpha``.

    sign 1: equivalent (both "diff > -margin" and "diff < +margin" reject); -1: different by
    more than the margin (one of "diff > +margin", "diff < -margin" rejects); 0: undecided.
    """
    x, y = _clean(a), _clean(b)
    if len(x) < 2 or len(y) < 2:
        diff = float(x.mean() - y.mean()) if len(x) and len(y) else math.nan
        return Difference(diff, math.nan, math.nan, math.nan, 0, "TOST, too few seeds")
    diff, se, df = _welch(x, y)
    above_low, below_low = _tail(diff, se, df, -margin)  # diff > -margin, diff < -margin
    above_high, below_high = _tail(diff, se, df, margin)  # diff > +margin, diff < +margin
    p_same = max(above_low, below_high)
    p_apart = min(below_low, above_high)
    sign = 1 if p_same < alpha else -1 if p_apart < alpha else 0
    low, high = _interval(diff, se, df)
    test = f"TOST ±{margin:g}"
    return Difference(diff, low, high, p_apart if sign == -1 else p_same, sign, test)


def below(values: Sequence[float], bound: float, alpha: float = ALPHA) -> Difference:
    """Is the mean of ``values`` below ``bound``? One-sample one-sided t-tests at ``alpha``
    (sign 1: below, -1: above, 0: undecided); ``diff`` is mean - bound."""
    x = _clean(values)
    if len(x) < 2:
        diff = float(x.mean() - bound) if len(x) else math.nan
        return Difference(diff, math.nan, math.nan, math.nan, 0, "t, too few seeds")
    diff = float(x.mean() - bound)
    se = float(x.std(ddof=1) / math.sqrt(len(x)))
    df = float(len(x) - 1)
    p_up, p_down = _tail(diff, se, df)
    low, high = _interval(diff, se, df)
    sign = 1 if p_down < alpha else -1 if p_up < alpha else 0
    return Difference(diff, low, high, min(p_up, p_down) if sign else p_down, sign, "t")


def all_above(pairs: Sequence[tuple[Sequence[float], Sequence[float]]],
              alpha: float = ALPHA) -> tuple[bool | None, list[Difference]]:  # fmt: skip
    """Every ``a`` above its ``b``: True when each one-sided Welch test rejects at ``alpha``
    (intersection-union), False when one pair is below at ``alpha / len(pairs)``
    (Bonferroni), else None. Returns the verdict and each pair's difference."""
    if not pairs:
        return None, []
    diffs = [compare(a, b, alpha) for a, b in pairs]
    strict = [compare(a, b, alpha / len(pairs)) for a, b in pairs]
    if any(d.sign == -1 for d in strict):
        return False, diffs
    return (True if all(d.sign == 1 for d in diffs) else None), diffs


def all_equivalent(pairs: Sequence[tuple[Sequence[float], Sequence[float]]], margin: float,
                   alpha: float = ALPHA) -> tuple[bool | None, list[Difference]]:  # fmt: skip
    """Every pair within ``margin``: True when each TOST rejects at ``alpha``; False when one
    pair is apart by more than the margin at ``alpha / len(pairs)``; else None."""
    if not pairs:
        return None, []
    diffs = [equivalence(a, b, margin, alpha) for a, b in pairs]
    strict = [equivalence(a, b, margin, alpha / len(pairs)) for a, b in pairs]
    if any(d.sign == -1 for d in strict):
        return False, diffs
    return (True if all(d.sign == 1 for d in diffs) else None), diffs


def bootstrap_fraction(samples: Sequence[Sequence[float]], statistic, n_boot: int = 2000,
                       seed: int = 0) -> float:  # fmt: skip
    """The fraction of bootstrap resamples (each sample resampled with replacement,
    independently) for which ``statistic(resampled samples)`` is true."""
    rng = np.random.default_rng(seed)
    arrays = [_clean(s) for s in samples]
    hits = 0
    for _ in range(n_boot):
        drawn = [a[rng.integers(0, len(a), len(a))] if len(a) else a for a in arrays]
        hits += bool(statistic(drawn))
    return hits / n_boot


__all__ = ["ALPHA", "Difference", "all_above", "all_equivalent", "below", "bootstrap_fraction",
           "compare", "equivalence"]  # fmt: skip
