"""The training recipe (clip, lr, gain by name) and one data stream per seed."""

import pytest
import torch
import yaml

from lmrnn.errors import LmrnnError
from lmrnn.models import clip_grad_norm_per_seed_
from lmrnn.seeds import derive_seed
from lmrnn.tasks import StreamLoader
from lmrnn.train import DEFAULTS, from_dict, load_config, train
from lmrnn.train.loop import training_batch
from lmrnn.train.recipe import RECIPES, recipe_values

TINY = {
    "collection": ["go", "dm1"], "n": 4, "d": 1.0, "batch_size": 4, "seq_len": 30,
    "steps": 20, "eval_every": 10, "eval_trials": 8, "checkpoint_every": 10, "seeds": [0, 1],
    "device": "cpu",
}  # fmt: skip


def test_the_fair_recipe_is_the_default_and_recorded_in_every_config(tmp_path):
    config = from_dict({**TINY, "out": str(tmp_path / "run")})
    fair = recipe_values("fair", "locality")
    assert config.recipe == "fair" and config.data_streams == "per_seed"
    assert (config.clip, config.lr, config.gain) == (fair["clip"], fair["lr"], fair["gain"])
    assert {k: DEFAULTS[k] for k in ("clip", "lr", "gain")} == recipe_values("fair", "locality")
    train(config, progress=False)
    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert saved["recipe"] == "fair" and saved["clip"] == fair["clip"] and saved["lr"] == fair["lr"]
    assert saved["data_streams"] == "per_seed"


def test_each_family_gets_the_values_the_rule_chose_for_it():
    dense = from_dict({**TINY, "graph": "dense", "n": None, "n_units": 16})
    l1 = from_dict({**TINY, "graph": "dense", "n": None, "n_units": 16, "l1": 1e-5})
    frozen = from_dict({**TINY, "graph": "frozen_autapse", "d": 0.0})
    assert (dense.clip, dense.lr, dense.gain) == (5.0, 1e-3, 1.0)  # diverges at 3e-3 on Mod-Cog
    assert (l1.clip, l1.lr, l1.gain) == tuple(RECIPES["fair"][k] for k in ("clip", "lr", "gain"))
    assert frozen.gain == 1.0 and frozen.lr == 3e-3


def test_legacy_is_a_named_variant_and_explicit_keys_win():
    legacy = from_dict({**TINY, "recipe": "legacy"})
    assert legacy.clip == 0.0 and legacy.lr == 1e-3 and legacy.gain == 1.0
    mixed = from_dict({**TINY, "recipe": "legacy", "clip": 5})
    assert mixed.clip == 5.0 and mixed.recipe == "legacy"
    assert from_dict({**TINY, "clip": 0}).clip == 0.0  # clipping off under the fair recipe


def test_a_config_written_before_recipes_reads_as_it_ran(tmp_path):
    """Old run folders hold every key, clip null for "off", one stream shared by the seeds."""
    old = {**TINY, "clip": None, "lr": 1e-3, "gain": 1.0, "out": str(tmp_path / "old")}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(old))
    config = load_config(tmp_path / "config.yaml")
    assert (config.recipe, config.clip, config.data_streams) == ("legacy", 0.0, "shared")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"clip": -1}, "clip must be a finite number > 0"),
        ({"clip": float("inf")}, "clip must be a finite number > 0"),
        ({"clip": "yes"}, "clip must be a finite number > 0"),
        ({"lr": 0}, "lr must be a finite number > 0"),
        ({"gain": -0.5}, "gain must be a finite number > 0"),
        ({"recipe": "fiar"}, "unknown recipe 'fiar' (did you mean 'fair'?)"),
        ({"data_streams": "each"}, "unknown data_streams 'each'; choose one of per_seed, shared"),
    ],
)
def test_recipe_values_out_of_range_fail_in_one_sentence(tmp_path, changes, message):
    out = tmp_path / "never"
    with pytest.raises(LmrnnError) as err:
        from_dict({**TINY, "out": str(out), **changes})
    assert message in str(err.value) and "\n" not in str(err.value)
    assert not out.exists()


def test_each_seed_draws_its_own_stream_unless_shared():
    config = from_dict({**TINY, "seeds": [3, 7]})
    assert config.stream_seeds() == (derive_seed(0, 3), derive_seed(0, 7))
    streams = [StreamLoader(config.tasks(), 4, 30, s) for s in config.stream_seeds()]
    inputs, targets = training_batch(streams, 0)
    assert inputs.shape == (2, 30, 4, 1 + 32 + 2) and targets.shape == (2, 30, 4)
    assert not torch.equal(inputs[0], inputs[1])
    alone = StreamLoader(config.tasks(), 4, 30, from_dict({**TINY, "seeds": [7]}).stream_seeds()[0])
    assert torch.equal(alone.batch(0).inputs, inputs[1])  # seed 7 sees what it sees alone
    shared = from_dict({**TINY, "seeds": [3, 7], "data_streams": "shared"})
    assert shared.stream_seeds() == (0,)


def test_per_seed_streams_give_seeds_different_data_and_the_shared_one_the_same(tmp_path):
    a = train(from_dict({**TINY, "out": str(tmp_path / "a"), "seeds": [0, 1]}), progress=False)
    b = train(from_dict({**TINY, "out": str(tmp_path / "b"), "seeds": [1, 0]}), progress=False)
    # the same seed trains the same way wherever it stands in the ensemble
    torch.testing.assert_close(a.model.weight_hh[1], b.model.weight_hh[0], rtol=1e-5, atol=1e-6)
    shared = train(from_dict({**TINY, "out": str(tmp_path / "s"), "seeds": [1],
                              "data_streams": "shared"}), progress=False)  # fmt: skip
    assert not torch.equal(shared.model.weight_hh[0], a.model.weight_hh[1])


