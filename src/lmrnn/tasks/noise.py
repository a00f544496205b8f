"""Input noise of stream and trial batches, drawn before rendering.

The spec's noise is N(0, 1/dt) on the noisy ring units of every stimulus step (about 170k
normal draws per 64 x 350 Mod-Cog batch, on a CPU often the largest single cost of a batch).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from lmrnn.tasks import render_cpu
from lmrnn.tasks.collection import RING
from lmrnn.tasks.timing import PERIODS, STIM1, STIM2


class InputNoise:
    """The input noise of a layout of T x R steps, drawn before anything is rendered: N(0, 1/dt)
    on the noisy rings of every step in a stimulus period.

    Any block of rows can then be rendered with exactly the values a render of all rows gets.
    Sparse (default on a CPU, where drawing dominates): values only for the noisy (step, ring)
    pairs, ring 1's in time-major order, then ring 2's. Dense (default on a GPU: fixed shapes, no
    synchronisation): values for every step and ring, masked.
    """

    def __init__(
        self,
        noisy: torch.Tensor,
        seg: torch.Tensor,
        dt: int,
        gen: torch.Generator,
        sparse: bool | None = None,
        compiled: bool | None = None,
    ) -> None:
        """
        Args:
            noisy: (M, 2) 0/1, the rings of each trial that get noise in its stimulus periods.
            seg: (T, R) the segment of every step (``trial * 5 + period``).
            sparse: values only for the noisy steps (default on a CPU).
            compiled: sparse noise placed by :func:`lmrnn.tasks.render_cpu.noise_layout`
                (default where numba is available), which also gives each step its ``slots``.
        """
        self.sparse = seg.device.type == "cpu" if sparse is None else sparse
        if compiled is None:
            compiled = self.sparse and render_cpu.usable(seg.device)
        self.compiled = compiled
        sigma = 1.0 / math.sqrt(dt)
        in_stim, bit_values = _constants(seg.device)
        ring_bits = (noisy @ bit_values).to(torch.uint8)  # (M,) bit r set: ring r is noisy
        if compiled:
            self.bits, self.slots, self.counts = render_cpu.noise_layout(ring_bits, seg)
        else:
            per_segment = torch.outer(ring_bits, in_stim).view(-1)
            self.bits = per_segment.index_select(0, seg.reshape(-1)).view(seg.shape)  # (T, R)
        if self.sparse:
            if not compiled:
                by_bits = torch.bincount(self.bits.view(-1), minlength=4).tolist()  # bits 0..3
                self.counts = (by_bits[1] + by_bits[3], by_bits[2] + by_bits[3])  # per ring
            shape = (sum(self.counts), RING)
            self._by_block: dict[int, list] = {}
        else:
            shape = (*seg.shape, 2, RING)
        self.eps = torch.empty(shape, device=seg.device).normal_(0.0, sigma, generator=gen)

    def add_to(self, rings: torch.Tensor, rows: slice = slice(None)) -> None:
        """Add the noise of the columns ``rows`` of the layout (all of them, or a block of
        ``b`` columns starting at a multiple of ``b``) to ``rings`` (T * len(rows), 32), in
        place."""
        n_rows = self.bits.shape[1]
        first, stop, _ = rows.indices(n_rows)
        if not self.sparse:
            on = self.bits[:, first:stop].reshape(-1)
            mask = torch.stack([on & 1, on >> 1], 1).unsqueeze(-1)  # (S, ring, 1) 0/1
            eps = self.eps[:, first:stop].reshape(-1, 2, RING)
            rings.view(-1, 2, RING).addcmul_(eps, mask)
            return
        if stop - first == n_rows:
            parts = self._whole()
        else:
            size = stop - first
            parts = (blocks[first // size] for blocks in self._blocks(size))
        for r, (steps, eps) in enumerate(parts):
            ring = rings[:, r * RING : (r + 1) * RING]
            values = ring.index_select(0, steps)
            values += eps
            ring.index_copy_(0, steps, values)

    @functools.cached_property
    def steps(self) -> list[torch.Tensor]:
        """Per ring: the noisy steps of the layout, indices into its T x R steps, ascending."""
        return [flat_nonzero(self.bits.view(-1) & (1 << r)) for r in range(2)]

    def _whole(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per ring: the noisy steps of the whole layout (time-major) and their values."""
        return list(zip(self.steps, self.eps.split(self.counts), strict=True))

    def _blocks(self, size: int) -> list[list[tuple[torch.Tensor, torch.Tensor]]]:
        """Per ring, per block of ``size`` columns: the block's noisy steps (indices into its
        own T x size layout, ascending) and their values (computed once per size)."""
        if size not in self._by_block:
            n_rows = self.bits.shape[1]
            n_blocks = -(-n_rows // size)
            rings = []
            for steps, eps in self._whole():
                t, col = steps // n_rows, steps % n_rows
                block = col // size
                order = stable_order(block, n_blocks)  # each block's steps stay in time order
                local = (t * size + col % size).index_select(0, order)
                counts = torch.bincount(block, minlength=n_blocks).tolist()
                values = eps.index_select(0, order)
                rings.append(list(zip(local.split(counts), values.split(counts), strict=True)))
            self._by_block[size] = rings
        return self._by_block[size]


@functools.cache
def _constants(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(5,) uint8 1 in the stimulus periods; (2,) float32 the bit of each ring."""
    in_stim = torch.zeros(len(PERIODS), dtype=torch.uint8)
    in_stim[STIM1] = in_stim[STIM2] = 1
    return in_stim.to(device), torch.tensor([1.0, 2.0], device=device)


def stable_order(keys: torch.Tensor, n_keys: int) -> torch.Tensor:
    """The permutation that sorts ``keys`` (1-D, values in 0..n_keys-1), ties kept in order (on
    a CPU numpy's radix sort of 16-bit keys, 3x faster than torch's sort)."""
    if keys.device.type == "cpu" and n_keys <= np.iinfo(np.int16).max:
        return torch.from_numpy(np.argsort(keys.numpy().astype(np.int16), kind="stable"))
    return torch.sort(keys, stable=True).indices


def flat_nonzero(mask: torch.Tensor) -> torch.Tensor:
    """Indices of the non-zero entries of a 1-D tensor (on a CPU numpy's, on a bool array: 4x
    faster than torch's, and than numpy's on other types)."""
    if mask.device.type == "cpu":
        on = mask.numpy()
        return torch.from_numpy(np.flatnonzero(on if on.dtype == np.bool_ else on != 0))
    return mask.nonzero().squeeze(1)
