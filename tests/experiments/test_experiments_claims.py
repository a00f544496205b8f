"""Verdicts on planted results: each claim holds when its numbers say so, fails when one of its
conditions is broken beyond the noise, and stays undecided where the seeds cannot tell (a flat
noisy profile, every network at the floor)."""

from __future__ import annotations

import math

import pytest

from lmrnn.experiments.claims import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    c1_paths,
    c2_faster,
    c3_same_params,
    c4_clusters,
    c5_bimodal,
    c8_intermediate,
    c10_random_close,
    judge,
)
from lmrnn.experiments.results import ExperimentResult, NetworkResult
from lmrnn.train.outputs import mean_sem

POINTS = {"early": 200, "later": 400, "final": 1000}
PATTERN = (-2, -1, 0, 1, 2)  # five seeds around the mean: sd = 1.58 x spread
FLOOR = 0.02  # every planted network's performance at step 0


def _seed_values(mean: float, spread: float) -> list[float]:
    return [mean + spread * k for k in PATTERN]


def _set(net: NetworkResult, step: int, mean: float, spread: float = 0.01) -> None:
    """Plant five seeds' performances around ``mean`` at ``step``."""
    values = _seed_values(mean, spread)
    net.per_seed[step] = values
    net.curve[step] = (*mean_sem(values), len(values))
    net.curve = dict(sorted(net.curve.items()))


def _net(label: str, config: dict, early: float, final: float, spread: float = 0.01,
         **values) -> NetworkResult:  # fmt: skip
    """Five seeds at the floor at step 0, at ``early`` at the early point, levelled off at
    ``final`` over the last fifth of training."""
    net = NetworkResult(label, label, "complete", None, config, 1.0, {},
                        {tuple(k.split("|")): v for k, v in values.items()})  # fmt: skip
    for step, mean in ((0, FLOOR), (POINTS["early"], early), (800, final),
                       (POINTS["final"], final)):  # fmt: skip
        _set(net, step, mean, spread)
    return net


def _result(*nets: NetworkResult) -> ExperimentResult:
    return ExperimentResult("x", "ci", {"points": dict(POINTS), "claims": []},
                            {n.label: n for n in nets})  # fmt: skip


def _fig2a(early: dict[float, float], final: dict[float, float], dense: tuple[float, float]):
    lms = [_net(f"LM d={d}", {"graph": "locality", "d": d}, early[d], final[d]) for d in early]
    return _result(*lms, _net("dense", {"graph": "dense", "d": 0}, *dense))


def test_c2_needs_faster_same_end_and_small_d_best():
    final = {0: 0.9, 1: 0.91, 4: 0.9, 8: 0.92}
    ok = _fig2a({0: 0.6, 1: 0.7, 4: 0.65, 8: 0.55}, final, (0.4, 0.9))
    assert c2_faster(ok)[1]
    big_d_best = _fig2a({0: 0.6, 1: 0.62, 4: 0.65, 8: 0.7}, final, (0.4, 0.9))
    assert not c2_faster(big_d_best)[1]
    slower = _fig2a({0: 0.3, 1: 0.7, 4: 0.65, 8: 0.55}, final, (0.4, 0.9))
    assert not c2_faster(slower)[1]
    apart = _fig2a({0: 0.6, 1: 0.7, 4: 0.65, 8: 0.55}, final, (0.4, 0.7))
    assert c2_faster(apart)[1] is False
    # the same ends, but the dense curve still rising over the last fifth: undecided
    rising = _fig2a({0: 0.6, 1: 0.7, 4: 0.65, 8: 0.55}, final, (0.4, 0.7))
    rising.networks["dense"].curve[800] = (0.55, 0.0, 3)
    text, holds = c2_faster(rising)
    assert holds is None and "still rising: dense" in text


def test_c8_needs_intermediate_d_faster_and_better_and_small_d_no_better():
    ok = _fig2a({1: 0.3, 2: 0.5, 4: 0.45}, {1: 0.7, 2: 0.85, 4: 0.8}, (0.3, 0.7))
    text, holds = c8_intermediate(ok)
    assert holds is True and "at step 200" in text and "at step 1000" in text
    not_faster = _fig2a({1: 0.3, 2: 0.3, 4: 0.3}, {1: 0.7, 2: 0.85, 4: 0.8}, (0.35, 0.7))
    assert c8_intermediate(not_faster)[1] is False
    not_better = _fig2a({1: 0.3, 2: 0.5, 4: 0.45}, {1: 0.7, 2: 0.7, 4: 0.68}, (0.3, 0.72))
    assert c8_intermediate(not_better)[1] is False
    small_d_better = _fig2a({1: 0.3, 2: 0.5, 4: 0.45}, {1: 0.8, 2: 0.85, 4: 0.8}, (0.3, 0.7))
    assert c8_intermediate(small_d_better)[1] is False
    # results recorded before fig5a had an early point: only the end is decided
    del ok.spec["points"]["early"]
    text, holds = c8_intermediate(ok)
    assert holds is None and "undecided" in text
    del not_better.spec["points"]["early"]
    assert c8_intermediate(not_better)[1] is False


