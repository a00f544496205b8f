"""The autapse mechanism: two classes of autapses, their ablation, vector addition, and the
geometry of the input weights."""

import numpy as np
import pytest
import torch

from lmrnn.analysis import (
    ablate,
    ablation_study,
    autapse_weights,
    input_geometry,
    split_autapses,
    vector_addition,
)
from lmrnn.errors import LmrnnError
from lmrnn.models import MaskedRNN, ModelConfig
from lmrnn.tasks import get_collection
from lmrnn.train import from_dict, train

MEMORY = list(range(16))  # planted integrators, W = 1


def planted_pool() -> tuple[MaskedRNN, object]:
    """An autapse pool solving go, rtgo and dlygo by hand.

    Units 0..15 (W = 1) add up ring input i over the trial (memory); units 16..31 (W = 0) pass
    ring input i through; unit 32 (W = 0) copies the fixation input; units 33..39 are idle
    (W ≈ 0). Output i + 1 reads units i and 16 + i; output 0 (fixate) reads 20 × unit 32.
    (Pass-through units with W > 0 would keep a decaying trace that the argmax still reads, so
    they are planted at exactly 0.)
    """
    coll = get_collection(["go", "rtgo", "dlygo"])
    net = MaskedRNN(ModelConfig(graph="autapse", n_units=40, n_in=coll.n_inputs))
    diag = torch.zeros(40)
    diag[:16] = 1.0
    diag[33:] = 0.03
    with torch.no_grad():
        for p in (net.weight_ih, net.bias_h, net.weight_ho, net.bias_o):
            p.zero_()
        net.weight_hh.copy_(torch.diag(diag))
        for i in range(16):
            for unit in (i, 16 + i):
                net.weight_ih[unit, 1 + i] = net.weight_ih[unit, 17 + i] = 1.0
                net.weight_ho[1 + i, unit] = 1.0
        net.weight_ih[32, 0] = 1.0
        net.weight_ho[0, 32] = 20.0
    return net.eval(), coll


def test_two_means_split_recovers_planted_classes():
    rng = np.random.default_rng(0)
    w = np.concatenate([rng.uniform(-0.05, 0.08, 30), rng.uniform(0.9, 1.02, 11)])
    perm = rng.permutation(w.size)
    classes = split_autapses(w[perm])
    truth_high = np.flatnonzero(perm >= 30)
    assert classes.high.tolist() == truth_high.tolist()
    assert classes.low.size == 30 and 0.08 < classes.threshold < 0.9
    # not a fixed 0.5 cut: a pool with classes near 0.55 and 1 splits between them
    shifted = split_autapses([0.55, 0.56, 0.58, 0.97, 1.0, 0.99])
    assert shifted.low.tolist() == [0, 1, 2] and shifted.high.tolist() == [3, 4, 5]
    frozen = split_autapses(np.ones(8))  # W = I: one class, all integrators
    assert frozen.high.size == 8 and frozen.low.size == 0


@pytest.mark.parametrize("seed", range(5))
def test_the_dip_ratio_tells_two_modes_from_one_wide_mode(seed):
    """A 2-means split always finds two classes; the valley between them says whether the
    weights really have two modes."""
    rng = np.random.default_rng(seed)
    two = np.concatenate([rng.normal(-0.1, 0.3, 160), rng.normal(0.95, 0.04, 96)])
    assert split_autapses(two).dip_ratio < 0.2
    for one in (rng.uniform(0, 1, 256), rng.normal(0.5, 0.3, 256)):
        assert split_autapses(one).dip_ratio > 0.45
    assert np.isnan(split_autapses(np.ones(8)).dip_ratio)  # one class: no valley


def test_planted_pool_splits_into_its_memory_and_pass_through_units():
    net, _ = planted_pool()
    classes = split_autapses(autapse_weights(net))
    assert classes.high.tolist() == MEMORY
    assert classes.low.tolist() == list(range(16, 40))


def test_ablating_integrators_drops_delay_tasks_to_chance_while_rtgo_holds():
    net, coll = planted_pool()
    result = ablation_study(net, coll, trials=128)
    acc = {k: dict(zip(result.tasks, v.tolist(), strict=True)) for k, v in result.accuracy.items()}
    assert min(acc["intact"].values()) >= 0.9
    assert min(acc["low"].values()) >= 0.9  # the near-0 autapses cost nothing
    assert acc["high"]["rtgo"] >= 0.9  # no memory needed
    assert acc["high"]["go"] <= 1 / 16 and acc["high"]["dlygo"] <= 1 / 16
    assert result.chance.tolist() == [1 / 16] * 3
    # silencing whole units: the memory units alone still answer rtgo (they see its stimulus)
    silenced = ablation_study(net, coll, trials=128, mode="silence")
    assert silenced.accuracy["low"][coll.index("rtgo")] >= 0.9
    assert silenced.accuracy["high"][coll.index("go")] <= 1 / 16
    cut = ablate(net, [3, 32], "silence").state_dict()
    assert cut["weight_ho"][:, [3, 32]].abs().sum() == 0 and cut["weight_hh"][3, 3] == 0.0
    cut = ablate(net, [3], "autapse").state_dict()
    assert cut["weight_hh"].diagonal()[:4].tolist() == [1.0, 1.0, 1.0, 0.0]
    original = net.state_dict()
    assert original["weight_hh"][3, 3] == 1.0 and original["weight_ho"][0, 32] == 20.0  # a copy


