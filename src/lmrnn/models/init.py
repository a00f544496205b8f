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

Dale's law (``excitatory`` = f, the fraction of excitatory units): a seeded choice of round(f N)
units is excitatory (sign +1), the others inhibitory (-1); every weight a unit sends has its
sign (W[i, j] has the sign of unit j). Magnitudes are the unconstrained draws' |W|, scaled per
receiving unit i with n_E excitatory and n_I inhibitory senders by a_i (excitatory) and
b_i = a_i n_E / n_I (inhibitory): each row then sums to zero in expectation (no outlier
eigenvalue from the mean, however few neighbours a sparse mask gives), and
a_i = sqrt((n_E + n_I) / (n_E + n_E² / n_I)) keeps the row's second moment, so the spectral
radius stays in the unconstrained networks' range (tests: 0.6-1.6 times the unconstrained
radius of the same graph, 0.4-1.1 in all, over locality, ER, small-world and dense graphs). A
unit without inhibitory senders keeps its excitatory draws as they are. The signs are drawn
after every other tensor, so a network with and without Dale's law starts from the same draws.

Input and output layers: PyTorch's ``nn.Linear`` default, U(±1/√fan_in) for weights and
biases (fan_in = n_in for W_in and the hidden bias, N for W_out and its bias).
"""

from __future__ import annotations

import torch

from lmrnn.graphs import Graph


def _uniform(shape: tuple[int, ...], bound: torch.Tensor | float, gen: torch.Generator):
    return (torch.rand(shape, generator=gen) * 2 - 1) * bound


def init_parameters(
    graph: Graph, n_in: int, n_out: int, seed: int, gain: float = 1.0, frozen: bool = False,
    excitatory: float | None = None,
) -> dict[str, torch.Tensor]:  # fmt: skip
    """Initial tensors of one network, float32 on the CPU.

    Returns a dict with weight_hh (N, N) (zero off the graph; I when ``frozen``),
    weight_ih (N, n_in), bias_h (N,), weight_ho (n_out, N), bias_o (n_out,); with Dale's law
    (``excitatory`` a fraction) also sign (N,), +1 for excitatory units and -1 for inhibitory.
    """
    gen = torch.Generator().manual_seed(seed)
    n = graph.n_units
    bound = gain / graph.in_degree.clamp(min=1).float().sqrt()
    weight_hh = _uniform((n, n), bound[:, None], gen) * graph.adjacency
    if frozen:
        weight_hh = torch.eye(n)
    out = {
        "weight_hh": weight_hh,
        "weight_ih": _uniform((n, n_in), n_in**-0.5, gen),
        "bias_h": _uniform((n,), n_in**-0.5, gen),
        "weight_ho": _uniform((n_out, n), n**-0.5, gen),
        "bias_o": _uniform((n_out,), n**-0.5, gen),
    }
    if excitatory is not None:
        sign = -torch.ones(n)
        sign[torch.randperm(n, generator=gen)[: round(excitatory * n)]] = 1.0
        edges = graph.adjacency.float()
        n_e = edges @ (sign > 0).float()  # (N,) excitatory senders of each unit
        n_i = edges.sum(1) - n_e
        a = torch.where(n_i > 0, (n_e + n_i) / (n_e + n_e**2 / n_i.clamp(min=1)), 1.0).sqrt()
        b = torch.where(n_i > 0, a * n_e / n_i.clamp(min=1), 1.0)
        scale = torch.where(sign[None, :] > 0, a[:, None], b[:, None])  # (N receiver, N sender)
        out["weight_hh"] = weight_hh.abs() * scale * sign[None, :]
        out["sign"] = sign
    return out