def test_differences_within_the_noise_decide_nothing():
    lm = _net("LM", {"graph": "locality", "d": 1}, 0.40, 0.9, spread=0.03)
    dense = _net("dense", {"graph": "dense", "d": 0}, 0.36, 0.9, spread=0.03)
    result = _result(lm, dense)
    text, holds = c3_same_params(result)
    assert holds is None and "Welch t, p = 0.1" in text  # 0.04 apart, sd 0.047 over 5 seeds
    _set(lm, POINTS["early"], 0.50, 0.03)
    text, holds = c3_same_params(result)
    assert holds is True and "+0.140 [" in text and "p = " in text
    _set(lm, POINTS["early"], 0.25, 0.03)
    assert c3_same_params(result)[1] is False


def test_a_missing_number_is_inconclusive_not_a_failure():
    claim = {"id": "C4", "text": "", "paper": "", "verdict": "c4_clusters"}
    result = _autapse()
    result.spec["claims"] = [claim]
    assert judge(result)[0].verdict == HOLDS
    del result.networks["pool"].values[("analysis:clusters", "n_clusters")]
    (v,) = judge(result)
    assert v.verdict == INCONCLUSIVE and "missing" in v.ours and "n_clusters" in v.ours


def _fig1d(**values) -> ExperimentResult:
    """values: ``"d=2|diameter_lm"`` style keys."""
    return _result(NetworkResult("LM vs ER", "x", "complete", None, {}, 1.0, {},
                                 {tuple(k.split("|")): v for k, v in values.items()}))  # fmt: skip


def test_c1_compares_directed_and_undirected_paths_where_the_er_graph_is_connected():
    inf = math.inf
    base = {"d=1|diameter_lm": 20, "d=1|avg_shortest_path_lm": 10.0, "d=1|diameter_er": inf,
            "d=1|avg_shortest_path_er": inf, "d=1|diameter_undirected_lm": 20,
            "d=1|avg_shortest_path_undirected_lm": 10.0, "d=1|diameter_undirected_er": 5,
            "d=1|avg_shortest_path_undirected_er": 3.1}  # fmt: skip
    text, holds = c1_paths(_fig1d(**base))
    assert holds is True
    assert "undirected diam 20 vs 5" in text and "d=1: directed" not in text
    shorter = {**base, "d=1|avg_shortest_path_undirected_lm": 3.0}
    assert c1_paths(_fig1d(**shorter))[1] is False
    # recorded before undirected paths were measured: the d = 1 ER graph is not connected,
    # so nothing is compared and nothing holds
    old = {k: v for k, v in base.items() if "undirected" not in k}
    assert c1_paths(_fig1d(**old))[1] is False


def test_c10_wants_the_random_graph_not_above_the_locality_mask():
    lm = _net("LM", {"graph": "locality", "d": 1, "n": 5}, 0.2, 0.70, spread=0.005)
    er = _net("ER", {"graph": "erdos_renyi", "d": 1, "n": 5}, 0.2, 0.68, spread=0.005)
    result = _result(lm, er)
    assert c10_random_close(result)[1] is True
    _set(er, POINTS["final"], 0.74)  # ER clearly better: not the paper's claim
    assert c10_random_close(result)[1] is False
    _set(er, POINTS["final"], 0.55)  # far below: not "about as well"
    assert c10_random_close(result)[1] is False
    _set(er, POINTS["final"], 0.68, 0.08)  # too noisy to call them the same
    assert c10_random_close(result)[1] is None


