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
def _neighbour_sum(
    STATE, W, IDX, s, ns, rows, B, N, K, IDX_STRIDE,
    DENSE: tl.constexpr, BB: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr,
):  # fmt: skip
    # (BB, BN): sum_k W[s, i, k] STATE[s, b, IDX[s, i, k]] for the units i = ns and the rows
    # b = rows; W (S, N, K) fp32 or bf16, STATE (S, B, N), IDX network s's at IDX + s *
    # IDX_STRIDE (0: one graph for all networks); DENSE: IDX[i, k] = k, not read
    n_ok = ns < N
    row_ok = rows < B
    state = STATE + s * B * N
    acc = tl.zeros((BB, BN), dtype=tl.float32)
    for k0 in range(0, K, BK):
        ks = k0 + tl.arange(0, BK)
        wm = n_ok[:, None] & (ks < K)[None, :]
        within = ns[:, None] * K + ks[None, :]
        w = tl.load(W + s * N * K + within, mask=wm, other=0.0).to(tl.float32)
        if DENSE:  # a constexpr branch: the other one is not compiled
            j = ns[:, None] * 0 + ks[None, :]
        else:
            j = tl.load(IDX + s * IDX_STRIDE + within, mask=wm, other=0)
        m = row_ok[:, None, None] & wm[None, :, :]
        v = tl.load(state + rows[:, None, None] * N + j[None, :, :], mask=m, other=0.0)
        acc += tl.sum(v * w[None, :, :], axis=2)
    return acc


@triton.jit
def _step_tile(
    STATE, W, IDX, B, N, K, IDX_STRIDE,
    DENSE: tl.constexpr, BB: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr,
):  # fmt: skip
    # the tile of a per-step program (network, unit tile, row tile): its neighbour sums (BB, BN),
    # their flat offsets into an (S, B, N) tensor and the mask of the real rows and units
    s = tl.program_id(0)
    ns = tl.program_id(1) * BN + tl.arange(0, BN)
    rows = tl.program_id(2) * BB + tl.arange(0, BB)
    acc = _neighbour_sum(STATE, W, IDX, s, ns, rows, B, N, K, IDX_STRIDE, DENSE, BB, BN, BK)
    om = (rows < B)[:, None] & (ns < N)[None, :]
    return acc, s * B * N + rows[:, None] * N + ns[None, :], om


@triton.jit
def forward_step_kernel(
    X, HP, HN, RN, W, IDX, B, N, K, IDX_STRIDE, ALPHA,
    ACT: tl.constexpr, LEAKY: tl.constexpr, DENSE: tl.constexpr, BB: tl.constexpr,
    BN: tl.constexpr, BK: tl.constexpr,
):  # fmt: skip
    # one time step: HN = act(sum_k W[i, k] HP[IDX[i, k]] + X); X, HP, HN (S, B, N); W, IDX
    # (S, N, K). LEAKY: the rate r = act(...) into RN and HN = (1 - ALPHA) HP + ALPHA r.
    # Program (s, unit tile, row tile).
    acc, out, om = _step_tile(HP, W, IDX, B, N, K, IDX_STRIDE, DENSE, BB, BN, BK)
    x = tl.load(X + out, mask=om, other=0.0)
    rate = _act(acc + x, ACT)
    if LEAKY:
        tl.store(RN + out, rate, mask=om)
        hp = tl.load(HP + out, mask=om, other=0.0)
        tl.store(HN + out, (1.0 - ALPHA) * hp + ALPHA * rate, mask=om)
    else:
        tl.store(HN + out, rate, mask=om)


@triton.jit
def backward_step_kernel(
    DN, G, H, OUT, GN, GO, WREV, RSRC, B, N, R, IDX_STRIDE, ALPHA,
    ACT: tl.constexpr, FIRST: tl.constexpr, LEAKY: tl.constexpr, DENSE: tl.constexpr,
    BB: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr,
):  # fmt: skip
    # one time step back: OUT[j] = (sum_r WREV[j, r] DN[RSRC[j, r]] + G[j]) * act'(H[j]), with
    # DN the grad of the next step's drive and (RSRC, WREV) the reversed graph: the units that
    # read unit j and the weights they read it with (0 on padding); FIRST: OUT = the sum alone
    # (the grad of h0). All (S, B, N); WREV (S, N, R); RSRC as IDX in _neighbour_sum.
    # LEAKY: the whole grad of this step's state, sum + G + (1 - ALPHA) GN (GN: the next
    # step's), goes into GO and OUT = ALPHA GO act'(H), H the rates; FIRST: sum + (1 - ALPHA) GN.
    acc, out, om = _step_tile(DN, WREV, RSRC, B, N, R, IDX_STRIDE, DENSE, BB, BN, BK)
    if LEAKY:
        acc += (1.0 - ALPHA) * tl.load(GN + out, mask=om, other=0.0)
    if FIRST:
        tl.store(OUT + out, acc, mask=om)
    else:
        g = tl.load(G + out, mask=om, other=0.0)
        h = tl.load(H + out, mask=om, other=0.0)
        if LEAKY:
            whole = acc + g
            tl.store(GO + out, whole, mask=om)
            tl.store(OUT + out, ALPHA * whole * _act_grad(h, ACT), mask=om)
        else:
            tl.store(OUT + out, (acc + g) * _act_grad(h, ACT), mask=om)


@triton.jit
def weight_grad_kernel(
    DX, HX, IDX, VALID, DW, T, S, B, N, K, IDX_STRIDE,
    BB: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr,
):  # fmt: skip
    # DW[s, i, k] = sum_t sum_b DX[t, s, b, i] * HX[t, s, b, IDX[s, i, k]]; IDX and VALID of
    # network s at s * IDX_STRIDE
    s = tl.program_id(0)
    ns = tl.program_id(1) * BN + tl.arange(0, BN)
    n_ok = ns < N
    step = S * B * N
    for k0 in range(0, K, BK):
        ks = k0 + tl.arange(0, BK)
        wm = n_ok[:, None] & (ks < K)[None, :]
        within = ns[:, None] * K + ks[None, :]
        j = tl.load(IDX + s * IDX_STRIDE + within, mask=wm, other=0)
        ok = tl.load(VALID + s * IDX_STRIDE + within, mask=wm, other=0) != 0
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
        tl.store(DW + s * N * K + within, acc, mask=wm)
