"""Initial weights, drawn from one seeded generator so a seed always gives the same network.

Recurrent weights: W_ij ~ U(-g/√K_i, g/√K_i) on the graph (zero elsewhere), K_i the
in-degree of unit i, g = ``gain`` = 1 by default. Each row then has total variance
K_i · g²/(3 K_i) = g²/3, so by the circular law the spectral radius is about g/√3 ≈ 0.58 for
dense rows and does not grow with N or d (sparse masks, whose rows are not independent, reach
up to ~1 at d = 1; tests check 0.45-1.1 for N = 100..2500, d = 1..6 and dense graphs), and every
unit receives the same recurrent input variance under every mask. For the dense graph
(K_i = N) this is exactly PyTorch's default for ``nn.RNN``/``nn.Linear``
(U(±1/√fan_in)), so the dense baseline starts as a standard PyTorch RNN; masking that
matrix instead would shrink the radius as √(K/N). With K = 1 (autapse pool) every weight
lies in (-g, g), so no unit starts unstable. The frozen autapse pool uses W = I.

Input and output layers: PyTorch's ``nn.Linear`` default, U(±1/√fan_in) for weights and
biases (fan_in = n_in for W_in and the hidden bias, N for W_out and its bias).
"""

from __future__ import annotations

import torch

from lmrnn.graphs import Graph


def _uniform(shape: tuple[int, ...], bound: torch.Tensor | float, gen: torch.Generator):
    return (torch.rand(shape, generator=gen) * 2 - 1) * bound


def init_parameters(
    graph: Graph, n_in: int, n_out: int, seed: int, gain: float = 1.0, frozen: bool = False
) -> dict[str, torch.Tensor]:
    """Initial tensors of one network, float32 on the CPU.

    Returns a dict with weight_hh (N, N) (zero off the graph; I when ``frozen``),
    weight_ih (N, n_in), bias_h (N,), weight_ho (n_out, N), bias_o (n_out,).
    """
    gen = torch.Generator().manual_seed(seed)
    n = graph.n_units
    bound = gain / graph.in_degree.clamp(min=1).float().sqrt()
    weight_hh = _uniform((n, n), bound[:, None], gen) * graph.adjacency
    if frozen:
        weight_hh = torch.eye(n)
    return {
        "weight_hh": weight_hh,
        "weight_ih": _uniform((n, n_in), n_in**-0.5, gen),
        "bias_h": _uniform((n,), n_in**-0.5, gen),
        "weight_ho": _uniform((n_out, n), n**-0.5, gen),
        "bias_o": _uniform((n_out,), n**-0.5, gen),
    }
