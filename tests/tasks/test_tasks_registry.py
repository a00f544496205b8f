"""Names, collections, aliases and errors of the task battery."""

import pytest
import torch

from lmrnn.errors import LmrnnError
from lmrnn.tasks import (
    COLLECTIONS,
    DELAY_TASKS,
    get_collection,
    parse_task,
    performance,
    stream_batch,
    trial_batch,
)
from lmrnn.tasks.registry import BASE_TASKS, ON_REGISTER
from lmrnn.tasks.timing import Grid, Uniform

BASE_TASKS_BEFORE = dict(BASE_TASKS)

YANG20_ORDER = [
    "go",
    "rtgo",
    "dlygo",
    "anti",
    "rtanti",
    "dlyanti",
    "dm1",
    "dm2",
    "ctxdm1",
    "ctxdm2",
    "multidm",
    "dlydm1",
    "dlydm2",
    "ctxdlydm1",
    "ctxdlydm2",
    "multidlydm",
    "dms",
    "dnms",
    "dmc",
    "dnmc",
]


def test_collection_sizes_and_inputs():
    assert get_collection("yang20").n_inputs == 53
    assert get_collection("modcog82").n_inputs == 115
    assert get_collection("modcog126").n_inputs == 159
    for name in COLLECTIONS:
        assert get_collection(name).n_outputs == 17
    assert [len(v) for v in COLLECTIONS.values()] == [20, 82, 126]


def test_rule_order_follows_the_spec():
    m82 = get_collection("modcog82").names
    assert list(m82[:20]) == YANG20_ORDER
    assert m82[20:24] == ("dlygo_intr", "dlygo_intl", "dlyanti_intr", "dlyanti_intl")
    assert m82[40:42] == ("dnmc_intr", "dnmc_intl")
    assert list(m82[42:62]) == [f"{b}_seqr" for b in YANG20_ORDER]
    assert list(m82[62:82]) == [f"{b}_seql" for b in YANG20_ORDER]
    m126 = get_collection("modcog126").names
    assert m126[:82] == m82
    assert m126[82] == "dlygo_intr_seqr" and m126[-1] == "dnmc_intl_seql"
    assert len(set(m126)) == 126


def test_family_counts():
    names = get_collection("modcog126").names
    assert sum("_int" in n and "_seq" not in n for n in names) == 22
    assert sum("_seq" in n and "_int" not in n for n in names) == 40
    assert sum("_int" in n and "_seq" in n for n in names) == 44
    assert len(DELAY_TASKS) == 11
    assert all(BASE_TASKS[t].has_delay for t in DELAY_TASKS)
    assert sum(b.has_delay for b in BASE_TASKS.values()) == 11


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [("dlygointl", "dlygo_intl"), ("goseqr", "go_seqr"), ("DlyGo_IntL_SeqR", "dlygo_intl_seqr"),
     ("dmsintrseql", "dms_intr_seql"), ("Go", "go"), ("dlyanti-intr", "dlyanti_intr")],
)  # fmt: skip
def test_public_file_spellings_are_aliases(alias, canonical):
    assert parse_task(alias).name == canonical
    assert get_collection([alias]).names == (canonical,)


def test_signs_of_the_extensions():
    t = parse_task("dms_intl_seqr")
    assert (t.base.name, t.int_sign, t.seq_sign) == ("dms", -1, 1)
    assert parse_task("go_seql").seq_sign == -1 and parse_task("go_seql").int_sign == 0


def test_collection_from_names_keeps_order():
    c = get_collection(["dnmc", "go_seqr", "dlydm1_intr"])
    assert c.names == ("dnmc", "go_seqr", "dlydm1_intr")
    assert c.n_inputs == 1 + 32 + 3
    assert c.index("goseqr") == 1


