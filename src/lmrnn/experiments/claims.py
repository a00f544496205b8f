"""Verdicts: each claim of paper-targets.md decided from an experiment's stored results.

A verdict function takes an :class:`~lmrnn.experiments.results.ExperimentResult` and returns
``(ours, holds)``: a short text with our numbers and True / False, or None where the numbers
cannot decide (means within one s.e.m. of each other, curves still rising where the claim is
about where they end). :func:`judge` adds "not run at this scale" when a network of the
experiment is missing or failed, and "inconclusive" when a number the verdict needs is missing.
Performance means the mean over tasks of the decision accuracy, averaged over seeds; "early"
and "later" are the spec's evaluation points (2x10^3 of 10^4 steps at paper scale, the same
fraction elsewhere). One network is "above" another when its mean minus its s.e.m. exceeds the
other's mean plus its s.e.m.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

from lmrnn.experiments.results import ExperimentResult, NetworkResult

HOLDS, FAILS, NOT_RUN = "holds", "does not hold", "not run at this scale"
INCONCLUSIVE = "inconclusive at this scale"
TOLERANCE = 0.05  # "about as well", "same asymptote": within 5 accuracy points


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
    return _mean_sem(net, step)[0]


def _mean_sem(net: NetworkResult, step: int) -> tuple[float, float]:
    value = net.at(step)
    if not value or math.isnan(value[0]):
        raise Undecided(f"the performance of {net.label} at step {step}")
    mean, sem = value
    return mean, 0.0 if math.isnan(sem) else sem


def _above(a: NetworkResult, b: NetworkResult, step: int) -> int:
    """1 if ``a`` is above ``b`` at ``step`` beyond both s.e.m.s, -1 if below, 0 if neither."""
    (ma, sa), (mb, sb) = _mean_sem(a, step), _mean_sem(b, step)
    return 1 if ma - sa > mb + sb else -1 if ma + sa < mb - sb else 0


def _all_above(pairs: list[tuple[NetworkResult, NetworkResult]], step: int) -> bool | None:
    """True if every ``a`` is above its ``b``, False if one is below, None otherwise."""
    signs = [_above(a, b, step) for a, b in pairs]
    return False if -1 in signs else None if 0 in signs else True


def _both(*flags: bool | None) -> bool | None:
    """False if any is False, None (undecided) if any is None, else True."""
    return False if False in flags else None if None in flags else True


def _levelled(net: NetworkResult, final: int) -> bool:
    """The curve gained at most TOLERANCE / 2 over the last fifth of training."""
    return _perf(net, final) - _perf(net, int(0.8 * final)) <= TOLERANCE / 2


def _fmt(nets: list[NetworkResult], step: int) -> str:
    return ", ".join(f"{n.label} {_perf(n, step):.3f}" for n in nets)


# -- the verdicts --------------------------------------------------------------------------------
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


def c1_clustering(r: ExperimentResult) -> tuple[str, bool]:
    """LM clustering coefficient < ER's at every d > 0 (the paper's text)."""
    (net,) = r.networks.values()
    ds = [t for t, _ in net.values if float(t[2:]) > 0]
    ds = sorted(set(ds), key=lambda t: float(t[2:]))
    pairs = [(d, net.values[(d, "clustering_lm")], net.values[(d, "clustering_er")]) for d in ds]
    text = "; ".join(f"{d}: {lm:.3f} vs {er:.3f}" for d, lm, er in pairs) + " (LM vs ER)"
    return text, bool(pairs) and all(lm < er for _, lm, er in pairs)


def c2_faster(r: ExperimentResult) -> tuple[str, bool | None]:
    """Every LM above dense at the early point; all within TOLERANCE of one another at the
    end (undecided while a curve still rises: more than TOLERANCE / 2 over the last fifth of
    training); the best LM at the early point has one of the smaller radii (at most the
    median d)."""
    early, final = r.point("early"), r.point("final")
    lms, (dense,) = sorted(_nets(r, "locality"), key=lambda n: n.config["d"]), _nets(r, "dense")
    best = max(lms, key=lambda n: _perf(n, early))
    faster = _all_above([(n, dense) for n in lms], early)
    finals = [_perf(n, final) for n in [*lms, dense]]
    rising = [n.label for n in [*lms, dense] if not _levelled(n, final)]
    same_end = None if rising else max(finals) - min(finals) <= TOLERANCE
    small_best = best.config["d"] <= sorted(n.config["d"] for n in lms)[(len(lms) - 1) // 2]
    text = (f"at step {early}: {_fmt([*lms, dense], early)}; best {best.label}; at step {final} "
            f"spread {max(finals) - min(finals):.3f}")  # fmt: skip
    if rising:
        text += f" (still rising: {', '.join(rising)})"
    return text, _both(faster, same_end, small_best)


def c3_same_params(r: ExperimentResult) -> tuple[str, bool | None]:
    """At the early point, every LM above every dense RNN of (about) the same parameter
    count."""
    step = r.point("early")
    lms, dense = _nets(r, "locality"), _nets(r, "dense")
    ok = _all_above([(lm, d) for lm in lms for d in dense], step)
    return f"at step {step}: {_fmt(lms + dense, step)}", ok


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


def c5_bimodal(r: ExperimentResult) -> tuple[str, bool]:
    """Autapse class means below 0.3 and above 0.7; ablating the near-0 class costs at most
    TOLERANCE; ablating the near-1 class costs at least 0.2; adding the input vectors solves
    go and anti (>= 0.9)."""
    a = lambda key: _analysis(r, "autapse", key)  # noqa: E731
    low, high = a("classes.low_mean"), a("classes.high_mean")
    intact, no_low, no_high = (
        a("ablation.mean.intact"),
        a("ablation.mean.low"),
        a("ablation.mean.high"),
    )
    added = min(a("vector_addition.accuracy.go"), a("vector_addition.accuracy.anti"))
    dip = a("classes.dip_ratio")
    text = (f"class means {low:.2f} / {high:.2f}, dip ratio {dip:.2f}; accuracy intact "
            f"{intact:.2f}, near-0 ablated "
            f"{no_low:.2f}, near-1 ablated {no_high:.2f}; input vectors added: go/anti "
            f"{added:.2f}")  # fmt: skip
    ok = (low < 0.3 and high > 0.7 and dip < 0.35 and no_low >= intact - TOLERANCE
          and no_high <= intact - 0.2 and added >= 0.9)  # fmt: skip
    return text, ok


def c6_frozen(r: ExperimentResult) -> tuple[str, bool | None]:
    """Frozen pool above the trained pool at the early point, and within TOLERANCE of it at
    the end."""
    early, final = r.point("early"), r.point("final")
    (frozen,), (trained,) = _nets(r, "frozen_autapse"), _nets(r, "autapse")
    ok = _both(
        _all_above([(frozen, trained)], early),
        abs(_perf(frozen, final) - _perf(trained, final)) <= TOLERANCE,
    )
    return (
        f"frozen vs trained: {_perf(frozen, early):.3f} vs {_perf(trained, early):.3f} at "
        f"{early}, {_perf(frozen, final):.3f} vs {_perf(trained, final):.3f} at {final}"
    ), ok


def c7_below_half(r: ExperimentResult) -> tuple[str, bool]:
    """Every autapse pool below 0.5 at the end."""
    final = r.point("final")
    nets = _nets(r)
    return _fmt(nets, final), all(_perf(n, final) < 0.5 for n in nets)


def c8_intermediate(r: ExperimentResult) -> tuple[str, bool | None]:
    """The best LM with d above the smallest (at the end) beats dense at the early point
    (learns faster) and at the end (a better asymptote); the smallest d is not above dense by
    more than half of TOLERANCE at the end. Results recorded without an early point decide only
    the end (the rest undecided)."""
    final = r.point("final")
    lms = sorted(_nets(r, "locality"), key=lambda n: n.config["d"])
    (dense,) = _nets(r, "dense")
    smallest, rest = lms[0], lms[1:]
    best = max(rest, key=lambda n: _perf(n, final))
    text = f"at step {final}: {_fmt([*lms, dense], final)}"
    faster = None
    if "early" in r.spec["points"]:
        early = r.point("early")
        faster = _all_above([(best, dense)], early)
        text = f"at step {early}: {_fmt([best, dense], early)}; " + text
    else:
        text += " (no early point recorded: 'learns faster' undecided)"
    ok = _both(
        faster,
        _all_above([(best, dense)], final),
        _perf(smallest, final) <= _perf(dense, final) + TOLERANCE / 2,
    )
    return text, ok


def c9_interior(r: ExperimentResult) -> tuple[str, bool]:
    """The best d at the end is neither the smallest nor the largest tried."""
    final = r.point("final")
    lms = sorted(_nets(r, "locality"), key=lambda n: n.config["d"])
    best = max(range(len(lms)), key=lambda i: _perf(lms[i], final))
    text = f"best d = {lms[best].config['d']:g}; {_fmt(lms, final)}"
    return text, 0 < best < len(lms) - 1


def c10_random_close(r: ExperimentResult) -> tuple[str, bool]:
    """At the end, at every system size, ER not above LM and at most TOLERANCE below it (the
    paper: LM as well as or slightly better than the random graph)."""
    final = r.point("final")
    pairs = [(lm, er) for lm in _nets(r, "locality") for er in _nets(r, "erdos_renyi")
             if lm.config["n"] == er.config["n"]]  # fmt: skip
    text = "; ".join(f"{lm.config['n']}x{lm.config['n']}: LM {_perf(lm, final):.3f}, ER "
                     f"{_perf(er, final):.3f}" for lm, er in pairs)  # fmt: skip
    ok = all(_above(er, lm, final) < 1 and _perf(lm, final) - _perf(er, final) <= TOLERANCE
             for lm, er in pairs)  # fmt: skip
    return text, ok and bool(pairs)


def c11_density_falls(r: ExperimentResult) -> tuple[str, bool | None]:
    """The density (in-degree / N) of the best LM at the end never rises with N, and falls
    from the smallest N to the largest; undecided where the best d of a size is the smallest
    or largest d tried there (the optimum may lie outside the grid)."""
    from lmrnn.graphs import locality_degree

    final = r.point("final")
    best: dict[int, tuple[float, float, float]] = {}  # n -> (performance, density, d)
    grid: dict[int, list[float]] = {}
    for net in _nets(r, "locality"):
        n, d = net.config["n"], net.config["d"]
        p = _perf(net, final)
        grid.setdefault(n, []).append(d)
        if n not in best or p > best[n][0]:
            best[n] = (p, locality_degree(d, n) / n**2, d)
    sizes = sorted(best)
    dens = [best[n][1] for n in sizes]
    ok = all(a >= b for a, b in itertools.pairwise(dens)) and dens[0] > dens[-1]
    edge = [n for n in sizes if best[n][2] in (min(grid[n]), max(grid[n]))]
    text = "best density: " + ", ".join(f"N={n * n} {best[n][1]:.3f} (d = {best[n][2]:g})"
                                        for n in sizes)  # fmt: skip
    if edge:
        text += "; best d at the edge of the grid for N = " + ", ".join(str(n * n) for n in edge)
        return text, None
    return text, ok


def c12_small_world(r: ExperimentResult) -> tuple[str, bool | None]:
    """Spread across local radii <= TOLERANCE at the early point; at the later point the LM
    end (largest radius) above every other radius (below one: fails; within the s.e.m.:
    undecided)."""
    early, later = r.point("early"), r.point("later")
    nets = sorted(_nets(r), key=lambda n: n.config["local_radius"])
    spread = max(_perf(n, early) for n in nets) - min(_perf(n, early) for n in nets)
    random, lm = nets[0], nets[-1]
    ok = _both(spread <= TOLERANCE, _all_above([(lm, n) for n in nets[:-1]], later))
    return (f"spread at {early}: {spread:.3f}; at {later}: LM {_perf(lm, later):.3f} vs random "
            f"{_perf(random, later):.3f}"), ok  # fmt: skip


def c13_table1(r: ExperimentResult) -> tuple[str, bool | None]:
    """At the end, every LM above every dense and L1-regularised RNN."""
    final = r.point("final")
    lms, others = _nets(r, "locality"), _nets(r, "dense")
    ok = _all_above([(lm, o) for lm in lms for o in others], final)
    best = max(others, key=lambda n: _perf(n, final))
    text = f"LM {', '.join(f'{_perf(n, final):.3f}' for n in lms)} vs best other {best.label} "
    return text + f"{_perf(best, final):.3f}", ok


def c14_fewer_clusters(r: ExperimentResult) -> tuple[str, bool]:
    """The LM forms fewer task-variance clusters than the dense RNN."""
    (lm,), (dense,) = _nets(r, "locality"), _nets(r, "dense")
    k_lm, k_dense = _value(lm, "clusters", "n_clusters"), _value(dense, "clusters", "n_clusters")
    text = f"{lm.label} {k_lm:.0f} clusters{_near_best(lm)}, {dense.label} {k_dense:.0f}"
    return text + _near_best(dense), k_lm < k_dense


VERDICTS: dict[str, Callable[[ExperimentResult], tuple[str, bool | None]]] = {
    f.__name__: f
    for f in (c1_paths, c1_clustering, c2_faster, c3_same_params, c4_clusters, c5_bimodal,
              c6_frozen, c7_below_half, c8_intermediate, c9_interior, c10_random_close,
              c11_density_falls, c12_small_world, c13_table1, c14_fewer_clusters)
}  # fmt: skip
