"""The compiled (numba) loops of the ``sparse`` back-end; imported on first use only.

Arrays are NumPy views of contiguous float32 / int32 torch tensors. Outside (the autograd
function's inputs and outputs): drive, hidden states and their gradients (T, S, B, N). Inside,
the batch rows go in lanes of ``LANES`` (4), C = ceil(B / 4) chunks of them: the states
``hx`` (T + 1, S, C, N, 4) (h_0 .. h_T) and the pre-activation gradients ``dl`` (T, S, C, N, 4),
so that the ``LANES`` rows of one presynaptic unit are one contiguous read, and every read of a
neighbour feeds 4 independent multiply-add chains. Lanes past the last batch row compute
whatever they compute and are never read out (their gradients stay exactly zero).

Leaky units (``alpha`` < 1): h_{t+1} = (1 - alpha) h_t + alpha r_{t+1}, r = φ(pre), with the
rates r kept in ``rx`` (the shape of ``hx``; ``rx`` is ``hx`` itself when alpha = 1) for φ', and
the backward pass carries the whole gradient of each h_t, G_t = ∂L/∂h_t + (1 - alpha) G_{t+1} +
W^T δ_t, in ``gh`` (T, S, C, N, 4), with δ_{t-1} = alpha φ'(r_t) G_t. With alpha = 1 neither is
touched and the arithmetic is the non-leaky one, operation for operation.

The graph: unit i of network s reads units ``idx[g, i, :]`` with weights ``w[s, i, :]`` (K),
g = s where every network has its own graph, g = 0 where ``idx`` is (1, N, K). Its transpose
in CSR form: the edges that read unit j are ``toff[g, j]`` .. ``toff[g, j + 1] - 1``, each with
its reading unit ``tsrc[g, e]`` and weight ``wt[s, e]``.

Every (network, chunk of rows) is an independent recurrence. Two ways to share the work
among threads, with the same arithmetic per unit (the same numbers, on any number of threads):

* ``rows``: one task per (network, chunk), the time loop inside: one parallel region per pass;
* ``steps``: one parallel region per time step, one task per (network, chunk, block of units),
  for when there are fewer (network, chunk) pairs than threads can share evenly.

The weight gradient runs one (network, block of units) per task, summing over time, chunks and
lanes in a fixed order. Sums run in a fixed order (no ``reassoc``: numba would vectorise the
neighbour loop with gathers, slower here than the 4 scalar chains), and NaN and inf keep their
IEEE meaning, so a run that diverges still shows it.
"""

from __future__ import annotations

import numba
import numpy as np

from lmrnn.tasks import render_cpu

AVAILABLE = not numba.config.DISABLE_JIT

_FAST = {"contract"}  # fused multiply-adds
_njit = numba.njit(cache=True, nogil=True, fastmath=_FAST)
_njit_threads = numba.njit(cache=True, nogil=True, fastmath=_FAST, parallel=True)
_prange = numba.prange

LANES = 4  # batch rows per chunk (the lanes of the states' last axis); the loops write 4 out
RELU, TANH, SOFTPLUS = 0, 1, 2
UNIT_BLOCK = 64  # units per task in the ``steps`` split and in the weight gradient
_ZERO = np.float32(0.0)
_ONE = np.float32(1.0)
_SOFTPLUS_THRESHOLD = np.float32(20.0)  # torch's: softplus(x) = x above it


@_njit
def _phi(act, v):  # pragma: no cover - compiled
    if act == RELU:
        return _ZERO if v <= _ZERO else v  # NaN passes through, as in torch.relu
    if act == TANH:
        return np.tanh(v)
    return v if v > _SOFTPLUS_THRESHOLD else np.log1p(np.exp(v))


@_njit
def _dphi(act, h):  # pragma: no cover - compiled
    """φ'(pre) from h = φ(pre), as :func:`lmrnn.models.activations.derivative`."""
    if act == RELU:
        return _ONE if h > _ZERO else _ZERO
    if act == TANH:
        return _ONE - h * h
    return -np.expm1(-h)