AUTAPSE = {
    "analysis:clusters|n_clusters": 12,
    "analysis:autapse|input_geometry.summary.rule_within_family": 0.4,
    "analysis:autapse|input_geometry.summary.rule_between_family": 0.1,
    "analysis:autapse|input_geometry.summary.abs_rule_vs_fixation": 0.05,
    "analysis:autapse|input_geometry.summary.abs_rule_vs_stimulus": 0.06,
    "analysis:autapse|input_geometry.summary.circulant_ring1": 0.9,
    "analysis:autapse|input_geometry.summary.circulant_ring2": 0.8,
    "analysis:autapse|classes.low_mean": 0.05,
    "analysis:autapse|classes.high_mean": 0.95,
    "analysis:autapse|classes.dip_ratio": 0.1,
    "analysis:autapse|ablation.mean.intact": 0.9,
    "analysis:autapse|ablation.mean.low": 0.89,
    "analysis:autapse|ablation.mean.high": 0.3,
    "analysis:autapse|ablation.above_chance.high": 0.1,
    "analysis:autapse|ablation.above_chance.random": 0.7,
    "analysis:autapse|vector_addition.accuracy.go": 1.0,
    "analysis:autapse|vector_addition.accuracy.anti": 0.95,
}


def _autapse() -> ExperimentResult:
    net = NetworkResult("pool", "r", "complete", None, {"graph": "autapse"}, 1.0, {}, {})
    net.values.update({tuple(k.split("|")): v for k, v in AUTAPSE.items()})
    return _result(net)


@pytest.mark.parametrize(
    ("judge", "key", "value"),
    [
        (c4_clusters, "analysis:clusters|n_clusters", 3),
        (c4_clusters, "analysis:autapse|input_geometry.summary.rule_between_family", 0.5),
        (c4_clusters, "analysis:autapse|input_geometry.summary.abs_rule_vs_fixation", 0.3),
        (c4_clusters, "analysis:autapse|input_geometry.summary.circulant_ring2", 0.1),
        (c5_bimodal, "analysis:autapse|classes.high_mean", 0.5),
        (c5_bimodal, "analysis:autapse|classes.dip_ratio", 0.7),  # one wide mode cut in two
        (c5_bimodal, "analysis:autapse|ablation.mean.low", 0.6),
        (c5_bimodal, "analysis:autapse|ablation.above_chance.high", 0.6),  # not to chance
        (c5_bimodal, "analysis:autapse|ablation.above_chance.random", 0.2),  # any cut does it
        (c5_bimodal, "analysis:autapse|vector_addition.accuracy.anti", 0.5),
    ],
)
def test_autapse_claims_fail_when_any_part_fails(judge, key, value):
    assert judge(_autapse())[1]
    broken = _autapse()
    broken.networks["pool"].values[tuple(key.split("|"))] = value
    assert not judge(broken)[1]


def test_claims_about_trained_networks_wait_for_training():
    """A comparison among networks that have not learned, or a claim about 10^4 steps judged
    after 10^3, is inconclusive, with the numbers shown."""
    lm = _net("LM", {"graph": "locality", "d": 1, "n": 5}, 0.2, 0.3)
    er = _net("ER", {"graph": "erdos_renyi", "d": 1, "n": 5}, 0.2, 0.29)
    claim = {"id": "C10", "text": "", "paper": "", "verdict": "c10_random_close",
             "min_steps": 0, "min_best": 0.5}  # fmt: skip
    result = _result(lm, er)
    result.spec["claims"] = [claim]
    (v,) = judge(result)
    assert v.verdict == INCONCLUSIVE and "0.30" in v.ours and "LM 0.300" in v.ours
    _set(lm, POINTS["final"], 0.8)
    _set(er, POINTS["final"], 0.78)
    assert judge(result)[0].verdict == HOLDS
    _set(er, POINTS["final"], 0.6)
    assert judge(result)[0].verdict == FAILS
    result.spec["claims"] = [{**claim, "min_steps": 10_000}]
    (v,) = judge(result)
    assert v.verdict == INCONCLUSIVE and "trained 1000 steps" in v.ours


def test_every_verdict_states_its_rule_with_its_thresholds():
    from lmrnn.experiments.claims import TOLERANCE, VERDICTS, rule

    assert all(len(rule(name)) > 30 for name in VERDICTS)
    assert f"{TOLERANCE:g}" in rule("c10_random_close") and "TOLERANCE" not in rule("c6_frozen")


