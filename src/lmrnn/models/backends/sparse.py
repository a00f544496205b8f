"""``sparse``: the recurrence of S networks on graphs of fixed in-degree K, on the CPU.

Every unit reads exactly K units (locality masks, autapse pools, Erdős–Rényi graphs of the
project), so the graph is an (S or 1, N, K) list of each unit's presynaptic units, ``idx``, and
the weights an (S, N, K) array gathered from the dense masked weight (its gradient flows back
into the dense weight, exactly zero off the graph). A step costs S·B·N·K multiply-adds, not
S·B·N², in both directions:

* forward: h_t[s, b, i] = φ(Σ_k w[s, i, k] h_{t-1}[s, b, idx[i, k]] + x_t[s, b, i]);
* backward through time: δ_t = (∂L/∂h_t + W^T δ_{t+1}) ⊙ φ'(h_t), W^T read as a gather
  through the transposed graph (the edges that read each unit, built once per graph);
* weight gradient: dW[s, i, k] = Σ_t Σ_b δ_t[s, b, i] h_{t-1}[s, b, idx[i, k]], formed after
  the backward pass in the (S, N, K) format.

The loops are compiled code: C++ (``_sparse_kernels.cpp``, built with the machine's compiler
at first use and cached, see ``_sparse_cpp``; each neighbour read is one 4-wide vector load and
multiply-add), else numba's (``_sparse_kernels``, compiled on first use, cached on disk); both
give the dense reference's numbers within float32 rounding (:data:`LOOPS` picks one). Inside
them the batch rows sit in lanes of 4 (states (T + 1, S, C, N, 4), C = ceil(B / 4)), so that
each neighbour read feeds 4 rows; the (network, chunk of 4 rows) pairs are independent
recurrences, shared among as many threads as torch uses (``torch.set_num_threads``), with the
same numbers on any number of threads. Where neither can run (no compiler, and numba missing
or ``NUMBA_DISABLE_JIT=1``) the same passes run as torch operations, more slowly. Float32
throughout; CPU tensors only.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import torch

from lmrnn.errors import LmrnnError
from lmrnn.models.activations import activate_, derivative

ACTIVATIONS = ("relu", "tanh", "softplus")


@dataclass(frozen=True)
class SparseGraph:
    """The neighbour format of S graphs of in-degree K (G = S, or 1 when all are the same).

    idx (G, N, K) int64: each unit's presynaptic units in increasing order (torch's
    gathers); idx32: the same as int32 (the compiled loops). The transposed graph in CSR form:
    toff (G, N + 1) int32, the edges that read unit j are toff[g, j] .. toff[g, j + 1] - 1;
    tsrc (G, N·K) int32 each such edge's reading unit i; tpos (G, N·K) int64 its position
    i·K + k in the flattened (N, K) weights.
    """

    idx: torch.Tensor
    idx32: torch.Tensor
    toff: torch.Tensor
    tsrc: torch.Tensor
    tpos: torch.Tensor

    @property
    def in_degree(self) -> int:
        return self.idx.shape[-1]


def uniform_in_degree(mask: torch.Tensor) -> int | None:
    """K when every row of the (…, N, N) bool ``mask`` has K non-zeros, else None."""
    degree = mask.sum(-1)
    k = int(degree.reshape(-1)[0]) if degree.numel() else 0
    return k if bool((degree == k).all()) else None


def build_graph_format(mask: torch.Tensor) -> SparseGraph:
    """The :class:`SparseGraph` of ``mask`` ((S, N, N) or (N, N) bool, ``[s, i, j]``: unit j
    feeds unit i); one graph (G = 1) when all S are the same. Raises unless every unit of
    every graph has the same in-degree."""
    masks = mask if mask.dim() == 3 else mask.unsqueeze(0)
    masks = masks.to("cpu", torch.bool)
    if masks.shape[0] > 1 and bool((masks[1:] == masks[:1]).all()):
        masks = masks[:1]
    k = uniform_in_degree(masks)
    if k is None:
        raise LmrnnError(
            "back-end 'sparse' needs graphs whose units all have the same in-degree, which "
            "this graph lacks; use 'dense', 'batched' or 'banded'."
        )
    n_graphs, n_units = masks.shape[0], masks.shape[1]
    # row-major nonzero: sorted by (graph, receiving unit, sending unit)
    idx = masks.nonzero()[:, 2].view(n_graphs, n_units, k)
    flat = idx.reshape(n_graphs, -1)  # (G, N·K) sending unit j of edge e = i·K + k
    tpos = torch.argsort(flat, dim=1, stable=True)  # edges by sending unit, then i, k
    keys = flat + n_units * torch.arange(n_graphs)[:, None]
    counts = torch.zeros(n_graphs, n_units + 1, dtype=torch.long)
    counts[:, 1:] = torch.bincount(keys.reshape(-1), minlength=n_graphs * n_units).view(
        n_graphs, n_units
    )
    toff = counts.cumsum(1).to(torch.int32)
    tsrc = (tpos // max(k, 1)).to(torch.int32)
    return SparseGraph(idx, idx.to(torch.int32).contiguous(), toff, tsrc.contiguous(), tpos)


def graph_format(mask: torch.Tensor) -> SparseGraph:
    """:func:`build_graph_format` of ``mask``, cached on the mask tensor until it changes."""
    cached = getattr(mask, "_lmrnn_sparse_format", None)
    if cached is None or cached[0] != mask._version:
        cached = (mask._version, build_graph_format(mask))
        mask._lmrnn_sparse_format = cached
    return cached[1]


LOOPS: str | None = None
"""Which loops run the passes: ``cpp`` (``_sparse_kernels.cpp``, built at first use), ``numba``
(``_sparse_kernels``) or ``torch`` (torch operations, no compiled loops); None (the default):
the first of these that runs here. Also set by the environment variable ``LMRNN_SPARSE_LOOPS``.
For tests and benchmarks: the three give the same numbers within float32 rounding."""


@functools.lru_cache(maxsize=1)
def _numba_loops():
    """The numba kernels module, or None where numba is missing or its JIT is switched off."""
    try:
        from lmrnn.models.backends import _sparse_kernels
    except ImportError:  # pragma: no cover - numba is a dependency
        return None
    return _sparse_kernels if _sparse_kernels.AVAILABLE else None


def _compiled():
    """The module whose loops run the passes (see :data:`LOOPS`), or None for torch's."""
    choice = LOOPS or os.environ.get("LMRNN_SPARSE_LOOPS") or None
    if choice not in (None, "cpp", "numba", "torch"):
        raise LmrnnError(f"LMRNN_SPARSE_LOOPS must be cpp, numba or torch, got {choice!r}.")
    if choice == "torch":
        return None
    if choice in (None, "cpp"):
        from lmrnn.models.backends import _sparse_cpp

        if _sparse_cpp.load() is not None:
            return _sparse_cpp
        if choice == "cpp":
            raise LmrnnError(
                f"the sparse back-end's C++ loops cannot run here: {_sparse_cpp.REASON}; use "
                "numba's (LMRNN_SPARSE_LOOPS=numba)."
            )
    return _numba_loops()