@_njit
def _row(a, b, i):  # pragma: no cover - compiled
    """a[b, i] of a (B, N) array, 0 past the last batch row."""
    return a[b, i] if b < a.shape[0] else _ZERO


@_njit
def _put(a, b, i, v):  # pragma: no cover - compiled
    """a[b, i] = v for the batch rows that exist."""
    if b < a.shape[0]:
        a[b, i] = v


# --- forward ---------------------------------------------------------------------------------


@_njit
def _forward_units(t, s, c, lo, hi, drive, w, idx, act, alpha, hx, rx, out):  # pragma: no cover
    """h_{t+1} of units lo..hi-1 of network s, chunk c, from all of h_t. The neighbour sum
    runs as 8 chains (4 lanes x even and odd neighbours), added at the end."""
    n_in, b0 = w.shape[2], c * LANES
    ws, ids = w[s], idx[s if idx.shape[0] > 1 else 0]
    prev, nxt, rates = hx[t, s, c], hx[t + 1, s, c], rx[t + 1, s, c]
    xs, os = drive[t, s], out[t, s]
    leaky = alpha != _ONE
    keep = _ONE - alpha
    for i in range(lo, hi):
        a0 = a1 = a2 = a3 = e0 = e1 = e2 = e3 = _ZERO
        for k in range(0, n_in - 1, 2):
            j, wv, q, wq = ids[i, k], ws[i, k], ids[i, k + 1], ws[i, k + 1]
            a0 += wv * prev[j, 0]
            a1 += wv * prev[j, 1]
            a2 += wv * prev[j, 2]
            a3 += wv * prev[j, 3]
            e0 += wq * prev[q, 0]
            e1 += wq * prev[q, 1]
            e2 += wq * prev[q, 2]
            e3 += wq * prev[q, 3]
        if n_in % 2:
            j, wv = ids[i, n_in - 1], ws[i, n_in - 1]
            a0 += wv * prev[j, 0]
            a1 += wv * prev[j, 1]
            a2 += wv * prev[j, 2]
            a3 += wv * prev[j, 3]
        v0 = _phi(act, (a0 + e0) + xs[b0, i])
        v1 = _phi(act, (a1 + e1) + _row(xs, b0 + 1, i))
        v2 = _phi(act, (a2 + e2) + _row(xs, b0 + 2, i))
        v3 = _phi(act, (a3 + e3) + _row(xs, b0 + 3, i))
        if leaky:
            rates[i, 0], rates[i, 1], rates[i, 2], rates[i, 3] = v0, v1, v2, v3
            v0 = keep * prev[i, 0] + alpha * v0
            v1 = keep * prev[i, 1] + alpha * v1
            v2 = keep * prev[i, 2] + alpha * v2
            v3 = keep * prev[i, 3] + alpha * v3
        nxt[i, 0], nxt[i, 1], nxt[i, 2], nxt[i, 3] = v0, v1, v2, v3
        os[b0, i] = v0
        _put(os, b0 + 1, i, v1)
        _put(os, b0 + 2, i, v2)
        _put(os, b0 + 3, i, v3)


@_njit
def _forward_rows(drive, w, idx, act, alpha, hx, rx, out):  # pragma: no cover - compiled
    n_chunks, n_units = hx.shape[2], hx.shape[3]
    for r in range(hx.shape[1] * n_chunks):
        for t in range(drive.shape[0]):
            _forward_units(
                t, r // n_chunks, r % n_chunks, 0, n_units, drive, w, idx, act, alpha, hx, rx, out
            )


@_njit_threads
def _forward_rows_threads(drive, w, idx, act, alpha, hx, rx, out):  # pragma: no cover - compiled
    n_chunks, n_units = hx.shape[2], hx.shape[3]
    for r in _prange(hx.shape[1] * n_chunks):
        for t in range(drive.shape[0]):
            _forward_units(
                t, r // n_chunks, r % n_chunks, 0, n_units, drive, w, idx, act, alpha, hx, rx, out
            )