def test_c11_cannot_decide_when_the_best_d_is_at_the_edge_of_the_grid():
    from lmrnn.experiments.claims import c11_density_falls

    def sweep(best_d: dict[int, float]) -> ExperimentResult:
        nets = []
        for n in (10, 20):
            for d in (1, 2, 3):
                config = {"graph": "locality", "n": n, "d": d}
                nets.append(_net(f"LM {n} {d}", config, 0.2, 0.8 if d == best_d[n] else 0.6))
        return _result(*nets)

    text, holds = c11_density_falls(sweep({10: 2, 20: 2}))
    assert holds is True and "N=100" in text  # interior optimum, density falls as 1/N
    text, holds = c11_density_falls(sweep({10: 1, 20: 1}))
    assert holds is None and "edge of the grid" in text
    assert c11_density_falls(sweep({10: 1, 20: 3}))[1] is None


def test_a_network_missing_from_the_results_means_not_run():
    from lmrnn.experiments.claims import NOT_RUN

    claim = {"id": "C3", "text": "", "paper": "", "verdict": "c3_same_params"}
    lm = _net("LM", {"graph": "locality", "d": 1}, 0.5, 0.9)
    dense = _net("dense", {"graph": "dense", "d": 0}, 0.2, 0.9)
    result = _result(lm, dense)
    result.spec.update(claims=[claim], networks=[{"label": "LM"}, {"label": "dense"}])
    assert judge(result)[0].verdict == HOLDS
    del result.networks["dense"]
    (v,) = judge(result)
    assert v.verdict == NOT_RUN and "dense" in v.ours


def test_verdicts_name_the_step_they_read():
    lm = _net("LM", {"graph": "locality", "d": 1}, 0.5, 0.9)
    dense = _net("dense", {"graph": "dense", "d": 0}, 0.2, 0.9)
    result = _result(lm, dense)
    result.spec["points"] = {**POINTS, "early": 300}  # no evaluation at 300: the one at 200
    assert result.point("early") == 200
    assert c3_same_params(result)[0].startswith("at step 200:")
    assert result.point("final") == 1000


# -- every claim on planted data: holds, fails, undecided --------------------------------------
def _lm(d: float, early: float, final: float, n: int = 20, spread: float = 0.01):
    return _net(f"LM {n}x{n} d={d}", {"graph": "locality", "d": d, "n": n}, early, final, spread)


def _dense(early: float, final: float, spread: float = 0.01, label: str = "dense"):
    return _net(label, {"graph": "dense", "d": 0, "n": None}, early, final, spread)


def _at_floor(result: ExperimentResult) -> ExperimentResult:
    """Every network back at the floor (within 0.01 of step 0's) at the early point."""
    for net in result.networks.values():
        _set(net, POINTS["early"], FLOOR + 0.01)
    return result


def _flat(result: ExperimentResult, step: int, mean: float = 0.6, spread: float = 0.04):
    """Every network at the same mean with a wide spread at ``step``: a flat noisy profile
    (the argmax still picks one, by the planted noise of the pattern's order)."""
    for i, net in enumerate(result.networks.values()):
        _set(net, step, mean + 0.003 * i, spread)
    return result


def _c2(**change):
    early = {0: 0.6, 1: 0.7, 4: 0.65, 8: 0.55}
    final = {0: 0.9, 1: 0.9, 4: 0.9, 8: 0.9}
    return _result(*[_lm(d, early[d], final[d]) for d in early], _dense(0.4, 0.9))


def test_c2_planted():
    assert c2_faster(_c2())[1] is True
    slower = _c2()
    _set(slower.networks["LM 20x20 d=8"], POINTS["early"], 0.3)
    assert c2_faster(slower)[1] is False
    assert c2_faster(_at_floor(_c2()))[1] is None
    noisy = _c2()
    _flat(noisy, POINTS["early"], 0.5, 0.08)
    assert c2_faster(noisy)[1] is None
    # the same asymptote must be shown, not assumed: a noisy end decides nothing
    noisy_end = _c2()
    for net in noisy_end.networks.values():
        _set(net, POINTS["final"], 0.9, 0.06)
        _set(net, 800, 0.9, 0.06)
    assert c2_faster(noisy_end)[1] is None


def _c8(early_best: float = 0.5, final_best: float = 0.85, small_final: float = 0.7):
    return _result(_lm(1, 0.3, small_final), _lm(2, early_best, final_best),
                   _lm(4, 0.45, final_best - 0.05), _dense(0.3, 0.7))  # fmt: skip


def test_c8_planted():
    assert c8_intermediate(_c8())[1] is True
    assert c8_intermediate(_c8(final_best=0.6))[1] is False  # below dense at the end
    assert c8_intermediate(_c8(small_final=0.85))[1] is False  # very small d better than dense
    assert c8_intermediate(_at_floor(_c8()))[1] is None
    text, holds = c8_intermediate(_flat(_c8(), POINTS["final"], 0.7, 0.06))
    assert holds is None and "Welch t" in text


