"""Verdicts: each claim of paper-targets.md decided from an experiment's stored results.

A verdict function takes an :class:`~lmrnn.experiments.results.ExperimentResult` and returns
``(ours, holds)``: a short text with our numbers and True / False, or None where the numbers
cannot decide (means within one s.e.m. of each other, curves still rising where the claim is
about where they end). :func:`judge` adds "not run at this scale" when a network of the
experiment is missing or failed, and "inconclusive" when a number the verdict needs is missing.
Performance means the mean over tasks of the decision accuracy; "early" and "later" are the
spec's evaluation points (2x10^3 of 10^4 steps at paper scale, the same fraction elsewhere).
Every comparison is a test over seeds (:mod:`lmrnn.experiments.stats`): one network is "above"
another when a one-sided Welch t-test rejects at alpha = 0.05; "about the same" is an
equivalence test (TOST) against TOLERANCE; "every A above its B" holds when every test rejects
and fails when one pair is significantly the other way (Bonferroni). Each verdict's text gives
the differences with their 95% intervals and p-values. An early point decides nothing while
every network is still at the floor (within TOLERANCE of the untrained networks).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

from lmrnn.experiments import stats
from lmrnn.experiments.results import ExperimentResult, NetworkResult
from lmrnn.experiments.specs import Claim

HOLDS, FAILS, NOT_RUN = "holds", "does not hold", "not run at this scale"
INCONCLUSIVE = "inconclusive at this scale"
TOLERANCE = 0.05  # "about as well", "same asymptote": within 5 accuracy points
# Comparisons of trained networks need networks that have learned: the paper's reach 0.6-0.8 at
# 10^4 steps on Mod-Cog and above 0.9 on the 20 tasks; below 0.5 for the best network (as every
# network of a ci-scale run of a few dozen steps), which network is ahead says little.
LEARNED = 0.5


class Undecided(Exception):
    """A number a verdict needs is missing (no evaluation at that step, no analysis value)."""


@dataclass(frozen=True)
class Verdict:
    claim: str
    text: str
    paper: str
    ours: str
    verdict: str
    experiment: str
    scale: str
    rule: str = ""


def rule(verdict: str) -> str:
    """The decision rule of a verdict function, in one paragraph (its docstring)."""
    doc = VERDICTS[verdict].__doc__ or ""
    return " ".join(doc.split("\n\n")[0].split()).replace("TOLERANCE", f"{TOLERANCE:g}")


def judge(result: ExperimentResult) -> list[Verdict]:
    """One Verdict per claim of the experiment."""
    out = []
    for claim in result.spec["claims"]:
        if not result.complete:
            failed = [n.label for n in result.networks.values() if not n.complete]
            failed += [n["label"] for n in result.spec.get("networks", [])
                       if n["label"] not in result.networks]  # fmt: skip
            ours, verdict = f"incomplete: {', '.join(failed) or 'no runs'}", NOT_RUN
        else:
            try:
                ours, holds = VERDICTS[claim["verdict"]](result)
            except (Undecided, KeyError) as exc:
                ours, holds = f"cannot decide: missing {exc}", None
            verdict = INCONCLUSIVE if holds is None else HOLDS if holds else FAILS
            short = _too_short(result, claim)
            if short:
                ours, verdict = f"{ours}; {short}", INCONCLUSIVE
        out.append(Verdict(claim["id"], claim["text"], claim["paper"], ours, verdict,
                           result.name, result.scale, rule(claim["verdict"])))  # fmt: skip
    return out


def _too_short(result: ExperimentResult, claim: dict) -> str:
    """Why the runs cannot decide ``claim`` (too few steps, nothing learned yet), or ""."""
    final = result.point("final") if "final" in result.spec.get("points", {}) else 0
    if final < claim.get("min_steps", 0):
        return f"trained {final} steps, the claim is about {claim['min_steps']}"
    if claim.get("min_best", 0.0) > 0:
        values = [n.at(final) for n in result.networks.values()]
        best = max((v[0] for v in values if v and not math.isnan(v[0])), default=float("nan"))
        if not best >= claim["min_best"]:
            return (f"the best network reaches {best:.2f} at step {final}, below "
                    f"{claim['min_best']:.2f}: not yet learned enough to compare")  # fmt: skip
    return ""


# -- helpers -----------------------------------------------------------------------------------
def _nets(result: ExperimentResult, graph: str | None = None) -> list[NetworkResult]:
    return [n for n in result.networks.values() if graph is None or n.config["graph"] == graph]


def _perf(net: NetworkResult, step: int) -> float:
    value = net.at(step)
    if not value or math.isnan(value[0]):
        raise Undecided(f"the performance of {net.label} at step {step}")
    return value[0]


def _seeds(net: NetworkResult, step: int) -> list[float]:
    """Each seed's performance at ``step`` (what the tests read)."""
    _perf(net, step)
    return net.seeds_at(step)


