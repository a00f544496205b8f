"""Freed memory kept in the process: a step's large buffers are reused, not faulted back in."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

FAULTS = """
import resource, sys, torch
from lmrnn.train.memory import keep_freed_memory

def faults_per_round():
    for _ in range(3):  # warm-up: the heap grows to its peak
        buffers = [torch.empty(2_000_000).fill_(i) for i in range(4)]
        del buffers
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):  # four 8 MB buffers written and freed, as a training step does
        buffers = [torch.empty(2_000_000).fill_(i) for i in range(4)]
        del buffers
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20

print(faults_per_round(), keep_freed_memory(), keep_freed_memory(), faults_per_round())
"""


def test_freed_buffers_are_reused_instead_of_faulted_in_again():
    if not sys.platform.startswith("linux"):
        pytest.skip("glibc's malloc settings: Linux only")
    # glibc's threshold fixed at its starting value (128 KiB): every buffer gets its own
    # mapping, returned when freed, as the step's buffers were (its own adjustment of the
    # threshold spares some rounds and not others)
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "131072"}
    done = subprocess.run([sys.executable, "-c", FAULTS], capture_output=True, text=True,
                          timeout=120, check=True, env=env)  # fmt: skip
    before, kept, again, after = done.stdout.split()
    assert kept == again == "True"
    assert float(before) > 1000  # 4 x 8 MB = 7,812 pages, faulted in again every round
    assert float(after) < 50