def _c9(finals: dict[float, float], spread: float = 0.01):
    return _result(*[_lm(d, 0.3, v, spread=spread) for d, v in finals.items()])


def test_c9_planted_a_flat_noisy_profile_decides_nothing():
    from lmrnn.experiments.claims import c9_interior

    assert c9_interior(_c9({1: 0.6, 2: 0.7, 4: 0.75, 8: 0.65}))[1] is True
    assert c9_interior(_c9({1: 0.6, 2: 0.65, 4: 0.7, 8: 0.8}))[1] is False  # best at the edge
    # an interior argmax by noise alone: flat profiles are no optimum
    flat = _c9({1: 0.70, 2: 0.71, 4: 0.705, 8: 0.70}, spread=0.03)
    text, holds = c9_interior(flat)
    assert holds is None and "best d = 2" in text
    # many flat noisy profiles: none decides (the old argmax rule passed about 3 in 4)
    import numpy as np

    rng = np.random.default_rng(0)
    decided = 0
    for _ in range(40):
        result = _c9({d: 0.7 for d in (1, 2, 4, 8)})
        for net in result.networks.values():
            values = list(0.7 + 0.03 * rng.standard_normal(5))
            net.per_seed[POINTS["final"]] = values
            net.curve[POINTS["final"]] = (*mean_sem(values), 5)
        decided += c9_interior(result)[1] is not None
    assert decided <= 6  # about 5% of 40 at alpha = 0.05, by two tests


def test_c3_and_c13_planted():
    from lmrnn.experiments.claims import c13_table1

    early = _result(_lm(2, 0.6, 0.8), _dense(0.4, 0.8))
    assert c3_same_params(early)[1] is True
    assert c3_same_params(_at_floor(early))[1] is None
    table = _result(_lm(6, 0.3, 0.8), _dense(0.3, 0.7), _dense(0.3, 0.72, label="L1"))
    assert c13_table1(table)[1] is True
    _set(table.networks["L1"], POINTS["final"], 0.9)
    assert c13_table1(table)[1] is False
    _flat(table, POINTS["final"], 0.75, 0.06)
    assert c13_table1(table)[1] is None


def _c6(frozen_early: float = 0.6, frozen_final: float = 0.9, trained_final: float = 0.9):
    frozen = _net("frozen", {"graph": "frozen_autapse", "d": 0}, frozen_early, frozen_final)
    trained = _net("trained", {"graph": "autapse", "d": 0}, 0.4, trained_final)
    return _result(frozen, trained)


def test_c6_planted_needs_the_same_asymptote_shown_and_levelled():
    from lmrnn.experiments.claims import c6_frozen

    assert c6_frozen(_c6())[1] is True
    assert c6_frozen(_c6(frozen_early=0.3))[1] is False
    assert c6_frozen(_c6(trained_final=0.7))[1] is False  # not the same asymptote
    assert c6_frozen(_at_floor(_c6()))[1] is None
    rising = _c6()
    _set(rising.networks["trained"], 800, 0.8)  # still gaining 0.1 over the last fifth
    text, holds = c6_frozen(rising)
    assert holds is None and "still rising: trained" in text


def _c7(pools: tuple[float, ...] = (0.3, 0.35, 0.4), control: float | None = 0.6):
    nets = [_net(f"pool {i}", {"graph": "autapse", "d": 0, "n": 10 + i}, 0.2, v)
            for i, v in enumerate(pools)]  # fmt: skip
    if control is not None:
        nets.append(_net("control", {"graph": "locality", "d": 2, "n": 10}, 0.3, control))
    return _result(*nets)


def test_c7_planted_needs_a_positive_control():
    from lmrnn.experiments.claims import c7_below_half

    assert c7_below_half(_c7())[1] is True
    assert c7_below_half(_c7(pools=(0.3, 0.35, 0.6)))[1] is False
    text, holds = c7_below_half(_c7(control=0.4))  # nothing learned: says nothing
    assert holds is None and "positive control" in text
    assert c7_below_half(_c7(control=None))[1] is None
    assert c7_below_half(_c7(pools=(0.3, 0.35, 0.49)))[1] is None  # too close to 0.5 to tell


