"""Psychometric curves: the logistic-with-lapse fit recovers planted parameters, the network's
choice between the two offered answers (Int/Seq moved), planted observers, errors, and
``lmrnn analyze --what psychometric``."""

import json

import numpy as np
import pytest
import torch

from lmrnn.analysis import choices, fit_logistic, logistic_with_lapse, psychometric
from lmrnn.analysis.activity import evidence
from lmrnn.analysis.decisions import alternatives
from lmrnn.cli import main
from lmrnn.errors import LmrnnError
from lmrnn.models import MaskedRNN, ModelConfig
from lmrnn.tasks import get_collection, trial_batch

LEVELS = np.array([-0.64, -0.32, -0.16, -0.08, 0.08, 0.16, 0.32, 0.64])


def test_the_curve_is_a_logistic_squeezed_by_the_lapse():
    assert logistic_with_lapse(0.1, 8.0, 0.1, 0.2) == pytest.approx(0.5)  # at the bias
    assert logistic_with_lapse(100.0, 8.0, 0.0, 0.2) == pytest.approx(0.9)  # 1 - lapse / 2
    assert logistic_with_lapse(-100.0, 8.0, 0.0, 0.2) == pytest.approx(0.1)
    assert logistic_with_lapse(0.3, 8.0, 0.0, 0.0) == pytest.approx(1 / (1 + np.exp(-2.4)))


@pytest.mark.parametrize(("slope", "bias", "lapse"), [(8.0, 0.05, 0.1), (20.0, -0.1, 0.0),
                                                     (-6.0, 0.0, 0.3)])  # fmt: skip
def test_fit_recovers_planted_slope_bias_and_lapse(slope, bias, lapse):
    rng = np.random.default_rng(0)
    x = rng.choice(LEVELS, size=40_000)
    chose = rng.random(x.size) < logistic_with_lapse(x, slope, bias, lapse)
    fit = fit_logistic(x, chose)
    assert fit.slope == pytest.approx(slope, rel=0.1)
    assert fit.bias == pytest.approx(bias, abs=0.01)
    assert fit.lapse == pytest.approx(lapse, abs=0.02)
    assert fit.n == x.size and fit.log_likelihood < 0
    np.testing.assert_allclose(fit.predict(LEVELS), logistic_with_lapse(LEVELS, slope, bias, lapse),
                               atol=0.02)  # fmt: skip


def test_fit_refuses_what_is_not_trials():
    with pytest.raises(LmrnnError, match="same length >= 2"):
        fit_logistic([0.1, 0.2], [True])
    with pytest.raises(LmrnnError, match="booleans or 0/1"):
        fit_logistic([0.1, 0.2], [0.5, 1])


def test_the_choice_is_the_larger_of_the_two_offered_answers_over_the_decision_period():
    batch = trial_batch(["go", "dm1"], "dm1", 32, seed=1, noise=False, timing="fixed")
    steps, b = batch.targets.shape
    logits = torch.zeros(steps, b, 17)
    pick_first = torch.arange(b) % 3 == 0
    label = torch.where(pick_first, batch.stim_dir[:, 0], batch.stim_dir[:, 1]) + 1
    t = torch.arange(steps).unsqueeze(1)
    decision = (t >= batch.decision_start) & batch.mask
    logits.scatter_(-1, label.expand(steps, b).unsqueeze(-1), decision.float().unsqueeze(-1))
    logits[:, :, 0] = 5.0  # fixating throughout does not matter: only the two answers compete
    assert choices(logits, batch).tolist() == pick_first.tolist()
    before = (t < batch.decision_start).float()  # a preference before the decision is ignored
    wrong = torch.where(pick_first, batch.stim_dir[:, 1], batch.stim_dir[:, 0]) + 1
    logits.scatter_add_(-1, wrong.expand(steps, b).unsqueeze(-1), 9 * before.unsqueeze(-1))
    assert choices(logits, batch).tolist() == pick_first.tolist()


def test_the_answers_move_with_the_int_displacement_and_the_seq_drift():
    coll = get_collection(["dlydm1", "dlydm1_intr", "dlydm1_intl_seqr"])
    for task in coll.names:
        batch = trial_batch(coll, task, 64, seed=2, noise=False, timing="fixed")
        first, second = alternatives(batch)
        t = torch.arange(batch.targets.shape[0]).unsqueeze(1)
        decision = (t >= batch.decision_start) & batch.mask
        won_first = batch.base_response == batch.stim_dir[:, 0] + 1
        right = torch.where(won_first, first, second)
        assert torch.equal(right[decision], batch.targets[decision])  # the target, step by step
        assert not (first == second)[decision].any()


