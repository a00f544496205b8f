"""The compiled CPU path (lmrnn.tasks.render_cpu) gives exactly the batches of the torch path,
which stays the path on a GPU and wherever numba is missing."""

import threading

import pytest
import torch

from lmrnn.tasks import StreamLoader, get_collection, render_cpu, stream_batch, trial_batch
from lmrnn.tasks.batch import _locate
from lmrnn.tasks.noise import InputNoise, flat_nonzero

pytestmark = pytest.mark.skipif(not render_cpu.AVAILABLE, reason="numba is not installed")

MIXED = ["go", "dlyanti_intr", "dm2_seqr", "dlydm1_intl_seql", "dnms", "ctxdm2", "dnmc"]
STREAMS = [  # collection, dt, profile, rows, seq_len, noise
    ("modcog82", 100, None, 16, 350, True),
    ("modcog82", 20, None, 9, 300, True),
    ("yang20", 20, "neurogym", 12, 250, True),
    ("modcog126", 50, None, 7, 400, True),
    (MIXED, 10, None, 5, 500, True),
    ("yang20", 100, None, 8, 120, False),
    (MIXED, 100, "neurogym", 33, 64, True),
]


def _torch_path(monkeypatch):
    monkeypatch.setattr(render_cpu, "AVAILABLE", False)


def _same(a, b, fields=("inputs", "targets")) -> None:
    for name in fields:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and torch.equal(x, y), name


@pytest.mark.parametrize(("collection", "dt", "profile", "rows", "seq_len", "noise"), STREAMS)
def test_stream_batches_are_bit_identical_to_the_torch_path(
    monkeypatch, collection, dt, profile, rows, seq_len, noise
):
    kwargs = dict(dt=dt, profile=profile, noise=noise)
    compiled = [stream_batch(collection, rows, seq_len, seed, **kwargs) for seed in range(3)]
    _torch_path(monkeypatch)
    for seed, c in enumerate(compiled):
        reference = stream_batch(collection, rows, seq_len, seed, **kwargs)
        _same(c, reference, ("inputs", "targets", "task", "trial_start", "period"))
        if noise:  # the noise is really there, so its placement was compared too
            assert (c.inputs[:, :, 1:33] != c.inputs[:, :, 1:33].round(decimals=3)).any()


@pytest.mark.parametrize("chunk", [1, 3, 8])
def test_stream_loader_batches_are_bit_identical_to_the_torch_path(monkeypatch, chunk):
    steps = range(0, 2 * chunk + 1)
    compiled = [StreamLoader("modcog82", 6, 200, 11, chunk=chunk)[s] for s in steps]
    _torch_path(monkeypatch)
    loader = StreamLoader("modcog82", 6, 200, 11, chunk=chunk)
    for s, c in zip(steps, compiled, strict=True):
        _same(c, loader[s], ("inputs", "targets", "task", "trial_start", "period"))


@pytest.mark.parametrize(
    ("collection", "task", "dt", "seq_len", "timing"),
    [
        ("modcog82", None, 100, None, "random"),
        ("modcog126", "dlygo_intr_seql", 20, None, "random"),
        ("yang20", ["dm1", "dmc"], 50, 80, "fixed"),
        (MIXED, None, 10, None, "random"),
    ],
)
def test_trial_batches_are_bit_identical_to_the_torch_path(
    monkeypatch, collection, task, dt, seq_len, timing
):
    kwargs = dict(dt=dt, seq_len=seq_len, timing=timing)
    compiled = trial_batch(collection, task, 21, 4, **kwargs)
    _torch_path(monkeypatch)
    _same(compiled, trial_batch(collection, task, 21, 4, **kwargs), ("inputs", "targets", "mask"))


def test_locate_matches_the_torch_version_on_random_layouts():
    gen = torch.Generator().manual_seed(0)
    for case in range(60):
        rows, segments = 1 + case % 7, 1 + case % 11
        lengths = torch.randint(0, 6, (rows, segments), generator=gen)  # zero-length segments too
        steps = int(torch.randint(1, 2 + 4 * segments, (), generator=gen))  # short and past the end
        offset = torch.randint(0, 100, (rows,), generator=gen) if case % 2 else None
        compiled = _locate(lengths, steps, offset, compiled=True)
        reference = _locate(lengths, steps, offset, compiled=False)
        for c, r in zip(compiled, reference, strict=True):
            assert torch.equal(c, r), (case, lengths, steps)


def test_locate_planted_layout():
    seg, start = render_cpu.locate(torch.tensor([[2, 0, 1], [0, 3, 0]]), 5)
    assert seg.T.tolist() == [[0, 0, 2, 3, 3], [1, 1, 1, 3, 3]]
    assert start.T.tolist() == [[0, 0, 2, 3, 3], [0, 0, 0, 3, 3]]


def test_noise_layout_matches_the_torch_noise():
    gen = torch.Generator().manual_seed(3)
    for case in range(20):
        m = 5 + case
        noisy = (torch.rand(m, 2, generator=gen) < 0.6).float()
        seg = torch.randint(0, 5 * m, (30, 1 + case % 4), generator=gen)
        compiled = InputNoise(noisy, seg, 100, torch.Generator().manual_seed(case), compiled=True)
        reference = InputNoise(noisy, seg, 100, torch.Generator().manual_seed(case), compiled=False)
        assert torch.equal(compiled.bits, reference.bits)
        assert compiled.counts == reference.counts
        assert torch.equal(compiled.eps, reference.eps)
        for ring, steps in enumerate(reference.steps):  # each noisy step's row, in time order
            expected = torch.arange(len(steps)) + (reference.counts[0] if ring else 0)
            assert torch.equal(compiled.slots[steps, ring].long(), expected)
            others = torch.ones(seg.numel(), dtype=torch.bool)
            others[steps] = False
            assert bool((compiled.slots[others, ring] == -1).all())
        assert torch.equal(flat_nonzero(compiled.bits.view(-1) & 1), reference.steps[0])