def test_one_seeds_explosion_never_scales_another_seeds_gradient():
    torch.manual_seed(0)
    weight = torch.zeros(3, 4, 4, requires_grad=True)
    grad = torch.randn(3, 4, 4) * 0.01
    grad[1] *= 1e6  # seed 1 explodes
    weight.grad = grad.clone()
    norms = clip_grad_norm_per_seed_([weight], 1.0)
    assert norms[1] > 1e3
    torch.testing.assert_close(weight.grad[0], grad[0])  # untouched: below the bound
    torch.testing.assert_close(weight.grad[2], grad[2])
    assert abs(float(weight.grad[1].norm()) - 1.0) < 1e-4


def test_a_run_stopped_at_its_deadline_resumes_to_the_weights_of_a_straight_run(tmp_path):
    import time

    from lmrnn.errors import DeadlineReached

    straight = train(from_dict({**TINY, "out": str(tmp_path / "a")}), progress=False)
    config = from_dict({**TINY, "out": str(tmp_path / "b")})
    with pytest.raises(DeadlineReached, match="stopped at step 1 of 20"):
        train(config, progress=False, deadline=time.time())
    resumed = train(config, resume=True, progress=False)
    for name, value in straight.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[name], value), name


def test_reproduce_until_stops_cleanly_and_says_what_remains(tmp_path, capsys):
    from lmrnn.cli import main

    out = tmp_path / "sweep"
    args = ["reproduce", "fig3i", "--scale", "ci", "--out", str(out), "--device", "cpu"]
    assert main([*args, "--until", "0.001s"]) == 0  # no job starts
    first = capsys.readouterr().out
    assert "deadline reached: " in first and "runs remain (0 being trained by another" in first
    assert main(args) == 0  # the next call finishes what is left
    assert "0 failed" in capsys.readouterr().out
    assert main([*args, "--until", "soon"]) == 2
    assert "is not a duration" in capsys.readouterr().err


# -- one writer per run folder, and checkpoints that cannot trap a user ---------------------------
def test_a_second_writer_fails_at_once_naming_the_holder(tmp_path):
    import os

    from lmrnn.errors import RunFolderBusy
    from lmrnn.train.checkpoint import run_lock

    out = tmp_path / "run"
    with run_lock(out):
        with pytest.raises(RunFolderBusy, match=f"pid {os.getpid()}"):
            train(from_dict({**TINY, "out": str(out)}), progress=False)
        assert not (out / "config.yaml").exists()
    train(from_dict({**TINY, "out": str(out)}), progress=False)  # released: it runs


def test_a_killed_lock_holder_leaves_no_stale_lock(tmp_path):
    import subprocess
    import sys

    from lmrnn.train.checkpoint import is_locked, run_lock

    out = tmp_path / "run"
    assert not is_locked(out)
    code = ("import os, sys; from lmrnn.train.checkpoint import run_lock\n"
            f"with run_lock({str(out)!r}): os._exit(9)")  # fmt: skip
    assert subprocess.run([sys.executable, "-c", code]).returncode == 9
    assert (out / ".lock").exists() and not is_locked(out)
    holder = (
        "import sys; from lmrnn.train.checkpoint import run_lock\n"
        f"with run_lock({str(out)!r}): print('held', flush=True); sys.stdin.read()"
    )
    with subprocess.Popen([sys.executable, "-c", holder], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as proc:  # fmt: skip
        assert proc.stdout.readline() == "held\n"
        assert is_locked(out)
        proc.stdin.close()
    assert not is_locked(out)
    with run_lock(out):
        assert is_locked(out)  # seen from this process too
    train(from_dict({**TINY, "out": str(out)}), progress=False)


def test_stale_temporary_files_are_cleaned_and_damaged_checkpoints_offer_a_way_out(tmp_path):
    out = tmp_path / "run"
    config = from_dict({**TINY, "out": str(out)})
    train(config, progress=False)
    (out / ".checkpoint.pt.4242.tmp").write_bytes(b"half")
    (out / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(LmrnnError) as err:
        train(config.replace(steps=40), resume=True, progress=False)
    message = str(err.value)
    assert "--restart" in message and "weights_only" not in message and "\n" not in message
    assert not (out / ".checkpoint.pt.4242.tmp").exists()
    with pytest.raises(LmrnnError, match="--restart"):
        train(config, progress=False)  # "already holds a run" offers it too
    again = train(config, restart=True, progress=False)
    fresh = train(from_dict({**TINY, "out": str(tmp_path / "fresh")}), progress=False)
    assert torch.equal(again.model.weight_hh, fresh.model.weight_hh)


def test_a_run_killed_before_its_first_checkpoint_resumes_as_a_fresh_start(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.yaml").write_text("steps: 20\n")  # all a kill before step 10 leaves
    resumed = train(from_dict({**TINY, "out": str(out)}), resume=True, progress=False)
    fresh = train(from_dict({**TINY, "out": str(tmp_path / "fresh")}), progress=False)
    assert torch.equal(resumed.model.weight_hh, fresh.model.weight_hh)
