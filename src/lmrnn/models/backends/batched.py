"""``batched``: dense stacked weights with a hand-written backward through time.

Same arithmetic as ``dense``, but the backward pass runs one loop of (S, B, N) x (S, N, N)
products and forms the weight gradient once, as a single (N, T*B) x (T*B, N) product per
network, instead of accumulating an N x N gradient at every step. It is the ensemble's
back-end on CUDA and for graphs that are not banded.

Leaky units (alpha < 1) keep φ's outputs r_t beside the states, h_t = (1 - alpha) h_{t-1} +
alpha r_t, since φ'(pre) must come from r_t, not from h_t.
"""

from __future__ import annotations

import torch

from lmrnn.models.activations import activate_, derivative


class _BatchedRNN(torch.autograd.Function):
    @staticmethod
    def forward(ctx, drive, h0, weight, activation, alpha):
        steps = drive.shape[0]
        states = drive.new_empty((steps + 1, *h0.shape))  # (T+1, S, B, N)
        states[0] = h0
        rates = states if alpha == 1.0 else drive.new_empty(states.shape)  # φ(pre), r_1..r_T
        weight_t = weight.transpose(1, 2)
        for t in range(steps):
            torch.baddbmm(drive[t], states[t], weight_t, out=rates[t + 1])
            activate_(activation, rates[t + 1])
            if alpha != 1.0:
                torch.lerp(states[t], rates[t + 1], alpha, out=states[t + 1])
        ctx.save_for_backward(states, rates, weight)
        ctx.activation, ctx.alpha = activation, alpha
        return states[1:]

    @staticmethod
    def backward(ctx, grad_states):
        states, rates, weight = ctx.saved_tensors
        alpha = ctx.alpha
        steps, n_seeds, batch, n_units = grad_states.shape
        grad_pre = torch.empty_like(grad_states)  # (T, S, B, N)
        g = torch.zeros_like(states[0])
        for t in range(steps - 1, -1, -1):
            g = g + grad_states[t]
            torch.mul(g, derivative(ctx.activation, rates[t + 1]), out=grad_pre[t])
            if alpha == 1.0:
                g = torch.bmm(grad_pre[t], weight)
            else:
                grad_pre[t].mul_(alpha)
                g = torch.baddbmm(g, grad_pre[t], weight, beta=1.0 - alpha)
        grad_weight = None
        if ctx.needs_input_grad[2]:
            gp = grad_pre.transpose(0, 1).reshape(n_seeds, steps * batch, n_units)
            prev = states[:-1].transpose(0, 1).reshape(n_seeds, steps * batch, n_units)
            grad_weight = torch.bmm(gp.transpose(1, 2), prev)  # (S, N, N)
        return grad_pre, g, grad_weight, None, None


def batched_recurrence(
    drive: torch.Tensor, h0: torch.Tensor, weight: torch.Tensor, activation: str,
    alpha: float = 1.0,
) -> torch.Tensor:  # fmt: skip
    """Same contract as :func:`~lmrnn.models.backends.dense.dense_recurrence`.

    Args: drive (T, S, B, N); h0 (S, B, N); weight (S, N, N) masked; alpha the leak.
    Returns (T, S, B, N).
    """
    return _BatchedRNN.apply(drive.contiguous(), h0.contiguous(), weight.contiguous(),
                             activation, float(alpha))  # fmt: skip