def test_the_same_batch_for_any_number_of_threads(monkeypatch):
    monkeypatch.setattr(render_cpu, "_MIN_PER_THREAD", 1000)  # small batches use threads too
    before = torch.get_num_threads()
    try:
        batches = []
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            batches.append(stream_batch("modcog82", 8, 350, seed=5))
    finally:
        torch.set_num_threads(before)
    _same(batches[0], batches[1])
    _same(batches[0], batches[2])
    _torch_path(monkeypatch)
    _same(batches[0], stream_batch("modcog82", 8, 350, seed=5))


@pytest.mark.parametrize("min_per_thread", [1000, 1 << 40])
def test_concurrent_batches_from_several_threads_are_those_drawn_alone(monkeypatch, min_per_thread):
    monkeypatch.setattr(render_cpu, "_MIN_PER_THREAD", min_per_thread)
    alone = {seed: stream_batch("modcog82", 24, 300, seed) for seed in range(6)}
    drawn: dict[int, object] = {}

    def draw(seeds):
        for seed in seeds:
            drawn[seed] = stream_batch("modcog82", 24, 300, seed)

    threads = [threading.Thread(target=draw, args=(s,)) for s in ([0, 1, 2], [3, 4, 5])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for seed, batch in alone.items():
        _same(batch, drawn[seed])


def _in_child(queue):
    queue.put(render_cpu._threads_usable())


def test_a_forked_child_renders_without_the_parents_thread_pool():
    """GNU OpenMP's pool does not survive a fork (numba ends a child that uses it): a child
    forked after the parent rendered on threads renders on one."""
    import multiprocessing

    assert render_cpu._threads_usable()  # this process may (and now did) start the pool
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_in_child, args=(queue,))
    child.start()
    child.join(60)
    assert child.exitcode == 0 and queue.get(timeout=5) is False


def test_named_collections_are_built_once():
    assert get_collection("modcog82") is get_collection("MODCOG82")
    assert get_collection("yang20", dt=20) is get_collection("yang20").with_timing(20)
    assert get_collection(["go", "anti"]) is get_collection(("go", "anti"))
    assert get_collection("yang20", dt=20) is not get_collection("yang20")


def test_one_stream_loader_shared_by_threads_gives_each_step_its_batch():
    reference = StreamLoader("modcog82", 8, 200, seed=4, chunk=2)
    shared = StreamLoader("modcog82", 8, 200, seed=4, chunk=2)
    got: dict[int, object] = {}

    def work(k):
        for step in range(k, 120, 4):
            got[step] = shared[step]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for step in range(120):
        _same(got[step], reference[step])


def test_the_noise_layout_loop_is_right_as_plain_python_too():
    """With numba's JIT switched off the loops run as Python on numpy scalars (uint8 sums would
    wrap at 256); lmrnn then uses the torch path, but the loop itself must stay right."""
    gen = torch.Generator().manual_seed(0)
    ring_bits = torch.randint(0, 4, (200,), generator=gen, dtype=torch.uint8)
    seg = torch.randint(0, 1000, (1000, 4), generator=gen)
    bits, slots, counts = render_cpu.noise_layout(ring_bits, seg)
    plain_bits, plain_slots = torch.empty_like(bits), torch.empty_like(slots)
    n1, n2 = render_cpu._noise_layout.py_func(
        ring_bits.numpy(), seg.reshape(-1).numpy(), plain_bits.view(-1).numpy(), plain_slots.numpy()
    )
    assert (n1, n2) == counts and counts[0] > 256
    assert torch.equal(bits, plain_bits) and torch.equal(slots, plain_slots)


def test_float64_tables_render_in_float64_as_the_torch_path_does(monkeypatch):
    from lmrnn.tasks import Collection

    class Double(Collection):
        def period_inputs(self, device="cpu"):
            return super().period_inputs(device).double()

    coll = Double(("go", "dm1", "dlygo_intl"))
    compiled = stream_batch(coll, 3, 120, 0)
    _torch_path(monkeypatch)
    reference = stream_batch(coll, 3, 120, 0)
    assert compiled.inputs.dtype == torch.float64
    _same(compiled, reference)


def test_no_thread_pool_falls_back_to_one_thread(monkeypatch):
    """Where numba can start no thread pool (a threading layer asked for is missing), a large
    batch renders on one thread instead of failing."""
    import numba

    def no_pool():
        raise ValueError("No threading layer could be loaded.")

    monkeypatch.setattr(render_cpu, "_MIN_PER_THREAD", 1000)
    monkeypatch.setattr(render_cpu, "_threads_pid", [])
    monkeypatch.setattr(numba, "get_num_threads", no_pool)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        batch = stream_batch("modcog82", 8, 200, seed=1)
    finally:
        torch.set_num_threads(before)
    assert render_cpu._threads_pid == [-1]
    _torch_path(monkeypatch)
    _same(batch, stream_batch("modcog82", 8, 200, seed=1))
