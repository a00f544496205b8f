"""Recorded activity: what ``record`` holds (against the trials and the network run by hand), the
one-file format numpy opens alone, errors, and ``lmrnn analyze --what activity``."""

import json

import numpy as np
import pytest
import torch

from lmrnn.analysis import TRIAL_COLUMNS, Activity, record
from lmrnn.analysis.activity import ARRAYS
from lmrnn.analysis.variance import task_seed
from lmrnn.cli import main
from lmrnn.errors import LmrnnError
from lmrnn.models import EnsembleRNN, MaskedRNN, ModelConfig
from lmrnn.tasks import get_collection, trial_batch
from lmrnn.tasks.families import DLYDM_STRENGTHS, DM_COHERENCES

TASKS = ["go", "dm1", "ctxdm2", "multidm", "dlydm1", "dms"]


@pytest.fixture(scope="module")
def coll():
    return get_collection(TASKS)


@pytest.fixture(scope="module")
def net(coll):
    return MaskedRNN(ModelConfig(graph="locality", n=3, d=1.0, n_in=coll.n_inputs, seed=4))


def test_record_holds_each_tasks_noise_free_trials_and_the_networks_answers(coll, net):
    activity = record(net, ["dm1", "go"], trials=6, seed=3, collection=coll)
    assert activity.tasks == ("dm1", "go") and activity.collection == tuple(TASKS)
    assert activity.hidden.shape[1:] == (12, 9) and activity.hidden.dtype == np.float32
    assert activity.inputs.shape[2] == coll.n_inputs and activity.logits.shape[2] == 17
    assert activity.trials["task_name"].tolist() == ["dm1"] * 6 + ["go"] * 6
    assert activity.trials["rule"].tolist() == [1] * 6 + [0] * 6
    for index, task in enumerate(activity.tasks):
        batch = trial_batch(coll, task, 6, task_seed(3, task), noise=False, timing="fixed")
        rows = activity.task_trials(task)
        assert rows.tolist() == list(range(6 * index, 6 * index + 6))
        steps = batch.inputs.shape[0]
        np.testing.assert_array_equal(activity.inputs[:steps, rows], batch.inputs.numpy())
        assert not activity.mask[steps:, rows].any()  # padding beyond the task's own length
        np.testing.assert_array_equal(activity.mask[:steps, rows], batch.mask.numpy())
        with torch.no_grad():
            logits, hidden = net(batch.inputs)
        np.testing.assert_allclose(activity.hidden[:steps, rows], hidden.numpy(), atol=1e-6)
        np.testing.assert_allclose(activity.logits[:steps, rows], logits.numpy(), atol=1e-6)
        t = activity.trials
        np.testing.assert_array_equal(t["stim1_dir"][rows], batch.stim_dir[:, 0].numpy())
        np.testing.assert_array_equal(t["stim2_dir"][rows], batch.stim_dir[:, 1].numpy())
        np.testing.assert_array_equal(t["length"][rows], batch.length.numpy())
        np.testing.assert_array_equal(t["decision_start"][rows], batch.decision_start.numpy())
        np.testing.assert_array_equal(t["response"][rows], batch.response.numpy())
        first = batch.targets[batch.decision_start, torch.arange(6)].numpy()
        np.testing.assert_array_equal(t["response"][rows], first)  # the target at decision
        last = logits.argmax(-1)[batch.length - 1, torch.arange(6)].numpy()
        np.testing.assert_array_equal(t["output"][rows], last)
    go = activity.task_trials("go")
    assert (activity.trials["stim2_dir"][go] == -1).all()
    assert np.isnan(activity.trials["evidence"][go]).all()
    assert len(set(activity.trials["length"][go])) == 1  # fixed timing: one length per task
    assert activity.states("go").shape == (int(activity.trials["length"][go].sum()), 9)


def test_dm_conditions_give_the_signed_evidence_of_each_task(coll, net):
    activity = record(net, ["dm1", "ctxdm2", "multidm", "dlydm1"], trials=64, collection=coll)
    t = activity.trials
    cohs = set(DM_COHERENCES) | {-c for c in DM_COHERENCES}
    dm1 = activity.task_trials("dm1")
    s1, s2 = t["stim1_strength_ring1"][dm1], t["stim2_strength_ring1"][dm1]
    np.testing.assert_allclose(t["coherence_ring1"][dm1], s1.astype(float) - s2, atol=1e-6)
    assert set(np.round(t["coherence_ring1"][dm1], 6)) <= cohs
    assert (t["stim1_strength_ring2"][dm1] == 0).all()  # dm1 shows ring 1 only
    np.testing.assert_allclose(t["evidence"][dm1], t["coherence_ring1"][dm1])
    ctx = activity.task_trials("ctxdm2")  # both rings shown, only ring 2 counts
    np.testing.assert_allclose(t["evidence"][ctx], t["coherence_ring2"][ctx])
    assert not np.allclose(t["coherence_ring1"][ctx], t["coherence_ring2"][ctx])
    multi = activity.task_trials("multidm")  # both count
    summed = t["coherence_ring1"][multi] + t["coherence_ring2"][multi]
    np.testing.assert_allclose(t["evidence"][multi], summed)
    dly = activity.task_trials("dlydm1")
    diffs = {round(a - b, 6) for a in DLYDM_STRENGTHS for b in DLYDM_STRENGTHS if a != b}
    assert set(np.round(t["evidence"][dly], 6)) <= diffs
    for rows in (dm1, ctx, multi, dly):  # the answer is direction 1 where the evidence is > 0
        rows = rows[t["evidence"][rows] != 0]  # (multidm's ties are broken at random)
        first = t["response"][rows] == t["stim1_dir"][rows] + 1
        assert (first == (t["evidence"][rows] > 0)).all()
    assert set(t["family"][dly]) == {"dlydm"} and set(t["family"][dm1]) == {"dm"}