@pytest.mark.parametrize(
    ("call", "pieces"),
    [
        (lambda: parse_task("dlgo"), ["unknown task 'dlgo'", "did you mean", "'dlygo'"]),
        (lambda: parse_task("go_intl"), ["'go' has no delay period", "dlygo"]),
        (lambda: parse_task("rtanti_intr"), ["no delay period"]),
        (lambda: get_collection("modcog84"), ["unknown collection 'modcog84'", "modcog82"]),
        (lambda: get_collection(["go", "go"]), ["appears twice"]),
        (lambda: get_collection([]), ["at least one task"]),
        (lambda: get_collection("yang20", dt=30), ["dt=30", "does not divide"]),
        (lambda: get_collection("yang20", dt=0), ["dt must be a whole number >= 1"]),
        (lambda: get_collection("yang20", profile="fast"), ["unknown timing profile 'fast'"]),
        (lambda: get_collection("yang20").index("go_seqr"), ["not in this collection"]),
        (lambda: trial_batch("yang20", "go", 0, 0), ["batch_size must be a whole number >= 1"]),
        (lambda: trial_batch("yang20", "go", 4, -1), ["seed must be a whole number in 0 .. 2**64"]),
        (lambda: trial_batch("yang20", "go", 4, 2**64), ["seed must be a whole number in 0 ..",
                                                          "2**64 - 1, got 18446744073709551616"]),
        (lambda: trial_batch("yang20", 3.0, 4, 0), ["task must be a name, a rule index"]),
        (lambda: trial_batch("yang20", torch.tensor([0.5, 1.0]), 2, 0), ["integer rule indices"]),
        (lambda: trial_batch("yang20", "go", 4, 0, device="meta"), ["'meta' is not supported"]),
        (lambda: get_collection(None), ["a collection is a name", "got None"]),
        (lambda: get_collection(5), ["a collection is a name", "got 5"]),
        (lambda: trial_batch("yang20", "dms", 4, 0, seq_len=10), ["seq_len=10 is shorter",
                                                                   "33 steps"]),
        (lambda: trial_batch("yang20", "go", 4, 0, device="tpu"), ["unknown device 'tpu'"]),
    ],
    ids=["unknown-task", "int-without-delay", "rt-int", "unknown-collection", "duplicate",
         "empty", "dt-not-dividing", "dt-zero", "profile", "not-in-collection", "batch-0",
         "negative-seed", "seed-too-big", "float-task", "float-task-tensor", "meta-device",
         "collection-none", "collection-int", "seq-len-too-short", "device"],
)  # fmt: skip
def test_bad_input_gets_one_clear_sentence(call, pieces):
    with pytest.raises(LmrnnError) as err:
        call()
    message = str(err.value)
    assert "\n" not in message
    for piece in pieces:
        assert piece in message