def compiled_available() -> bool:
    """Whether compiled loops (C++ or numba) run the passes (else the torch fallback)."""
    return _compiled() is not None


def loops_in_use() -> str:
    """``cpp``, ``numba`` or ``torch``: what runs the passes here."""
    kernels = _compiled()
    if kernels is None:
        return "torch"
    return "cpp" if kernels.__name__.endswith("_sparse_cpp") else "numba"


# --- the torch fallback: the same passes as torch operations ---------------------------------


def _gather_neighbours(h: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """(S, B, N) states -> (S, B, N, K): h[s, b, idx[s or 0, i, k]]."""
    n_seeds, batch, _ = h.shape
    flat = idx.reshape(idx.shape[0], 1, -1).expand(n_seeds, batch, -1)
    return h.gather(2, flat).view(n_seeds, batch, *idx.shape[1:])


def _torch_forward(drive, h0, w, graph: SparseGraph, activation: str, alpha: float = 1.0):
    """States h_0..h_T (T + 1, S, B, N) and the rates φ(pre) (the states when alpha = 1)."""
    hx = drive.new_empty(drive.shape[0] + 1, *h0.shape)
    hx[0] = h0
    rx = hx if alpha == 1.0 else torch.empty_like(hx)
    for t in range(drive.shape[0]):
        pre = (_gather_neighbours(hx[t], graph.idx) * w[:, None]).sum(-1) + drive[t]
        rx[t + 1] = activate_(activation, pre)
        if alpha != 1.0:
            hx[t + 1] = torch.lerp(hx[t], rx[t + 1], alpha)
    return hx, rx


def _torch_backward(grad_h, hx, rx, w, graph: SparseGraph, activation: str, need_w: bool,
                    alpha: float = 1.0):  # fmt: skip
    steps, n_seeds, batch, _ = grad_h.shape
    dx = torch.empty_like(grad_h)
    index = graph.idx.reshape(graph.idx.shape[0], 1, -1).expand(n_seeds, batch, -1)
    carry = torch.zeros_like(grad_h[0])
    for t in range(steps - 1, -1, -1):
        if alpha == 1.0:
            dx[t] = (grad_h[t] + carry) * derivative(activation, hx[t + 1])
        else:
            carry = grad_h[t] + carry  # G_{t+1}, the whole gradient of h_{t+1}
            dx[t] = alpha * carry * derivative(activation, rx[t + 1])
        spread = (dx[t][..., None] * w[:, None]).reshape(n_seeds, batch, -1)
        through = torch.zeros_like(carry).scatter_add_(2, index, spread)
        carry = through if alpha == 1.0 else through + (1 - alpha) * carry
    dw = None
    if need_w:
        dw = torch.zeros_like(w)
        for t in range(steps):
            dw += (dx[t][..., None] * _gather_neighbours(hx[t], graph.idx)).sum(1)
    return dx, carry, dw


# --- the autograd function -------------------------------------------------------------------


def _np(tensor: torch.Tensor):
    """A NumPy view of a contiguous CPU tensor (what the compiled loops read and write)."""
    return tensor.detach().numpy()


def _act_code(activation: str) -> int:
    return ACTIVATIONS.index(activation)


SPLIT: str | None = None
"""How the compiled passes share their work among threads (``serial``, ``rows`` or ``steps``,
see ``_sparse_kernels``), for tests and benchmarks; None: chosen from the sizes."""


def _lanes(h: torch.Tensor, chunks: int) -> torch.Tensor:
    """(…, S, B, N) -> (…, S, C, N, 4): batch rows in lanes of 4, zero past the last row."""
    *lead, n_seeds, batch, n_units = h.shape
    pad = torch.nn.functional.pad(h, (0, 0, 0, 4 * chunks - batch))
    return pad.view(*lead, n_seeds, chunks, 4, n_units).transpose(-1, -2)


class _SparseRNN(torch.autograd.Function):
    @staticmethod
    def forward(ctx, drive, h0, w, graph, activation, alpha):
        kernels = _compiled()
        ctx.graph, ctx.activation, ctx.kernels = graph, activation, kernels
        ctx.alpha = alpha
        if kernels is None:
            hx, rx = _torch_forward(drive, h0, w, graph, activation, alpha)
            ctx.save_for_backward(hx, rx, w)
            return hx[1:]
        steps, n_seeds, batch, n_units = drive.shape
        chunks = -(-batch // 4)
        hx = drive.new_empty(steps + 1, n_seeds, chunks, n_units, 4)
        hx[0] = _lanes(h0, chunks)
        rx = hx if alpha == 1.0 else torch.zeros_like(hx)
        out = torch.empty_like(drive)
        if steps:
            kernels.forward(_np(drive), _np(w), _np(graph.idx32), _act_code(activation),
                            _np(hx), _np(out), torch.get_num_threads(), SPLIT, alpha,
                            _np(rx))  # fmt: skip
        ctx.save_for_backward(hx, rx, w)
        return out

    @staticmethod
    def backward(ctx, grad_h):
        hx, rx, w = ctx.saved_tensors
        graph, activation, need_w = ctx.graph, ctx.activation, ctx.needs_input_grad[2]
        alpha = ctx.alpha
        if 0 in grad_h.stride():  # an expanded gradient: the loops write no element twice
            grad_h = grad_h.contiguous()
        kernels = ctx.kernels
        if kernels is None:
            dx, dh0, dw = _torch_backward(grad_h, hx, rx, w, graph, activation, need_w, alpha)
            return dx, dh0, dw, None, None, None
        steps, n_seeds, batch, n_units = grad_h.shape
        if steps == 0:  # no step: nothing flows back
            dw = torch.zeros_like(w) if need_w else None
            return grad_h, grad_h.new_zeros(n_seeds, batch, n_units), dw, None, None, None
        threads = torch.get_num_threads()
        wt = w.reshape(n_seeds, -1).gather(1, graph.tpos.expand(n_seeds, -1)).contiguous()
        dl = torch.empty(steps, *hx.shape[1:])
        dx, dh0 = torch.empty_like(grad_h), grad_h.new_empty(n_seeds, batch, n_units)
        gh = None if alpha == 1.0 else _np(torch.empty_like(dl))
        kernels.backward(_np(grad_h), _np(hx), _np(wt), _np(graph.toff), _np(graph.tsrc),
                         _act_code(activation), _np(dl), _np(dx), _np(dh0), threads,
                         SPLIT, alpha, _np(rx), gh)  # fmt: skip
        dw = None
        if need_w:
            dw = torch.empty_like(w)
            kernels.weight_grad(_np(dl), _np(hx), _np(graph.idx32), _np(dw), threads)
        return dx, dh0, dw, None, None, None


def sparse_recurrence(
    drive: torch.Tensor,
    h0: torch.Tensor,
    weight: torch.Tensor,
    graph: SparseGraph,
    activation: str,
    alpha: float = 1.0,
) -> torch.Tensor:
    """Same contract as :func:`~lmrnn.models.backends.dense.dense_recurrence`.

    Args:
        drive: (T, S, B, N) float32 input drive, in any dense memory layout (the states and
            the drive's gradient come back in it); h0: (S, B, N) float32.
        weight: (S, N, N) float32 recurrent weights; only the graph's entries are read (and get
            gradients: exactly zero off the graph), so the mask need not be applied.
        graph: :func:`graph_format` of the graphs (the model's mask).
        activation: relu, tanh or softplus.
        alpha: the leak of leaky units, in (0, 1].

    Returns:
        (T, S, B, N) hidden states h_1..h_T.
    """
    for name, tensor in (("drive", drive), ("h0", h0), ("weight", weight)):
        if tensor.device.type != "cpu":
            raise LmrnnError(
                f"back-end 'sparse' runs on the CPU, but {name} is on {tensor.device}; "
                "use 'auto' there."
            )
        if tensor.dtype != torch.float32:
            raise LmrnnError(f"back-end 'sparse' needs float32 tensors, got {name} {tensor.dtype}.")
    if activation not in ACTIVATIONS:
        raise LmrnnError(
            f"back-end 'sparse' supports activations {', '.join(ACTIVATIONS)}, not {activation!r}."
        )
    n_seeds = weight.shape[0]
    w = weight.gather(2, graph.idx.expand(n_seeds, -1, -1))  # (S, N, K)
    if 0 in drive.stride():
        drive = drive.contiguous()
    # drive may be any dense layout, e.g. (S, T, B, N) in memory: the states come back in it
    return _SparseRNN.apply(drive, h0.contiguous(), w.contiguous(), graph, activation,
                            float(alpha))  # fmt: skip


# --- the input product of mostly-zero inputs ------------------------------------------------

SPARSE_INPUT_MAX_DENSITY = 0.25
"""Inputs with at most this fraction of non-zeros (counted in about 64 evenly spaced rows per
seed) run :func:`sparse_input_drive`'s compiled loop (Mod-Cog's 115 channels hold about 10
non-zeros per row: 0.09)."""


class _SparseInput(torch.autograd.Function):
    @staticmethod
    def forward(ctx, rows, weight_ih, bias, kernels):
        weight_t = weight_ih.detach().transpose(1, 2).contiguous()  # (S, I, N)
        out = rows.new_empty(weight_ih.shape[0], rows.shape[1], weight_ih.shape[1])
        kernels.input_forward(_np(rows), _np(weight_t), _np(bias.detach().contiguous()),
                              _np(out), torch.get_num_threads())  # fmt: skip
        ctx.save_for_backward(rows)
        ctx.kernels = kernels
        return out

    @staticmethod
    def backward(ctx, grad):
        (rows,) = ctx.saved_tensors
        grad = grad.contiguous()
        grad_w = None
        if ctx.needs_input_grad[1]:
            grad_wt = grad.new_empty(grad.shape[0], rows.shape[2], grad.shape[2])
            ctx.kernels.input_weight_grad(_np(rows), _np(grad), _np(grad_wt),
                                          torch.get_num_threads())  # fmt: skip
            grad_w = grad_wt.transpose(1, 2)
        grad_b = grad.sum(1) if ctx.needs_input_grad[2] else None
        return None, grad_w, grad_b, None


def sparse_input_drive(rows: torch.Tensor, weight_ih: torch.Tensor,
                       bias: torch.Tensor) -> torch.Tensor | None:  # fmt: skip
    """W_in u + b of every seed with the zeros of u skipped, or None where that does not pay
    or cannot run here (then use the dense product).

    Args:
        rows: (S or 1, R, n_in) inputs, one row per (time step, batch row); 1: shared by the
            seeds. weight_ih: (S, N, n_in); bias: (S, N). Float32 CPU tensors.

    Returns:
        (S, R, N), the same sums as ``torch.baddbmm`` in another order (float32 rounding apart),
        with gradients for ``weight_ih`` and ``bias``.
    """
    if rows.device.type != "cpu" or rows.dtype != torch.float32 or rows.requires_grad:
        return None
    kernels = _compiled()
    if kernels is None or not hasattr(kernels, "input_forward"):  # numba's loops have none
        return None
    sample = rows[:, :: max(1, rows.shape[1] // 64)]  # about 64 rows a seed: a density estimate
    if torch.count_nonzero(sample) > SPARSE_INPUT_MAX_DENSITY * sample.numel():
        return None
    return _SparseInput.apply(rows.contiguous(), weight_ih, bias, kernels)
