"""Every analysis runs on every model option: tanh and softplus units, leaky units, Dale's law
(a connected LM) and the autapse pool's analyses on a pool of each activation."""

import json

import pytest

from lmrnn.analysis.run import WHATS, analyze
from lmrnn.train import from_dict, train

OPTIONS = {
    "tanh": {"activation": "tanh"},
    "softplus": {"activation": "softplus"},
    "leaky": {"tau": 500.0},
    "dale": {"dale": True},
}


def _train(folder, **overrides):
    config = {"collection": ["go", "dm1"], "n": 3, "d": 1.0, "seeds": [0], "steps": 10,
              "batch_size": 4, "seq_len": 40, "eval_every": 10, "eval_trials": 4,
              "checkpoint_every": 10, "device": "cpu", "out": str(folder), **overrides}  # fmt: skip
    train(from_dict(config), progress=False)
    return folder


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_every_analysis_runs_on_every_model_option(tmp_path, option):
    lm = _train(tmp_path / "lm", **OPTIONS[option])
    for what in WHATS:
        if what == "autapse":
            continue
        report = analyze(lm, what, trials=4 if what != "psychometric" else 8)
        assert report.json_path.is_file() and report.summary, (option, what)
        json.loads(report.json_path.read_text())
    if option != "dale":  # Dale's law needs connections: an autapse pool has none
        pool = _train(tmp_path / "pool", graph="autapse", **OPTIONS[option])
        report = analyze(pool, "autapse", trials=4)
        assert report.json_path.is_file() and report.summary
