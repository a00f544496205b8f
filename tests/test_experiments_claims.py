"""Verdicts on planted results: each claim holds when its numbers say so and fails when one of
its conditions is broken."""

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

POINTS = {"early": 200, "later": 400, "final": 1000}


def _net(label: str, config: dict, early: float, final: float, sem: float = 0.0,
         **values) -> NetworkResult:  # fmt: skip
    """A curve at the early point and levelled off at ``final`` over the last fifth."""
    curve = {POINTS["early"]: (early, sem, 3), 800: (final, sem, 3),
             POINTS["final"]: (final, sem, 3)}  # fmt: skip
    return NetworkResult(label, label, "complete", None, config, 1.0, curve,
                         {tuple(k.split("|")): v for k, v in values.items()})  # fmt: skip


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


def test_differences_within_the_sem_decide_nothing():
    lm = _net("LM", {"graph": "locality", "d": 1}, 0.40, 0.9, sem=0.03)
    dense = _net("dense", {"graph": "dense", "d": 0}, 0.36, 0.9, sem=0.03)
    result = _result(lm, dense)
    assert c3_same_params(result)[1] is None  # 0.40 - 0.03 < 0.36 + 0.03
    lm.curve[POINTS["early"]] = (0.45, 0.03, 3)
    assert c3_same_params(result)[1] is True
    lm.curve[POINTS["early"]] = (0.28, 0.03, 3)
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
    lm = _net("LM", {"graph": "locality", "d": 1, "n": 5}, 0.2, 0.70, sem=0.01)
    er = _net("ER", {"graph": "erdos_renyi", "d": 1, "n": 5}, 0.2, 0.68, sem=0.01)
    result = _result(lm, er)
    assert c10_random_close(result)[1]
    er.curve[POINTS["final"]] = (0.74, 0.01, 3)  # ER clearly better: not the paper's claim
    assert not c10_random_close(result)[1]


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
        (c5_bimodal, "analysis:autapse|ablation.mean.high", 0.85),
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
    lm.curve[POINTS["final"]] = (0.8, 0.0, 3)
    er.curve[POINTS["final"]] = (0.78, 0.0, 3)
    assert judge(result)[0].verdict == HOLDS
    er.curve[POINTS["final"]] = (0.6, 0.0, 3)
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
