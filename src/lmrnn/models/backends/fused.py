"""``fused``: the sparse recurrence of S networks in Triton kernels, one launch per time step.

The graph is held in a padded neighbour format: unit i of network s reads the K units
``idx[s, i, :]`` with weights ``w[s, i, :]`` (``valid`` marks real edges; padding has weight 0).
Locality, Erdős–Rényi and small-world graphs all fit it, with K the largest in-degree.

* forward: per time step one launch over (network, tile of units, tile of batch rows):
  h_{t+1} = φ(Σ_k w[i, k] h_t[idx[i, k]] + x_t[i]), every unit of every network in parallel
  (leaky units: h_{t+1} = (1 - alpha) h_t + alpha φ(...), the rates kept for the backward);
  the weights (1.1 MB per LM(50x50, d=6) network) stay in the GPU's L2 cache between steps.
* backward: the same per step backwards in time, reading the reversed graph (for every unit j,
  the (i, k) that read it) so that no atomics are needed; then one kernel forms the weight
  gradient dW[i, k] = Σ_t Σ_b δ_t[b, i] h_{t-1}[b, idx[i, k]] in the neighbour format.

A step needs all of the previous step's units, so the time loop runs on the host: the kernel
launches order the steps. Drive x = W_in u + b and the read-out stay as large batched matmuls
outside (in the model). Runs on CUDA; on the CPU only under ``TRITON_INTERPRET=1`` (slow; for
the tests).
"""

from __future__ import annotations

import os

import torch

from lmrnn.errors import LmrnnError

ACTIVATIONS = ("relu", "tanh")


def available(device: torch.device | str) -> bool:
    """True when the fused kernels can run on ``device``."""
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    kind = torch.device(device).type
    return kind == "cuda" or (kind == "cpu" and os.environ.get("TRITON_INTERPRET") == "1")


