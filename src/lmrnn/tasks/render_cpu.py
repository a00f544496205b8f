"""Compiled (numba) CPU versions of the per-step work of stream and trial batches.

In torch, laying trials out in time, placing the input noise and rendering a batch is some
thirty operations over the batch's steps, each a pass over memory and each paying torch's
per-call cost. Here each is one loop over the steps, with exactly the results of the torch
versions in :mod:`lmrnn.tasks.batch` and :mod:`lmrnn.tasks.noise` (tested bit for bit), which
stay in use on a GPU and wherever numba cannot be imported or its JIT is switched off
(``AVAILABLE`` False). The task families' rules are not here: trials are drawn in torch on
every device.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import numpy as np
import torch

from lmrnn.tasks.collection import RING
from lmrnn.tasks.timing import DECISION, MS_PER_UNIT, PERIODS, STIM1, STIM2

try:
    import numba

    AVAILABLE = not numba.config.DISABLE_JIT  # the loops in plain Python would take minutes
    _njit = numba.njit(cache=True, nogil=True)
    _njit_threads = numba.njit(cache=True, nogil=True, parallel=True)
    _prange = numba.prange
except ImportError:  # pragma: no cover - numba is a dependency; this keeps torch's path alive
    AVAILABLE = False

    def _njit(fn):
        return fn

    _njit_threads, _prange = _njit, range


def usable(device: torch.device) -> bool:
    """Whether work on ``device`` runs here: a CPU, with numba's JIT at hand."""
    return AVAILABLE and device.type == "cpu"


_N_PERIODS = len(PERIODS)
# which of a trial's three ring patterns (stim1, stim2, decision) each period shows; 3: none
_SLOT = np.array([3, 0, 3, 1, 2], dtype=np.int64)
_FIXATE_ROW = RING * 3 * RING  # the row of "keep fixating" in batch._target_table


@_njit
def _locate(lengths, n_steps, offset, seg, seg_start):  # pragma: no cover - compiled
    n_rows, n_segments = lengths.shape
    j = np.zeros(n_rows, dtype=np.int64)  # each row's segment at step t
    start = np.zeros(n_rows, dtype=np.int64)
    end = lengths[:, 0].copy()
    for t in range(n_steps):  # time outermost: the (T, B) outputs are written in order
        for b in range(n_rows):
            if end[b] <= t and j[b] < n_segments:
                jb, e, s = j[b], end[b], start[b]
                while jb < n_segments and e <= t:
                    jb += 1
                    s = e
                    if jb < n_segments:
                        e += lengths[b, jb]
                j[b], end[b], start[b] = jb, e, s
            seg[t, b] = j[b] + offset[b]
            seg_start[t, b] = start[b]


