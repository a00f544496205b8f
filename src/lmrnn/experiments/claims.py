"""Verdicts: each claim of paper-targets.md decided from an experiment's stored results.

A verdict function takes an :class:`~lmrnn.experiments.results.ExperimentResult` and returns
``(ours, holds)``: a short text with our numbers and True / False. :func:`judge` adds "not run
at this scale" when a network of the experiment is missing or failed. Performance means the
mean over tasks of the decision accuracy, averaged over seeds; "early" and "later" are the
spec's evaluation points (2x10^3 of 10^4 steps at paper scale, the same fraction elsewhere).
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
            ours, verdict = f"incomplete: {', '.join(failed) or 'no runs'}", NOT_RUN
        else:
            ours, holds = VERDICTS[claim["verdict"]](result)
            verdict = HOLDS if holds else FAILS
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
        best = max((_perf(n, final) for n in result.networks.values()), default=float("nan"))
        if not best >= claim["min_best"]:
            return (f"the best network reaches {best:.2f} at step {final}, below "
                    f"{claim['min_best']:.2f}: not yet learned enough to compare")  # fmt: skip
    return ""


# -- helpers -----------------------------------------------------------------------------------
def _nets(result: ExperimentResult, graph: str | None = None) -> list[NetworkResult]:
    return [n for n in result.networks.values() if graph is None or n.config["graph"] == graph]


def _perf(net: NetworkResult, step: int) -> float:
    value = net.at(step)
    return value[0] if value else float("nan")


def _fmt(nets: list[NetworkResult], step: int) -> str:
    return ", ".join(f"{n.label} {_perf(n, step):.3f}" for n in nets)


# -- the verdicts --------------------------------------------------------------------------------
def c1_paths(r: ExperimentResult) -> tuple[str, bool]:
    """LM diameter >= ER diameter and LM mean shortest path > ER's at every d > 0 whose ER
    graph is connected."""
    (net,) = r.networks.values()
    ds = sorted({t for t, _ in net.values}, key=lambda t: float(t[2:]))
    ok, parts = True, []
    for d in ds:
        v = lambda c, d=d: net.values[(d, c)]  # noqa: E731
        if float(d[2:]) == 0 or math.isinf(v("diameter_er")):
            continue  # d = 0 (self loops only) or a disconnected ER graph: nothing to compare
        ok &= v("diameter_lm") >= v("diameter_er") and v("avg_shortest_path_lm") > v(
            "avg_shortest_path_er"
        )
        path = f"{v('avg_shortest_path_lm'):.2f} vs {v('avg_shortest_path_er'):.2f}"
        parts.append(f"{d}: diam {v('diameter_lm'):.0f} vs {v('diameter_er'):.0f}, path {path}")
    return "; ".join(parts) + " (LM vs ER)", ok and bool(parts)


def c1_clustering(r: ExperimentResult) -> tuple[str, bool]:
    """LM clustering coefficient < ER's at every d > 0 (the paper's text)."""
    (net,) = r.networks.values()
    ds = [t for t, _ in net.values if float(t[2:]) > 0]
    ds = sorted(set(ds), key=lambda t: float(t[2:]))
    pairs = [(d, net.values[(d, "clustering_lm")], net.values[(d, "clustering_er")]) for d in ds]
    text = "; ".join(f"{d}: {lm:.3f} vs {er:.3f}" for d, lm, er in pairs) + " (LM vs ER)"
    return text, bool(pairs) and all(lm < er for _, lm, er in pairs)


def c2_faster(r: ExperimentResult) -> tuple[str, bool]:
    """Every LM above dense at the early point; all within TOLERANCE of one another at the
    end; the best LM at the early point has one of the smaller radii (at most the median d)."""
    early, final = r.point("early"), r.point("final")
    lms, (dense,) = sorted(_nets(r, "locality"), key=lambda n: n.config["d"]), _nets(r, "dense")
    best = max(lms, key=lambda n: _perf(n, early))
    faster = all(_perf(n, early) > _perf(dense, early) for n in lms)
    finals = [_perf(n, final) for n in [*lms, dense]]
    same_end = max(finals) - min(finals) <= TOLERANCE
    small_best = best.config["d"] <= sorted(n.config["d"] for n in lms)[(len(lms) - 1) // 2]
    text = (f"at step {early}: {_fmt([*lms, dense], early)}; best {best.label}; at step {final} "
            f"spread {max(finals) - min(finals):.3f}")  # fmt: skip
    return text, faster and same_end and small_best


def c3_same_params(r: ExperimentResult) -> tuple[str, bool]:
    """At the early point, every LM above every dense RNN of (about) the same parameter
    count."""
    step = r.point("early")
    lms, dense = _nets(r, "locality"), _nets(r, "dense")
    ok = min(_perf(n, step) for n in lms) > max(_perf(n, step) for n in dense)
    return f"at step {step}: {_fmt(lms + dense, step)}", ok


def _analysis(r: ExperimentResult, what: str, key: str) -> float:
    (net,) = r.networks.values()
    return net.values.get((f"analysis:{what}", key), float("nan"))


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
    text = (f"class means {low:.2f} / {high:.2f}; accuracy intact {intact:.2f}, near-0 ablated "
            f"{no_low:.2f}, near-1 ablated {no_high:.2f}; input vectors added: go/anti "
            f"{added:.2f}")  # fmt: skip
    ok = (low < 0.3 and high > 0.7 and no_low >= intact - TOLERANCE
          and no_high <= intact - 0.2 and added >= 0.9)  # fmt: skip
    return text, ok


def c6_frozen(r: ExperimentResult) -> tuple[str, bool]:
    """Frozen pool above the trained pool at the early point, and within TOLERANCE of it at
    the end."""
    early, final = r.point("early"), r.point("final")
    (frozen,), (trained,) = _nets(r, "frozen_autapse"), _nets(r, "autapse")
    ok = (
        _perf(frozen, early) > _perf(trained, early)
        and abs(_perf(frozen, final) - _perf(trained, final)) <= TOLERANCE
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


def c8_intermediate(r: ExperimentResult) -> tuple[str, bool]:
    """The best LM with d above the smallest beats dense at the end; the smallest d is not
    above dense by more than half of TOLERANCE."""
    final = r.point("final")
    lms = sorted(_nets(r, "locality"), key=lambda n: n.config["d"])
    (dense,) = _nets(r, "dense")
    smallest, rest = lms[0], lms[1:]
    best = max(rest, key=lambda n: _perf(n, final))
    ok = (
        _perf(best, final) > _perf(dense, final)
        and _perf(smallest, final) <= _perf(dense, final) + TOLERANCE / 2
    )
    return f"at step {final}: {_fmt([*lms, dense], final)}", ok


def c9_interior(r: ExperimentResult) -> tuple[str, bool]:
    """The best d at the end is neither the smallest nor the largest tried."""
    final = r.point("final")
    lms = sorted(_nets(r, "locality"), key=lambda n: n.config["d"])
    best = max(range(len(lms)), key=lambda i: _perf(lms[i], final))
    text = f"best d = {lms[best].config['d']:g}; {_fmt(lms, final)}"
    return text, 0 < best < len(lms) - 1


def c10_random_close(r: ExperimentResult) -> tuple[str, bool]:
    """|LM - ER| <= TOLERANCE at the end at every system size."""
    final = r.point("final")
    pairs = [(lm, er) for lm in _nets(r, "locality") for er in _nets(r, "erdos_renyi")
             if lm.config["n"] == er.config["n"]]  # fmt: skip
    text = "; ".join(f"{lm.config['n']}x{lm.config['n']}: LM {_perf(lm, final):.3f}, ER "
                     f"{_perf(er, final):.3f}" for lm, er in pairs)  # fmt: skip
    ok = all(abs(_perf(lm, final) - _perf(er, final)) <= TOLERANCE for lm, er in pairs)
    return text, ok and bool(pairs)


def c11_density_falls(r: ExperimentResult) -> tuple[str, bool]:
    """The density (in-degree / N) of the best LM at the end never rises with N, and falls
    from the smallest N to the largest."""
    from lmrnn.graphs import locality_degree

    final = r.point("final")
    best: dict[int, tuple[float, float]] = {}  # n -> (performance, density)
    for net in _nets(r, "locality"):
        n, d = net.config["n"], net.config["d"]
        p = _perf(net, final)
        if n not in best or p > best[n][0]:
            best[n] = (p, locality_degree(d, n) / n**2)
    sizes = sorted(best)
    dens = [best[n][1] for n in sizes]
    ok = all(a >= b for a, b in itertools.pairwise(dens)) and dens[0] > dens[-1]
    return "best density: " + ", ".join(f"N={n * n} {best[n][1]:.3f}" for n in sizes), ok


def c12_small_world(r: ExperimentResult) -> tuple[str, bool]:
    """Spread across local radii <= TOLERANCE at the early point; the LM end (largest
    radius) at least the random end (radius 0) at the later point."""
    early, later = r.point("early"), r.point("later")
    nets = sorted(_nets(r), key=lambda n: n.config["local_radius"])
    spread = max(_perf(n, early) for n in nets) - min(_perf(n, early) for n in nets)
    random, lm = nets[0], nets[-1]
    ok = spread <= TOLERANCE and _perf(lm, later) >= _perf(random, later)
    return (f"spread at {early}: {spread:.3f}; at {later}: LM {_perf(lm, later):.3f} vs random "
            f"{_perf(random, later):.3f}"), ok  # fmt: skip


def c13_table1(r: ExperimentResult) -> tuple[str, bool]:
    """At the end, every LM above every dense and L1-regularised RNN."""
    final = r.point("final")
    lms, others = _nets(r, "locality"), _nets(r, "dense")
    ok = min(_perf(n, final) for n in lms) > max(_perf(n, final) for n in others)
    best = max(others, key=lambda n: _perf(n, final))
    text = f"LM {', '.join(f'{_perf(n, final):.3f}' for n in lms)} vs best other {best.label} "
    return text + f"{_perf(best, final):.3f}", ok


def c14_fewer_clusters(r: ExperimentResult) -> tuple[str, bool]:
    """The LM forms fewer task-variance clusters than the dense RNN."""
    (lm,), (dense,) = _nets(r, "locality"), _nets(r, "dense")
    k_lm = lm.values.get(("analysis:clusters", "n_clusters"), float("nan"))
    k_dense = dense.values.get(("analysis:clusters", "n_clusters"), float("nan"))
    text = f"{lm.label} {k_lm:.0f} clusters{_near_best(lm)}, {dense.label} {k_dense:.0f}"
    return text + _near_best(dense), k_lm < k_dense


VERDICTS: dict[str, Callable[[ExperimentResult], tuple[str, bool]]] = {
    f.__name__: f
    for f in (c1_paths, c1_clustering, c2_faster, c3_same_params, c4_clusters, c5_bimodal,
              c6_frozen, c7_below_half, c8_intermediate, c9_interior, c10_random_close,
              c11_density_falls, c12_small_world, c13_table1, c14_fewer_clusters)
}  # fmt: skip
