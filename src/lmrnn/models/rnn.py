"""The locality-masked vanilla RNN (paper eq. 1) for one network.

h_{t+1} = φ(W h_t + W_in u_t + b_h),  o_{t+1} = W_out h_{t+1} + b_o,  W = G ⊙ W always;
with leaky units (alpha = dt / tau < 1) h_{t+1} = (1 - alpha) h_t + alpha φ(...).

Time-major tensors: u (T, B, n_in) -> logits (T, B, n_out), hidden (T, B, N).
"""

from __future__ import annotations

import torch
from torch import nn

from lmrnn.errors import LmrnnError
from lmrnn.graphs import Graph
from lmrnn.models.backends import GraphShape, check_backend, choose_backend, run_recurrence
from lmrnn.models.backends.cudnn import fused_recurrence
from lmrnn.models.config import ModelConfig, build_graph
from lmrnn.models.init import init_parameters


def check_input(u: torch.Tensor, n_in: int, leading: tuple[int, ...] = (),
                dtype: torch.dtype | None = None) -> None:  # fmt: skip
    """Raise unless u is a float tensor of shape (*leading, T, B, n_in) (of ``dtype``, the
    model's, when given)."""
    ndim = len(leading) + 3
    if not torch.is_tensor(u) or not u.is_floating_point() or u.dim() != ndim:
        shape = tuple(u.shape) if torch.is_tensor(u) else type(u).__name__
        raise LmrnnError(f"inputs must be a float tensor (T, B, n_in), got {shape}.")
    if tuple(u.shape[: len(leading)]) != leading or u.shape[-1] != n_in:
        raise LmrnnError(
            f"inputs must have shape {(*leading, 'T', 'B', n_in)}, got {tuple(u.shape)}."
        )
    if dtype is not None and u.dtype != dtype:
        raise LmrnnError(
            f"inputs must be {str(dtype).replace('torch.', '')} like the model's weights, got "
            f"{str(u.dtype).replace('torch.', '')}; convert them (u.to({dtype})) or the model."
        )


class MaskedWeights:
    """Eq. 1's mask on ``weight_hh`` for networks holding ``weight_hh``, ``mask`` and
    ``config`` (one network: (N, N); an ensemble: (S, N, N))."""

    def recurrent_weight(self) -> torch.Tensor:
        """The masked recurrent weight G ⊙ W, W[..., i, j] from unit j to unit i (W = I,
        unmasked, for the frozen autapse pool)."""
        return self.weight_hh if self.config.frozen else self.weight_hh * self.mask

    @torch.no_grad()
    def apply_mask_(self) -> None:
        """W <- G ⊙ W in place, and with Dale's law each weight back to its sender's sign
        (a weight that crossed zero stays at zero: projected gradient descent, as PsychRNN and
        nn4n); call after each optimizer step."""
        self.weight_hh.mul_(self.mask)
        sign = getattr(self, "sign", None)
        if sign is not None:
            column = sign.unsqueeze(-2)  # (..., 1, N): the sign of each sender j
            self.weight_hh.mul_(column).clamp_(min=0).mul_(column)

    @property
    def leak_noise_scale(self) -> float:
        """The factor on ``noise_std`` per step: sqrt(2 / alpha) for leaky units (Yang et al.
        2019), 1 for the paper's model."""
        alpha = self.config.alpha
        return 1.0 if alpha == 1.0 else (2.0 / alpha) ** 0.5

    def _register_tensors(
        self, mask: torch.Tensor, tensors: dict[str, torch.Tensor], h0: torch.Tensor
    ) -> None:
        """Register ``mask`` as a buffer, ``tensors`` (from the init) as parameters save
        ``weight_hh`` of the frozen pool and Dale's ``sign`` (buffers), and ``h0`` (a parameter
        with ``train_h0``)."""
        self.register_buffer("mask", mask)
        for name, value in tensors.items():
            if name == "sign" or (name == "weight_hh" and self.config.frozen):
                self.register_buffer(name, value)
            else:
                setattr(self, name, nn.Parameter(value))
        if self.config.train_h0:
            self.h0 = nn.Parameter(h0)
        else:
            self.register_buffer("h0", h0)


