"""Triton kernels of the ``fused`` back-end (see :mod:`lmrnn.models.backends.fused`).

Imported only when that back-end runs, so that triton stays optional. Set
``TRITON_INTERPRET=1`` before the import to run them on the CPU (tests).
"""

import triton
import triton.language as tl


@triton.jit
def _act(pre, ACT: tl.constexpr):
    if ACT == 0:
        return tl.maximum(pre, 0.0)
    return 2.0 / (1.0 + tl.exp(-2.0 * pre)) - 1.0


@triton.jit
def _act_grad(h, ACT: tl.constexpr):
    if ACT == 0:
        return (h > 0.0).to(tl.float32)
    return 1.0 - h * h


@triton.jit
def forward_kernel(
    X, HX, W, IDX, T, S, B, N, K,
    ACT: tl.constexpr, BB: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr,
):  # fmt: skip
    # X (T, S, B, N) drive; HX (T + 1, S, B, N), HX[0] = h0; W, IDX (S, N, K)
    s = tl.program_id(0)
    rows = tl.program_id(1) * BB + tl.arange(0, BB)
    row_ok = rows < B
    step = S * B * N
    for t in range(T):
        prev = HX + t * step + s * B * N
        for n0 in range(0, N, BN):
            ns = n0 + tl.arange(0, BN)
            n_ok = ns < N
            acc = tl.zeros((BB, BN), dtype=tl.float32)
            for k0 in range(0, K, BK):
                ks = k0 + tl.arange(0, BK)
                wm = n_ok[:, None] & (ks < K)[None, :]
                off = s * N * K + ns[:, None] * K + ks[None, :]
                w = tl.load(W + off, mask=wm, other=0.0)
                j = tl.load(IDX + off, mask=wm, other=0)
                hm = row_ok[:, None, None] & wm[None, :, :]
                hp = tl.load(prev + rows[:, None, None] * N + j[None, :, :], mask=hm, other=0.0)
                acc += tl.sum(hp * w[None, :, :], axis=2)
            om = row_ok[:, None] & n_ok[None, :]
            out = rows[:, None] * N + ns[None, :]
            x = tl.load(X + t * step + s * B * N + out, mask=om, other=0.0)
            h = _act(acc + x, ACT)
            tl.store(HX + (t + 1) * step + s * B * N + out, h, mask=om)
        tl.debug_barrier()


@triton.jit
def backward_kernel(
    G, HX, W, RSRC, RPOS, DX, DH0, T, S, B, N, K, R,
    ACT: tl.constexpr, BB: tl.constexpr, BN: tl.constexpr, BR: tl.constexpr,
):  # fmt: skip
    # G (T, S, B, N) grad of H; DX (T + 1, S, B, N) zeroed, DX[t] = grad of the drive x_t
    s = tl.program_id(0)
    rows = tl.program_id(1) * BB + tl.arange(0, BB)
    row_ok = rows < B
    step = S * B * N
    for tt in range(T + 1):
        t = T - 1 - tt  # T - 1, ..., 0: DX[t]; then -1: dh0 (no activation)
        nxt = DX + (t + 1) * step + s * B * N  # DX[t + 1], zero for t + 1 = T
        for n0 in range(0, N, BN):
            ns = n0 + tl.arange(0, BN)
            n_ok = ns < N
            acc = tl.zeros((BB, BN), dtype=tl.float32)
            for r0 in range(0, R, BR):
                rs = r0 + tl.arange(0, BR)
                rm = n_ok[:, None] & (rs < R)[None, :]
                off = s * N * R + ns[:, None] * R + rs[None, :]
                pos = tl.load(RPOS + off, mask=rm, other=-1)
                src = tl.load(RSRC + off, mask=rm, other=0)
                em = rm & (pos >= 0)
                w = tl.load(W + s * N * K + pos, mask=em, other=0.0)
                gm = row_ok[:, None, None] & em[None, :, :]
                dp = tl.load(nxt + rows[:, None, None] * N + src[None, :, :], mask=gm, other=0.0)
                acc += tl.sum(dp * w[None, :, :], axis=2)
            om = row_ok[:, None] & n_ok[None, :]
            out = rows[:, None] * N + ns[None, :]
            if t >= 0:
                g = tl.load(G + t * step + s * B * N + out, mask=om, other=0.0)
                h = tl.load(HX + (t + 1) * step + s * B * N + out, mask=om, other=0.0)
                tl.store(DX + t * step + s * B * N + out, (acc + g) * _act_grad(h, ACT), mask=om)
            else:
                tl.store(DH0 + s * B * N + out, acc, mask=om)
        tl.debug_barrier()


@triton.jit
def weight_grad_kernel(
    DX, HX, IDX, VALID, DW, T, S, B, N, K,
    BB: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr,
):  # fmt: skip
    # DW[s, i, k] = sum_t sum_b DX[t, s, b, i] * HX[t, s, b, IDX[s, i, k]]
    s = tl.program_id(0)
    ns = tl.program_id(1) * BN + tl.arange(0, BN)
    n_ok = ns < N
    step = S * B * N
    for k0 in range(0, K, BK):
        ks = k0 + tl.arange(0, BK)
        wm = n_ok[:, None] & (ks < K)[None, :]
        off = s * N * K + ns[:, None] * K + ks[None, :]
        j = tl.load(IDX + off, mask=wm, other=0)
        ok = tl.load(VALID + off, mask=wm, other=0) != 0
        acc = tl.zeros((BN, BK), dtype=tl.float32)
        for t in range(T):
            for b0 in range(0, B, BB):
                rows = b0 + tl.arange(0, BB)
                row_ok = rows < B
                base = t * step + s * B * N
                dm = row_ok[:, None] & n_ok[None, :]
                d = tl.load(DX + base + rows[:, None] * N + ns[None, :], mask=dm, other=0.0)
                hm = row_ok[:, None, None] & (wm & ok)[None, :, :]
                hp = tl.load(
                    HX + base + rows[:, None, None] * N + j[None, :, :], mask=hm, other=0.0
                )
                acc += tl.sum(d[:, :, None] * hp, axis=0)
        tl.store(DW + off, acc, mask=wm)
