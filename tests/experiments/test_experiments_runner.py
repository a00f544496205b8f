"""The sweep machinery on a tiny spec: ids, skip, resume, crash isolation, store, slurm path."""

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

import lmrnn.train
from lmrnn.cli import main
from lmrnn.errors import LmrnnError
from lmrnn.experiments import (
    Claim,
    Experiment,
    Scale,
    dry_run,
    judge,
    load,
    make_job,
    plan,
    reproduce,
)
from lmrnn.experiments.catalog import dense, lm
from lmrnn.experiments.jobs import run_dir

TINY = {
    "collection": ["go", "dm1"], "batch_size": 4, "seq_len": 30, "steps": 20, "eval_every": 10,
    "eval_trials": 8, "checkpoint_every": 10, "seeds": [0, 1], "data_chunk": 4,
}  # fmt: skip
CLAIM = Claim("C13", "LM beats dense.", "LM above", "c13_table1")


def tiny_experiment(*extra) -> Experiment:
    nets = (lm(4, 1), dense(16), *extra)
    return Experiment("tiny", "Test", "train", (CLAIM,),
                      {"ci": Scale(base=TINY, networks=nets, points={"final": 20})})  # fmt: skip


@pytest.fixture
def calls(monkeypatch):
    """Record each train() call's (lr, resume); a config with lr=0.5 raises (a crashing run)."""
    real, seen = lmrnn.train.train, []

    def spy(config, resume=False, progress=True, **options):
        seen.append((config.lr, resume))
        if config.lr == 0.5:
            raise RuntimeError("deliberate crash")
        return real(config, resume=resume, progress=progress, **options)

    monkeypatch.setattr(lmrnn.train, "train", spy)
    return seen


def test_ids_are_a_hash_of_the_resolved_config():
    a = make_job("train", {**TINY, "graph": "dense", "n": None, "n_units": 9})
    same = make_job("train", {"n_units": 9, "graph": "dense", "n": None, **TINY, "lr": 1e-3,
                              "out": "elsewhere", "device": "cpu"})  # fmt: skip
    other = make_job("train", {**TINY, "graph": "dense", "n": None, "n_units": 9, "lr": 2e-3})
    assert a.id == same.id and len(a.id) == 12
    assert other.id != a.id
    assert "out" not in a.config and a.config["lr"] == 1e-3  # defaults resolved
    assert len({j.id for j in plan(tiny_experiment(), "ci").values()}) == 2
    # a number written as an int or a float is one config: one id, trained once
    as_int = make_job("train", {**TINY, "graph": "locality", "n": 5, "d": 1, "lr": 1})
    as_float = make_job("train", {**TINY, "graph": "locality", "n": 5, "d": 1.0, "lr": 1.0})
    assert as_int.id == as_float.id and as_int.config["d"] == 1.0


def test_every_network_shared_by_experiments_has_one_id():
    from lmrnn.experiments.catalog import EXPERIMENTS

    def as_floats(config: dict) -> str:  # 1 and 1.0 alike: the same network
        numbers = {k: float(v) if type(v) is int else v for k, v in config.items()}
        return json.dumps(numbers, sort_keys=True)

    for scale in ("ci", "small", "paper"):
        by_config: dict[str, set[str]] = {}
        for name in EXPERIMENTS:
            for job in plan(EXPERIMENTS[name], scale).values():
                by_config.setdefault(as_floats(job.config), set()).add(job.id)
        assert all(len(ids) == 1 for ids in by_config.values()), scale


def test_sweep_records_skips_and_isolates_a_crash(tmp_path, calls):
    bad = dense(16, "crashes", lr=0.5)
    sweep = reproduce(tiny_experiment(bad), "ci", tmp_path, device="cpu", verbose=False)
    assert (sweep.count("complete"), sweep.count("failed")) == (2, 1)
    db = sqlite3.connect(tmp_path / "results.sqlite")
    rows = dict(db.execute("SELECT status, error FROM runs WHERE status = 'failed'").fetchall())
    assert rows == {"failed": "RuntimeError: deliberate crash"}
    good = plan(tiny_experiment(), "ci")["LM(4x4, d=1)"]
    csv_lines = (run_dir(tmp_path, good.id) / "metrics.csv").read_text().splitlines()
    n = db.execute("SELECT COUNT(*) FROM metrics WHERE run = ?", (good.id,)).fetchone()[0]
    means = [line for line in csv_lines if ",mean," in line]  # the store keeps the means
    assert n == len(means) + 2 * 2  # + 2 counts x 2 seeds
    secs = db.execute("SELECT seconds FROM runs WHERE id = ?", (good.id,)).fetchone()[0]
    assert secs > 0
    (result,) = load(tmp_path)
    assert result.networks["crashes"].status == "failed"
    assert judge(result)[0].verdict == "not run at this scale"
    assert result.networks["LM(4x4, d=1)"].final is not None

    calls.clear()
    again = reproduce(tiny_experiment(bad), "ci", tmp_path, device="cpu", verbose=False)
    assert again.count("skipped") == 2 and calls == [(0.5, False)]  # only the failed one reruns