@_njit_threads
def _forward_step_threads(t, drive, w, idx, act, alpha, hx, rx, out):  # pragma: no cover - compiled
    n_chunks, n_units = hx.shape[2], hx.shape[3]
    n_blocks = (n_units + UNIT_BLOCK - 1) // UNIT_BLOCK
    for task in _prange(hx.shape[1] * n_chunks * n_blocks):
        r, blk = task // n_blocks, task % n_blocks
        lo, hi = blk * UNIT_BLOCK, min(n_units, (blk + 1) * UNIT_BLOCK)
        _forward_units(
            t, r // n_chunks, r % n_chunks, lo, hi, drive, w, idx, act, alpha, hx, rx, out
        )


@_njit
def _forward_steps(drive, w, idx, act, alpha, hx, rx, out):  # pragma: no cover - compiled
    for t in range(drive.shape[0]):
        _forward_step_threads(t, drive, w, idx, act, alpha, hx, rx, out)


# --- backward through time -------------------------------------------------------------------


@_njit
def _delta_last(s, c, grad_h, rx, act, alpha, dl, gh, dx):  # pragma: no cover - compiled
    """δ_{T-1} = ∂L/∂h_T ⊙ φ'(r_T) (times alpha, leaky) of network s, chunk c (index T - 1 of
    ``dl``); leaky: G_T = ∂L/∂h_T into ``gh``."""
    last, b0 = grad_h.shape[0] - 1, c * LANES
    gs, xs, r, d = grad_h[last, s], dx[last, s], rx[last + 1, s, c], dl[last, s, c]
    leaky = alpha != _ONE
    for i in range(rx.shape[3]):
        for lane in range(LANES):
            if leaky:
                g = _row(gs, b0 + lane, i)
                gh[last, s, c, i, lane] = g
                d[i, lane] = alpha * g * _dphi(act, r[i, lane])
            else:
                d[i, lane] = _row(gs, b0 + lane, i) * _dphi(act, r[i, lane])
            _put(xs, b0 + lane, i, d[i, lane])


