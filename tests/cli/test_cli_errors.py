"""What the command line says when a user's input or surroundings are wrong: one sentence on
stderr, no traceback, before any work, nothing written; and a run's own config read back."""

from pathlib import Path

import pytest

from lmrnn.cli import main

TINY = ["collection=[go,anti]", "n=4", "d=1", "batch_size=2", "seq_len=20", "eval_every=5",
        "eval_trials=4", "checkpoint_every=5", "seeds=[0]", "device=cpu"]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["tasks", "show", "go", "--out", "FILE/x.png"], "'FILE' is a file, not a folder."),
     (["tasks", "show", "go", "--out", "DIR"], "--out 'DIR' is a folder; give a file name."),
     (["graph", "--n", "6", "--d", "1", "--out", "FILE/sub/x.png"], "is a file, not a folder."),
     (["train", "out=FILE/run", *TINY, "steps=5"], "cannot write run folder out 'FILE/run'"),
     (["train", "BAD.yaml", "out=DIR/run"], "is not valid YAML (line 3)."),
     (["tasks", "bench", "--seconds", "0"], "--seconds must be above 0, got 0."),
     (["reproduce", "fig2a", "--scale", "ci", "--out", "FILE"], "--out 'FILE' is a file"),
     (["results", "DIR", "--csv", "FILE/x.csv"], "is a file, not a folder."),
     (["count", "--lattice", "5", "--d", "6"], "d=6 needs a lattice side n of at least 13"),
     (["graph", "--n", "5", "--d", "6"], "d=6 needs a lattice side n of at least 13"),
     (["count", "--n", "50"], "--lattice needs the locality radii too"),
     (["train", "in_degree=5", "out=DIR/run"], "in_degree sets the in-degree of erdos_renyi"),
     (["train", "n=-4", "out=DIR/run"], "n must be a whole number >= 1, got -4."),
     (["tasks", "show", "go", "--run", "DIR", "--dt", "50"], "--dt cannot be combined with --run"),
     (["evaluate", "DIR", "--trials", "0"], "--trials must be a whole number >= 1, got 0.")],
    ids=["show-parent-file", "show-folder", "graph", "train-out", "yaml", "bench-seconds",
         "reproduce-out", "results-csv", "count-wrap", "graph-wrap", "count-no-d", "in-degree",
         "negative-n", "show-run-dt", "evaluate-trials"],
)  # fmt: skip
def test_bad_paths_and_values_are_one_sentence_before_any_work(tmp_path, capsys, argv, message):
    (tmp_path / "FILE").write_text("a file, not a folder\n")
    (tmp_path / "DIR").mkdir()
    (tmp_path / "BAD.yaml").write_text("n: 4\nlr: [1\n")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    argv = [str(tmp_path / a) if a.split("/")[0] in ("FILE", "DIR", "BAD.yaml") else
            a.replace("out=FILE", f"out={tmp_path}/FILE").replace("out=DIR", f"out={tmp_path}/DIR")
            for a in argv]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1, err
    expected = message.replace("'FILE", f"'{tmp_path}/FILE").replace("'DIR", f"'{tmp_path}/DIR")
    assert expected in err, err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written


def test_a_diverging_run_ends_in_one_sentence(tmp_path, capsys):
    assert main(["train", f"out={tmp_path / 'run'}", *TINY, "steps=20", "lr=1e8",
                 "--no-progress"]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert err.startswith("lmrnn: error: training diverged at step ") and err.count("\n") == 1


def test_resume_reads_the_runs_own_config_and_a_runs_config_trains_again(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", f"out={run}", *TINY, "steps=5", "--no-progress"]) == 0
    # only what changes is typed again; the run's config.yaml gives the rest
    assert main(["train", f"out={run}", "steps=10", "--resume", "--no-progress"]) == 0
    steps = {line.split(",")[0] for line in (run / "metrics.csv").read_text().splitlines()[1:]}
    assert steps == {"0", "5", "10"}
    # a run's config.yaml (with its environment block) is a valid config for a new run
    again = tmp_path / "again"
    assert main(["train", str(run / "config.yaml"), f"out={again}", "--no-progress"]) == 0
    assert Path(again / "summary.json").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["train", "out=x", "d=inf"], "d must be a finite number >= 0 (lattice spacings), got inf."),
     (["train", "out="], "out must be a folder path (e.g. out=runs/x), got nothing."),
     (["train", "NONUTF8.yaml"], "is not UTF-8 text; save it as UTF-8 YAML."),
     (["tasks", "show", "go", "--out", ""], "--out (or out) is empty; give a value"),
     (["count", "--tasks", "0"], "--tasks must be a whole number >= 1, got 0.")],
    ids=["d-inf", "out-empty", "not-utf8", "empty-option", "count-no-tasks"],
)  # fmt: skip
def test_inputs_that_used_to_give_a_traceback_or_pass_silently(tmp_path, monkeypatch, capsys,
                                                                 argv, message):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    (tmp_path / "NONUTF8.yaml").write_bytes(b"\xff\xfe n: 4\n")
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.count("\n") == 0 and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["NONUTF8.yaml"]


def test_resume_may_stand_between_key_value_items(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", f"out={out}", *TINY, "steps=5", "--no-progress"]) == 0
    assert main(["train", f"out={out}", "--resume", "steps=10", "--no-progress"]) == 0
    assert "wrote" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # argparse's own message for an unknown option
        main(["train", f"out={out}", "--resume", "--bogus"])


def test_models_refuse_repeated_seeds_and_float64_inputs():
    import torch

    from lmrnn.errors import LmrnnError
    from lmrnn.models import EnsembleRNN, MaskedRNN, ModelConfig

    cfg = ModelConfig(graph="locality", n=5, d=1, n_in=7, n_out=3)
    with pytest.raises(LmrnnError, match=r"seeds \[0, 0\] repeat a seed"):
        EnsembleRNN(cfg, seeds=[0, 0])
    with pytest.raises(LmrnnError, match="inputs must be float32 like the model's weights, got "
                                         "float64"):  # fmt: skip
        MaskedRNN(cfg)(torch.zeros(4, 2, 7, dtype=torch.float64))
    with pytest.raises(LmrnnError, match="got float64"):
        EnsembleRNN(cfg, seeds=[0, 1])(torch.zeros(4, 2, 7, dtype=torch.float64))