def _observer(coll, sign: float = 1.0) -> MaskedRNN:
    """Sixteen units integrate ring 1 (unit d: direction d; W = I, relu), the readout of
    direction d is sign * unit d: an ideal observer of ring 1 (sign -1: always the weaker)."""
    net = MaskedRNN(ModelConfig(graph="autapse", n_units=16, n_in=coll.n_inputs))
    with torch.no_grad():
        for p in (net.weight_ih, net.bias_h, net.weight_ho, net.bias_o):
            p.zero_()
        net.weight_hh.copy_(torch.eye(16))
        net.weight_ih[:, 1:17] = torch.eye(16)
        net.weight_ho[1:, :] = sign * torch.eye(16)
    return net.eval()


def test_an_ideal_observer_of_ring_one_has_a_step_for_a_curve():
    coll = get_collection(["go", "dm1", "dlydm1"])
    result = psychometric(_observer(coll), trials=256, seed=3, collection=coll)
    assert list(result.curves) == ["dm1", "dlydm1"] and result.trials == 256  # DM tasks only
    for task, curve in result.curves.items():
        expected = LEVELS if task == "dm1" else [-0.7, -0.4, -0.3, 0.3, 0.4, 0.7]
        np.testing.assert_allclose(curve.evidence, expected)
        np.testing.assert_array_equal(curve.p_first, curve.evidence > 0)
        assert curve.n.sum() == 256 and curve.responded == 1.0
        # its argmax over all 16 directions can fall between two close bumps of near-equal
        # strength (the decision criterion's miss); the choice between the two never errs
        assert curve.accuracy > 0.9
        assert curve.fit.slope > 50 and abs(curve.fit.bias) < 0.3 and curve.fit.lapse < 0.01
    contrary = psychometric(_observer(coll, -1.0), "dm1", trials=128, collection=coll)
    curve = contrary.curves["dm1"]
    np.testing.assert_array_equal(curve.p_first, curve.evidence < 0)
    assert curve.fit.slope < -50 and curve.accuracy < 0.1
    numbers = result.to_dict()
    assert numbers["tasks"] == ["dm1", "dlydm1"] and set(numbers["curves"]["dm1"]["fit"]) == {
        "slope", "bias", "lapse", "log_likelihood", "n"}  # fmt: skip


def test_evidence_is_nan_outside_the_dm_families():
    batch = trial_batch(["go", "dm2"], None, 64, seed=0, noise=False)
    coh, ev = evidence(batch)
    dm = batch.task == 1
    assert torch.isnan(ev[~dm]).all() and torch.isfinite(ev[dm]).all()
    assert torch.equal(ev[dm], coh[dm, 1])  # dm2: ring 2


def test_tasks_without_a_decision_between_two_stimuli_are_refused():
    coll = get_collection(["go", "dm1"])
    net = _observer(coll)
    with pytest.raises(LmrnnError, match="'go' is a reach task"):
        psychometric(net, "go", collection=coll)
    with pytest.raises(LmrnnError, match="collection has none"):
        psychometric(_observer(get_collection(["go", "anti"])), collection=["go", "anti"])
    with pytest.raises(LmrnnError, match="task 'dm2' is not in this collection"):
        psychometric(net, "dm2", collection=coll)
    with pytest.raises(LmrnnError, match="trials must be a whole number >= 2"):
        psychometric(net, trials=1, collection=coll)


def test_analyze_fits_every_seed_and_draws_one_panel_per_task(run, capsys):
    code = main(["analyze", str(run), "--what", "psychometric", "--trials", "64"])
    out, err = capsys.readouterr()
    assert code == 0, err
    numbers = json.loads((run / "analysis" / "psychometric.json").read_text())
    assert (run / "analysis" / "psychometric.png").read_bytes()[:4] == b"\x89PNG"
    assert numbers["seed"] == 0 and numbers["tasks"] == ["dm1"] and numbers["trials"] == 64
    curve = numbers["curves"]["dm1"]
    assert sum(curve["n"]) == 64 and len(curve["evidence"]) == len(curve["p_first"])
    assert set(numbers["fits_per_seed"]) == {"0", "2"}
    assert 0.0 <= numbers["fits_per_seed"]["2"]["dm1"]["lapse"] <= 1.0
    assert "dm1: slope" in out and "psychometric curves of 1 DM tasks" in out
    code = main(["analyze", str(run), "--what", "psychometric", "--task", "go"])
    _, err = capsys.readouterr()
    assert code == 2 and "'go' is a reach task" in err and err.count("\n") == 1