def _floor(r: ExperimentResult) -> float | None:
    """The performance of the untrained networks: the mean over networks at their first
    evaluation, if that is step 0 (else unknown)."""
    firsts = [(min(n.curve), n.curve[min(n.curve)][0]) for n in r.networks.values() if n.curve]
    at_zero = [v for step, v in firsts if step == 0 and not math.isnan(v)]
    return sum(at_zero) / len(at_zero) if at_zero else None


def _off_floor(r: ExperimentResult, step: int, nets: list[NetworkResult]) -> str:
    """Why an early comparison at ``step`` decides nothing (no network of ``nets`` has gained
    TOLERANCE over the untrained networks yet), or the empty string once one has."""
    floor = _floor(r)
    if floor is None:
        return ""
    best = max(_perf(n, step) for n in nets)
    if best - floor >= TOLERANCE:
        return ""
    return (f"every network still at the floor at step {step} (best {best:.3f}, untrained "
            f"{floor:.3f}): too early to compare")  # fmt: skip


def _both(*flags: bool | None) -> bool | None:
    """False if any is False, None (undecided) if any is None, else True."""
    return False if False in flags else None if None in flags else True


def _levelled(net: NetworkResult, final: int) -> bool:
    """The curve gained at most TOLERANCE / 2 over the last fifth of training."""
    return _perf(net, final) - _perf(net, int(0.8 * final)) <= TOLERANCE / 2


def _fmt(nets: list[NetworkResult], step: int) -> str:
    return ", ".join(f"{n.label} {_perf(n, step):.3f}" for n in nets)


def _diffs(names: list[str], diffs: list[stats.Difference]) -> str:
    return "; ".join(f"{name} {d.text()}" for name, d in zip(names, diffs, strict=True))


def _pairs_above(a_nets, b_nets, step) -> tuple[bool | None, str]:
    """Every network of ``a_nets`` above its partner in ``b_nets`` at ``step`` (Welch
    tests, intersection-union); the text gives each difference."""
    pairs = [(_seeds(a, step), _seeds(b, step)) for a, b in zip(a_nets, b_nets, strict=True)]
    ok, diffs = stats.all_above(pairs)
    names = [f"{a.label} − {b.label}" for a, b in zip(a_nets, b_nets, strict=True)]
    return ok, _diffs(names, diffs)


def c1_paths(r: ExperimentResult) -> tuple[str, bool]:
    """LM diameter >= ER diameter and LM mean shortest path > ER's at every d > 0, on the
    directed graphs where the ER graph is strongly connected and on the undirected graphs where
    it is connected (results recorded before undirected paths were measured: directed only)."""
    (net,) = r.networks.values()
    ds = sorted({t for t, _ in net.values}, key=lambda t: float(t[2:]))
    ok, parts = True, []
    for d in (d for d in ds if float(d[2:]) > 0):  # d = 0: self-loops only, no paths
        compared = []
        for suffix, name in (("", "directed"), ("_undirected", "undirected")):

            def v(metric: str, net_: str, d: str = d, suffix: str = suffix) -> float:
                return net.values.get((d, f"{metric}{suffix}_{net_}"), math.inf)

            if math.isinf(v("diameter", "er")):
                continue  # a disconnected ER graph (or not measured): nothing to compare
            ok &= v("diameter", "lm") >= v("diameter", "er") and v("avg_shortest_path", "lm") > v(
                "avg_shortest_path", "er"
            )
            compared.append(
                f"{name} diam {v('diameter', 'lm'):.0f} vs {v('diameter', 'er'):.0f}, path "
                f"{v('avg_shortest_path', 'lm'):.2f} vs {v('avg_shortest_path', 'er'):.2f}"
            )
        if compared:
            parts.append(f"{d}: " + "; ".join(compared))
    return " | ".join(parts) + " (LM vs ER)", ok and bool(parts)


