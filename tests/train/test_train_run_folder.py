"""The run folder's layout has one owner (lmrnn.train.RunFolder): its names are the published
ones, and training, the sweeps and the analyses all find their files through it."""

import os
from pathlib import Path

from lmrnn.experiments.jobs import is_complete, make_job, run_folder
from lmrnn.train import RunFolder, from_dict, train
from lmrnn.train.checkpoint import CHECKPOINT, LOCK, atomic_write_bytes, atomic_write_text
from lmrnn.train.outputs import RUN_FOLDERS, RUN_OUTPUTS, clear_run


def test_the_layout_keeps_the_published_names(tmp_path):
    f = RunFolder(tmp_path / "run")
    names = {
        f.config: "config.yaml", f.metrics: "metrics.csv", f.summary: "summary.json",
        f.curve: "curve.png", f.checkpoint: "checkpoint.pt", f.error: "error.txt",
        f.lock: ".lock", f.tensorboard: "tensorboard", f.analysis_dir: "analysis",
        f.weights(3): "seed_3/weights.safetensors", f.seed_summary(3): "seed_3/summary.json",
        f.analysis("clusters"): "analysis/clusters.json",
        f.analysis("clusters", ".png"): "analysis/clusters.png",
    }  # fmt: skip
    for path, name in names.items():
        assert path == tmp_path / "run" / name
    assert (CHECKPOINT, LOCK) == ("checkpoint.pt", ".lock")
    assert (RUN_OUTPUTS, RUN_FOLDERS) == (RunFolder.OUTPUTS, RunFolder.FOLDERS)
    assert Path(f) == tmp_path / "run" and os.fspath(f) == str(tmp_path / "run")


def test_complete_means_a_summary_and_every_analysis_asked_for(tmp_path):
    f = RunFolder(tmp_path)
    assert not f.is_complete() and not f.holds_run()
    atomic_write_text(f.checkpoint, "x")
    assert f.holds_run() and not f.is_complete()
    atomic_write_text(f.summary, "{}")
    assert f.is_complete() and not f.is_complete(["clusters"])
    atomic_write_bytes(f.analysis("clusters"), lambda tmp: tmp.write_text("{}"))
    assert f.is_complete(["clusters"]) and f.has_analysis("clusters")
    assert f.analysis_files() == [f.analysis("clusters")]
    job = make_job("train", {"collection": ["go"], "n": 4, "d": 1.0}, ["clusters"])
    assert not is_complete(tmp_path, job)
    done = run_folder(tmp_path, job.id)
    atomic_write_text(done.summary, "{}")
    assert not is_complete(tmp_path, job)
    atomic_write_text(done.analysis("clusters"), "{}")
    assert is_complete(tmp_path, job)
    assert not list(tmp_path.rglob("*.tmp"))  # the atomic writes leave no temporary behind


def test_a_trained_run_is_where_its_folder_says(tmp_path):
    tiny = {"collection": ["go"], "n": 4, "d": 1.0, "batch_size": 2, "seq_len": 20, "steps": 4,
            "eval_every": 2, "eval_trials": 4, "checkpoint_every": 2, "seeds": [0, 5],
            "device": "cpu"}  # fmt: skip
    config = from_dict({**tiny, "out": str(tmp_path / "run")})
    train(config, progress=False)
    f = RunFolder(tmp_path / "run")
    expected = [f.config, f.metrics, f.summary, f.curve, f.checkpoint, f.lock]
    expected += [p for seed in (0, 5) for p in (f.weights(seed), f.seed_summary(seed))]
    assert sorted(p for p in f.path.rglob("*") if p.is_file()) == sorted(expected)
    assert f.is_complete()
    clear_run(f.path)
    assert sorted(p for p in f.path.rglob("*")) == [f.lock]
