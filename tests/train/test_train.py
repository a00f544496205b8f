"""The training engine: config validation, ensembles, outputs, checkpoints, resume, divergence."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from lmrnn.errors import LmrnnError
from lmrnn.models import MaskedRNN
from lmrnn.train import (
    TrainingDiverged,
    evaluate,
    from_dict,
    load_config,
    load_run,
    parse_overrides,
    train,
)
from lmrnn.train.checkpoint import load_checkpoint

TINY = {
    "collection": ["go", "dm1"], "n": 4, "d": 1.0, "batch_size": 4, "seq_len": 30,
    "steps": 40, "eval_every": 20, "eval_trials": 8, "checkpoint_every": 10, "seeds": [0, 1],
    "device": "cpu",
}  # fmt: skip


def tiny(tmp_path: Path, **changes) -> "object":
    return from_dict({**TINY, "out": str(tmp_path / "run"), **changes})


def test_overrides_and_yaml(tmp_path):
    assert parse_overrides(["d=2", "seeds=[0,1]", "collection=modcog82", "lr=1e-3"]) == {
        "d": 2, "seeds": [0, 1], "collection": "modcog82", "lr": "1e-3"}  # fmt: skip
    path = tmp_path / "c.yaml"
    path.write_text("collection: [go, anti]\nn: 6\nd: 1\nlr: 1e-3\nseeds: [4]\n")
    c = load_config(path, ["d=2", "steps=7"])
    assert (c.collection, c.n, c.d, c.lr, c.seeds, c.steps) == (("go", "anti"), 6, 2, 1e-3, (4,), 7)
    assert c.model_config().n_in == 1 + 32 + 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"collection": "modcog83"}, "unknown collection 'modcog83'"),
     ({"collection": ["go", "dlgo"]}, "unknown task 'dlgo'"),
     ({"d": -1}, "d must be a finite number >= 0"),
     ({"n": 10, "d": 6}, "at least 13 (2d+1)"),
     ({"seeds": []}, "seeds is empty"),
     ({"seeds": [1, 1]}, "repeat a seed"),
     ({"batch_size": 0}, "batch_size must be a whole number >= 1"),
     ({"device": "tpu"}, "unknown device 'tpu'"),
     ({"graph": "lattice"}, "unknown graph 'lattice'"),
     ({"lr": 0}, "lr must be a finite number > 0"),
     ({"clip": -1}, "clip must be a finite number > 0"),
     ({"activation": "gelu"}, "gelu"),
     ({"lrate": 0.1}, "unknown config key 'lrate' (did you mean 'lr'?)"),
     ({"total_edges": 500}, "total_edges is a setting of small_world graphs"),
     ({"graph": "dense", "local_radius": 1}, "local_radius is a setting of small_world"),
     ({"n_units": 100}, "give its side n, not n_units=100"),
     ({"graph": "frozen_autapse", "l1": 0.1}, "a frozen_autapse pool has none")],
    ids=lambda v: str(v)[:30],
)  # fmt: skip
def test_bad_configs_fail_before_any_work(tmp_path, changes, message):
    with pytest.raises(LmrnnError) as err:
        tiny(tmp_path, **changes)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "run").exists()


def test_a_run_writes_every_output(tmp_path):
    result = train(tiny(tmp_path), progress=False)
    run = result.run_dir
    for name in ("config.yaml", "metrics.csv", "summary.json", "curve.png", "checkpoint.pt"):
        assert (run / name).is_file(), name
    assert (run / "curve.png").read_bytes()[:4] == b"\x89PNG"
    lines = (run / "metrics.csv").read_text().splitlines()
    assert lines[0] == "step,seed,task,criterion,value"
    steps = {int(line.split(",")[0]) for line in lines[1:]}
    assert steps == {0, 20, 40}
    assert any(",*,loss," in line for line in lines)
    summary = json.loads((run / "summary.json").read_text())
    assert set(summary["performance"]) == {"decision", "last_step", "strict"}
    assert set(summary["per_task"]) == {"go", "dm1"}
    assert summary["environment"]["torch"] == torch.__version__
    assert summary["nonzero"]["recurrent"]["0"] <= 16 * 5  # 4x4 lattice, d=1: 5 neighbours
    config_text = (run / "config.yaml").read_text()
    assert "git_commit" in config_text and "device: cpu" in config_text
    # each seed's weights load into a standalone network that reproduces the ensemble
    for i, seed in enumerate((0, 1)):
        state = load_file(str(run / f"seed_{seed}" / "weights.safetensors"))
        net = MaskedRNN(result.model.config.replace(seed=seed), graph=result.model.graphs[i])
        net.load_state_dict(state)
        u = torch.randn(7, 3, net.config.n_in)
        alone, _ = net.eval()(u)
        together, _ = result.model.eval()(u)
        torch.testing.assert_close(alone, together[i], rtol=1e-5, atol=1e-6)
    # the saved run evaluates to the final numbers
    config, model = load_run(run)
    again = evaluate(model, config.tasks(), config.eval_trials, config.eval_seed, config.seeds)
    assert torch.equal(again.accuracy, result.final.accuracy)


def test_weights_stay_zero_off_the_graph(tmp_path):
    result = train(tiny(tmp_path, steps=60), progress=False)
    w = result.model.weight_hh.detach()
    assert torch.all(w[~result.model.mask] == 0)
    assert torch.count_nonzero(w[result.model.mask]) > 0.9 * result.model.mask.sum()


def test_ensemble_seed_equals_training_it_alone(tmp_path):
    both = train(tiny(tmp_path / "a", seeds=[3, 5], graph="erdos_renyi"), progress=False)
    alone = train(tiny(tmp_path / "b", seeds=[5], graph="erdos_renyi"), progress=False)
    assert not torch.equal(both.model.mask[0], both.model.mask[1])  # own random graph per seed
    for name, p in alone.model.state_dict().items():
        torch.testing.assert_close(both.model.state_dict()[name][1], p[0], rtol=1e-5, atol=1e-6)


def test_runs_with_recurrent_noise_are_reproduced_by_their_config(tmp_path):
    first = train(tiny(tmp_path / "a", noise_std=0.1, steps=10), progress=False)
    torch.randn(100)  # whatever happened before in the process
    again = train(tiny(tmp_path / "b", noise_std=0.1, steps=10), progress=False)
    other = train(tiny(tmp_path / "c", noise_std=0.1, steps=10, data_seed=1), progress=False)
    assert torch.equal(first.model.weight_hh, again.model.weight_hh)
    assert not torch.equal(first.model.weight_hh, other.model.weight_hh)


def test_l1_shrinks_recurrent_weights_and_counts_them(tmp_path):
    dense = {"graph": "dense", "n": None, "n_units": 16, "lr": 1e-2, "steps": 60}
    plain = train(tiny(tmp_path / "p", **dense), progress=False)
    sparse = train(tiny(tmp_path / "s", **dense, l1=0.05), progress=False)
    assert sparse.model.weight_hh.abs().mean() < 0.5 * plain.model.weight_hh.abs().mean()
    summary = json.loads((tmp_path / "s" / "run" / "summary.json").read_text())
    w = sparse.model.recurrent_weight().detach()
    expected = int((w[0].abs() > 1e-3).sum())
    assert summary["nonzero"]["recurrent"]["0"] == expected
    # without L1 every weight on the graph counts, however small
    plain_summary = json.loads((tmp_path / "p" / "run" / "summary.json").read_text())
    assert plain_summary["nonzero"]["threshold"] == 0.0
    w = plain.model.recurrent_weight().detach()
    assert plain_summary["nonzero"]["recurrent"]["0"] == int(torch.count_nonzero(w[0])) == 256


def test_divergence_stops_with_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    config = tiny(tmp_path, lr=1e9, gain=5.0, steps=200, checkpoint_every=1)
    with pytest.raises(TrainingDiverged, match=r"training diverged at step \d+") as err:
        train(config, progress=False)
    state = load_checkpoint(Path(config.out))
    assert all(torch.isfinite(v).all() for v in state["model"].values())
    assert f"step {state['step'] + 1}" in str(err.value)


def _lone(tmp_path, seed: int, steps: int):
    return train(tiny(tmp_path / f"lone{seed}_{steps}", seeds=[seed], steps=steps),
                 progress=False).model  # fmt: skip


def test_a_seed_whose_loss_is_not_finite_is_frozen_alone(tmp_path, monkeypatch):
    """Seed 1's loss is NaN at the 6th step: it keeps its weights of 4 steps (the last with a
    finite loss) and seed 0 trains on exactly as it would alone."""
    import lmrnn.train.loop as loop

    real, calls = loop.cross_entropy_per_seed, []

    def planted(logits, targets):
        out = real(logits, targets)
        calls.append(1)
        if len(calls) == 6:
            out = torch.stack([out[0], out[1] * float("nan")])
        return out

    monkeypatch.setattr(loop, "cross_entropy_per_seed", planted)
    run = train(tiny(tmp_path / "e", steps=12, eval_every=4, checkpoint_every=3),
                progress=False)  # fmt: skip
    monkeypatch.setattr(loop, "cross_entropy_per_seed", real)
    alone0, alone1 = _lone(tmp_path, 0, 12), _lone(tmp_path, 1, 4)
    for name, p in run.model.named_parameters():
        assert torch.allclose(p[0], getattr(alone0, name)[0], atol=1e-6), name
        assert torch.allclose(p[1], getattr(alone1, name)[0], atol=1e-6), name
    folder = tmp_path / "e" / "run"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["diverged"] == {"1": 6}
    assert json.loads((folder / "seed_1" / "summary.json").read_text())["diverged_at_step"] == 6
    rows = (folder / "metrics.csv").read_text().splitlines()
    assert "6,1,*,diverged,6.0" in rows
    assert not any(r.startswith(("8,1,*,loss", "12,1,*,loss")) for r in rows)
    assert any(r.startswith("12,1,mean,decision") for r in rows)  # still evaluated


def test_a_seed_whose_weights_stop_being_finite_goes_back_one_step(tmp_path, monkeypatch):
    from lmrnn.train.trainable import Trainable

    real, calls = Trainable.constrain_, []

    def planted(self):
        real(self)
        calls.append(1)
        if len(calls) == 3:  # seed 0's first trained weight (W's first edge) after step 3
            with torch.no_grad():
                self.tensors[0][0].view(-1)[0] = float("inf")

    monkeypatch.setattr(Trainable, "constrain_", planted)
    run = train(tiny(tmp_path / "e", steps=8, eval_every=4), progress=False)
    monkeypatch.setattr(Trainable, "constrain_", real)
    alone0, alone1 = _lone(tmp_path, 0, 2), _lone(tmp_path, 1, 8)
    for name, p in run.model.named_parameters():
        assert torch.allclose(p[0], getattr(alone0, name)[0], atol=1e-6), name
        assert torch.allclose(p[1], getattr(alone1, name)[0], atol=1e-6), name
    summary = json.loads((tmp_path / "e" / "run" / "summary.json").read_text())
    assert summary["diverged"] == {"0": 3}


def test_a_resumed_run_keeps_its_frozen_seeds(tmp_path, monkeypatch):
    """Seed 0 diverges at step 5, the run stops at 8 and is resumed to 12, where seed 1
    diverges at step 9 (going back to weights from before the checkpoint): the same weights
    as straight through."""
    import lmrnn.train.loop as loop

    real = loop.cross_entropy_per_seed

    def planted():
        calls = []

        def ce(logits, targets):
            out = real(logits, targets)
            calls.append(1)
            nan = {5: 0, 9: 1}.get(len(calls))
            if nan is not None:
                out = torch.stack([v * float("nan") if i == nan else v for i, v in enumerate(out)])
            return out

        return ce

    three = {"seeds": [0, 1, 2], "eval_every": 4}
    monkeypatch.setattr(loop, "cross_entropy_per_seed", planted())
    straight = train(tiny(tmp_path / "a", steps=12, **three), progress=False)
    monkeypatch.setattr(loop, "cross_entropy_per_seed", planted())
    train(tiny(tmp_path / "b", steps=8, **three), progress=False)
    resumed = train(tiny(tmp_path / "b", steps=12, **three), resume=True, progress=False)
    for a, b in zip(straight.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.equal(a, b)
    summary = json.loads((tmp_path / "b" / "run" / "summary.json").read_text())
    assert summary["diverged"] == {"0": 5, "1": 9}


def test_an_existing_run_is_not_overwritten(tmp_path):
    train(tiny(tmp_path), progress=False)
    with pytest.raises(LmrnnError, match="already holds a run; pass --resume"):
        train(tiny(tmp_path), progress=False)
    with pytest.raises(
        LmrnnError, match=r"cannot resume .* with lr=0.01: .* started with lr=0.003"
    ):
        train(tiny(tmp_path, lr=0.01), resume=True, progress=False)


def _cli(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "lmrnn.cli", "train", *args, "--no-progress"]


def _config_args(out: Path, steps: int) -> list[str]:
    return [f"out={out}", "collection=[go,anti]", "n=4", "d=1", "batch_size=2", "seq_len=20",
            f"steps={steps}", "eval_every=1000", "eval_trials=4", "checkpoint_every=50",
            "seeds=[0,1]", "device=cpu"]  # fmt: skip


def _checkpoint_step(run: Path) -> int:
    try:
        return torch.load(run / "checkpoint.pt", weights_only=True)["step"]
    except (FileNotFoundError, RuntimeError, EOFError):
        return -1


@pytest.mark.slow
def test_killed_runs_resume_to_the_same_weights(tmp_path):
    """2000 steps straight == killed (SIGKILL after step 1000, SIGTERM later) + resumed."""
    straight = train(from_dict(parse_overrides(_config_args(tmp_path / "a", 2000))),
                     progress=False)  # fmt: skip
    run = tmp_path / "b"
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    for sig, after in ((signal.SIGKILL, 1000), (signal.SIGTERM, 1500)):
        resume = ["--resume"] if run.exists() else []
        proc = subprocess.Popen(_cli(_config_args(run, 2000) + resume), env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.time() + 600
        while _checkpoint_step(run) < after and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        proc.send_signal(sig)
        proc.wait(30)
        state = load_checkpoint(run)  # the last complete checkpoint always loads
        assert after <= state["step"] < 2000
        assert not (run / "summary.json").exists()
    resumed = train(from_dict(parse_overrides(_config_args(run, 2000))), resume=True,
                    progress=False)  # fmt: skip
    for name, p in straight.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[name], p), name
    rows = (run / "metrics.csv").read_text().splitlines()
    assert len(rows) == len(set(rows))  # no metric row written twice
    assert sorted(rows) == sorted((tmp_path / "a" / "metrics.csv").read_text().splitlines())


def test_a_resumed_run_writes_the_metrics_of_a_straight_one(tmp_path):
    """Resumed between evaluations (checkpoint at 30, evaluations every 20): every loss row,
    those averaging steps on both sides of the checkpoint included, as in one straight run."""

    def args(out, steps):
        return [a.replace("eval_every=1000", "eval_every=20").replace("checkpoint_every=50",
                "checkpoint_every=30") for a in _config_args(out, steps)]  # fmt: skip

    straight = train(from_dict(parse_overrides(args(tmp_path / "a", 80))), progress=False)
    train(from_dict(parse_overrides(args(tmp_path / "b", 30))), progress=False)
    resumed = train(from_dict(parse_overrides(args(tmp_path / "b", 80))), resume=True,
                    progress=False)  # fmt: skip
    want = (straight.run_dir / "metrics.csv").read_text().splitlines()
    got = (resumed.run_dir / "metrics.csv").read_text().splitlines()
    assert sorted(got) == sorted(want)
    assert sum(",loss," in r for r in got) == 2 * 4  # 2 seeds x steps 20, 40, 60, 80


def test_cli_train_evaluate_and_overlay(tmp_path, capsys):
    from lmrnn.cli import main

    out = tmp_path / "run"
    args = ["train", f"out={out}", "collection=[go,anti]", "n=4", "d=1", "steps=20",
            "eval_every=10", "eval_trials=8", "seeds=[0]", "seq_len=30",
            "--no-progress"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "MEAN" in printed and f"wrote {out}" in printed
    assert main(["evaluate", str(out)]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[1].startswith("go") and "MEAN" in table
    png = tmp_path / "overlay.png"
    assert main(["tasks", "show", "anti", "--run", str(out), "--out", str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert main(["evaluate", str(tmp_path / "nothing")]) == 2
    assert "not a run folder" in capsys.readouterr().err


@pytest.mark.slow
def test_it_learns_go_and_anti_within_a_cpu_minute(tmp_path):
    config = from_dict({"collection": ["go", "anti"], "n": 8, "d": 1.0, "batch_size": 32,
                        "seq_len": 60, "lr": 3e-3, "steps": 1000, "eval_every": 1000,
                        "eval_trials": 128, "checkpoint_every": 1000, "seeds": [0, 1, 2],
                        "device": "cpu", "out": str(tmp_path / "run")})  # fmt: skip
    result = train(config, progress=False)  # about 15 s on 2 cores
    accuracy = result.final.accuracy[:, :, 0]  # (seeds, tasks), decision criterion
    assert torch.all(accuracy >= 0.9), accuracy


def test_tensorboard_logging_or_a_clear_error(tmp_path):
    import importlib.util

    if importlib.util.find_spec("tensorboard") is None:
        with pytest.raises(LmrnnError, match=r"needs the tensorboard package: pip install"):
            tiny(tmp_path, tensorboard=True)
        assert not (tmp_path / "run").exists()
    else:
        train(tiny(tmp_path, tensorboard=True), progress=False)
        assert any((tmp_path / "run" / "tensorboard").glob("events.out.tfevents.*"))
