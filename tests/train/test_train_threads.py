"""The thread governor: it picks the faster thread count from measured step times, re-probes
when steps slow down, and the choice never changes a run's numbers."""

import pytest
import torch

from lmrnn.train import from_dict, train
from lmrnn.train.threads import ThreadGovernor


def _drive(governor: ThreadGovernor, cost, steps: int) -> list[int]:
    """Run ``steps`` steps whose time is ``cost(step, threads)``; the thread count per step."""
    used = []
    governor.start()
    for step in range(steps):
        governor.before_step()
        threads = torch.get_num_threads()
        used.append(threads)
        governor.after_step(cost(step, threads))
    governor.restore()
    return used


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_it_keeps_two_threads_on_a_quiet_machine(two_threads):
    governor = ThreadGovernor(period=20)
    used = _drive(governor, lambda step, t: 0.10 if t == 1 else 0.06, 100)
    assert governor.history and set(governor.history) == {2}
    assert used.count(1) <= governor.trial * len(governor.history)  # the probes' steps only
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize(("one_thread", "chosen"), [(0.058, 2), (0.050, 1)])
def test_one_thread_must_be_clearly_faster_to_be_chosen(two_threads, one_thread, chosen):
    """Steps vary by a few percent: a one-thread step 3% faster than two threads' keeps the
    user's count, one 17% faster is taken."""
    governor = ThreadGovernor(period=20)
    _drive(governor, lambda step, t: one_thread if t == 1 else 0.06, 60)
    assert set(governor.history) == {chosen}


def test_it_moves_to_one_thread_when_a_core_gets_busy_and_back(two_threads):
    def cost(step, t):
        busy = 40 <= step < 120
        return (0.3 if busy else 0.06) if t == 2 else 0.10

    governor = ThreadGovernor(period=1000)  # no scheduled probe: only the slowdown triggers one
    used = _drive(governor, cost, 200)
    assert governor.history[0] == 2
    assert 1 in governor.history  # it noticed the slowdown at once
    busy_steps = used[50:120]
    assert busy_steps.count(1) >= 60
    assert torch.get_num_threads() == 2  # restored


def test_one_thread_means_nothing_to_govern():
    governor = ThreadGovernor(most=1)
    assert not governor.active
    _drive(governor, lambda step, t: 0.1, 10)
    assert governor.history == []


@pytest.mark.parametrize("graph", [{"graph": "dense", "n": None, "n_units": 256},
                                   {"n": 16, "d": 2.0}, {"n": 16, "d": 0.0}])  # fmt: skip
def test_the_thread_count_never_changes_the_numbers(tmp_path, monkeypatch, two_threads, graph):
    """A run whose governor switches threads at every probe ends with the same bits as one
    that keeps one thread (sizes at which torch and the sparse kernels do split the work)."""
    import lmrnn.train.loop as loop

    base = {
        "collection": ["go", "dm1"],
        "batch_size": 16,
        "seq_len": 30,
        "steps": 24,
        "eval_every": 12,
        "eval_trials": 8,
        "seeds": [0, 1],
        "device": "cpu",
        **graph,
    }
    flips = {"n": 0}

    def flipping(most=None, **_):
        governor = ThreadGovernor(most=2, period=2, trial=1)
        original = governor._finish_probe

        def finish():
            original()
            flips["n"] += 1
            governor.chosen = 1 + flips["n"] % 2  # alternate whatever was measured
            torch.set_num_threads(governor.chosen)

        governor._finish_probe = finish
        return governor

    monkeypatch.setattr(loop, "ThreadGovernor", flipping)
    switching = train(from_dict({**base, "out": str(tmp_path / "a")}), progress=False)
    assert flips["n"] >= 4
    monkeypatch.setattr(loop, "ThreadGovernor", lambda most=None, **_: ThreadGovernor(most=1))
    torch.set_num_threads(1)
    single = train(from_dict({**base, "out": str(tmp_path / "b")}), progress=False)
    for a, b in zip(switching.model.parameters(), single.model.parameters(), strict=True):
        assert torch.equal(a, b)