def locate(
    lengths: torch.Tensor, n_steps: int, offset: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """As :func:`lmrnn.tasks.batch._locate`: (T, B) each step's segment (plus ``offset`` (B,),
    default 0) and the step it starts at, from (B, S) segment lengths."""
    n_rows = lengths.shape[0]
    seg = torch.empty(n_steps, n_rows, dtype=torch.long)
    seg_start = torch.empty(n_steps, n_rows, dtype=torch.long)
    if offset is None:
        offset = torch.zeros(n_rows, dtype=torch.long)
    _locate(lengths.contiguous().numpy(), n_steps, offset.contiguous().numpy(), seg.numpy(),
            seg_start.numpy())  # fmt: skip
    return seg, seg_start


@_njit
def _noise_layout(ring_bits, seg, bits, slots):  # pragma: no cover - compiled
    segment_bits = np.zeros(ring_bits.shape[0] * _N_PERIODS, dtype=np.uint8)
    for m in range(ring_bits.shape[0]):
        segment_bits[m * _N_PERIODS + STIM1] = ring_bits[m]
        segment_bits[m * _N_PERIODS + STIM2] = ring_bits[m]
    n1 = 0
    for q in range(seg.shape[0]):
        b = segment_bits[seg[q]]
        bits[q] = b
        if b & 1:  # (not n1 += b & 1: uint8 arithmetic when numba's JIT is switched off)
            n1 += 1
    next1, next2 = 0, n1  # ring 2's rows come after all of ring 1's
    for q in range(seg.shape[0]):
        b = bits[q]
        s1 = s2 = -1
        if b & 1:
            s1 = next1
            next1 += 1
        if b & 2:
            s2 = next2
            next2 += 1
        slots[q, 0] = s1
        slots[q, 1] = s2
    return n1, next2 - n1


def noise_layout(
    ring_bits: torch.Tensor, seg: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, tuple[int, int]]:
    """Where a layout's input noise goes.

    Args:
        ring_bits: (M,) uint8, bit r set: ring r of trial m is noisy in its stimulus periods.
        seg: (T, R) int64 each step's segment (``trial * 5 + period``).
    Returns:
        bits (T, R) uint8, the noisy rings of each step; slots (T * R, 2) int32, the row of the
        noise values each step reads on each ring (-1: none), ring 1's rows in time-major order
        first, then ring 2's; and the number of rows of each ring.
    """
    bits = torch.empty(seg.shape, dtype=torch.uint8)
    slots = torch.empty(seg.numel(), 2, dtype=torch.int32)
    n1, n2 = _noise_layout(ring_bits.numpy(), seg.reshape(-1).numpy(), bits.view(-1).numpy(),
                           slots.numpy())  # fmt: skip
    return bits, slots, (int(n1), int(n2))


@_njit
def _render_step(
    t, period_inputs, task, patterns, response, seq_sign, seg, seg_start, slots, eps,
    layout_cols, first_col, target_table, dt, inputs, targets,
):  # fmt: skip  # pragma: no cover - compiled
    n_cols = targets.shape[1]
    n_in = inputs.shape[1]
    for c in range(n_cols):
        s = seg[t, c]
        m = s // _N_PERIODS
        p = s - m * _N_PERIODS
        out = inputs[t * n_cols + c]
        src = period_inputs[task[m], p]
        for j in range(n_in):
            out[j] = src[j]
        slot = _SLOT[p]
        if slot < 3:
            for j in range(2 * RING):
                out[1 + j] = patterns[m, slot, j]
        if slots.shape[0] > 0:
            q = t * layout_cols + first_col + c
            for ring in range(2):
                k = slots[q, ring]
                if k >= 0:
                    for j in range(RING):
                        out[1 + ring * RING + j] += eps[k, j]
        row = _FIXATE_ROW
        if p == DECISION:
            label = response[m] - 1 if response[m] > 0 else RING
            row = (label * 3 + seq_sign[m] + 1) * RING
        units = t - seg_start[t, c]
        if dt != MS_PER_UNIT:
            units = units * dt // MS_PER_UNIT
        targets[t, c] = target_table[row + (units & (RING - 1))]


@_njit
def _render(*args):  # pragma: no cover - compiled
    for t in range(args[-1].shape[0]):
        _render_step(t, *args)


@_njit_threads
def _render_threads(*args):  # pragma: no cover - compiled
    for t in _prange(args[-1].shape[0]):  # each step writes only its own rows
        _render_step(t, *args)


def render(
    period_inputs: torch.Tensor,
    task: torch.Tensor,
    patterns: torch.Tensor,
    response: torch.Tensor,
    seq_sign: torch.Tensor,
    seg: torch.Tensor,
    seg_start: torch.Tensor,
    noise: tuple[torch.Tensor, torch.Tensor, int, int] | None,
    target_table: torch.Tensor,
    dt: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (T, b, n_in) (``period_inputs``' dtype) and targets (T, b) int64 of b columns of
    trials, as :func:`lmrnn.tasks.batch._render`. A large batch is written by as many threads
    as torch uses (``torch.set_num_threads``), split by time step: the same values on any number.

    Args:
        period_inputs: (n_tasks, 5, n_in) each task's noise-free inputs in each period.
        task, response, seq_sign: (M,) int64 per trial; patterns: (M, 3, 32) float32 ring inputs
            during stim1, stim2 and decision.
        seg, seg_start: (T, b) int64 each step's segment (``trial * 5 + period``) and the step it
            starts at.
        noise: the slots (:func:`noise_layout`) of a layout of R columns, its noise values
            (rows, 16), the first of its columns that these b are, and R; or None.
        target_table: ``batch._target_table``; dt: ms per step.
    """
    n_steps, n_cols = seg.shape
    inputs = torch.empty(n_steps, n_cols, period_inputs.shape[-1], dtype=period_inputs.dtype)
    targets = torch.empty(n_steps, n_cols, dtype=torch.long)
    slots, eps = np.empty((0, 2), np.int32), np.empty((0, RING), np.float32)
    first, layout_cols = 0, n_cols
    if noise is not None:
        slots, eps, first, layout_cols = noise[0].numpy(), noise[1].numpy(), noise[2], noise[3]
    args = (
        period_inputs.numpy(), task.numpy(), patterns.numpy(), response.numpy(),
        seq_sign.numpy(), seg.numpy(), seg_start.numpy(), slots, eps, layout_cols, first,
        target_table.numpy(), dt, inputs.view(-1, inputs.shape[-1]).numpy(), targets.numpy(),
    )  # fmt: skip
    threads = min(torch.get_num_threads(), inputs.numel() // _MIN_PER_THREAD)
    if threads > 1 and run_threaded(_render_threads, args, threads):
        return inputs, targets
    _render(*args)
    return inputs, targets


def run_threaded(kernel: Callable[..., object], args: tuple, threads: int) -> bool:
    """Run the parallel numba function ``kernel(*args)`` on up to ``threads`` threads of
    numba's pool, one such call at a time in the process (the task renderer's and the
    ``sparse`` recurrence back-end's); False, having run nothing, where the pool cannot be
    used here (a forked child of a process that started it, or no threading layer)."""
    if not _threads_usable():
        return False
    with _THREADS:
        try:
            before = numba.get_num_threads()
        except ValueError:  # no thread pool can start here (a threading layer is missing)
            _threads_pid[:] = [-1]
            return False
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        try:
            kernel(*args)
            return True
        finally:
            numba.set_num_threads(before)


_MIN_PER_THREAD = 1 << 20  # input values a thread writes at the least (a training batch of
# 4 x 350 steps is one thread's work; a 64 x 350 Mod-Cog batch, 2.6 M values, two threads')
_THREADS = threading.Lock()  # numba's fallback thread pool (no OpenMP, no TBB) is not
# thread-safe: one threaded render at a time
_threads_pid: list[int] = []


def _threads_usable() -> bool:
    """Whether this process may start numba's thread pool: not in a child forked from a process
    that started it (GNU OpenMP's pool does not survive a fork: numba ends such a child)."""
    if not _threads_pid:
        _threads_pid.append(os.getpid())
    return _threads_pid[0] == os.getpid()