def test_vector_addition_needs_both_classes():
    net, coll = planted_pool()
    tasks = ("go", "rtgo", "dlygo")
    added = vector_addition(net, coll, tasks=tasks, trials=64)
    assert min(added.accuracy.values()) >= 0.95
    assert int(np.argmax(added.readout["go"])) + 1 == added.target["go"]
    # summing every unit (W = I) keeps the fixation unit on through the decision: no answer
    summed = vector_addition(net, coll, tasks=tasks, trials=64, mode="identity")
    assert summed.accuracy["go"] <= 0.05 and summed.accuracy["dlygo"] <= 0.05
    with pytest.raises(LmrnnError, match="none of the tasks anti"):
        vector_addition(net, coll, tasks=("anti",))


@pytest.fixture(scope="module")
def trained_pools(tmp_path_factory):
    """Three 32-autapse pools trained for 300 steps (about 3 s each) on rtgo and dlygo, each on
    its own data stream."""
    pools = []
    for data_seed in range(3):
        out = tmp_path_factory.mktemp("pool") / "run"
        config = from_dict({
            "collection": ["rtgo", "dlygo"], "graph": "autapse", "n": None, "n_units": 32,
            "batch_size": 16, "seq_len": 60, "steps": 300, "lr": 1e-2, "eval_every": 300,
            "eval_trials": 64, "checkpoint_every": 300, "seeds": [0], "data_seed": data_seed,
            "device": "cpu", "out": str(out),
        })  # fmt: skip
        pools.append((train(config, progress=False).model, config.tasks()))
    return pools


def test_trained_pools_remember_with_their_near_one_autapses(trained_pools):
    """The paper's Fig 3g: without the near-1 autapses the delay task falls to chance while the
    reaction-time task, which needs no memory, survives in most pools (a pool may also use its
    near-1 units to answer rtgo: one of four data streams tried gave such a pool)."""
    rtgo_survives = 0
    for model, coll in trained_pools:
        classes = split_autapses(autapse_weights(model))
        assert classes.high.size >= 4 and classes.low.size >= 4
        result = ablation_study(model, coll, classes, trials=128)
        rtgo, dlygo = coll.index("rtgo"), coll.index("dlygo")
        assert result.accuracy["intact"].min() >= 0.9  # it learned both tasks first
        assert result.accuracy["low"].min() >= 0.85
        assert result.accuracy["high"][dlygo] <= 0.2
        rtgo_survives += result.accuracy["high"][rtgo] >= 0.6
    assert rtgo_survives >= 2


def test_a_network_with_lateral_connections_is_refused():
    net = MaskedRNN(ModelConfig(graph="locality", n=4, d=1.0, n_in=36))
    with pytest.raises(LmrnnError, match=r"needs an autapse pool .* 'locality' with 80 edges"):
        autapse_weights(net)
    pool, coll = planted_pool()
    with pytest.raises(LmrnnError, match=r"unknown ablation mode 'silent' \(did you mean"):
        ablation_study(pool, coll, mode="silent")


def test_input_geometry_orders_by_family_and_finds_planted_structure():
    coll = get_collection(["go", "dm1", "anti", "dm2", "dms"])
    rng = np.random.default_rng(1)
    n = 200
    basis = np.linalg.qr(rng.normal(size=(n, 6)))[0]  # orthonormal: 3 families, fixation, ...
    w = np.zeros((n, coll.n_inputs))
    w[:, 0] = basis[:, 3]  # fixation, orthogonal to every rule
    family_vec = {"reach": basis[:, 0], "dm": basis[:, 1], "match": basis[:, 2]}
    for k, task in enumerate(coll.tasks):
        w[:, 33 + k] = family_vec[task.family] + 0.01 * rng.normal(size=n)  # noise norm ~0.14
    angle = rng.uniform(0, 2 * np.pi, n)  # each unit's preferred direction
    for ring in range(2):
        for i in range(16):
            w[:, 1 + 16 * ring + i] = np.cos(angle - 2 * np.pi * i / 16)
    geo = input_geometry(w, coll)
    assert geo.tasks == ("go", "anti", "dm1", "dm2", "dms")
    assert geo.families == ("reach", "reach", "dm", "dm", "match")
    assert geo.rule[0, 1] > 0.9 and geo.rule[2, 3] > 0.9  # within family
    assert abs(geo.rule[0, 2]) < 0.2 and abs(geo.rule[1, 4]) < 0.2  # between families
    assert np.abs(geo.rule_vs_fixation).max() < 0.2
    assert geo.circulant.min() > 0.95
    summary = geo.summary()
    assert summary["rule_within_family"] > 0.9 > 0.2 > abs(summary["rule_between_family"])
    w[:, 1:33] = rng.normal(size=(n, 32))  # random stimulus weights are not circulant
    assert input_geometry(w, coll).circulant.max() < 0.5
    with pytest.raises(LmrnnError, match=r"weight_ih must be \(N, 38\)"):
        input_geometry(w[:, :30], coll)