def _c12(early: dict[float, float], later: dict[float, float]):
    nets = []
    for r, v in early.items():
        net = _net(f"sw {r}", {"graph": "small_world", "d": 8, "local_radius": r}, v, 0.8)
        _set(net, POINTS["later"], later[r])
        nets.append(net)
    return _result(*nets)


def test_c12_planted():
    from lmrnn.experiments.claims import c12_small_world

    same_early = {0: 0.5, 4: 0.51, 8: 0.5}
    assert c12_small_world(_c12(same_early, {0: 0.6, 4: 0.62, 8: 0.7}))[1] is True
    assert c12_small_world(_c12(same_early, {0: 0.75, 4: 0.62, 8: 0.7}))[1] is False
    assert c12_small_world(_c12({0: 0.3, 4: 0.5, 8: 0.5}, {0: 0.6, 4: 0.62, 8: 0.7}))[1] is False
    floor = _at_floor(_c12(same_early, {0: 0.6, 4: 0.62, 8: 0.7}))
    assert c12_small_world(floor)[1] is None


def test_c11_planted_by_bootstrap_over_seeds():
    from lmrnn.experiments.claims import c11_density_falls

    def sweep(finals: dict[int, dict[int, float]], spread: float) -> ExperimentResult:
        return _result(*[_lm(d, 0.2, v, n=n, spread=spread)
                         for n, row in finals.items() for d, v in row.items()])  # fmt: skip

    falls = {10: {1: 0.6, 2: 0.7, 3: 0.75, 4: 0.6}, 20: {1: 0.6, 2: 0.75, 3: 0.65, 4: 0.6}}
    text, holds = c11_density_falls(sweep(falls, 0.01))
    assert holds is True and "100% of bootstrap" in text
    # density 13/100 at N = 100, 81/400 at N = 400: rises
    rises = {10: {1: 0.6, 2: 0.75, 3: 0.65, 4: 0.6}, 20: {2: 0.6, 3: 0.65, 5: 0.75, 6: 0.6}}
    assert c11_density_falls(sweep(rises, 0.01))[1] is False
    # two near-equal optima per size, one pairing of which rises: undecided
    close = {10: {1: 0.6, 2: 0.70, 3: 0.705, 4: 0.6}, 20: {2: 0.6, 3: 0.70, 5: 0.705, 6: 0.6}}
    assert c11_density_falls(sweep(close, 0.03))[1] is None


def test_c14_planted_compares_the_ranges_of_near_best_counts():
    from lmrnn.experiments.claims import c14_fewer_clusters

    def pair(lm: tuple[int, int, int], dense: tuple[int, int, int]) -> ExperimentResult:
        nets = []
        for label, graph, (k, low, high) in (("LM", "locality", lm), ("RNN", "dense", dense)):
            values = {"analysis:clusters|n_clusters": k,
                      "analysis:clusters|clustering.near_best_min": low,
                      "analysis:clusters|clustering.near_best_max": high}  # fmt: skip
            nets.append(_net(label, {"graph": graph, "d": 2}, 0.5, 0.8, **values))
        return _result(*nets)

    assert c14_fewer_clusters(pair((20, 18, 24), (33, 30, 36)))[1] is True
    assert c14_fewer_clusters(pair((40, 38, 44), (33, 30, 36)))[1] is False
    text, holds = c14_fewer_clusters(pair((24, 6, 89), (33, 20, 40)))
    assert holds is None and "overlap" in text


def test_c14_planted_by_a_test_over_seeds_of_the_count_spread():
    from lmrnn.experiments.claims import c14_fewer_clusters

    def pair(lm_counts: list[float], dense_counts: list[float]) -> ExperimentResult:
        nets = []
        for label, graph, counts in (("LM", "locality", lm_counts), ("RNN", "dense", dense_counts)):
            values = {"analysis:clusters|n_clusters": counts[0]}
            values.update({f"analysis:clusters|spread.mean_per_seed.{i}": k
                           for i, k in enumerate(counts)})  # fmt: skip
            nets.append(_net(label, {"graph": graph, "d": 2}, 0.5, 0.8, **values))
        return _result(*nets)

    text, holds = c14_fewer_clusters(pair([20, 22, 21.5], [33, 31, 34]))
    assert holds is True and "dense − LM" in text and "Welch t" in text
    assert c14_fewer_clusters(pair([40, 42, 41], [33, 31, 34]))[1] is False
    assert c14_fewer_clusters(pair([10, 60, 30], [33, 31, 34]))[1] is None  # a coin flip