def test_an_interrupted_run_resumes_from_its_checkpoint(tmp_path, calls):
    job = plan(tiny_experiment(), "ci")["RNN(N=16)"]
    folder = run_dir(tmp_path, job.id)
    lmrnn.train.train(lmrnn.train.from_dict({**job.config, "steps": 10, "out": str(folder),
                                             "device": "cpu"}), progress=False)  # fmt: skip
    for name in ("summary.json", "seed_0", "seed_1", "curve.png"):
        p = folder / name
        p.unlink() if p.is_file() else shutil.rmtree(p)
    calls.clear()
    reproduce(tiny_experiment(), "ci", tmp_path, device="cpu", verbose=False)
    assert (1e-3, True) in calls and (3e-3, False) in calls  # RNN resumed, LM fresh
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["steps"] == 20
    steps = {int(line.split(",")[0]) for line in (folder / "metrics.csv").read_text().split()[1:]}
    assert steps == {0, 10, 20}


def lengthened(steps: int, *extra) -> Experiment:
    """tiny_experiment with ``steps`` steps instead of 20."""
    e = tiny_experiment(*extra)
    scale = e.scales["ci"]
    longer = Scale(base={**scale.base, "steps": steps}, networks=scale.networks,
                   points={"final": steps})  # fmt: skip
    return Experiment(e.name, e.figure, e.kind, e.claims, {"ci": longer})


def test_a_lengthened_run_continues_its_shorter_twin_to_a_straight_runs_weights(tmp_path,
                                                                                calls):  # fmt: skip
    """A run the catalog makes longer trains only the steps it adds, from the shorter run's
    checkpoint (which keeps its own folder and result), to the weights of a straight run."""
    from lmrnn.experiments.jobs import shorter_twin

    short, straight = tmp_path / "short", tmp_path / "straight"
    reproduce(tiny_experiment(), "ci", short, device="cpu", verbose=False)
    twins = {label: job.id for label, job in plan(tiny_experiment(), "ci").items()}
    long_jobs = plan(lengthened(30), "ci")
    assert all(long_jobs[k].id != twins[k] for k in twins)  # new ids: 30 steps
    planned, _ = dry_run(lengthened(30), "ci", short)
    assert {p.status for p in planned} == {f"continues {i} from step 20" for i in twins.values()}
    assert shorter_twin(short, plan(lengthened(30, dense(16, "other lr", lr=2e-3)),
                                    "ci")["other lr"]) is None  # fmt: skip

    calls.clear()
    reproduce(lengthened(30), "ci", short, device="cpu", verbose=False)
    assert sorted(calls) == [(1e-3, True), (3e-3, True)]  # both continued, neither afresh
    reproduce(lengthened(30), "ci", straight, device="cpu", verbose=False)
    for label, job in long_jobs.items():
        got, want = run_dir(short, job.id), run_dir(straight, job.id)
        assert (got / "metrics.csv").read_text() == (want / "metrics.csv").read_text(), label
        for name in ("seed_0/weights.safetensors", "seed_1/weights.safetensors"):
            assert (got / name).read_bytes() == (want / name).read_bytes(), (label, name)
        twin = run_dir(short, twins[label])
        assert json.loads((twin / "summary.json").read_text())["steps"] == 20  # kept as it was


