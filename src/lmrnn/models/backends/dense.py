"""``dense``: the reference recurrence, a masked dense matmul per step under autograd.

This is the paper's approach and the reference every other back-end is tested against.
"""

from __future__ import annotations

import torch

from lmrnn.models.activations import ACTIVATIONS


def dense_recurrence(
    drive: torch.Tensor, h0: torch.Tensor, weight: torch.Tensor, activation: str,
    alpha: float = 1.0,
) -> torch.Tensor:  # fmt: skip
    """h_t = φ(W h_{t-1} + x_t) for t = 1..T, for S stacked networks; with leaky units
    (``alpha`` = dt / tau < 1), h_t = (1 - alpha) h_{t-1} + alpha φ(W h_{t-1} + x_t).

    Args:
        drive: (T, S, B, N) input drive x_t = W_in u_t + b (+ noise), pre-activation units.
        h0: (S, B, N) state before the first step.
        weight: (S, N, N) masked recurrent weights, W[s, i, j] from unit j to unit i.
        activation: name of φ.
        alpha: the leak, in (0, 1].

    Returns:
        (T, S, B, N) hidden states h_1..h_T.
    """
    phi = ACTIVATIONS[activation]
    weight_t = weight.transpose(1, 2)
    h, states = h0, []
    # unbind, not drive[t]: indexing a tensor that needs a gradient builds a full-size zero
    # tensor per step in backward.
    for x in drive.unbind(0):
        if alpha == 1.0:
            h = phi(torch.baddbmm(x, h, weight_t))
        else:
            h = torch.lerp(h, phi(torch.baddbmm(x, h, weight_t)), alpha)
        states.append(h)
    return torch.stack(states)
