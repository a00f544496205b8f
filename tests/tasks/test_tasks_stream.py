"""Stream batches, determinism, accuracy criteria and the gymnasium adapter."""

import itertools

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

from lmrnn.errors import LmrnnError
from lmrnn.tasks import (
    Collection,
    TrialBatch,
    get_collection,
    per_task,
    performance,
    stream_batch,
    trial_batch,
)

M82 = get_collection("modcog82")


def _segments(starts: torch.Tensor) -> list[tuple[int, int]]:
    idx = [*starts.nonzero().ravel().tolist(), len(starts)]
    return list(itertools.pairwise(idx))


def test_stream_shapes_and_per_step_structure():
    _check_stream(stream_batch(M82, batch_size=8, seq_len=350, seed=0))


def test_fixed_shape_stream_path_on_the_cpu(monkeypatch):
    """The GPU's fixed-shape path (conditions for every possible trial, no synchronisation),
    run on the CPU: the same per-step structure, and tasks still drawn uniformly."""
    from scipy.stats import chisquare

    import lmrnn.tasks.stream as batch_module

    monkeypatch.setattr(batch_module, "_stream_trials_cpu", batch_module._stream_trials_fixed)
    _check_stream(stream_batch(M82, batch_size=8, seq_len=350, seed=0))
    s = stream_batch(M82, batch_size=64, seq_len=700, seed=1)
    counts = np.bincount(s.task[s.trial_start].numpy(), minlength=82)
    assert chisquare(counts).pvalue > 1e-3


def test_stream_rows_that_need_more_trials_than_typical():
    """Rows whose first (typical) number of trials falls short of seq_len draw more."""
    coll = Collection(M82.names)  # not get_collection's shared object
    coll.__dict__["typical_trial_steps"] = 1e6  # first draw: 5 trials per row, never enough
    s = stream_batch(coll, batch_size=8, seq_len=350, seed=0)
    _check_stream(s)
    assert s.trial_start.sum(0).min() > 5


def _check_stream(s) -> None:
    assert s.inputs.shape == (350, 8, 115) and s.inputs.dtype == torch.float32
    assert s.targets.shape == (350, 8) and s.targets.dtype == torch.int64
    assert torch.all(s.trial_start[0])
    rule = s.inputs[..., 33:].argmax(-1)
    assert torch.equal(rule, s.task) and torch.all(s.inputs[..., 33:].sum(-1) == 1)
    assert torch.equal(s.inputs[..., 0] == 1, s.period < 4)  # fixation until decision
    assert torch.all(s.targets[s.period < 4] == 0)
    for b in range(8):
        for start, end in _segments(s.trial_start[:, b])[:-1]:  # complete trials only
            task = s.task[start, b]
            assert torch.all(s.task[start:end, b] == task)
            lo, hi = M82.length_range(int(task))
            assert lo <= end - start <= hi
            assert torch.all(torch.diff(s.period[start:end, b]) >= 0)  # periods in order
            assert s.period[end - 1, b] == 4  # every complete trial ends in its decision


def test_stream_noise_covers_exactly_the_noisy_rings_of_stimulus_periods():
    """Noise-free and noisy batches of one seed differ by N(0, 0.1^2) on every ring shown in a
    stimulus period of a DM or match trial (match: only the sample's ring), and nowhere else."""
    clean = stream_batch(M82, batch_size=32, seq_len=350, seed=3, noise=False)
    noisy = stream_batch(M82, batch_size=32, seq_len=350, seed=3)
    assert torch.equal(clean.targets, noisy.targets) and torch.equal(clean.task, noisy.task)
    diff = noisy.inputs - clean.inputs
    assert torch.all(diff[..., 0] == 0) and torch.all(diff[..., 33:] == 0)
    family = {name: M82.tasks[i].family for i, name in enumerate(M82.names)}
    fam = np.vectorize(lambda i: family[M82.names[i]])(clean.task.numpy())
    stim = (clean.period == 1) | (clean.period == 3)
    rings = diff[..., 1:33].view(350, 32, 2, 16)
    touched = (rings != 0).any(-1)  # (T, B, ring)
    shown = (clean.inputs[..., 1:33].view(350, 32, 2, 16) != 0).any(-1)
    dm_like = torch.from_numpy(np.isin(fam, ["dm", "dlydm"])) & stim
    match = torch.from_numpy(fam == "match") & stim
    assert torch.equal(touched[dm_like], torch.ones_like(touched[dm_like]))
    assert torch.equal(touched[match], shown[match])  # the drawn ring only
    assert shown[match].sum(-1).eq(1).all()
    assert not touched[~(dm_like | match)].any()
    values = rings[touched]
    assert values.numel() > 10_000
    assert values.std().item() == pytest.approx(0.1, rel=0.03)
    assert abs(values.mean().item()) < 0.005


