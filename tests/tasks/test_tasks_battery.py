"""Every task of the battery, checked against the spec with a plain reference written here.

The reference reads each trial's stimuli back from the generated inputs (noise off), computes the
answer the spec asks for with per-trial Python, and compares it with the generated targets.
"""

import math

import numpy as np
import pytest
import torch

from lmrnn.errors import LmrnnError
from lmrnn.tasks import get_collection, parse_task, trial_batch

ALL = get_collection("modcog126")
N = 96  # trials per task and test

# Modality weights and rings shown, from the spec's table (not from the library).
DM_RULES = {
    "dm1": ((1, 1), (1, 0)), "dm2": ((1, 1), (0, 1)), "ctxdm1": ((1, 0), (1, 1)),
    "ctxdm2": ((0, 1), (1, 1)), "multidm": ((1, 1), (1, 1)),
    "dlydm1": ((1, 1), (1, 0)), "dlydm2": ((1, 1), (0, 1)), "ctxdlydm1": ((1, 0), (1, 1)),
    "ctxdlydm2": ((0, 1), (1, 1)), "multidlydm": ((1, 1), (1, 1)),
}  # fmt: skip


def bump(direction: int, strength: float = 1.0) -> np.ndarray:
    """The spec's stimulus bump: strength · 0.8 · exp(-δ²/2), δ in units of π/8."""
    theta = 2 * np.pi * np.arange(16) / 16
    d = np.abs(theta - 2 * np.pi * direction / 16)
    d = np.minimum(d, 2 * np.pi - d) / (np.pi / 8)
    return strength * 0.8 * np.exp(-(d**2) / 2)


def decode(ring: np.ndarray) -> tuple[int, float]:
    """Direction and strength of a single bump on a 16-unit ring."""
    direction = int(np.argmax(ring))
    return direction, float(ring[direction] / 0.8)


def period_slice(batch, b, p):
    s = [*batch.period_starts[b].tolist(), int(batch.length[b])]
    return slice(s[p], s[p + 1])


def reference_base_label(name: str, batch, b: int) -> int | None:
    """The base task's answer for trial b, read from its inputs. None: an exact DM tie."""
    x = batch.inputs[:, b].numpy()
    base = parse_task(name).base.name
    rings = lambda p: x[period_slice(batch, b, p), 1:33]  # noqa: E731
    if base in ("go", "anti", "dlygo", "dlyanti", "rtgo", "rtanti"):
        stim = rings(4 if base.startswith("rt") else 1)
        assert len(stim) > 0 and np.allclose(stim, stim[0])  # constant over the period
        ring = int(np.abs(stim[0, 16:]).sum() > 0)
        assert np.all(stim[0, 16 * (1 - ring) : 16 * (2 - ring)] == 0)  # one ring only
        direction, strength = decode(stim[0, 16 * ring : 16 * ring + 16])
        assert strength == pytest.approx(1.0)
        np.testing.assert_allclose(stim[0, 16 * ring : 16 * ring + 16], bump(direction), atol=1e-6)
        return (direction + (8 if "anti" in base else 0)) % 16 + 1
    if base in DM_RULES:
        (w1, w2), shown = DM_RULES[base]
        d1, d2 = int(batch.stim_dir[b, 0]), int(batch.stim_dir[b, 1])
        assert d1 != d2
        s = batch.stim_strength[b].numpy()  # [stimulus, ring]
        for r in range(2):  # the inputs are exactly the bumps the metadata names
            if base.startswith(("dly", "ctxdly", "multidly")):
                np.testing.assert_allclose(rings(1)[0, 16 * r : 16 * r + 16], bump(d1, s[0, r]),
                                           atol=1e-6)  # fmt: skip
                np.testing.assert_allclose(rings(3)[0, 16 * r : 16 * r + 16], bump(d2, s[1, r]),
                                           atol=1e-6)  # fmt: skip
                if shown[r]:
                    pair = {round(float(s[0, r]), 4), round(float(s[1, r]), 4)}
                    assert len(pair) == 2 and pair <= {0.3, 0.6, 1.0}
            else:
                both = bump(d1, s[0, r]) + bump(d2, s[1, r])
                np.testing.assert_allclose(rings(1)[0, 16 * r : 16 * r + 16], both, atol=1e-6)
                if shown[r]:
                    c = s[0, r] - s[1, r]
                    assert s[0, r] + s[1, r] == pytest.approx(1.0)
                    assert min(abs(abs(c) - v) for v in (0.08, 0.16, 0.32, 0.64)) < 1e-6
            if not shown[r]:
                assert s[0, r] == 0 and s[1, r] == 0
        e1 = w1 * s[0, 0] * shown[0] + w2 * s[0, 1] * shown[1]
        e2 = w1 * s[1, 0] * shown[0] + w2 * s[1, 1] * shown[1]
        if math.isclose(e1, e2):
            return None
        return (d1 if e1 > e2 else d2) + 1
    # match family: sample in stim1, test in stim2, one ring
    sample_in, test_in = rings(1)[0], rings(3)[0]
    ring = int(np.abs(sample_in[16:]).sum() > 0)
    sample, _ = decode(sample_in[16 * ring : 16 * ring + 16])
    test, _ = decode(test_in[16 * ring : 16 * ring + 16])
    np.testing.assert_allclose(test_in[16 * ring : 16 * ring + 16], bump(test), atol=1e-6)
    if base in ("dms", "dnms"):
        assert test in (sample, (sample + 8) % 16)
        is_match = test == sample
    else:
        is_match = (sample >= 8) == (test >= 8)
    go = is_match if base in ("dms", "dmc") else not is_match
    return test + 1 if go else 0


