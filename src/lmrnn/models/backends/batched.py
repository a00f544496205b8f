"""``batched``: dense stacked weights with a hand-written backward through time.

Same arithmetic as ``dense``, but the backward pass runs one loop of (S, B, N) x (S, N, N)
products and forms the weight gradient once, as a single (N, T*B) x (T*B, N) product per
network, instead of accumulating an N x N gradient at every step. It is the ensemble's
back-end on CUDA and for graphs that are not banded.
"""

from __future__ import annotations

import torch

from lmrnn.models.activations import activate_, derivative


class _BatchedRNN(torch.autograd.Function):
    @staticmethod
    def forward(ctx, drive, h0, weight, activation):
        steps = drive.shape[0]
        states = drive.new_empty((steps + 1, *h0.shape))  # (T+1, S, B, N)
        states[0] = h0
        weight_t = weight.transpose(1, 2)
        for t in range(steps):
            torch.baddbmm(drive[t], states[t], weight_t, out=states[t + 1])
            activate_(activation, states[t + 1])
        ctx.save_for_backward(states, weight)
        ctx.activation = activation
        return states[1:]

    @staticmethod
    def backward(ctx, grad_states):
        states, weight = ctx.saved_tensors
        steps, n_seeds, batch, n_units = grad_states.shape
        grad_pre = torch.empty_like(grad_states)  # (T, S, B, N)
        g = torch.zeros_like(states[0])
        for t in range(steps - 1, -1, -1):
            g = g + grad_states[t]
            torch.mul(g, derivative(ctx.activation, states[t + 1]), out=grad_pre[t])
            g = torch.bmm(grad_pre[t], weight)
        grad_weight = None
        if ctx.needs_input_grad[2]:
            gp = grad_pre.transpose(0, 1).reshape(n_seeds, steps * batch, n_units)
            prev = states[:-1].transpose(0, 1).reshape(n_seeds, steps * batch, n_units)
            grad_weight = torch.bmm(gp.transpose(1, 2), prev)  # (S, N, N)
        return grad_pre, g, grad_weight, None


def batched_recurrence(
    drive: torch.Tensor, h0: torch.Tensor, weight: torch.Tensor, activation: str
) -> torch.Tensor:
    """Same contract as :func:`~lmrnn.models.backends.dense.dense_recurrence`.

    Args: drive (T, S, B, N); h0 (S, B, N); weight (S, N, N) masked. Returns (T, S, B, N).
    """
    return _BatchedRNN.apply(drive.contiguous(), h0.contiguous(), weight.contiguous(), activation)
