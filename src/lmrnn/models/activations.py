"""The nonlinearity φ of the RNN and its derivative written in terms of φ's output."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from lmrnn.errors import check_choice

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "softplus": F.softplus,
}


def check_activation(name: str) -> str:
    """Return ``name`` if it is a known activation, else raise with the nearest names."""
    return check_choice("activation", name, ACTIVATIONS)


def activate_(name: str, x: torch.Tensor) -> torch.Tensor:
    """Apply φ to ``x`` in place (any shape) and return it."""
    if name == "relu":
        return x.relu_()
    if name == "tanh":
        return x.tanh_()
    return x.copy_(F.softplus(x))


def derivative(name: str, h: torch.Tensor) -> torch.Tensor:
    """φ'(pre) computed from h = φ(pre), same shape as ``h``.

    relu: h > 0 as a bool mask (0 at the kink, as autograd does; multiplying by it needs
    no float copy); tanh: 1 - h²; softplus: sigmoid(pre) = 1 - exp(-h).
    """
    if name == "relu":
        return h > 0
    if name == "tanh":
        return 1 - h * h
    return -torch.expm1(-h)