def test_dt_dividing_everything_is_accepted():
    for dt in (10, 20, 50, 100):
        c = get_collection("modcog82", dt=dt)
        assert c.length_range("go") == (1500 // dt, 1500 // dt)


@pytest.mark.parametrize(
    ("family", "params", "change", "pieces"),
    [
        ("reach", {}, {"fixation": -500}, ["'fixation'", "lasts -500"]),
        ("reach", {}, {"fixation": "500"}, ["lasts '500'"]),
        ("reach", {}, {"delay": Uniform(800, 200)}, ["Uniform(lo=800, hi=200)"]),
        ("reach", {}, {"delay": Grid(0, 500, 0)}, ["step >= 1"]),
        ("reach", {}, {"decision": 0}, ["decision period that can last 0 ms"]),
        ("reach", {"anit": True}, {}, ["unknown ['anit']", "takes anti, reaction"]),
        ("dm", {}, {}, ["missing ['weights', 'shown']"]),
        ("dm", {"weights": (0, 0), "shown": (True, True)}, {}, ["not both 0"]),
    ],
)
def test_register_task_refuses_what_would_make_broken_trials(family, params, change, pieces):
    from lmrnn.tasks import BaseTask, register_task

    timing = {"fixation": 500, "stim1": 500, "delay": 0, "stim2": 0, "decision": 500, **change}
    with pytest.raises(LmrnnError) as err:
        register_task(BaseTask("broken", family, params, timing))
    for piece in pieces:
        assert piece in str(err.value)
    assert "broken" not in BASE_TASKS


def test_registering_anew_reaches_collections_and_gymnasium():
    import gymnasium

    from lmrnn.tasks import BaseTask, register_task

    timing = {"fixation": 500, "stim1": 500, "delay": 0, "stim2": 0, "decision": 500}
    before = trial_batch("yang20", "go", 8, 0, noise=False)
    try:
        register_task(BaseTask("go", "reach", {"anti": True}, timing), overwrite=True)
        after = trial_batch("yang20", "go", 8, 0, noise=False)  # a collection built before
        assert torch.equal(after.base_response, (after.stim_dir[:, 0] + 8) % 16 + 1)
        register_task(BaseTask("mygo", "reach", {}, timing))
        env = gymnasium.make("lmrnn/mygo_seqr-v0")  # registered with the task
        obs, _ = env.reset(seed=0)
        assert obs.shape == (1 + 32 + 1,)  # alone in its collection
        done = False
        while not done:
            _, _, done, _, _ = env.step(0)
        with pytest.raises(LmrnnError, match="call reset"):
            env.step(0)
    finally:
        BASE_TASKS["go"] = BASE_TASKS_BEFORE["go"]  # a built-in task (its timing in the profiles)
        BASE_TASKS.pop("mygo", None)
        for hook in ON_REGISTER:
            hook()
    assert torch.equal(trial_batch("yang20", "go", 8, 0, noise=False).inputs, before.inputs)


def test_numpy_integers_are_integers():
    import numpy as np

    a = trial_batch("yang20", np.int64(3), np.int64(4), np.int64(7), seq_len=np.int64(40))
    b = trial_batch("yang20", 3, 4, 7, seq_len=40)
    assert torch.equal(a.inputs, b.inputs) and a.task.tolist() == [3] * 4
    s = stream_batch("yang20", np.int32(2), np.int16(30), np.uint64(5))
    assert torch.equal(s.targets, stream_batch("yang20", 2, 30, 5).targets)


def test_a_set_of_tasks_draws_in_rule_order_whatever_the_hash_seed():
    """Sets iterate in an order that depends on PYTHONHASHSEED: the batch must not."""
    names = ["go", "anti", "dms", "dm1"]
    expected = trial_batch("yang20", sorted(names, key=YANG20_ORDER.index), 16, 0).task
    for order in (names, names[::-1]):
        assert torch.equal(trial_batch("yang20", set(order), 16, 0).task, expected)


def test_performance_checks_the_logits():
    import numpy as np

    b = trial_batch("yang20", "go", 2, 0)
    T = b.targets.shape[0]
    with pytest.raises(LmrnnError, match="must be a torch tensor"):
        performance(np.zeros((T, 2, 17)), b)
    with pytest.raises(LmrnnError, match=f"expected \\(..., {T}, 2, 17\\)"):
        performance(torch.zeros(T, 2, 5), b)


def test_register_a_new_task_and_compose_it():
    from lmrnn.tasks import BaseTask, register_task
    from lmrnn.tasks.registry import BASE_TASKS
    from lmrnn.tasks.timing import Grid

    timing = {"fixation": 300, "stim1": 400, "delay": Grid(300, 900, 300), "stim2": 0,
              "decision": 300}  # fmt: skip
    task = BaseTask("longgo", "reach", {"anti": True, "reaction": False}, timing)
    try:
        register_task(task)
        coll = get_collection(["go", "longgo", "longgo_intl_seqr"])
        b = trial_batch(coll, "longgo", 300, seed=0, noise=False)
        assert set((b.period_starts[:, 3] - b.period_starts[:, 2]).tolist()) == {3, 6, 9}
        assert torch.equal(b.base_response, (b.stim_dir[:, 0] + 8) % 16 + 1)  # anti
        c = trial_batch(coll, "longgo_intl_seqr", 50, seed=0, noise=False)
        k = c.delay_ms // 100
        assert torch.equal(c.response, (c.base_response - 1 - k) % 16 + 1)
        with pytest.raises(LmrnnError, match="already exists"):
            register_task(task)
        with pytest.raises(LmrnnError, match="unknown family 'rech'"):
            register_task(BaseTask("other", "rech", {}, timing))
        with pytest.raises(LmrnnError, match="timing table"):
            register_task(BaseTask("other", "reach", {}, {"fixation": 100}))
    finally:
        BASE_TASKS.pop("longgo", None)