@pytest.fixture(scope="module")
def batches():
    return {
        name: trial_batch(ALL, name, N, seed=i, noise=False) for i, name in enumerate(ALL.names)
    }


@pytest.mark.parametrize("name", ALL.names)
def test_fixation_targets_labels_and_rule(batches, name):
    batch = batches[name]
    T = batch.inputs.shape[0]
    t = torch.arange(T).unsqueeze(1)
    valid, before = batch.mask, t < batch.decision_start
    fix = batch.inputs[..., 0]
    assert torch.all(fix[valid & before] == 1) and torch.all(fix[valid & ~before] == 0)
    assert torch.all(batch.targets[~(valid & ~before)] == 0)  # 0 outside decision
    assert batch.targets.min() >= 0 and batch.targets.max() <= 16
    rule = batch.inputs[..., 33:]
    expected = torch.nn.functional.one_hot(torch.full((T, N), ALL.index(name)), ALL.n_tasks)
    assert torch.equal(rule[valid], expected[valid].float())
    assert torch.all(batch.inputs[~valid] == 0)
    assert torch.equal(batch.length, batch.mask.sum(0))
    lo, hi = ALL.length_range(name)
    assert batch.length.min() >= lo and batch.length.max() <= hi


@pytest.mark.parametrize("name", ALL.names)
def test_response_rule_read_back_from_stimuli(batches, name):
    batch, spec = batches[name], parse_task(name)
    checked = 0
    for b in range(N):
        base = reference_base_label(name, batch, b)
        dec = period_slice(batch, b, 4)
        targets = batch.targets[dec, b].numpy()
        if base is None:  # exact tie: either direction, held through decision
            assert int(batch.base_response[b]) in (
                batch.stim_dir[b, 0] + 1,
                batch.stim_dir[b, 1] + 1,
            )
            continue
        assert int(batch.base_response[b]) == base
        if base == 0:  # no-go trials keep fixating, whatever the extension
            assert np.all(targets == 0)
            continue
        k = int(batch.delay_ms[b]) // 100
        first = (base - 1 + spec.int_sign * k) % 16 + 1
        steps = np.arange(len(targets))
        expected = (first - 1 + spec.seq_sign * steps) % 16 + 1
        np.testing.assert_array_equal(targets, expected)
        assert np.all(targets >= 1)  # never the wrap-to-fixate bug of the public file
        checked += 1
    assert checked > N // 3


@pytest.mark.parametrize("name", [n for n in ALL.names if "_seq" in n])
def test_seq_decision_lasts_1000_ms(batches, name):
    batch = batches[name]
    assert torch.all(batch.length - batch.decision_start == 10)


@pytest.mark.parametrize("name", [n for n in ALL.names if "_int" in n])
def test_int_delay_spreads_over_0_to_1100(name):
    batch = trial_batch(ALL, name, 600, seed=7, noise=False)
    assert set(batch.delay_ms.tolist()) == set(range(0, 1200, 100))
    delay_steps = batch.period_starts[:, 3] - batch.period_starts[:, 2]
    assert torch.equal(delay_steps * 100, batch.delay_ms)


def test_directions_modalities_and_match_rates_are_balanced():
    from scipy.stats import binomtest, chisquare

    go = trial_batch(ALL, "go", 3200, seed=1, noise=False)
    assert chisquare(np.bincount(go.stim_dir[:, 0].numpy(), minlength=16)).pvalue > 1e-3
    ring2 = (go.stim_strength[:, 0, 1] > 0).sum().item()
    assert binomtest(ring2, 3200).pvalue > 1e-3
    for name in ("dms", "dnms", "dmc", "dnmc"):
        m = trial_batch(ALL, name, 2000, seed=2, noise=False)
        go_trials = (m.base_response > 0).sum().item()
        assert binomtest(go_trials, 2000).pvalue > 1e-3
    dmc = trial_batch(ALL, "dmc", 2000, seed=3, noise=False)
    tests = dmc.stim_dir[:, 1]
    assert chisquare(np.bincount(tests.numpy(), minlength=16)).pvalue > 1e-3  # all 16 used


