"""Shared test configuration: deterministic kernels, one thread (every test seeds what it draws)."""

import os

import pytest
import torch

if not torch.cuda.is_available():  # the fused Triton kernels run in Triton's CPU interpreter
    os.environ.setdefault("TRITON_INTERPRET", "1")

torch.use_deterministic_algorithms(True, warn_only=False)
torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    """Tests marked `cuda` run only where a CUDA device exists (the only skips allowed)."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def run(tmp_path_factory):
    """A trained 3x3 LM-RNN (d = 1) on go and dm1, two seeds, 20 steps: the run folder the
    analysis tests read (trained once per session)."""
    from lmrnn.train import from_dict, train

    out = tmp_path_factory.mktemp("runs") / "lm"
    train(from_dict({"collection": ["go", "dm1"], "n": 3, "d": 1.0, "seeds": [0, 2],
                     "steps": 20, "batch_size": 4, "seq_len": 40, "eval_every": 20,
                     "eval_trials": 4, "checkpoint_every": 20, "device": "cpu",
                     "out": str(out)}), progress=False)  # fmt: skip
    return out