C1 = Claim(
    id="C1",
    text=(
        "LM graphs have a longer diameter and average shortest path than Erdős–Rényi graphs "
        "with the same in-degree."
    ),
    paper="LM longer (Fig 1d, 20x20 torus)",
    verdict="c1_paths",
)


def c1_clustering(r: ExperimentResult) -> tuple[str, bool]:
    """LM clustering coefficient < ER's at every d > 0 (the paper's text)."""
    (net,) = r.networks.values()
    ds = [t for t, _ in net.values if float(t[2:]) > 0]
    ds = sorted(set(ds), key=lambda t: float(t[2:]))
    pairs = [(d, net.values[(d, "clustering_lm")], net.values[(d, "clustering_er")]) for d in ds]
    text = "; ".join(f"{d}: {lm:.3f} vs {er:.3f}" for d, lm, er in pairs) + " (LM vs ER)"
    return text, bool(pairs) and all(lm < er for _, lm, er in pairs)


C1_CLUSTERING = Claim(
    id="C1 (clustering)",
    text=(
        "The paper's text: LM graphs have a smaller clustering coefficient than ER graphs (a "
        "disk mask is expected to give a larger one)."
    ),
    paper="LM smaller",
    verdict="c1_clustering",
)


def c2_faster(r: ExperimentResult) -> tuple[str, bool | None]:
    """Every LM above dense at the early point (Welch tests, all must reject); every LM
    within TOLERANCE of dense at the end (TOST; undecided while a curve still rises: more than
    TOLERANCE / 2 over the last fifth of training); a small d best at the early point (the
    best LM has at most the median d; fails when a larger d is best and above every smaller
    one by the tests)."""
    early, final = r.point("early"), r.point("final")
    lms, (dense,) = sorted(_nets(r, "locality"), key=lambda n: n.config["d"]), _nets(r, "dense")
    faster, text = _pairs_above(lms, [dense] * len(lms), early)
    text = f"at step {early}: {text}"
    floor = _off_floor(r, early, [*lms, dense])
    if floor:
        faster, text = None, f"{text} ({floor})"
    pairs = [(_seeds(n, final), _seeds(dense, final)) for n in lms]
    same_end, diffs = stats.all_equivalent(pairs, TOLERANCE)
    text += f"; at step {final}: " + _diffs([f"{n.label} − {dense.label}" for n in lms], diffs)
    rising = [n.label for n in [*lms, dense] if not _levelled(n, final)]
    if rising:
        same_end = None
        text += f" (still rising: {', '.join(rising)})"
    best = max(lms, key=lambda n: _perf(n, early))
    median = sorted(n.config["d"] for n in lms)[(len(lms) - 1) // 2]
    small_best: bool | None = True
    if best.config["d"] > median:
        smaller = [n for n in lms if n.config["d"] <= median]
        beaten, _ = _pairs_above([best] * len(smaller), smaller, early)
        small_best = False if beaten else None
    text += f"; best at step {early}: {best.label}"
    return text, _both(faster, same_end, small_best)


C2 = Claim(
    id="C2",
    text=(
        "On 20 tasks, LM-RNNs of every d (d = 0 included) learn faster than a dense RNN with "
        "the same N; a small d is best at 2x10^3 steps."
    ),
    paper="every LM above dense at 2e3 steps",
    verdict="c2_faster",
    min_best=LEARNED,
)


def c3_same_params(r: ExperimentResult) -> tuple[str, bool | None]:
    """At the early point, every LM above every dense RNN of (about) the same parameter
    count (Welch tests, all must reject)."""
    step = r.point("early")
    lms, dense = _nets(r, "locality"), _nets(r, "dense")
    pairs = [(lm, d) for lm in lms for d in dense]
    ok, text = _pairs_above([a for a, _ in pairs], [b for _, b in pairs], step)
    floor = _off_floor(r, step, lms + dense)
    if floor:
        ok, text = None, f"{text} ({floor})"
    return f"at step {step}: {text}", ok


C3 = Claim(
    id="C3",
    text="LM-RNNs also beat dense RNNs with the same number of parameters.",
    paper="LM(25x25, d=2, 4) above RNN(196), RNN(256)",
    verdict="c3_same_params",
    min_best=LEARNED,
)


def _analysis(r: ExperimentResult, what: str, key: str) -> float:
    (net,) = r.networks.values()
    return _value(net, what, key)


def _value(net: NetworkResult, what: str, key: str) -> float:
    value = net.values.get((f"analysis:{what}", key), float("nan"))
    if math.isnan(value):
        raise Undecided(f"{what} {key} of {net.label}")
    return value


def _near_best(net) -> str:
    """`` (k within 0.01 of the best silhouette: 2-4)``, or nothing when not recorded."""
    get = lambda key: net.values.get(("analysis:clusters", f"clustering.{key}"))  # noqa: E731
    low, high = get("near_best_min"), get("near_best_max")
    if low is None or high is None:
        return ""
    span = f"{low:.0f}" if low == high else f"{low:.0f}-{high:.0f}"
    return f" (k within 0.01 of the best silhouette: {span})"


def c4_clusters(r: ExperimentResult) -> tuple[str, bool]:
    """About 12 clusters (6..20); rule cosines higher within a family than between; rule
    inputs near-orthogonal to fixation and stimulus inputs (mean |cos| < 0.15; random vectors
    in N dimensions give about sqrt(2/(πN))); stimulus inputs circulant within each ring (the
    circulant part explains > 1/2 of the off-diagonal variance; unrelated vectors: ~1/16)."""
    g = lambda key: _analysis(r, "autapse", f"input_geometry.summary.{key}")  # noqa: E731
    k = _analysis(r, "clusters", "n_clusters")
    (net,) = r.networks.values()
    near = _near_best(net)
    within, between = g("rule_within_family"), g("rule_between_family")
    fixation, stimulus = g("abs_rule_vs_fixation"), g("abs_rule_vs_stimulus")
    circulant = min(g("circulant_ring1"), g("circulant_ring2"))
    text = (f"{k:.0f} clusters{near}; rule cosine within family {within:.2f} vs between "
            f"{between:.2f}; |cos| rule-fixation {fixation:.2f}, rule-stimulus {stimulus:.2f}; "
            f"circulant part {circulant:.2f}")  # fmt: skip
    checks = (6 <= k <= 20, within > between, fixation < 0.15 and stimulus < 0.15, circulant > 0.5)
    return text, all(checks)


C4 = Claim(
    id="C4",
    text=(
        "A trained autapse pool shows task-variance clusters (about 12) and rule-input "
        "weights with a task-family block structure."
    ),
    paper="about 12 clusters",
    verdict="c4_clusters",
    min_best=LEARNED,
)


def c5_bimodal(r: ExperimentResult) -> tuple[str, bool]:
    """Autapse class means below 0.3 and above 0.7 with a dip between them; ablating the near-0
    class costs at most TOLERANCE; ablating the near-1 class brings the tasks to chance (each
    task's accuracy measured from its own chance level: at most a quarter of the way from
    chance to perfect on average, rtgo/rtanti left out) and costs at least 0.2 more of that
    scale than ablating as many units at random; adding the input vectors solves go and anti
    (>= 0.9)."""
    a = lambda key: _analysis(r, "autapse", key)  # noqa: E731
    low, high = a("classes.low_mean"), a("classes.high_mean")
    intact, no_low = a("ablation.mean.intact"), a("ablation.mean.low")
    near_one = a("ablation.above_chance.high")
    at_random = a("ablation.above_chance.random")
    added = min(a("vector_addition.accuracy.go"), a("vector_addition.accuracy.anti"))
    dip = a("classes.dip_ratio")
    text = (f"class means {low:.2f} / {high:.2f}, dip ratio {dip:.2f}; accuracy intact "
            f"{intact:.2f}, near-0 ablated {no_low:.2f}; above chance (0 = chance, 1 = perfect): "
            f"near-1 ablated {near_one:.2f}, as many at random {at_random:.2f}; input vectors "
            f"added: go/anti {added:.2f}")  # fmt: skip
    ok = (low < 0.3 and high > 0.7 and dip < 0.35 and no_low >= intact - TOLERANCE
          and near_one <= 0.25 and at_random - near_one >= 0.2 and added >= 0.9)  # fmt: skip
    return text, ok


C5 = Claim(
    id="C5",
    text=(
        "Autapse weights are bimodal (near 0, near 1); ablating the near-0 ones costs "
        "nothing, ablating the near-1 ones drops performance towards chance."
    ),
    paper="bimodal; near-1 ablation to chance",
    verdict="c5_bimodal",
    min_best=LEARNED,
)


def c6_frozen(r: ExperimentResult) -> tuple[str, bool | None]:
    """Frozen pool above the trained pool at the early point (Welch test), and the same
    asymptote: within TOLERANCE at the end (TOST), undecided while either curve still rises
    (more than TOLERANCE / 2 over the last fifth of training)."""
    early, final = r.point("early"), r.point("final")
    (frozen,), (trained,) = _nets(r, "frozen_autapse"), _nets(r, "autapse")
    faster, text = _pairs_above([frozen], [trained], early)
    text = f"at step {early}: {text}"
    floor = _off_floor(r, early, [frozen, trained])
    if floor:
        faster, text = None, f"{text} ({floor})"
    same = stats.equivalence(_seeds(frozen, final), _seeds(trained, final), TOLERANCE)
    text += f"; at step {final}: {frozen.label} − {trained.label} {same.text()}"
    same_end = {1: True, -1: False, 0: None}[same.sign]
    rising = [n.label for n in (frozen, trained) if not _levelled(n, final)]
    if rising:
        same_end = None
        text += f" (still rising: {', '.join(rising)})"
    return text, _both(faster, same_end)


C6 = Claim(
    id="C6",
    text=(
        "A frozen autapse pool (W = I) learns the 20 tasks faster than a trained pool, to the"
        " same asymptote."
    ),
    paper="frozen above trained early",
    verdict="c6_frozen",
    min_best=LEARNED,
)


def c7_below_half(r: ExperimentResult) -> tuple[str, bool | None]:
    """Every autapse pool below 0.5 at the end (one-sided t-tests, all must reject; fails when
    one is above, Bonferroni), provided the positive control (a connected network with as
    many units as the smallest pool, trained as long) reaches 0.5: without it, "below 0.5"
    only says that nothing learned (undecided)."""
    final = r.point("final")
    pools = _nets(r, "autapse")
    controls = [n for n in _nets(r) if n.config["graph"] != "autapse"]
    tests = [stats.below(_seeds(n, final), 0.5) for n in pools]
    strict = [stats.below(_seeds(n, final), 0.5, stats.ALPHA / len(pools)) for n in pools]
    text = f"at step {final}: " + _diffs([f"{n.label} − 0.5" for n in pools], tests)
    ok = False if any(t.sign == -1 for t in strict) else (
        True if all(t.sign == 1 for t in tests) else None)  # fmt: skip
    if not controls:
        return text + "; no positive control in these results: undecided", None if ok else ok
    (control,) = controls
    reached = _perf(control, final)
    text += f"; positive control {control.label} {reached:.3f}"
    if reached < 0.5 and ok is not False:
        return text + " (below 0.5: nothing learned as long, undecided)", None
    return text, ok


C7 = Claim(
    id="C7",
    text="On Mod-Cog an autapse pool stays below 50% whatever its size.",
    paper="< 0.5 at every size",
    verdict="c7_below_half",
    min_steps=10_000,
)


def c8_intermediate(r: ExperimentResult) -> tuple[str, bool | None]:
    """The best LM with d above the smallest (at the end) above dense at the early point
    (learns faster) and at the end (a better asymptote), by Welch tests; the smallest d no
    better than dense at the end (its difference below TOLERANCE / 2 by a one-sided test;
    fails when it is above TOLERANCE / 2 by the test). Results recorded without an early point
    decide only the end (the rest undecided)."""
    final = r.point("final")
    lms = sorted(_nets(r, "locality"), key=lambda n: n.config["d"])
    (dense,) = _nets(r, "dense")
    smallest, rest = lms[0], lms[1:]
    best = max(rest, key=lambda n: _perf(n, final))
    better, text = _pairs_above([best], [dense], final)
    text = f"at step {final}: {text}"
    margin = TOLERANCE / 2
    small = stats.compare(_seeds(smallest, final), [v + margin for v in _seeds(dense, final)])
    text += f"; {smallest.label} − {dense.label} − {margin:g}: {small.text()}"
    no_better = {1: False, -1: True, 0: None}[small.sign]
    faster = None
    if "early" in r.spec["points"]:
        early = r.point("early")
        faster, early_text = _pairs_above([best], [dense], early)
        floor = _off_floor(r, early, [*lms, dense])
        if floor:
            faster, early_text = None, f"{early_text} ({floor})"
        text = f"at step {early}: {early_text}; " + text
    else:
        text += " (no early point recorded: 'learns faster' undecided)"
    return text, _both(faster, better, no_better)


C8 = Claim(
    id="C8",
    text=(
        "On Mod-Cog, LM-RNNs with intermediate d learn faster and reach better asymptotes "
        "than dense RNNs of the same N; very small d is no better than dense."
    ),
    paper="intermediate d above dense, early and at the end",
    verdict="c8_intermediate",
    min_best=LEARNED,
)


def c9_interior(r: ExperimentResult) -> tuple[str, bool | None]:
    """The best d at the end is interior and above both ends of the d grid (Welch tests, both
    must reject); fails when an end is best and above every interior d by the tests; else
    undecided (a flat, noisy profile decides nothing)."""
    final = r.point("final")
    lms = sorted(_nets(r, "locality"), key=lambda n: n.config["d"])
    best = max(range(len(lms)), key=lambda i: _perf(lms[i], final))
    text = f"best d = {lms[best].config['d']:g}; {_fmt(lms, final)}"
    if 0 < best < len(lms) - 1:
        ok, diffs = _pairs_above([lms[best]] * 2, [lms[0], lms[-1]], final)
        return f"{text}; {diffs}", True if ok else None
    interior = lms[1:-1]
    ok, diffs = _pairs_above([lms[best]] * len(interior), interior, final)
    return f"{text}; {diffs}", False if ok else None


C9 = Claim(
    id="C9",
    text="At 10^4 steps, performance against d has an interior optimum.",
    paper="interior optimum in d",
    verdict="c9_interior",
    min_steps=10_000,
    min_best=LEARNED,
)


def c10_random_close(r: ExperimentResult) -> tuple[str, bool | None]:
    """At the end, at every system size, the ER graph within TOLERANCE of the LM (TOST) and
    not above it (Welch); fails when an ER graph is above its LM, or the two are more than
    TOLERANCE apart, by the tests (Bonferroni over sizes); else undecided."""
    final = r.point("final")
    pairs = [(lm, er) for lm in _nets(r, "locality") for er in _nets(r, "erdos_renyi")
             if lm.config["n"] == er.config["n"]]  # fmt: skip
    if not pairs:
        return "no LM and ER graph of the same size", None
    samples = [(_seeds(lm, final), _seeds(er, final)) for lm, er in pairs]
    close, diffs = stats.all_equivalent(samples, TOLERANCE)
    er_above = [stats.compare(er, lm, stats.ALPHA / len(pairs)) for lm, er in samples]
    text = "; ".join(f"{lm.config['n']}x{lm.config['n']}: LM {_perf(lm, final):.3f}, ER "
                     f"{_perf(er, final):.3f}, LM − ER {d.text()}"
                     for (lm, er), d in zip(pairs, diffs, strict=True))  # fmt: skip
    if any(d.sign == 1 for d in er_above):
        return text + " (an ER graph above its LM)", False
    return text, close


C10 = Claim(
    id="C10",
    text=(
        "At ~4% density, random graphs of the same in-degree do about as well as LM masks "
        "(slightly worse), across system sizes."
    ),
    paper="ER not above LM, within 0.05",
    verdict="c10_random_close",
    min_best=LEARNED,
)


def c11_density_falls(r: ExperimentResult) -> tuple[str, bool | None]:
    """The density (in-degree / N) of the best LM at the end never rises with N and falls from
    the smallest N to the largest, in at least 95% of bootstrap resamples of the seeds (fails
    in at most 5%); undecided in between, and where the best d of a size is the smallest or
    largest d tried there (the optimum may lie outside the grid)."""
    from lmrnn.graphs import locality_degree

    final = r.point("final")
    by_size: dict[int, list[NetworkResult]] = {}
    for net in _nets(r, "locality"):
        by_size.setdefault(net.config["n"], []).append(net)
    sizes = sorted(by_size)
    if len(sizes) < 2:
        return "fewer than two system sizes", None
    nets = [net for n in sizes for net in by_size[n]]
    density = [locality_degree(net.config["d"], net.config["n"]) / net.config["n"] ** 2
               for net in nets]  # fmt: skip

    def falls(samples) -> bool:
        means = [float(s.mean()) for s in samples]
        best, i = [], 0
        for n in sizes:
            k = len(by_size[n])
            j = max(range(i, i + k), key=lambda m: means[m])
            best.append(density[j])
            i += k
        return all(a >= b for a, b in itertools.pairwise(best)) and best[0] > best[-1]

    fraction = stats.bootstrap_fraction([_seeds(net, final) for net in nets], falls)
    best = {n: max(by_size[n], key=lambda net: _perf(net, final)) for n in sizes}
    text = "best density: " + ", ".join(
        f"N={n * n} {locality_degree(best[n].config['d'], n) / n**2:.3f} "
        f"(d = {best[n].config['d']:g})" for n in sizes
    ) + f"; falls in {fraction:.0%} of bootstrap resamples of the seeds"  # fmt: skip
    edge = [n for n in sizes
            if best[n].config["d"] in (min(x.config["d"] for x in by_size[n]),
                                       max(x.config["d"] for x in by_size[n]))]  # fmt: skip
    if edge:
        text += "; best d at the edge of the grid for N = " + ", ".join(str(n * n) for n in edge)
        return text, None
    return text, True if fraction >= 1 - stats.ALPHA else False if fraction <= stats.ALPHA else None


C11 = Claim(
    id="C11",
    text=(
        "The best density falls as the system grows (at a constant best d the density K/N "
        "falls as 1/N, so the best d per size is shown too)."
    ),
    paper="best density decreases with N",
    verdict="c11_density_falls",
    min_best=LEARNED,
)


def c12_small_world(r: ExperimentResult) -> tuple[str, bool | None]:
    """At the early point every local radius within TOLERANCE of the LM end (largest radius;
    TOST, undecided while every network is at the floor); at the later point the LM end above
    every other radius (Welch tests, all must reject; fails when it is below one)."""
    early, later = r.point("early"), r.point("later")
    nets = sorted(_nets(r), key=lambda n: n.config["local_radius"])
    lm, others = nets[-1], nets[:-1]
    pairs = [(_seeds(n, early), _seeds(lm, early)) for n in others]
    same, diffs = stats.all_equivalent(pairs, TOLERANCE)
    text = f"at step {early}: " + _diffs([f"{n.label} − LM end" for n in others], diffs)
    floor = _off_floor(r, early, nets)
    if floor:
        same, text = None, f"{text} ({floor})"
    ahead, later_text = _pairs_above([lm] * len(others), others, later)
    return f"{text}; at step {later}: {later_text}", _both(same, ahead)


C12 = Claim(
    id="C12",
    text=(
        "Small-world graphs with the edge count of d = 8, local radius 0 (random) to 8 (LM): "
        "no difference at 10^3 steps, LM slightly better at 2x10^3."
    ),
    paper="equal at 1e3, LM ahead at 2e3",
    verdict="c12_small_world",
    min_best=LEARNED,
)


def c13_table1(r: ExperimentResult) -> tuple[str, bool | None]:
    """At the end, every LM above every dense and L1-regularised RNN (Welch tests, all must
    reject; fails when an LM is below one of them, Bonferroni)."""
    final = r.point("final")
    lms, others = _nets(r, "locality"), _nets(r, "dense")
    pairs = [(lm, o) for lm in lms for o in others]
    ok, diffs = _pairs_above([a for a, _ in pairs], [b for _, b in pairs], final)
    best = max(others, key=lambda n: _perf(n, final))
    text = (f"LM {', '.join(f'{_perf(n, final):.3f}' for n in lms)} vs best other {best.label} "
            f"{_perf(best, final):.3f}; {diffs}")  # fmt: skip
    return text, ok


C13 = Claim(
    id="C13",
    text="Table 1: LM-RNNs beat dense and L1-regularised RNNs of similar size at 10k steps.",
    paper="0.799 / 0.815 vs at most 0.73",
    verdict="c13_table1",
    min_steps=10_000,
    min_best=LEARNED,
)


def c14_fewer_clusters(r: ExperimentResult) -> tuple[str, bool | None]:
    """The LM forms fewer task-variance clusters than the dense RNN, by a Welch test over
    seeds of each seed's count averaged over fresh samples of analysis trials (the count of
    one network moves with the sample). Results recorded without that spread fall back to the
    range of counts within 0.01 of the best silhouette: fewer when the LM's whole range lies
    below the dense network's, more when above, undecided when they overlap."""
    (lm,), (dense,) = _nets(r, "locality"), _nets(r, "dense")
    k_lm, k_dense = _value(lm, "clusters", "n_clusters"), _value(dense, "clusters", "n_clusters")
    text = f"{lm.label} {k_lm:.0f} clusters{_near_best(lm)}, {dense.label} {k_dense:.0f}"
    text += _near_best(dense)
    spread_lm, spread_dense = _count_spread(lm), _count_spread(dense)
    if spread_lm and spread_dense:
        diff = stats.compare(spread_dense, spread_lm)
        per_seed = lambda ks: ", ".join(f"{k:.1f}" for k in ks)  # noqa: E731
        text += (f"; mean count per seed over fresh trial samples: LM {per_seed(spread_lm)}, "
                 f"dense {per_seed(spread_dense)}; dense − LM {diff.text()}")  # fmt: skip
        return text, {1: True, -1: False, 0: None}[diff.sign]
    lm_range, dense_range = _k_range(lm), _k_range(dense)
    if lm_range is None or dense_range is None:
        return text + " (no spread recorded: undecided)", None
    if lm_range[1] < dense_range[0]:
        return text, True
    if lm_range[0] > dense_range[1]:
        return text, False
    return text + " (the ranges overlap: undecided)", None


C14 = Claim(
    id="C14",
    text=(
        "Mod-Cog task-variance clustering: LM-RNN(50x50, d=10) forms fewer clusters than RNN(2500)."
    ),
    paper="24 vs 33 clusters",
    verdict="c14_fewer_clusters",
    min_best=LEARNED,
)


def _count_spread(net: NetworkResult) -> list[float]:
    prefix = "spread.mean_per_seed."
    keys = sorted(k for t, k in net.values if t == "analysis:clusters" and k.startswith(prefix))
    return [net.values[("analysis:clusters", k)] for k in keys]


def _k_range(net: NetworkResult) -> tuple[float, float] | None:
    get = lambda key: net.values.get(("analysis:clusters", f"clustering.{key}"))  # noqa: E731
    low, high = get("near_best_min"), get("near_best_max")
    return None if low is None or high is None else (low, high)


#: Every claim by its catalog key: the claim's words beside the rule that decides it.
CLAIMS: dict[str, Claim] = {
    "C1": C1,
    "C1c": C1_CLUSTERING,
    "C2": C2,
    "C3": C3,
    "C4": C4,
    "C5": C5,
    "C6": C6,
    "C7": C7,
    "C8": C8,
    "C9": C9,
    "C10": C10,
    "C11": C11,
    "C12": C12,
    "C13": C13,
    "C14": C14,
}

VERDICTS: dict[str, Callable[[ExperimentResult], tuple[str, bool | None]]] = {
    f.__name__: f
    for f in (c1_paths, c1_clustering, c2_faster, c3_same_params, c4_clusters, c5_bimodal,
              c6_frozen, c7_below_half, c8_intermediate, c9_interior, c10_random_close,
              c11_density_falls, c12_small_world, c13_table1, c14_fewer_clusters)
}  # fmt: skip