def test_slurm_path_through_submitits_local_executor(tmp_path):
    sweep = reproduce(tiny_experiment(), "ci", tmp_path, executor="slurm", cluster="local",
                      device="cpu", verbose=False)  # fmt: skip
    assert sweep.count("complete") == 2 and not sweep.errors
    assert any((tmp_path / "submitit").iterdir())
    (result,) = load(tmp_path)
    assert result.complete and all(n.final is not None for n in result.networks.values())


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["reproduce", "fig2"], "unknown experiment 'fig2' (did you mean 'fig2b', 'fig2a'"),
     (["reproduce", "fig2a", "--scale", "big"], "unknown scale 'big'"),
     (["reproduce", "fig2a", "--executor", "slurn"], "unknown executor 'slurn' (did you mean "
      "'slurm'?)"),
     (["results", "nowhere"], "holds no results"),
     (["reproduce", "fig2a", "--executor", "slurm"], "found no Slurm on this machine"),
     (["reproduce", "fig2a", "--executor", "slurm", "--cluster", "local", "--timeout-min", "0"],
      "--timeout-min must be a whole number >= 1, got 0."),
     (["reproduce", "fig2a", "--executor", "slurm", "--cluster", "local", "--gpus", "-1"],
      "--gpus must be a whole number >= 0, got -1.")],
    ids=["experiment", "scale", "executor", "results", "no-slurm", "timeout", "gpus"],
)  # fmt: skip
def test_bad_input_is_one_sentence_before_any_work(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    extra = [] if argv[0] == "results" else ["--out", str(out)]
    argv = [a.replace("nowhere", str(out)) for a in argv]
    assert main(argv + extra) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()


def test_unknown_names_raise_lmrnn_error():
    with pytest.raises(LmrnnError, match="choose one of ci, small, medium, paper"):
        reproduce("fig1d", "huge", Path("unused"))


def test_the_same_network_under_two_names_is_one_run():
    """LM d = 0 is the autapse pool; a small-world graph whose local radius is its d is the
    locality mask: one config, one run id, trained once; each experiment still reads it under
    its own name and graph kind."""
    from lmrnn.experiments.catalog import EXPERIMENTS

    for scale in ("ci", "small", "paper"):
        fig2a = plan(EXPERIMENTS["fig2a"], scale)
        (pool,) = plan(EXPERIMENTS["fig3"], scale).values()
        d0 = next(job for label, job in fig2a.items() if "d=0)" in label)
        assert d0.id == pool.id and d0.config["graph"] == "autapse"
        fig5f = plan(EXPERIMENTS["fig5f"], scale)
        lm_end = max(fig5f.items(), key=lambda kv: float(kv[0].split()[-1].rstrip(")")))[1]
        assert lm_end.config["graph"] == "locality" and lm_end.config["local_radius"] is None
    random = make_job("train", {**TINY, "graph": "small_world", "n": 5, "d": 1, "local_radius": 0})
    assert random.config["graph"] == "small_world"


def test_a_run_another_process_is_training_is_left_to_it(tmp_path):
    """Two sweeps into one folder: a run whose folder is locked by another writer is 'busy',
    not failed, and its record is left to its owner."""
    from lmrnn.experiments.jobs import run_dir
    from lmrnn.train.checkpoint import run_lock

    experiment = tiny_experiment()
    job = next(iter(plan(experiment, "ci").values()))
    with run_lock(run_dir(tmp_path, job.id)):
        (planned,) = [r for r in dry_run(experiment, "ci", tmp_path)[0] if r.id == job.id]
        assert planned.status == "being trained by another process"
        sweep = reproduce(experiment, "ci", tmp_path, device="cpu", verbose=False)
    assert sweep.status[job.id] == "busy" and job.id not in sweep.errors
    assert sweep.count("complete") == len(sweep.jobs) - 1
    again = reproduce(experiment, "ci", tmp_path, device="cpu", verbose=False)
    assert again.status[job.id] == "complete"


def test_a_reverse_queue_starts_at_the_other_end(tmp_path):
    """Two processes on one --out work the queue from both ends: --order reverse starts with
    the forward queue's last run."""
    import sqlite3

    from lmrnn.experiments.catalog import EXPERIMENTS

    planned = [job.id for job in plan(EXPERIMENTS["fig3i"], "ci").values()]
    for order in ("forward", "reverse"):
        out = tmp_path / order
        reproduce("fig3i", "ci", out, device="cpu", verbose=False, order=order)
        with sqlite3.connect(out / "results.sqlite") as db:
            started = [r[0] for r in db.execute("SELECT id FROM runs ORDER BY started")]
        assert started == (planned if order == "forward" else planned[::-1])
    with pytest.raises(LmrnnError, match="unknown order 'sideways'"):
        reproduce("fig3i", "ci", tmp_path / "x", device="cpu", order="sideways")
