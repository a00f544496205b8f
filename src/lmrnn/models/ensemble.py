"""Many seeds of one configuration trained together with stacked weights.

Every parameter of :class:`~lmrnn.models.rnn.MaskedRNN` gains a leading seed dimension S.
Seed s starts exactly as ``MaskedRNN(config.replace(seed=s))`` (its own random graph too,
unless ``graph_seed`` fixes one), and the forward pass of seed s only reads seed s's
weights. So with a total loss equal to the **sum** over seeds of each seed's own loss, the
gradient of seed s is the gradient it would get alone, and an elementwise optimizer (Adam,
SGD) keeps per-seed state for free: each seed trains as it would alone. Clip gradients
with :func:`clip_grad_norm_per_seed_`, not the global ``clip_grad_norm_``, which would
couple the seeds.

Recurrent noise is drawn from torch's global generator for all seeds at once, so noisy
runs are not draw-for-draw those of a lone seed (noise-free runs are, within float32).

Tensors: u (T, B, n_in) shared by all seeds or (S, T, B, n_in) -> logits (S, T, B, n_out),
hidden (S, T, B, N).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import nn

from lmrnn.errors import LmrnnError
from lmrnn.graphs.checks import check_int
from lmrnn.models.backends import (
    GraphShape,
    check_backend,
    choose_backend,
    run_recurrence,
    sparse,
)
from lmrnn.models.backends.cudnn import fused_recurrence
from lmrnn.models.config import ModelConfig, build_graph
from lmrnn.models.init import init_parameters
from lmrnn.models.rnn import MaskedRNN, MaskedWeights, check_input

RANDOM_GRAPHS = ("erdos_renyi", "small_world")


class EnsembleRNN(MaskedWeights, nn.Module):
    """S independently initialised :class:`MaskedRNN` of one config, run as one module.

    Parameters: weight_hh (S, N, N), weight_ih (S, N, n_in), bias_h (S, N),
    weight_ho (S, n_out, N), bias_o (S, n_out), h0 (S, N); buffer mask (S, N, N) bool.
    """

    def __init__(self, config: ModelConfig, seeds: Sequence[int]) -> None:
        super().__init__()
        self.seeds = [check_int("seed", s, minimum=0) for s in seeds]
        if not self.seeds:
            raise LmrnnError("an ensemble needs at least one seed, got an empty list.")
        if len(set(self.seeds)) != len(self.seeds):
            raise LmrnnError(f"seeds {self.seeds} repeat a seed; list each seed once.")
        self.config = config
        if config.graph in RANDOM_GRAPHS and config.graph_seed is None:
            self.graphs = [build_graph(config.replace(seed=s)) for s in self.seeds]
        else:  # one graph for every seed
            self.graphs = [build_graph(config)] * len(self.seeds)
        self.shape = GraphShape.of(self.graphs)
        check_backend(config.backend, self.shape, len(self.seeds), config.activation,
                      config.alpha)  # fmt: skip
        self.activation = config.activation
        self.noise_std = config.noise_std * self.leak_noise_scale
        inits = [
            init_parameters(
                g, config.n_in, config.n_out, s, config.gain, config.frozen, config.excitatory
            )
            for g, s in zip(self.graphs, self.seeds, strict=True)
        ]
        stacked = {k: torch.stack([p[k] for p in inits]) for k in inits[0]}
        mask = torch.stack([g.adjacency for g in self.graphs])
        self._register_tensors(mask, stacked, torch.zeros(len(self.seeds), self.n_units))

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)

    @property
    def n_units(self) -> int:
        return self.graphs[0].n_units

    def backend_for(self, device: torch.device | str) -> str:
        """The back-end the forward pass runs on ``device``."""
        return choose_backend(
            self.config.backend,
            self.shape,
            device,
            self.n_seeds,
            self.activation,
            self.config.alpha,
        )

    def forward(
        self, u: torch.Tensor, h0: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run every seed over a sequence.

        Args:
            u: (T, B, n_in) inputs shared by all seeds, or (S, T, B, n_in) per seed.
            h0: (S, B, N) or (S, N) initial states; default the model's ``h0``.

        Returns:
            logits (S, T, B, n_out) and hidden states (S, T, B, N).
        """
        shared = torch.is_tensor(u) and u.dim() == 3
        check_input(u, self.config.n_in, () if shared else (self.n_seeds,), self.weight_ih.dtype)
        batch = u.shape[-2]
        shapes = ((self.n_seeds, self.n_units), (self.n_seeds, batch, self.n_units))
        if h0 is not None and tuple(h0.shape) not in shapes:
            raise LmrnnError(
                f"h0 must have shape {shapes[0]} or {shapes[1]}, got {tuple(h0.shape)}."
            )
        h = self.h0[:, None, :] if h0 is None else (h0[:, None, :] if h0.dim() == 2 else h0)
        h = h.expand(self.n_seeds, batch, self.n_units).contiguous()  # see MaskedRNN.forward
        backend = self.backend_for(u.device)
        if backend == "cudnn":  # one seed on CUDA: the fused kernel, as a lone MaskedRNN runs
            return self._forward_fused(u if shared else u[0], h[0])
        drive = self._drive(u, shared)  # (T, S, B, N), laid out as (S, T, B, N)
        if self.training and self.noise_std > 0:
            noise = torch.randn(drive.shape, dtype=drive.dtype, device=drive.device)
            drive = drive + self.noise_std * noise
        layout = self.shape.layout()
        # the sparse back-end reads W on the graph only, where the mask is 1
        weight = self.weight_hh if backend == "sparse" else self.recurrent_weight()
        states = run_recurrence(backend, drive, h, weight, self.activation, layout, self.mask,
                                self.config.alpha)  # fmt: skip
        hidden = states.transpose(0, 1)  # (S, T, B, N)
        n_seeds, steps = hidden.shape[:2]
        flat = hidden.reshape(n_seeds, steps * batch, self.n_units)
        logits = torch.baddbmm(self.bias_o[:, None, :], flat, self.weight_ho.transpose(1, 2))
        return logits.view(n_seeds, steps, batch, -1), hidden

    def _drive(self, u: torch.Tensor, shared: bool) -> torch.Tensor:
        """W_in u + b_h of every seed: u (T, B, n_in) or (S, T, B, n_in) -> (T, S, B, N), a
        view of an (S, T, B, N) tensor. Inputs that are mostly zero (a one-hot rule, stimuli on
        part of a ring: Mod-Cog's rows hold about 10 non-zeros of 115) skip their zeros in a
        compiled loop on the CPU; the same sums in another order."""
        n_seeds, steps, batch = self.n_seeds, u.shape[-3], u.shape[-2]
        rows = u.reshape(-1 if not shared else 1, steps * batch, u.shape[-1])
        drive = sparse.sparse_input_drive(rows, self.weight_ih, self.bias_h)
        if drive is None:
            drive = torch.baddbmm(self.bias_h[:, None, :], rows.expand(n_seeds, -1, -1),
                                  self.weight_ih.transpose(1, 2))  # fmt: skip
        return drive.view(n_seeds, steps, batch, self.n_units).transpose(0, 1)

    def _forward_fused(self, u: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The single-seed cuDNN path: u (T, B, n_in), h (B, N) -> (1, T, B, ·) outputs."""
        weight = self.recurrent_weight()[0]
        if self.training and self.noise_std > 0:  # noise enters as the input, through W_ih = I
            drive = nn.functional.linear(u, self.weight_ih[0], self.bias_h[0])
            drive = drive + self.noise_std * torch.randn_like(drive)
            eye = torch.eye(self.n_units, device=u.device)
            zero = torch.zeros_like(self.bias_h[0])
            hidden = fused_recurrence(drive, h, eye, zero, weight, self.activation, True)
        else:
            hidden = fused_recurrence(
                u, h, self.weight_ih[0], self.bias_h[0], weight, self.activation, self.training
            )
        logits = nn.functional.linear(hidden, self.weight_ho[0], self.bias_o[0])
        return logits.unsqueeze(0), hidden.unsqueeze(0)

    def seed_state_dict(self, index: int) -> dict[str, torch.Tensor]:
        """State dict of seed ``seeds[index]`` alone, loadable into a :class:`MaskedRNN`."""
        if not 0 <= index < self.n_seeds:
            raise LmrnnError(f"seed index must be in 0..{self.n_seeds - 1}, got {index}.")
        return {k: v[index].detach().clone() for k, v in self.state_dict().items()}

    def extract(self, index: int) -> MaskedRNN:
        """Seed ``seeds[index]`` as a standalone :class:`MaskedRNN` (same device, copied)."""
        state = self.seed_state_dict(index)
        config = self.config.replace(seed=self.seeds[index])
        model = MaskedRNN(config, graph=self.graphs[index])
        model.load_state_dict(state)
        return model.to(self.weight_ih.device)


def clip_grad_norm_per_seed_(parameters: Iterable[torch.Tensor], max_norm: float) -> torch.Tensor:
    """Clip each seed's gradient to total norm ``max_norm``, like ``clip_grad_norm_`` alone.

    ``parameters`` are stacked (leading dimension S). Returns the (S,) norms before clipping.
    """
    params = [p for p in parameters if p.grad is not None]
    if not params:
        return torch.zeros(0)
    n_seeds = params[0].shape[0]
    norms = torch.stack([p.grad.reshape(n_seeds, -1).norm(dim=1) for p in params])
    total = norms.norm(dim=0)  # (S,)
    coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
    for p in params:
        p.grad.mul_(coef.view(n_seeds, *([1] * (p.dim() - 1))))
    return total
