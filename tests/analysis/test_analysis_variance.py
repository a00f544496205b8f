"""Task variance: per-step variance across trials, averaged after fixation; quiet units dropped."""

import numpy as np
import pytest
import torch

from lmrnn.analysis import after_fixation, task_variance, trial_variance, variance_matrix
from lmrnn.errors import LmrnnError
from lmrnn.models import EnsembleRNN, MaskedRNN, ModelConfig
from lmrnn.tasks import get_collection, trial_batch


def test_trial_variance_is_across_trials_per_step_then_averaged_over_time():
    gen = torch.Generator().manual_seed(0)
    hidden = torch.randn(6, 5, 3, generator=gen)
    valid = torch.ones(6, 5, dtype=torch.bool)
    valid[0] = False  # before stim1 onset: ignored
    valid[4, 2:] = False  # trials that ended early count only while they run
    valid[5, 1:] = False  # one trial left: no variance defined at that step
    expected = np.mean(
        [hidden[t][valid[t]].double().numpy().var(axis=0) for t in range(1, 5)], axis=0
    )
    np.testing.assert_allclose(trial_variance(hidden, valid).numpy(), expected, rtol=1e-12)


def test_a_unit_that_moves_in_time_but_alike_in_every_trial_has_no_variance():
    t = torch.arange(10.0)
    hidden = torch.stack([torch.sin(t)] * 8, 1).unsqueeze(-1)  # (10, 8, 1), same in all trials
    assert float(trial_variance(hidden, torch.ones(10, 8, dtype=torch.bool))[0]) == 0.0


def test_planted_matrix_keeps_active_units_and_normalises_by_each_units_max():
    var = np.zeros((25, 3))
    var[0:10, 0] = np.linspace(1, 2, 10)  # units 0..9 vary only in task A
    var[10:20, 1] = 0.5
    var[10:20, 2] = 0.25  # units 10..19 vary in B, half as much in C
    var[20:25] = 1e-5  # quiet units
    tv = variance_matrix(var, ("A", "B", "C"), threshold=1e-3)
    assert tv.kept.tolist() == list(range(20))
    np.testing.assert_allclose(tv.normalized[:10], np.tile([1.0, 0.0, 0.0], (10, 1)))
    np.testing.assert_allclose(tv.normalized[10:], np.tile([0.0, 1.0, 0.5], (10, 1)))
    assert tv.preferred_task.tolist() == [0] * 10 + [1] * 10
    with pytest.raises(LmrnnError, match="one column per task"):
        variance_matrix(var, ("A", "B"))


def test_after_fixation_starts_at_stim1_onset_and_ends_with_the_trial():
    batch = trial_batch(["dm1", "dms"], None, 16, seed=3, noise=False)
    valid = after_fixation(batch)
    for b in range(16):
        steps = valid[:, b].nonzero().squeeze(1)
        assert int(steps[0]) == int(batch.period_starts[b, 1])
        assert int(steps[-1]) == int(batch.length[b]) - 1
        assert steps.numel() == int(batch.length[b] - batch.period_starts[b, 1])


def _planted_network(coll, config: ModelConfig) -> dict[str, torch.Tensor]:
    """Units 0..3 pass ring input only on go trials, 4..7 only on rtgo trials (a rule gate:
    relu(ring + rule - 1)); unit 8 copies the fixation input (moves in time, alike in every
    trial); unit 9 is silent."""
    n = config.units
    w_in = torch.zeros(n, coll.n_inputs)
    bias = torch.zeros(n)
    for unit in range(8):
        task = 0 if unit < 4 else 1
        direction = 3 * unit % 16
        w_in[unit, 1 + direction] = w_in[unit, 17 + direction] = 1.0
        w_in[unit, 33 + task] = 1.0
        bias[unit] = -1.0
    w_in[8, 0] = 1.0
    bias[9] = -5.0
    return {"weight_hh": torch.zeros(n, n), "weight_ih": w_in, "bias_h": bias}


def test_planted_network_gives_back_its_task_specific_units_through_an_ensemble():
    # dm1 and dms draw their fixation and delay durations: the analysis trials have fixed
    # timing, so the fixation copy (which moves in time alike in every trial) still has none
    coll = get_collection(["go", "rtgo", "dm1", "dms"])
    config = ModelConfig(graph="autapse", n_units=10, n_in=coll.n_inputs)
    ensemble = EnsembleRNN(config, [0, 1])
    with torch.no_grad():
        for name, value in _planted_network(coll, config).items():
            getattr(ensemble, name)[1] = value
    tv = task_variance(ensemble, coll, trials=64, seed_index=1)
    assert tv.tasks == ("go", "rtgo", "dm1", "dms")
    assert tv.kept.tolist() == list(range(8))  # fixation copy and silent unit dropped
    assert tv.variance[8].tolist() == [0.0] * 4
    np.testing.assert_allclose(tv.normalized[:4], np.tile([1.0, 0, 0, 0], (4, 1)), atol=1e-12)
    np.testing.assert_allclose(tv.normalized[4:], np.tile([0, 1.0, 0, 0], (4, 1)), atol=1e-12)
    again = task_variance(ensemble, coll, trials=64, seed_index=1)
    np.testing.assert_array_equal(again.variance, tv.variance)  # seeded: the same trials
    with pytest.raises(LmrnnError, match="seed index 2 is out of range"):
        task_variance(ensemble, coll, seed_index=2)


def test_analysis_trials_of_a_task_depend_on_its_name_not_its_place():
    from lmrnn.analysis.variance import task_seed

    first = trial_batch(["go", "dm1"], "dm1", 8, task_seed(0, "dm1"), noise=False)
    moved = trial_batch(["dms", "dm1", "go"], "dm1", 8, task_seed(0, "dm1"), noise=False)
    assert torch.equal(first.stim_dir, moved.stim_dir)
    assert len({task_seed(0, n) for n in ("go", "dm1", "dms")} | {task_seed(1, "go")}) == 4


def test_bad_inputs_are_refused_before_work():
    coll = get_collection(["go", "rtgo"])
    net = MaskedRNN(ModelConfig(graph="autapse", n_units=4, n_in=coll.n_inputs))
    with pytest.raises(LmrnnError, match="trials must be a whole number >= 2"):
        task_variance(net, coll, trials=1)
    with pytest.raises(LmrnnError, match="takes 35 inputs but the collection's trials have 36"):
        task_variance(net, ["go", "rtgo", "dlygo"])
    with pytest.raises(LmrnnError, match="threshold must be a finite number"):
        task_variance(net, coll, trials=4, threshold=-1.0)