class MaskedRNN(MaskedWeights, nn.Module):
    """A vanilla RNN whose recurrent weights live on a fixed graph G.

    Parameters (float32): ``weight_hh`` (N, N), zero off G (a buffer equal to I for the
    frozen autapse pool); ``weight_ih`` (N, n_in); ``bias_h`` (N,); ``weight_ho`` (n_out, N);
    ``bias_o`` (n_out,); ``h0`` (N,), a parameter only with ``train_h0``. Buffer ``mask``
    (N, N) bool holds G (``mask[i, j]``: unit j projects to unit i).

    The forward pass uses ``weight_hh * mask``, so the gradient of ``weight_hh`` is zero off
    G; call :meth:`apply_mask_` after every optimizer step as well (W <- G ⊙ W, eq. 1).
    """

    def __init__(self, config: ModelConfig, graph: Graph | None = None) -> None:
        super().__init__()
        self.config = config
        self.graph = graph if graph is not None else build_graph(config)
        self.shape = GraphShape.of([self.graph])
        check_backend(config.backend, self.shape, 1, config.activation, config.alpha)
        self.activation = config.activation
        self.noise_std = config.noise_std * self.leak_noise_scale
        p = init_parameters(self.graph, config.n_in, config.n_out, config.seed, config.gain,
                            config.frozen, config.excitatory)  # fmt: skip
        self._register_tensors(self.graph.adjacency.clone(), p, torch.zeros(self.graph.n_units))

    @property
    def n_units(self) -> int:
        return self.graph.n_units

    def backend_for(self, device: torch.device | str) -> str:
        """The back-end the forward pass runs on ``device``."""
        return choose_backend(self.config.backend, self.shape, device, 1, self.activation,
                              self.config.alpha)  # fmt: skip

    def forward(
        self, u: torch.Tensor, h0: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the network over a sequence.

        Args:
            u: (T, B, n_in) inputs, time-major.
            h0: (B, N) or (N,) state before the first step; default the model's ``h0``.

        Returns:
            logits (T, B, n_out) and hidden states (T, B, N), h_1..h_T.
        """
        check_input(u, self.config.n_in, dtype=self.weight_ih.dtype)
        batch = u.shape[1]
        if h0 is not None and tuple(h0.shape) not in ((self.n_units,), (batch, self.n_units)):
            raise LmrnnError(
                f"h0 must have shape ({self.n_units},) or ({batch}, {self.n_units}), "
                f"got {tuple(h0.shape)}."
            )
        # contiguous: a stride-0 (expanded) operand sends CPU matmuls down a slow path
        h = (self.h0 if h0 is None else h0).expand(batch, self.n_units).contiguous()
        weight = self.recurrent_weight()
        backend = self.backend_for(u.device)
        noisy = self.training and self.noise_std > 0
        if backend == "cudnn" and not noisy:
            hidden = fused_recurrence(
                u, h, self.weight_ih, self.bias_h, weight, self.activation, self.training
            )
        else:
            drive = nn.functional.linear(u, self.weight_ih, self.bias_h)  # (T, B, N)
            if noisy:
                drive = drive + self.noise_std * torch.randn_like(drive)
            if backend == "cudnn":  # noise enters as the input, through W_ih = I
                eye, zero = (
                    torch.eye(self.n_units, device=u.device),
                    self.bias_h.new_zeros(h.shape[1]),
                )
                hidden = fused_recurrence(drive, h, eye, zero, weight, self.activation, True)
            else:
                layout = self.shape.layout()
                hidden = run_recurrence(
                    backend, drive[:, None], h[None], weight[None], self.activation, layout,
                    self.mask, self.config.alpha,
                )[:, 0]  # fmt: skip
        return nn.functional.linear(hidden, self.weight_ho, self.bias_o), hidden