def test_sparse_and_dense_noise_touch_the_same_inputs():
    """The CPU (sparse) and GPU (dense, masked) ways of adding noise agree on where it goes."""
    from lmrnn.tasks.noise import InputNoise

    m = 40
    noisy = (torch.rand(m, 2, generator=torch.Generator().manual_seed(0)) < 0.5).float()
    seg = torch.randint(0, m * 5, (100, 30), generator=torch.Generator().manual_seed(1))
    outs = []
    for sparse in (True, False):
        rings = torch.zeros(3000, 40)[:, 3:35]  # a strided view, as inside the inputs
        InputNoise(noisy, seg, 100, torch.Generator().manual_seed(2), sparse=sparse).add_to(rings)
        outs.append(rings)
    seg = seg.view(-1)
    in_stim = torch.isin(seg % 5, torch.tensor([1, 3]))
    expected = (noisy[seg // 5] > 0) & in_stim.unsqueeze(1)  # (S, ring)
    for rings in outs:
        touched = (rings.view(-1, 2, 16) != 0).all(-1)
        assert torch.equal(touched, expected)
        assert torch.equal((rings.view(-1, 2, 16) != 0).any(-1), expected)
        assert rings[rings != 0].std().item() == pytest.approx(0.1, rel=0.05)


@pytest.mark.parametrize("sparse", [True, False])
def test_any_block_of_rows_renders_as_in_the_whole_stream(sparse):
    """A stream drawn once renders any block of its rows to exactly those rows of the whole
    render (how StreamLoader renders one batch of a chunk at a time), noise included."""
    from lmrnn.tasks.noise import InputNoise
    from lmrnn.tasks.stream import _Stream

    coll = get_collection("modcog82")
    stream = _Stream.draw(coll, 24, 120, torch.Generator().manual_seed(5), noise=True)
    stream.noise = InputNoise(stream.trials.shown.noisy, stream.seg, coll.dt,
                          torch.Generator().manual_seed(6), sparse=sparse)  # fmt: skip
    whole = stream.render()
    assert (whole.inputs[:, :, 1:33] != whole.inputs[:, :, 1:33].round(decimals=4)).any()
    for size in (1, 3, 5, 8, 24):
        for lo in range(0, 24, size):
            part = stream.render(slice(lo, lo + size))
            for field in ("inputs", "targets", "task", "trial_start", "period"):
                expected = getattr(whole, field)[:, lo : lo + size]
                assert torch.equal(getattr(part, field), expected), (field, size, lo)
    with pytest.raises(ValueError, match="not a block"):
        stream.render(slice(2, 5))


def test_stream_batch_metadata_follows_row_slices_and_device_moves():
    """task, trial_start and period (worked out when first read) of a row slice or a moved
    batch are those rows of the whole batch's."""
    from lmrnn.tasks.stream import _rows

    whole = stream_batch(M82, batch_size=9, seq_len=80, seed=2)
    for part, rows in ((_rows(whole, slice(2, 7)), slice(2, 7)), (whole.to("cpu"), slice(None))):
        for field in ("inputs", "targets", "task", "trial_start", "period"):
            assert torch.equal(getattr(part, field), getattr(whole, field)[:, rows]), field


def test_stream_tasks_are_drawn_uniformly():
    from scipy.stats import chisquare

    s = stream_batch(M82, batch_size=64, seq_len=700, seed=1)
    counts = np.bincount(s.task[s.trial_start].numpy(), minlength=82)
    assert chisquare(counts).pvalue > 1e-3


def test_stream_trials_match_trial_mode_statistics():
    """A stream's trials of one task have the length distribution of trial mode's."""
    from scipy.stats import chi2_contingency

    s = stream_batch(["dms", "dm2"], batch_size=64, seq_len=400, seed=2)
    lengths = []
    for b in range(64):
        for start, end in _segments(s.trial_start[:, b])[:-1]:
            if s.task[start, b] == 0:
                lengths.append(end - start)
    trials = trial_batch(["dms", "dm2"], "dms", 2000, seed=2).length.numpy()
    support = sorted(set(trials))
    assert set(lengths) <= set(support)
    table = [[lengths.count(v) for v in support], [(trials == v).sum() for v in support]]
    assert chi2_contingency(table).pvalue > 1e-4


def test_same_seed_same_batch_different_seed_different_batch():
    a, b = stream_batch(M82, 4, 100, seed=5), stream_batch(M82, 4, 100, seed=5)
    c = stream_batch(M82, 4, 100, seed=6)
    assert torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets)
    assert not torch.equal(a.inputs, c.inputs)
    x, y = trial_batch(M82, None, 16, seed=3), trial_batch(M82, None, 16, seed=3)
    assert torch.equal(x.inputs, y.inputs) and torch.equal(x.task, y.task)


def test_trial_mode_mix_and_seq_len_padding():
    b = trial_batch(M82, ["go", "dms_seqr"], 200, seed=0, seq_len=60)
    assert b.inputs.shape[0] == 60
    assert set(b.task_names) == {"go", "dms_seqr"}
    assert torch.equal(b.mask.sum(0), b.length)
    mix = trial_batch(M82, None, 500, seed=0)
    assert len(set(mix.task.tolist())) > 70


def _perfect_logits(batch: TrialBatch) -> torch.Tensor:
    return torch.nn.functional.one_hot(batch.targets, 17).float()


def test_performance_criteria_on_planted_outputs():
    batch = trial_batch(M82, "dlygo_seqr", 32, seed=1)
    logits = _perfect_logits(batch)
    for crit in ("decision", "last_step", "strict"):
        assert torch.all(performance(logits, batch, crit))
    # break one decision step of trial 0 (not the last): decision and strict fail, last_step holds
    broken = logits.clone()
    t0 = int(batch.decision_start[0]) + 1
    broken[t0, 0] = torch.roll(broken[t0, 0], 1)
    assert not performance(broken, batch)[0] and performance(broken, batch)[1:].all()
    assert performance(broken, batch, "last_step")[0]
    assert not performance(broken, batch, "strict")[0]
    # an early response during fixation of trial 1 breaks only "strict"
    early = logits.clone()
    early[0, 1] = torch.nn.functional.one_hot(torch.tensor(5), 17).float()
    assert performance(early, batch)[1] and not performance(early, batch, "strict")[1]
    # padding never counts: garbage after the trial end changes nothing
    padded = logits.clone()
    padded[~batch.mask] = torch.randn_like(padded[~batch.mask])
    assert torch.all(performance(padded, batch))
    # leading dims (seeds) are kept
    stacked = torch.stack([logits, broken])
    assert performance(stacked, batch).shape == (2, 32)
    assert per_task(performance(stacked, batch), batch) == {"dlygo_seqr": pytest.approx(63 / 64)}


def test_performance_rejects_bad_input():
    batch = trial_batch(M82, "go", 4, seed=0)
    with pytest.raises(LmrnnError, match=r"unknown criterion 'decisoin'.*did you mean 'decision'"):
        performance(_perfect_logits(batch), batch, "decisoin")
    with pytest.raises(LmrnnError, match="do not fit the batch"):
        performance(torch.zeros(3, 4, 17), batch)
    with pytest.raises(LmrnnError, match="needs a TrialBatch"):
        performance(torch.zeros(3, 4, 17), stream_batch(M82, 4, 3, seed=0))


def test_stream_and_trial_errors():
    with pytest.raises(LmrnnError, match="seq_len must be a whole number >= 1"):
        stream_batch(M82, 4, 0, seed=0)
    with pytest.raises(LmrnnError, match="batch_size must be a whole number >= 1, got 0"):
        stream_batch(M82, 0, 10, seed=0)


@pytest.mark.parametrize("name", ["go", "dlygo_intr", "dms_seql", "multidlydm_intl_seqr"])
def test_gymnasium_env_passes_the_checker(name):
    env = gymnasium.make(f"lmrnn/{name}-v0")
    check_env(env.unwrapped, skip_render_check=True)
    assert env.action_space == gymnasium.spaces.Discrete(17)


def test_gymnasium_ids_under_the_public_files_spelling():
    env = gymnasium.make("lmrnn/dlygointl-v0")
    assert env.unwrapped.task == "dlygo_intl"
    assert env.unwrapped.collection.name == "modcog82"
    ids = [i for i in gymnasium.registry if i.startswith("lmrnn/")]
    assert len({gymnasium.spec(i).kwargs["task"] for i in ids}) >= 126


def test_gymnasium_episode_rewards_the_targets():
    env = gymnasium.make("lmrnn/dlygo_intr-v0").unwrapped
    obs, info = env.reset(seed=3)
    assert obs.shape == (115,) and info["period"] == "fixation"
    total = 0.0
    gts = env._gt.tolist()
    for gt in gts:
        obs, reward, terminated, truncated, info = env.step(gt)
        total += reward
    assert terminated and not truncated and info["performance"] == 1.0
    assert total == sum(1 for g in gts[env._decision :])
    env.reset(seed=3)
    _, reward, *_ = env.step(4)  # not fixating during fixation costs 0.1
    assert reward == pytest.approx(-0.1)
    a, _ = env.reset(seed=9)
    b, _ = env.reset(seed=9)
    assert np.array_equal(a, b)


@pytest.mark.cuda
def test_cuda_batches_have_the_same_statistics():
    cpu = stream_batch(M82, 64, 350, seed=0)
    gpu = stream_batch(M82, 64, 350, seed=0, device="cuda")
    assert gpu.inputs.device.type == "cuda"
    again = stream_batch(M82, 64, 350, seed=0, device="cuda")
    assert torch.equal(gpu.inputs, again.inputs)
    for key in ("inputs", "targets"):
        x, y = getattr(cpu, key).float(), getattr(gpu, key).float().cpu()
        assert abs(x.mean() - y.mean()) < 0.05 * x.abs().mean() + 1e-3
    tb = trial_batch(M82, "dms_intr", 512, seed=0, device="cuda", noise=False)
    assert set(tb.delay_ms.cpu().tolist()) == set(range(0, 1200, 100))
    assert torch.all(performance(_perfect_logits(tb), tb))


def test_stream_loader_iterates_over_its_steps_and_indexes_by_step():
    import itertools

    from lmrnn.tasks import StreamLoader

    loader = StreamLoader(M82, batch_size=3, seq_len=40, seed=2, chunk=2)
    first = list(itertools.islice(loader, 5))
    fresh = StreamLoader(M82, batch_size=3, seq_len=40, seed=2, chunk=2)
    for step in (4, 0, 3):
        assert torch.equal(fresh[step].inputs, first[step].inputs)
        assert torch.equal(fresh.batch(step).targets, first[step].targets)
    assert len({tuple(b.targets.flatten().tolist()) for b in first}) == 5
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(LmrnnError, match="step must be a whole number >= 0"):
            loader.batch(bad)


def test_stream_loader_gives_each_step_its_own_reproducible_batch():
    from lmrnn.tasks import StreamLoader

    loader = StreamLoader(M82, batch_size=4, seq_len=50, seed=3, chunk=5)
    batches = [loader.batch(step) for step in range(12)]
    assert all(b.inputs.shape == (50, 4, 115) for b in batches)
    # any order of requests, any fresh loader: the same batch for the same step
    again = StreamLoader(M82, batch_size=4, seq_len=50, seed=3, chunk=5)
    for step in (11, 0, 7, 3):
        assert torch.equal(again.batch(step).inputs, batches[step].inputs)
        assert torch.equal(again.batch(step).targets, batches[step].targets)
    # every step differs, and another seed gives another stream
    flat = {tuple(b.targets.flatten().tolist()) for b in batches}
    assert len(flat) == 12
    other = StreamLoader(M82, batch_size=4, seq_len=50, seed=4, chunk=5)
    assert not torch.equal(other.batch(0).inputs, batches[0].inputs)
    # a batch is a row slice of one stream_batch of the chunk
    big = stream_batch(M82, 20, 50, seed=loader.chunk_seed(1))
    for field in ("inputs", "targets", "task", "trial_start", "period"):
        for step in range(5, 10):
            rows = slice(4 * (step - 5), 4 * (step - 4))
            assert torch.equal(getattr(big, field)[:, rows], getattr(batches[step], field))
    with pytest.raises(LmrnnError, match="chunk must be a whole number >= 1"):
        StreamLoader(M82, 4, 50, seed=0, chunk=0)


def test_stream_loader_takes_dt_and_profile_like_stream_batch():
    from lmrnn.tasks import StreamLoader

    loader = StreamLoader("yang20", 4, 100, 0, dt=20, profile="neurogym")
    assert (loader.collection.dt, loader.collection.profile) == (20, "neurogym")
    same = StreamLoader(get_collection("yang20", dt=20, profile="neurogym"), 4, 100, 0)
    assert torch.equal(loader[3].inputs, same[3].inputs)