def test_the_file_opens_with_numpy_alone_and_reads_back(coll, net, tmp_path):
    activity = record(net, ["go", "dms"], trials=4, collection=coll)
    path = activity.save(tmp_path / "activity.npz")
    with np.load(path, allow_pickle=False) as f:  # no lmrnn, no pickles
        meta = json.loads(str(f["metadata"]))
        assert set(f.files) == {*ARRAYS, *TRIAL_COLUMNS, "metadata"}
        assert meta["tasks"] == ["go", "dms"] and meta["dt"] == 100 and meta["n_units"] == 9
        assert meta["trial_columns"] == list(TRIAL_COLUMNS) and set(meta["arrays"]) == set(ARRAYS)
        assert all(f[k].shape == (8,) for k in meta["trial_columns"])  # one row per trial
        assert f["hidden"].shape == activity.hidden.shape and f["task_name"].dtype.kind == "U"
        assert "(T, B, N) float32" in meta["arrays"]["hidden"]
    again = Activity.load(path)
    assert again.tasks == activity.tasks and again.network_seed == 4 and again.run is None
    for key in ARRAYS:
        np.testing.assert_array_equal(getattr(again, key), getattr(activity, key))
    for key in TRIAL_COLUMNS:
        np.testing.assert_array_equal(again.trials[key], activity.trials[key])
    (tmp_path / "other.npz").write_bytes(b"not a zip")
    with pytest.raises(LmrnnError, match="cannot read activity file"):
        Activity.load(tmp_path / "other.npz")
    with pytest.raises(LmrnnError, match=r"saved as \.npz"):
        activity.save(tmp_path / "activity.csv")


def test_one_seed_of_an_ensemble_is_recorded(coll):
    ensemble = EnsembleRNN(ModelConfig(graph="autapse", n_units=5, n_in=coll.n_inputs), [3, 7])
    second = record(ensemble, "go", trials=3, seed_index=1, collection=coll)
    alone = record(ensemble.extract(1), "go", trials=3, collection=coll)
    assert second.network_seed == 7
    np.testing.assert_array_equal(second.hidden, alone.hidden)


def test_bad_requests_are_refused_in_one_sentence(coll, net):
    with pytest.raises(LmrnnError, match="task 'anti' is not in this collection"):
        record(net, "anti", collection=coll)
    with pytest.raises(LmrnnError, match="needs its collection"):
        record(net, "go")
    with pytest.raises(LmrnnError, match="takes 39 inputs but the collection's trials have 35"):
        record(net, collection=["go", "dm1"])
    with pytest.raises(LmrnnError, match="trials must be a whole number >= 1"):
        record(net, "go", trials=0, collection=coll)
    with pytest.raises(LmrnnError, match=r"seed must be a whole number in 0 \.\. 2\*\*64 - 1"):
        record(net, "go", seed=-1, collection=coll)
    with pytest.raises(LmrnnError, match="expected a run folder or a network"):
        record(42, collection=coll)
    activity = record(net, "go", trials=2, collection=coll)
    with pytest.raises(LmrnnError, match="task 'dms' was not recorded"):
        activity.task_trials("dms")


def test_analyze_writes_the_recording_a_figure_and_a_summary(run, capsys):
    code = main(["analyze", str(run), "--what", "activity", "--trials", "5", "--seed-index", "1"])
    out, err = capsys.readouterr()
    assert code == 0, err
    folder = run / "analysis"
    numbers = json.loads((folder / "activity.json").read_text())
    assert (folder / "activity.png").read_bytes()[:4] == b"\x89PNG"
    assert numbers["seed"] == 2 and numbers["tasks"] == ["go", "dm1"] and numbers["n_trials"] == 10
    assert set(numbers["per_task"]) == {"go", "dm1"} and numbers["file"].endswith("activity.npz")
    assert numbers["metadata"]["trial_columns"] == list(TRIAL_COLUMNS)
    assert f"{folder / 'activity.npz'}" in out and "10 noise-free trials" in out
    activity = Activity.load(folder / "activity.npz")
    assert activity.run == str(run) and activity.network_seed == 2
    code = main(["analyze", str(run), "--what", "activity", "--trials", "3", "--task", "dm1"])
    assert code == 0 and Activity.load(folder / "activity.npz").tasks == ("dm1",)
    code = main(["analyze", str(run), "--what", "activity", "--task", "dlygo"])
    _, err = capsys.readouterr()
    assert code == 2 and "task 'dlygo' is not in this collection" in err and err.count("\n") == 1