def test_noise_only_on_stimulus_rings_of_dm_and_match():
    for name, noisy in (("go", False), ("dlyanti", False), ("dm1", True), ("multidlydm", True),
                        ("dnms", True), ("rtgo", False)):  # fmt: skip
        clean = trial_batch(ALL, name, 256, seed=5, noise=False)
        noisy_b = trial_batch(ALL, name, 256, seed=5, noise=True)
        diff = noisy_b.inputs - clean.inputs
        assert torch.all(diff[..., 0] == 0) and torch.all(diff[..., 33:] == 0)
        if not noisy:
            assert torch.all(diff == 0)
            continue
        T = diff.shape[0]
        t = torch.arange(T).unsqueeze(1)
        ps = clean.period_starts
        in_stim = ((t >= ps[:, 1]) & (t < ps[:, 2])) | ((t >= ps[:, 3]) & (t < ps[:, 4]))
        assert torch.all(diff[~in_stim] == 0)
        std = diff[in_stim & clean.mask][..., 1:33]
        std = std[std != 0].std().item()
        assert std == pytest.approx(0.1, rel=0.05)


def test_dm_coherences_and_strength_sets_cover_the_spec():
    dm = trial_batch(ALL, "multidm", 4000, seed=11, noise=False)
    c = (dm.stim_strength[:, 0] - dm.stim_strength[:, 1]).flatten()
    assert {round(v, 4) for v in c.tolist()} == {-0.64, -0.32, -0.16, -0.08, 0.08, 0.16, 0.32,
                                                    0.64}  # fmt: skip
    dly = trial_batch(ALL, "multidlydm", 4000, seed=12, noise=False)
    pairs = {(round(a, 2), round(b, 2)) for a, b in dly.stim_strength[:, :, 0].tolist()}
    assert pairs == {(a, b) for a in (0.3, 0.6, 1.0) for b in (0.3, 0.6, 1.0) if a != b}


def test_timing_of_the_modcog_profile():
    m = trial_batch(ALL, "dms", 3000, seed=4, noise=False)
    delays = m.period_starts[:, 3] - m.period_starts[:, 2]
    assert set((delays * 100).tolist()) == set(range(200, 1200, 100))
    dm = trial_batch(ALL, "dm2", 3000, seed=4, noise=False)
    assert set(dm.period_starts[:, 1].tolist()) == {2, 3, 4}  # fixation U(200, 500) floored
    assert set((dm.length - dm.decision_start).tolist()) == {2}
    dly = trial_batch(ALL, "dlydm1", 50, seed=4, noise=False)
    assert torch.all(dly.period_starts[:, 3] - dly.period_starts[:, 2] == 5)


def test_fixed_timing_puts_every_period_at_the_middle_of_its_range():
    fixed = trial_batch(ALL, "dms_intl", 200, seed=5, noise=False, timing="fixed")
    drawn = trial_batch(ALL, "dms_intl", 200, seed=5, noise=False)
    # every trial has the same periods, while drawn timing gives many
    assert torch.all(fixed.period_starts == fixed.period_starts[0])
    assert torch.all(fixed.length == fixed.length[0])
    assert len({tuple(r) for r in drawn.period_starts.tolist()}) > 10
    # the middle of each drawn range: between the shortest and longest drawn, for each period
    steps = torch.diff(fixed.period_starts[0], append=fixed.length[:1])
    drawn_steps = torch.diff(drawn.period_starts, dim=1, append=drawn.length.unsqueeze(1))
    assert torch.all(drawn_steps.min(0).values <= steps)
    assert torch.all(steps <= drawn_steps.max(0).values)
    delay = (fixed.period_starts[0, 3] - fixed.period_starts[0, 2]) * 100
    assert int(delay) == 600  # dms delay: grid 200..1100 ms, its middle value
    # the conditions are those of random timing with the same seed
    assert torch.equal(fixed.stim_dir, drawn.stim_dir)
    assert torch.equal(fixed.base_response, drawn.base_response)
    with pytest.raises(LmrnnError, match="unknown timing 'fix'"):
        trial_batch(ALL, "go", 4, seed=0, timing="fix")


def test_dt_changes_resolution_not_meaning():
    coarse = get_collection("modcog82", dt=100)
    fine = get_collection("modcog82", dt=20)
    b100 = trial_batch(coarse, "go_seqr", 64, seed=0, noise=False)
    b20 = trial_batch(fine, "go_seqr", 64, seed=0, noise=False)
    assert torch.all(b20.length == 5 * b100.length[0])
    # the target drifts one unit per 100 ms, i.e. every 5 steps of 20 ms
    dec = b20.targets[b20.decision_start[0] :, 0]
    assert torch.all(dec.view(-1, 5) == dec.view(-1, 5)[:, :1])
    assert torch.all(torch.diff(dec.view(-1, 5)[:, 0]) % 16 == 1)