def neighbour_format(adjacency: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded neighbour lists of S graphs.

    Args:
        adjacency: (S, N, N) bool, ``[s, i, j]``: unit j feeds unit i.

    Returns:
        idx (S, N, K) int64 source units (0 on padding) and valid (S, N, K) bool, K the
        largest in-degree over all units and networks (sources in increasing order).
    """
    S, N, _ = adjacency.shape
    degree = adjacency.sum(-1)  # (S, N)
    K = max(int(degree.max()), 1)
    s, i, j = adjacency.nonzero(as_tuple=True)  # row-major: sorted by (s, i, j)
    slot = torch.arange(s.numel(), device=adjacency.device) - (
        torch.cumsum(degree.reshape(-1), 0) - degree.reshape(-1)
    ).repeat_interleave(degree.reshape(-1))
    idx = torch.zeros(S, N, K, dtype=torch.long, device=adjacency.device)
    valid = torch.zeros(S, N, K, dtype=torch.bool, device=adjacency.device)
    idx[s, i, slot] = j
    valid[s, i, slot] = True
    return idx, valid


def reverse_format(idx: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For every unit j, the edges that read it.

    Returns:
        rsrc (S, N, R) int32: the reading unit i (0 on padding); rpos (S, N, R) int32: the
        flat position i * K + k of that edge in ``w[s]`` (-1 on padding); R the largest
        out-degree.
    """
    S, N, K = idx.shape
    flat_valid = valid.reshape(S, -1)
    s, e = flat_valid.nonzero(as_tuple=True)  # e = i * K + k
    j = idx.reshape(S, -1)[s, e]
    key = s * N + j
    order = torch.argsort(key, stable=True)
    s, e, key = s[order], e[order], key[order]
    counts = torch.bincount(key, minlength=S * N)
    R = max(int(counts.max()), 1)
    slot = torch.arange(key.numel(), device=idx.device) - (
        torch.cumsum(counts, 0) - counts
    ).repeat_interleave(counts)
    rsrc = torch.zeros(S * N, R, dtype=torch.int32, device=idx.device)
    rpos = torch.full((S * N, R), -1, dtype=torch.int32, device=idx.device)
    rsrc[key, slot] = (e // K).to(torch.int32)
    rpos[key, slot] = e.to(torch.int32)
    return rsrc.view(S, N, R), rpos.view(S, N, R)


def graph_format(mask: torch.Tensor) -> tuple:
    """(idx, valid, rsrc, rpos, dense) of the graphs ``mask`` ((S, N, N) or (N, N) bool):
    the neighbour and reversed formats, and whether every unit reads every unit (the kernels
    then skip the index loads). Where all S graphs are the same (locality, dense and autapse
    ensembles) the formats are those of one graph, (1, N, K) and (1, N, R), read by every
    network. Cached on the mask tensor itself until it changes."""
    cached = getattr(mask, "_lmrnn_fused_format", None)
    if cached is None or cached[0] != mask._version:
        masks = mask if mask.dim() == 3 else mask.unsqueeze(0)
        if bool((masks[1:] == masks[:1]).all()):
            masks = masks[:1]
        idx, valid = neighbour_format(masks)
        dense = idx.shape[-1] == idx.shape[1] and bool(valid.all())
        cached = (mask._version, (idx, valid, *reverse_format(idx, valid), dense))
        mask._lmrnn_fused_format = cached
    return cached[1]


def _kernels():
    from lmrnn.models.backends import _fused_kernels as k

    return k.forward_step_kernel, k.backward_step_kernel, k.weight_grad_kernel


TILES: dict[str, int] = {}
"""Overrides of the step kernels' tile sizes and warps (``BN``, ``BK``, ``num_warps``), for
benchmarks that sweep them; empty: the defaults of :func:`step_tiles`."""


def step_tiles(batch: int) -> dict[str, int]:
    """Tile sizes of the per-step kernels at ``batch`` rows: ``BB`` batch rows (the power of two
    at or above ``batch``, at most 8), ``BN`` units and ``BK`` neighbours per tile, and the
    warps per program.

    8 warps from 4 rows up: the (BB, BN, BK) gather tile spread over twice the threads halves
    the registers per thread (sm_90: 128 -> 64 at BB = 4, 230 -> 98 at BB = 8), so twice the
    warps are resident per SM to hide the gathers' latency (``benchmarks/fused_static.py``).
    """
    bb = 1
    while bb < min(batch, 8):
        bb *= 2
    return {"BB": bb, "BN": 32, "BK": 32, "num_warps": 8 if bb >= 4 else 4, **TILES}


def weight_grad_tiles(bb: int) -> dict[str, int]:
    """Tile sizes of the weight-gradient kernel (batch rows ``bb`` per inner step)."""
    return {"BB": bb, "BN": 32, "BK": 32, "num_warps": 4}


def _step_grid(S: int, B: int, N: int) -> tuple[tuple[int, int, int], dict[str, int]]:
    """The grid of a per-step launch, (network, unit tile, row tile), and its tile sizes."""
    tiles = step_tiles(B)
    return (S, -(-N // tiles["BN"]), -(-B // tiles["BB"])), tiles


def _idx_stride(idx: torch.Tensor) -> int:
    """How far apart the networks' index lists are: 0 where one graph serves all."""
    return 0 if idx.shape[0] == 1 else idx.shape[1] * idx.shape[2]


def _forward_pass(b: dict[str, torch.Tensor], act: int, dense: bool, alpha: float) -> None:
    """h_0 .. h_T into ``b["hx"]`` (T + 1, S, B, N) from ``b["h0"]``, ``b["drive"]`` (T, S, B,
    N) and the graph's ``b["w"]``, ``b["idx"]`` (S, N, K): one launch per step; leaky units
    (``alpha`` < 1) also write their rates r_1 .. r_T into ``b["rx"]`` (the shape of hx)."""
    forward_step = _kernels()[0]
    T, S, B, N = b["drive"].shape
    K = b["w"].shape[-1]
    grid, tiles = _step_grid(S, B, N)
    graph = (b["w"], b["idx"], B, N, K, _idx_stride(b["idx"]), alpha)
    hx = b["hx"]
    rx = b.get("rx", hx)
    hx[0].copy_(b["h0"])
    for t in range(T):
        forward_step[grid](b["drive"][t], hx[t], hx[t + 1], rx[t + 1], *graph, ACT=act,
                           LEAKY=alpha != 1.0, DENSE=dense, **tiles)  # fmt: skip


def _backward_pass(b: dict[str, torch.Tensor], act: int, dense: bool, alpha: float) -> None:
    """The grads of the drive, ``b["dx"][:T]``, and of h0, ``b["dh0"]``, from the grads of the
    hidden states ``b["grad_h"]`` (T, S, B, N), the states ``b["hx"]`` (T + 1, S, B, N) and the
    reversed graph ``b["rsrc"]``, ``b["w_rev"]`` (S, N, R). Leaky units (``alpha`` < 1) read
    the rates ``b["rx"]`` for φ' and carry the whole grad of each state, G_{t+1} in
    ``b["gx"][t]`` (T + 1, S, B, N; ``gx[T]`` = 0)."""
    backward_step = _kernels()[1]
    T, S, B, N = b["grad_h"].shape
    R = b["rsrc"].shape[-1]
    grid, tiles = _step_grid(S, B, N)
    leaky = alpha != 1.0
    dx, graph = b["dx"], (b["w_rev"], b["rsrc"], B, N, R, _idx_stride(b["rsrc"]), alpha)
    rates, gx = (b["rx"], b["gx"]) if leaky else (b["hx"], dx)
    dx[T].zero_()  # nothing flows back from after the last step
    gx[T].zero_()
    common = dict(ACT=act, LEAKY=leaky, DENSE=dense, **tiles)
    for t in reversed(range(T)):
        backward_step[grid](dx[t + 1], b["grad_h"][t], rates[t + 1], dx[t], gx[t + 1], gx[t],
                            *graph, FIRST=False, **common)  # fmt: skip
    backward_step[grid](dx[0], dx[0], dx[0], b["dh0"], gx[0], gx[0], *graph, FIRST=True,
                        **common)  # fmt: skip


def _reversed_weights(w: torch.Tensor, rpos: torch.Tensor) -> torch.Tensor:
    """(S, N, R): for every unit j, the weights with which the units that read it read it (0 on
    padding), gathered once per backward pass so that each step reads them in order."""
    S, N, K = w.shape
    flat = rpos.clamp(min=0).view(rpos.shape[0], -1).long().expand(S, -1)
    return w.reshape(S, N * K).gather(1, flat).view(S, N, -1) * (rpos >= 0)


def graphs_enabled() -> bool:
    """Whether each pass's launches are replayed from a CUDA graph (``LMRNN_FUSED_GRAPHS=1``;
    experimental: static buffers per shape are kept for the life of the process)."""
    return os.environ.get("LMRNN_FUSED_GRAPHS") == "1"


class _Replay:
    """A pass over static buffers, captured once and replayed per call: a CUDA graph on CUDA
    (the launches without their Python cost); elsewhere (Triton's interpreter, in the tests)
    the same launches run again, so that the buffer handling is tested there too."""

    def __init__(self, buffers: dict[str, torch.Tensor], run) -> None:
        self.buffers, self._run, self._graph = buffers, run, None
        if next(iter(buffers.values())).device.type == "cuda":
            run(buffers)  # compiles the kernels outside the capture
            torch.cuda.synchronize()
            self._graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self._graph):
                run(buffers)

    def __call__(self) -> dict[str, torch.Tensor]:
        if self._graph is None:
            self._run(self.buffers)
        else:
            self._graph.replay()
        return self.buffers


_REPLAYS: dict[tuple, _Replay] = {}


def _run_pass(
    key: tuple, run, inputs: dict[str, torch.Tensor], outputs: dict[str, tuple[int, ...]]
) -> dict[str, torch.Tensor]:
    """``run`` a pass over ``inputs`` into new float32 ``outputs`` (name: shape). With graphs
    enabled, over static buffers made on the first call of ``key`` and its input shapes,
    replayed on later ones (the inputs copied in, the outputs copied out)."""
    device = next(iter(inputs.values())).device
    if not graphs_enabled():
        made = {k: torch.empty(shape, device=device) for k, shape in outputs.items()}
        run({**inputs, **made})
        return made
    key = (
        *key,
        tuple(TILES.items()),
        device,
        *((k, tuple(v.shape), v.dtype) for k, v in inputs.items()),
    )
    if key not in _REPLAYS:
        buffers = {k: torch.zeros_like(v) for k, v in inputs.items()}
        buffers.update({k: torch.zeros(shape, device=device) for k, shape in outputs.items()})
        _REPLAYS[key] = _Replay(buffers, run)
    replay = _REPLAYS[key]
    for name, value in inputs.items():
        replay.buffers[name].copy_(value)
    done = replay()
    return {k: done[k].clone() for k in outputs}


class _FusedRecurrence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, drive, h0, w, idx, valid, rsrc, rpos, act, dense, bf16, alpha):
        T, S, B, N = drive.shape
        w = w.to(torch.bfloat16 if bf16 else torch.float32).contiguous()  # what the kernels read
        idx32 = idx.to(torch.int32).contiguous()
        inputs = {"drive": drive.contiguous(), "h0": h0, "w": w, "idx": idx32}
        outputs = {"hx": (T + 1, S, B, N)}
        if alpha != 1.0:
            outputs["rx"] = (T + 1, S, B, N)
        run = lambda b: _forward_pass(b, act, dense, alpha)  # noqa: E731
        made = _run_pass(("forward", act, dense, alpha), run, inputs, outputs)
        hx = made["hx"]
        ctx.save_for_backward(hx, made.get("rx", hx), w, idx32, valid, rsrc, rpos)
        ctx.act, ctx.dense, ctx.alpha = act, dense, alpha
        return hx[1:]

    @staticmethod
    def backward(ctx, grad_h):
        hx, rx, w, idx32, valid, rsrc, rpos = ctx.saved_tensors
        T, S, B, N = grad_h.shape
        act, dense, alpha = ctx.act, ctx.dense, ctx.alpha
        inputs = {"grad_h": grad_h.contiguous(), "hx": hx, "w_rev": _reversed_weights(w, rpos),
                  "rsrc": rsrc}  # fmt: skip
        outputs = {"dx": (T + 1, S, B, N), "dh0": (S, B, N)}
        if alpha != 1.0:
            inputs["rx"] = rx
            outputs["gx"] = (T + 1, S, B, N)
        run = lambda b: _backward_pass(b, act, dense, alpha)  # noqa: E731
        out = _run_pass(("backward", act, dense, alpha), run, inputs, outputs)
        dx = out["dx"]
        dw = torch.empty(w.shape, device=w.device, dtype=torch.float32)
        tiles = weight_grad_tiles(step_tiles(B)["BB"])
        _kernels()[2][(S, -(-N // tiles["BN"]))](
            dx,
            hx,
            idx32,
            valid.to(torch.int8),
            dw,
            T,
            S,
            B,
            N,
            w.shape[-1],
            _idx_stride(idx32),
            **tiles,
        )
        return dx[:T], out["dh0"], dw, None, None, None, None, None, None, None, None


def fused_sparse_recurrence(
    drive: torch.Tensor,
    h0: torch.Tensor,
    weight: torch.Tensor,
    graph: tuple,
    activation: str,
    bf16: bool = False,
    alpha: float = 1.0,
) -> torch.Tensor:
    """Hidden states (T, S, B, N) of S networks.

    Args:
        drive: (T, S, B, N) W_in u_t + b; h0: (S, B, N).
        weight: (S, N, N) masked recurrent weights (gradients flow back to it).
        graph: (idx, valid, rsrc, rpos, dense) from :func:`graph_format` of the masks.
        activation: relu or tanh.
        bf16: the kernels read the weights rounded to bfloat16 (sums and the gradient of
            ``weight`` stay float32).
        alpha: the leak of leaky units, h_{t+1} = (1 - alpha) h_t + alpha φ(...), in (0, 1].
    """
    if activation not in ACTIVATIONS:
        raise LmrnnError(
            f"back-end 'fused' supports activations relu and tanh, not {activation!r}."
        )
    idx, valid, rsrc, rpos, dense = graph
    w = weight.gather(2, idx.expand(weight.shape[0], -1, -1)) * valid  # (S, N, K)
    act = ACTIVATIONS.index(activation)
    return _FusedRecurrence.apply(drive, h0.contiguous(), w, idx, valid, rsrc, rpos, act, dense,
                                  bf16, float(alpha))  # fmt: skip