@_njit
def _backward_units(
    t, s, c, lo, hi, grad_h, rx, wt, toff, tsrc, act, alpha, dl, gh, dx, dh0
):  # pragma: no cover - compiled
    """g = W^T δ_t for units lo..hi-1 of network s, chunk c (8 chains, as the forward's);
    then δ_{t-1} = (∂L/∂h_t + g) ⊙ φ'(r_t) of those units, or, at t = 0, ∂L/∂h_0 = g; leaky:
    G_t = ∂L/∂h_t + (1 - alpha) G_{t+1} + g, δ_{t-1} = alpha φ'(r_t) G_t, ∂L/∂h_0 = G_0."""
    g = s if toff.shape[0] > 1 else 0
    wts, off, src, d = wt[s], toff[g], tsrc[g], dl[t, s, c]
    b0 = c * LANES
    for j in range(lo, hi):
        a0 = a1 = a2 = a3 = e0 = e1 = e2 = e3 = _ZERO
        first, stop = off[j], off[j + 1]
        for e in range(first, stop - 1, 2):
            i, wv, q, wq = src[e], wts[e], src[e + 1], wts[e + 1]
            a0 += wv * d[i, 0]
            a1 += wv * d[i, 1]
            a2 += wv * d[i, 2]
            a3 += wv * d[i, 3]
            e0 += wq * d[q, 0]
            e1 += wq * d[q, 1]
            e2 += wq * d[q, 2]
            e3 += wq * d[q, 3]
        if (stop - first) % 2:
            i, wv = src[stop - 1], wts[stop - 1]
            a0 += wv * d[i, 0]
            a1 += wv * d[i, 1]
            a2 += wv * d[i, 2]
            a3 += wv * d[i, 3]
        a0, a1, a2, a3 = a0 + e0, a1 + e1, a2 + e2, a3 + e3
        if alpha != _ONE:
            keep, later = _ONE - alpha, gh[t, s, c]
            a0 += keep * later[j, 0]
            a1 += keep * later[j, 1]
            a2 += keep * later[j, 2]
            a3 += keep * later[j, 3]
            if t > 0:
                gs, now = grad_h[t - 1, s], gh[t - 1, s, c]
                a0 += gs[b0, j]
                a1 += _row(gs, b0 + 1, j)
                a2 += _row(gs, b0 + 2, j)
                a3 += _row(gs, b0 + 3, j)
                now[j, 0], now[j, 1], now[j, 2], now[j, 3] = a0, a1, a2, a3
                a0, a1, a2, a3 = alpha * a0, alpha * a1, alpha * a2, alpha * a3
                r, ds, xs = rx[t, s, c], dl[t - 1, s, c], dx[t - 1, s]
                ds[j, 0] = a0 * _dphi(act, r[j, 0])
                ds[j, 1] = a1 * _dphi(act, r[j, 1])
                ds[j, 2] = a2 * _dphi(act, r[j, 2])
                ds[j, 3] = a3 * _dphi(act, r[j, 3])
                xs[b0, j] = ds[j, 0]
                _put(xs, b0 + 1, j, ds[j, 1])
                _put(xs, b0 + 2, j, ds[j, 2])
                _put(xs, b0 + 3, j, ds[j, 3])
                continue
        if t == 0:
            hs = dh0[s]
            hs[b0, j] = a0
            _put(hs, b0 + 1, j, a1)
            _put(hs, b0 + 2, j, a2)
            _put(hs, b0 + 3, j, a3)
            continue
        gs, xs, h, ds = grad_h[t - 1, s], dx[t - 1, s], rx[t, s, c], dl[t - 1, s, c]
        ds[j, 0] = (gs[b0, j] + a0) * _dphi(act, h[j, 0])
        ds[j, 1] = (_row(gs, b0 + 1, j) + a1) * _dphi(act, h[j, 1])
        ds[j, 2] = (_row(gs, b0 + 2, j) + a2) * _dphi(act, h[j, 2])
        ds[j, 3] = (_row(gs, b0 + 3, j) + a3) * _dphi(act, h[j, 3])
        xs[b0, j] = ds[j, 0]
        _put(xs, b0 + 1, j, ds[j, 1])
        _put(xs, b0 + 2, j, ds[j, 2])
        _put(xs, b0 + 3, j, ds[j, 3])


@_njit
def _backward_rows(
    grad_h, rx, wt, toff, tsrc, act, alpha, dl, gh, dx, dh0
):  # pragma: no cover - compiled
    n_chunks, n_units = rx.shape[2], rx.shape[3]
    for r in range(rx.shape[1] * n_chunks):
        s, c = r // n_chunks, r % n_chunks
        _delta_last(s, c, grad_h, rx, act, alpha, dl, gh, dx)
        for t in range(grad_h.shape[0] - 1, -1, -1):
            _backward_units(
                t, s, c, 0, n_units, grad_h, rx, wt, toff, tsrc, act, alpha, dl, gh, dx, dh0
            )


@_njit_threads
def _backward_rows_threads(
    grad_h, rx, wt, toff, tsrc, act, alpha, dl, gh, dx, dh0
):  # pragma: no cover - compiled
    n_chunks, n_units = rx.shape[2], rx.shape[3]
    for r in _prange(rx.shape[1] * n_chunks):
        s, c = r // n_chunks, r % n_chunks
        _delta_last(s, c, grad_h, rx, act, alpha, dl, gh, dx)
        for t in range(grad_h.shape[0] - 1, -1, -1):
            _backward_units(
                t, s, c, 0, n_units, grad_h, rx, wt, toff, tsrc, act, alpha, dl, gh, dx, dh0
            )


