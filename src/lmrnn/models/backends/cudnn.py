"""``cudnn``: PyTorch's fused RNN kernel (cuDNN on CUDA) run with the masked weight.

One network only. ``torch._VF.rnn_relu`` / ``rnn_tanh`` compute
h_t = φ(W_ih u_t + b_ih + W_hh h_{t-1} + b_hh) over the whole sequence in one call; we pass
W_hh = G ⊙ W (recomputed each forward, so the gradient reaching W is masked) and
b_hh = 0. On CPU the same call runs ATen's reference kernel: correct, not fast, used in tests.

Notes: cuDNN has no softplus; it may use TF32 for float32 when
``torch.backends.cudnn.allow_tf32`` is True (PyTorch's default), which changes results in
the 4th significant digit; turn it off for bit-level comparisons with ``dense``.
"""

from __future__ import annotations

import warnings

import torch

FUSED_ACTIVATIONS = ("relu", "tanh")


def fused_recurrence(
    u: torch.Tensor,
    h0: torch.Tensor,
    weight_ih: torch.Tensor,
    bias: torch.Tensor,
    weight_hh: torch.Tensor,
    activation: str,
    training: bool,
) -> torch.Tensor:
    """h_t = φ(W_hh h_{t-1} + W_ih u_t + b) for one network through the fused RNN kernel.

    Args:
        u: (T, B, I) inputs, time-major.
        h0: (B, N) state before the first step.
        weight_ih: (N, I) input weights; bias: (N,) hidden bias.
        weight_hh: (N, N) masked recurrent weights.
        activation: "relu" or "tanh".
        training: passed to the kernel (it only matters for dropout, which is 0).

    Returns:
        (T, B, N) hidden states h_1..h_T.
    """
    kernel = torch._VF.rnn_relu if activation == "relu" else torch._VF.rnn_tanh
    params = [weight_ih, weight_hh.contiguous(), bias, torch.zeros_like(bias)]
    with warnings.catch_warnings():
        # The masked weight is a fresh tensor each call, so it is never part of a flattened
        # cuDNN weight buffer; the kernel copies it (N² floats), which PyTorch warns about.
        warnings.filterwarnings("ignore", message=".*contiguous chunk of memory.*")
        out, _ = kernel(
            u.contiguous(),
            h0.unsqueeze(0).contiguous(),
            params,
            True,
            1,
            0.0,
            training,
            False,
            False,
        )
    return out
