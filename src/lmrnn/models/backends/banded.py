"""``banded``: the recurrence for lattice graphs whose edges span few lattice rows.

Units are numbered row by row on an n×n lattice, so unit (r, c) is unit r*n + c. When every
edge joins units at most b lattice rows apart (on the torus), row block r of W (the n
receiving units of lattice row r) is non-zero only in the w = min(2b + 1, n) column blocks
of rows r - b .. r + b (with wrap-around): W is block-banded. The band is gathered from the
dense masked weight at each forward, as ``band[s, r] = W[s, row r, rows r-b..r+b]``, shape
(n, w*n) per lattice row, so the dense (N, N) parameter and its gradient stay the interface.

Per step: the state is kept as (lattice row, column, batch) with the b rows before and after
copied around it (the torus wrap), so the w rows around every lattice row are one strided
view, and the step is one batched product for all S networks together:
(S*(n + w - 1), n, w*n) x (S*(n + w - 1), w*n, B), less w - 1 rows (see ``_BandedRNN``).
A locality mask with 2d + 1 <= n has b = d; with 2d + 1 > n every row is a neighbour and
each row is taken once (w = n), so every pair of units is counted exactly once.

Graphs with only self-edges (autapse pools) take an elementwise path: h = φ(w ⊙ h + x).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from lmrnn.errors import LmrnnError
from lmrnn.models.activations import ACTIVATIONS, activate_, derivative


@dataclass(frozen=True)
class BandLayout:
    """Where the non-zero blocks of W lie.

    n: lattice rows (and units per row), N = n². lo: offset of the first neighbour row
    (-b, or -(n // 2) when every row is a neighbour). width: neighbour rows w, each once.
    diagonal: the graph has only self-edges.
    """

    n: int
    lo: int
    width: int
    diagonal: bool = False

    @property
    def pad_before(self) -> int:
        return -self.lo

    @property
    def pad_after(self) -> int:
        return self.width - 1 + self.lo


def band_layout(n: int, bandwidth: int, diagonal: bool = False) -> BandLayout:
    """Layout for an n×n lattice whose edges span at most ``bandwidth`` rows."""
    if 2 * bandwidth + 1 <= n:
        return BandLayout(n, -bandwidth, 2 * bandwidth + 1, diagonal)
    return BandLayout(n, -(n // 2), n, diagonal)


def neighbour_rows(layout: BandLayout, device: torch.device) -> torch.Tensor:
    """(n, w) int64: lattice rows (r + lo + k) mod n, k = 0..w-1, for each lattice row r."""
    r = torch.arange(layout.n, device=device)
    k = torch.arange(layout.width, device=device)
    return (r[:, None] + layout.lo + k[None, :]) % layout.n


@functools.lru_cache(maxsize=16)
def _band_index(layout: BandLayout, device: torch.device) -> torch.Tensor:
    """Flat (i*N + j) positions of the band entries in an (N, N) matrix, in band order."""
    n, w = layout.n, layout.width
    cols = torch.arange(n, device=device)
    rows = neighbour_rows(layout, device)  # (n, w)
    receiver = torch.arange(n * n, device=device).view(n, n, 1, 1)  # (row r, col c)
    sender = rows.view(n, 1, w, 1) * n + cols.view(1, 1, 1, n)  # (r, -, k, c')
    return (receiver * (n * n) + sender).reshape(-1)


def gather_band(weight: torch.Tensor, layout: BandLayout) -> torch.Tensor:
    """The band of (S, N, N) weights: (S, n, n, w*n), band[s, r, c, k*n + c'] =
    W[s, r*n + c, ((r + lo + k) mod n)*n + c']. Differentiable; index_select's backward
    (index_add) is deterministic on CPU and CUDA."""
    s, n = weight.shape[0], layout.n
    index = _band_index(layout, weight.device)
    return weight.reshape(s, -1).index_select(1, index).view(s, n, n, layout.width * n)


def _windows(padded: torch.Tensor, layout: BandLayout, count: int) -> torch.Tensor:
    """(count, w*n, B) overlapping view of padded rows (…, n, B): window j = rows j..j+w-1."""
    n, batch = layout.n, padded.shape[-1]
    return padded.as_strided((count, layout.width * n, batch), (n * batch, batch, 1))


def _wrap_(padded: torch.Tensor, layout: BandLayout) -> None:
    """Fill the pad rows of (S, n + w - 1, n, B) from the lattice rows they copy."""
    n, pb, pa = layout.n, layout.pad_before, layout.pad_after
    if pb:
        padded[:, :pb] = padded[:, n : n + pb]
    if pa:
        padded[:, pb + n :] = padded[:, pb : pb + pa]


class _BandedRNN(torch.autograd.Function):
    """All S networks advance with one batched product per step.

    Each network's padded state has R = n + w - 1 rows; stacking the S networks gives
    S*R rows, and window j (rows j..j+w-1) for j < J = S*R - (w-1) is one strided view.
    Windows that start in a network's last w - 1 rows straddle two networks: their band
    rows are zero (``band`` is padded with w - 1 zero rows per network) and their outputs
    are never read, so each step is bmm((J, n, w*n), (J, w*n, B)).
    """

    @staticmethod
    def forward(ctx, drive, h0, band, activation, layout):
        # drive (T, S, n, n, B), h0 (S, n, n, B), band (S, n, n, w*n)
        steps, n_seeds, n, batch = drive.shape[0], drive.shape[1], layout.n, drive.shape[-1]
        pb, rows = layout.pad_before, n + layout.width - 1
        count = n_seeds * rows - (layout.width - 1)
        band_ext = torch.nn.functional.pad(band, (0, 0, 0, 0, 0, rows - n))
        band_ext = band_ext.view(n_seeds * rows, n, -1)[:count]
        padded = drive.new_empty(steps + 1, n_seeds, rows, n, batch)
        padded[0, :, pb : pb + n] = h0
        _wrap_(padded[0], layout)
        product = drive.new_empty(n_seeds, rows, n, batch)
        for t in range(steps):
            windows = _windows(padded[t], layout, count)
            torch.bmm(band_ext, windows, out=product.view(-1, n, batch)[:count])
            state = padded[t + 1, :, pb : pb + n]
            torch.add(product[:, :n], drive[t], out=state)
            activate_(activation, state)
            _wrap_(padded[t + 1], layout)
        ctx.save_for_backward(padded, band_ext)
        ctx.activation, ctx.layout = activation, layout
        return padded[1:, :, pb : pb + n]

    @staticmethod
    def backward(ctx, grad_states):
        padded, band_ext = ctx.saved_tensors
        layout, n, w = ctx.layout, ctx.layout.n, ctx.layout.width
        pb, rows, count = layout.pad_before, n + w - 1, band_ext.shape[0]
        steps, n_seeds, batch = grad_states.shape[0], grad_states.shape[1], grad_states.shape[-1]
        # window j, row k reads lattice row (r + k - pb) mod n of network s = j // R
        j = torch.arange(count, device=band_ext.device)[:, None]
        k = torch.arange(w, device=band_ext.device)[None, :]
        fold = ((j // rows) * n + (j % rows + k - pb) % n).flatten()
        # gradient of the pre-activations, with the junk rows of every network kept at 0
        pre_ext = grad_states.new_zeros(steps, n_seeds, rows, n, batch)
        grad_ext = torch.zeros_like(band_ext) if ctx.needs_input_grad[2] else None
        g = torch.zeros_like(grad_states[0])
        for t in range(steps - 1, -1, -1):
            g += grad_states[t]
            h = padded[t + 1, :, pb : pb + n]
            torch.mul(g, derivative(ctx.activation, h), out=pre_ext[t, :, :n])
            gp = pre_ext[t].view(-1, n, batch)[:count]
            if grad_ext is not None:
                grad_ext.baddbmm_(gp, _windows(padded[t], layout, count).transpose(1, 2))
            g_win = torch.bmm(band_ext.transpose(1, 2), gp)  # (J, w*n, B)
            g = grad_states.new_zeros(n_seeds * n, n, batch)
            g.index_add_(0, fold, g_win.view(count * w, n, batch))
            g = g.view(n_seeds, n, n, batch)
        grad_band = None
        if grad_ext is not None:
            full = grad_ext.new_zeros(n_seeds * rows, n, w * n)
            full[:count] = grad_ext
            grad_band = full.view(n_seeds, rows, n, w * n)[:, :n]
        return pre_ext[:, :, :n], g, grad_band, None, None


def _diagonal_recurrence(drive, h0, weight, activation, alpha=1.0):
    phi = ACTIVATIONS[activation]
    gain = weight.diagonal(dim1=1, dim2=2)[:, None, :]  # (S, 1, N)
    h, states = h0, []
    for x in drive.unbind(0):
        if alpha == 1.0:
            h = phi(torch.addcmul(x, gain, h))
        else:
            h = torch.lerp(h, phi(torch.addcmul(x, gain, h)), alpha)
        states.append(h)
    return torch.stack(states)


def banded_recurrence(
    drive: torch.Tensor,
    h0: torch.Tensor,
    weight: torch.Tensor,
    activation: str,
    layout: BandLayout,
    alpha: float = 1.0,
) -> torch.Tensor:
    """Same contract as :func:`~lmrnn.models.backends.dense.dense_recurrence`.

    Args: drive (T, S, B, N); h0 (S, B, N); weight (S, N, N) masked, zero outside the band
    ``layout`` describes; alpha the leak (leaky units: autapse pools only, so far).
    Returns (T, S, B, N).
    """
    if layout.diagonal:
        return _diagonal_recurrence(drive, h0, weight, activation, alpha)
    if alpha != 1.0:
        raise LmrnnError("back-end 'banded' runs leaky units only on autapse pools.")
    steps, n_seeds, batch, n = drive.shape[0], drive.shape[1], drive.shape[2], layout.n
    # to (lattice row, column, batch) layout: (T, S, n, n, B)
    x = drive.reshape(steps, n_seeds, batch, n, n).permute(0, 1, 3, 4, 2).contiguous()
    h = h0.reshape(n_seeds, batch, n, n).permute(0, 2, 3, 1).contiguous()
    band = gather_band(weight, layout).contiguous()
    states = _BandedRNN.apply(x, h, band, activation, layout)  # (T, S, n, n, B)
    return states.permute(0, 1, 4, 2, 3).reshape(steps, n_seeds, batch, n * n)