@_njit_threads
def _backward_step_threads(
    t, grad_h, rx, wt, toff, tsrc, act, alpha, dl, gh, dx, dh0
):  # pragma: no cover - compiled
    n_chunks, n_units = rx.shape[2], rx.shape[3]
    n_blocks = (n_units + UNIT_BLOCK - 1) // UNIT_BLOCK
    for task in _prange(rx.shape[1] * n_chunks * n_blocks):
        r, blk = task // n_blocks, task % n_blocks
        lo, hi = blk * UNIT_BLOCK, min(n_units, (blk + 1) * UNIT_BLOCK)
        s, c = r // n_chunks, r % n_chunks
        _backward_units(t, s, c, lo, hi, grad_h, rx, wt, toff, tsrc, act, alpha, dl, gh, dx, dh0)


@_njit
def _backward_steps(
    grad_h, rx, wt, toff, tsrc, act, alpha, dl, gh, dx, dh0
):  # pragma: no cover - compiled
    n_chunks = rx.shape[2]
    for r in range(rx.shape[1] * n_chunks):
        _delta_last(r // n_chunks, r % n_chunks, grad_h, rx, act, alpha, dl, gh, dx)
    for t in range(grad_h.shape[0] - 1, -1, -1):
        _backward_step_threads(t, grad_h, rx, wt, toff, tsrc, act, alpha, dl, gh, dx, dh0)


# --- weight gradient -------------------------------------------------------------------------


@_njit
def _weight_grad_block(task, dl, hx, idx, dw):  # pragma: no cover - compiled
    """dW[s, i, :] for the units i of one (network, block of units) task."""
    n_units, n_in = dw.shape[1], dw.shape[2]
    n_blocks = (n_units + UNIT_BLOCK - 1) // UNIT_BLOCK
    s, blk = task // n_blocks, task % n_blocks
    lo, hi = blk * UNIT_BLOCK, min(n_units, (blk + 1) * UNIT_BLOCK)
    ids, out = idx[s if idx.shape[0] > 1 else 0], dw[s]
    for i in range(lo, hi):
        for k in range(n_in):
            out[i, k] = _ZERO
    for t in range(dl.shape[0]):
        for c in range(dl.shape[2]):
            d, prev = dl[t, s, c], hx[t, s, c]
            for i in range(lo, hi):
                d0, d1, d2, d3 = d[i, 0], d[i, 1], d[i, 2], d[i, 3]
                if d0 == _ZERO and d1 == _ZERO and d2 == _ZERO and d3 == _ZERO:
                    continue  # relu: a unit off in every row of the chunk
                for k in range(n_in):
                    p = prev[ids[i, k]]
                    out[i, k] += (d0 * p[0] + d1 * p[1]) + (d2 * p[2] + d3 * p[3])


@_njit
def _weight_grad(dl, hx, idx, dw):  # pragma: no cover - compiled
    n_blocks = (dw.shape[1] + UNIT_BLOCK - 1) // UNIT_BLOCK
    for task in range(dw.shape[0] * n_blocks):
        _weight_grad_block(task, dl, hx, idx, dw)


@_njit_threads
def _weight_grad_threads(dl, hx, idx, dw):  # pragma: no cover - compiled
    n_blocks = (dw.shape[1] + UNIT_BLOCK - 1) // UNIT_BLOCK
    for task in _prange(dw.shape[0] * n_blocks):
        _weight_grad_block(task, dl, hx, idx, dw)


# --- the passes, on as many threads as pays ---------------------------------------------------


STEPS_MIN_WORK = 1 << 18
"""Multiply-adds per time step (S·C·4·N·K) from which a parallel region per step pays for its
start and end (some 5-20 µs each on 2 cores); to be tuned on a quiet machine."""


def split(n_rows: int, threads: int, work_per_step: int) -> str:
    """How to share a pass over ``n_rows`` (network, chunk) pairs among ``threads`` threads
    (capped at numba's pool size): ``serial``; ``rows``, one pair per task, where the pairs
    share evenly (a multiple of the threads, or at least 4 per thread); ``steps``, a parallel
    region per time step, where a step has :data:`STEPS_MIN_WORK` multiply-adds; else ``rows``
    (unevenly) or, with one pair, ``serial``."""
    threads = min(threads, numba.config.NUMBA_NUM_THREADS)
    if threads <= 1:
        return "serial"
    if n_rows % threads == 0 or n_rows >= 4 * threads:
        return "rows"
    if work_per_step >= STEPS_MIN_WORK:
        return "steps"
    return "rows" if n_rows > 1 else "serial"


def _unsigned(index: np.ndarray) -> np.ndarray:
    """An int32 index array seen as uint32 (the same bytes): numba then reads it without the
    check for negative (from-the-end) indices, in the innermost loops."""
    return index.view(np.uint32)


def _run(kernels: dict, mode: str, args: tuple, threads: int) -> None:
    """Run ``kernels[mode](*args)`` threaded (one threaded kernel at a time in the process,
    shared with the task renderer), or ``kernels["serial"]`` where numba's pool cannot run
    here: the same numbers either way."""
    threads = min(threads, numba.config.NUMBA_NUM_THREADS)
    if threads > 1 and mode != "serial" and render_cpu.run_threaded(kernels[mode], args, threads):
        return
    kernels["serial"](*args)


_FORWARD = {"serial": _forward_rows, "rows": _forward_rows_threads, "steps": _forward_steps}
_BACKWARD = {"serial": _backward_rows, "rows": _backward_rows_threads, "steps": _backward_steps}
_WEIGHT = {"serial": _weight_grad, "rows": _weight_grad_threads, "steps": _weight_grad_threads}


def forward(drive, w, idx, act: int, hx, out, threads: int, mode: str | None = None,
            alpha: float = 1.0, rx=None) -> None:  # fmt: skip
    """h_1 .. h_T into ``hx`` (T + 1, S, C, N, 4), whose h_0 is set, and into ``out`` (T, S, B,
    N), from ``drive`` (T, S, B, N), ``w`` (S, N, K) and ``idx`` (S or 1, N, K) int32; leaky
    units (``alpha`` < 1) also write their rates into ``rx`` (the shape of ``hx``)."""
    mode = mode or split(hx.shape[1] * hx.shape[2], threads, hx[0].size * w.shape[2])
    rates = hx if rx is None else rx
    args = (drive, w, _unsigned(idx), act, np.float32(alpha), hx, rates, out)
    _run(_FORWARD, mode, args, threads)


def backward(grad_h, hx, wt, toff, tsrc, act: int, dl, dx, dh0, threads: int,
             mode: str | None = None, alpha: float = 1.0, rx=None, gh=None) -> None:  # fmt: skip
    """The pre-activation gradients δ into ``dl`` (T, S, C, N, 4) and ``dx`` (T, S, B, N) (the
    drive's gradient) and ∂L/∂h_0 into ``dh0`` (S, B, N), from ∂L/∂h ``grad_h`` (T, S, B, N);
    leaky units (``alpha`` < 1) read their rates ``rx`` and carry G in ``gh`` (the shape of
    ``dl``)."""
    in_degree = wt.shape[1] // hx.shape[3]  # edges per unit
    mode = mode or split(hx.shape[1] * hx.shape[2], threads, hx[0].size * in_degree)
    rates = hx if rx is None else rx
    carried = dl[:1] if gh is None else gh  # untouched when alpha = 1
    args = (grad_h, rates, wt, _unsigned(toff), _unsigned(tsrc), act, np.float32(alpha), dl,
            carried, dx, dh0)  # fmt: skip
    _run(_BACKWARD, mode, args, threads)


def weight_grad(dl, hx, idx, dw, threads: int) -> None:
    """dW[s, i, k] = Σ_t Σ_b δ_t[s, b, i] h_{t-1}[s, b, idx[i, k]] into ``dw`` (S, N, K)."""
    _run(_WEIGHT, "serial" if threads <= 1 else "rows", (dl, hx, _unsigned(idx), dw), threads)
