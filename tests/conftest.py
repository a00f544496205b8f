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
