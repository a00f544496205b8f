"""The fused back-end's kernels build for the H100 (sm_90) without a GPU, none spilling.

Triton compiles for a target architecture without the device, so a kernel that would fail to
compile on a GPU (or spill registers to local memory) fails here, in CI, rather than in a
short session on a lent GPU. ``benchmarks/fused_static.py`` prints the figures.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KERNELS = ("forward_step", "backward_step", "weight_grad")


@pytest.mark.slow
def test_every_kernel_variant_builds_for_sm90_without_spilling():
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["PYTHONPATH"] = str(ROOT / "src")
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "fused_static.py"), "--check"],
                          capture_output=True, text=True, env=env, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    rows = [line.split() for line in done.stdout.splitlines()]
    kinds = [row[0] for row in rows if row and row[0] in KERNELS]
    # row tiles 1, 2, 4, 8 x relu/tanh x dense or not x fp32/bf16 weights x leaky or not (x
    # FIRST or not)
    assert [kinds.count(k) for k in KERNELS] == [64, 128, 4]
    assert all(row[-3] == "0" for row in rows if row and row[0] in KERNELS), "local memory"
