"""``lmrnn analyze RUN --what ...`` on tiny trained runs: JSON, PNG, summary and errors."""

import json

import pytest

from lmrnn.cli import main
from lmrnn.train import from_dict, train

BASE = {
    "batch_size": 8, "seq_len": 60, "steps": 60, "lr": 1e-2, "eval_every": 60, "eval_trials": 8,
    "checkpoint_every": 60, "seeds": [0, 1], "device": "cpu",
}  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A 16-autapse pool and a 4x4 LM-RNN (d = 1), each trained for 60 steps."""
    root = tmp_path_factory.mktemp("runs")
    pool = from_dict({**BASE, "collection": ["rtgo", "dlygo", "go", "anti"], "graph": "autapse",
                      "n": None, "n_units": 16, "out": str(root / "pool")})  # fmt: skip
    lm = from_dict({**BASE, "collection": ["go", "dm1"], "n": 4, "d": 1.0, "seeds": [0, 3],
                    "out": str(root / "lm")})  # fmt: skip
    train(pool, progress=False)
    train(lm, progress=False)
    return {"pool": root / "pool", "lm": root / "lm"}


def analyze(capsys, run, what, *extra):
    code = main(["analyze", str(run), "--what", what, "--trials", "32", *extra])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("what", ["variance", "clusters", "autapse", "graph", "weights"])
def test_every_analysis_writes_numbers_and_a_figure(runs, capsys, what):
    code, out, err = analyze(capsys, runs["pool"], what)
    assert code == 0, err
    folder = runs["pool"] / "analysis"
    numbers = json.loads((folder / f"{what}.json").read_text())
    assert (folder / f"{what}.png").read_bytes()[:4] == b"\x89PNG"
    assert numbers["seed"] == 0 and f"wrote {folder / what}.json" in out
    assert numbers["settings"]["what"] == what  # what was asked, and what it ran on
    assert {"lmrnn", "torch", "device"} <= set(numbers["environment"])
    if what == "variance":
        assert numbers["tasks"] == ["rtgo", "dlygo", "go", "anti"]
        assert len(numbers["normalized"]) == numbers["n_kept"] == len(numbers["kept"])
        assert f"{numbers['n_kept']} units above threshold" in out
    if what == "clusters":
        k = numbers["n_clusters"]
        assert f"{k} clusters (ward" in out and numbers["other_method"]["method"] == "kmeans"
        assert len(set(numbers["clustering"]["labels"])) == k
    if what == "autapse":
        classes = numbers["classes"]
        assert classes["n_low"] + classes["n_high"] == 16
        assert set(numbers["ablation"]["accuracy"]) == {"intact", "low", "high", "random"}
        above = numbers["ablation"]["above_chance"]
        assert set(above) == {"intact", "low", "high", "random"}
        assert all(-1.5 <= v <= 1.0 for v in above.values())
        assert set(numbers["vector_addition"]["accuracy"]) == {"go", "anti"}
        assert len(numbers["input_geometry"]["rule"]) == 4
        assert "near 1" in out and "vector addition: go" in out
    if what == "graph":
        assert [row["d"] for row in numbers["rows"]] == [0.0, 1.0]  # 4x4: d <= 1.5
        assert numbers["run_graph"]["kind"] == "autapse" and numbers["run_graph"]["n_edges"] == 16
        assert "LM clustering vs ER" in out
    if what == "weights":
        assert numbers["weights"]["lattice_n"] == 4 and numbers["weights"]["n_nonzero"] <= 16
        assert numbers["weights"]["distance"] == [0.0]
        assert numbers["activity"]["task"] == "rtgo"


def test_options_pick_the_seed_method_task_and_folder(runs, capsys, tmp_path):
    out_dir = tmp_path / "elsewhere"
    code, out, err = analyze(capsys, runs["lm"], "clusters", "--method", "kmeans", "--seed-index",
                             "1", "--out", str(out_dir))  # fmt: skip
    assert code == 0, err
    numbers = json.loads((out_dir / "clusters.json").read_text())
    assert numbers["seed"] == 3 and numbers["clustering"]["method"] == "kmeans"  # seeds [0, 3]
    assert "clusters (kmeans" in out
    code, out, err = analyze(capsys, runs["lm"], "variance", "--seed", "3", "--out", str(out_dir))
    assert json.loads((out_dir / "variance.json").read_text())["seed"] == 3  # by value
    code, out, err = analyze(capsys, runs["lm"], "weights", "--task", "dm1", "--out", str(out_dir))
    numbers = json.loads((out_dir / "weights.json").read_text())
    assert numbers["activity"]["task"] == "dm1"
    assert numbers["weights"]["distance"] == [0.0, 1.0]  # self and the 4 nearest neighbours
    assert sum(numbers["weights"]["edges_by_distance"]) == 16 * 5


@pytest.mark.parametrize(
    ("run", "args", "message"),
    [("lm", ["--what", "autapse"], "needs an autapse pool"),
     ("lm", ["--what", "clustrs"], "unknown analysis 'clustrs' (did you mean 'clusters'?)"),
     ("lm", ["--what", "clusters", "--method", "wrad"], "(did you mean 'ward'"),
     ("lm", ["--what", "variance", "--seed-index", "2"], "seed index 2 is out of range"),
     ("lm", ["--what", "variance", "--seed", "7"], "has no seed 7; its seeds are [0, 3]."),
     ("lm", ["--what", "weights", "--task", "dlygo"], "task 'dlygo' is not in this collection"),
     ("pool", ["--what", "variance", "--trials", "1"], "trials must be a whole number >= 2")],
)  # fmt: skip
def test_bad_requests_get_one_sentence_and_no_files(runs, capsys, tmp_path, run, args, message):
    code = main(["analyze", str(runs[run]), *args, "--out", str(tmp_path / "x")])
    _, err = capsys.readouterr()
    assert code == 2 and message in err and err.count("\n") == 1
    assert not any((tmp_path / "x").glob("*.json"))


def test_a_folder_that_is_not_a_run_is_refused(tmp_path, capsys):
    assert main(["analyze", str(tmp_path), "--what", "graph"]) == 2
    assert "is not a run folder" in capsys.readouterr().err
