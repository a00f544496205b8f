"""Freed memory kept in the process, so that a training step does not fault its buffers back in.

A CPU training step allocates and frees the same large buffers every step: the states and their
gradients, (T, S, B, N) float32 each, 6.7 MB for LM(20x20) x 3 seeds at 4 x 350. glibc's malloc
hands blocks over its thresholds back to the kernel when they are freed (``munmap``, or the
heap's top trimmed), and the next step's buffers then fault in one zeroed 4 KiB page at a
time: about 6,200 page faults per step of that network, several ms of a 30 ms step
(``benchmarks/step.py``). :func:`keep_freed_memory` raises both thresholds, so that freed blocks
stay in the heap and are reused; the process keeps its peak heap instead of returning it, which
is what a training process wants.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
TRIM_THRESHOLD = 1 << 30
"""Free bytes at the top of the heap above which glibc gives memory back (default 128 KiB,
raised on its own to at most 64 MiB)."""
MMAP_THRESHOLD = 32 << 20
"""Blocks from this size up get their own mapping, returned when freed (glibc's maximum; its
default starts at 128 KiB)."""


@functools.cache
def keep_freed_memory() -> bool:
    """Set glibc's malloc to keep freed blocks in the process (once per process; later calls do
    nothing). Returns whether it could: False where the C library is not glibc (macOS, musl),
    which then allocates as it does by default."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
