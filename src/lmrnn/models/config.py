"""The small config a model is built from, and the graph it names.

A config says which graph (``graph``) on how many units (``n`` for an n×n lattice, or
``n_units``), its radius ``d``, the activation, input and output sizes, the seed and the
recurrence back-end. Unknown keys and bad values are refused before anything is built.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lmrnn.errors import LmrnnError, check_choice, did_you_mean
from lmrnn.graphs import (
    Graph,
    autapse,
    dense,
    erdos_renyi,
    from_adjacency,
    locality,
    locality_degree,
    small_world,
)
from lmrnn.graphs.checks import check_int, check_no_wrap, check_radius
from lmrnn.models.activations import check_activation
from lmrnn.models.backends import BACKENDS

GRAPH_KINDS = (
    "locality",
    "erdos_renyi",
    "small_world",
    "autapse",
    "frozen_autapse",
    "dense",
    "custom",
)


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to build a :class:`~lmrnn.models.rnn.MaskedRNN`.

    graph: one of :data:`GRAPH_KINDS`. ``frozen_autapse`` is the autapse pool with W = I,
        not trained (paper Fig 3i).
    n: lattice side (N = n²); needed by locality and small_world. n_units: N, for graphs
        without a lattice (dense, autapse, erdos_renyi, custom); give one of n, n_units.
    d: locality radius in lattice spacings (locality; erdos_renyi's in-degree defaults to
        the locality mask's at this d; small_world's total edges default to its edge count).
        For locality and small_world, d and local_radius must not wrap the torus
        (2⌊d⌋ + 1 <= n, :func:`~lmrnn.graphs.checks.check_no_wrap`); a wrapped mask can be
        given as a custom adjacency.
    in_degree: erdos_renyi in-degree (self-edge included). total_edges, local_radius:
        small_world. adjacency: the (N, N) 0/1 array of a custom graph.
    activation: relu (default), tanh or softplus. n_in, n_out: input and output sizes
        (53 and 17 for the 20 tasks). seed: weights; graph_seed: random graphs (default seed).
    backend: auto, dense, batched, banded, cudnn, fused, fused-bf16 or sparse (see
        :mod:`lmrnn.models.backends`). noise_std: std of Gaussian noise added to every unit's
        pre-activation at every step in training mode (times sqrt(2 / alpha) for leaky units,
        as Yang et al. 2019: then it is the σ of the continuous-time model). gain: g of the
        recurrent init (see :mod:`lmrnn.models.init`). train_h0: learn the initial state.
    alpha: dt / tau of leaky units, h <- (1 - alpha) h + alpha φ(W h + W_in u + b); 1 (the
        default) is the paper's model, h <- φ(...).
    excitatory: Dale's law with this fraction of excitatory units (0.8 is the usual choice):
        every outgoing weight of a unit has its sign (see :mod:`lmrnn.models.init`); None
        (the default) leaves signs free.
    """

    graph: str = "locality"
    n: int | None = None
    n_units: int | None = None
    d: float = 0.0
    in_degree: int | None = None
    total_edges: int | None = None
    local_radius: float | None = None
    adjacency: Any = dataclasses.field(default=None, compare=False)
    activation: str = "relu"
    n_in: int = 53
    n_out: int = 17
    seed: int = 0
    graph_seed: int | None = None
    backend: str = "auto"
    noise_std: float = 0.0
    gain: float = 1.0
    train_h0: bool = False
    alpha: float = 1.0
    excitatory: float | None = None

    def __post_init__(self) -> None:
        check_choice("graph kind", self.graph, GRAPH_KINDS)
        check_activation(self.activation)
        check_choice("back-end", self.backend, BACKENDS)
        check_radius("locality radius d", self.d)
        for name in ("n_in", "n_out"):
            check_int(name, getattr(self, name))
        for name in ("seed", "graph_seed"):
            if getattr(self, name) is not None:
                check_int(name, getattr(self, name), minimum=0)
        check_radius("noise_std", self.noise_std)
        if not (math.isfinite(self.gain) and self.gain > 0):
            raise LmrnnError(f"gain must be a finite number > 0, got {self.gain!r}.")
        alpha_ok = isinstance(self.alpha, (int, float)) and not isinstance(self.alpha, bool)
        if not (alpha_ok and math.isfinite(self.alpha) and 0 < self.alpha <= 1):
            raise LmrnnError(
                f"alpha (dt / tau) must be in (0, 1], got {self.alpha!r}; tau must be at least dt."
            )
        if self.excitatory is not None:
            fraction_ok = isinstance(self.excitatory, (int, float)) and not isinstance(
                self.excitatory, bool
            )
            if not (fraction_ok and 0 < self.excitatory <= 1):
                raise LmrnnError(
                    f"the excitatory fraction must be in (0, 1] (0.8 is the usual one), got "
                    f"{self.excitatory!r}."
                )
            if self.graph in ("autapse", "frozen_autapse"):
                raise LmrnnError(
                    f"Dale's law fixes the sign of a unit's outgoing weights, and a {self.graph} "
                    "pool's units project only to themselves; use it with a connected graph."
                )
        self._check_size()

    def _check_size(self) -> None:
        if self.graph == "custom":
            if self.adjacency is None:
                raise LmrnnError(
                    "graph 'custom' needs an adjacency: an (N, N) 0/1 array, given from Python "
                    "(ModelConfig(graph='custom', adjacency=A)); the command line cannot pass one."
                )
            if self.n is not None:
                check_int("lattice side n", self.n)
            return
        if self.n is None and self.n_units is None:
            raise LmrnnError(
                f"graph {self.graph!r} needs a size: give n (lattice side) or n_units."
            )
        if self.n is not None:
            check_int("lattice side n", self.n)
        if self.n_units is not None:
            check_int("number of units n_units", self.n_units)
        if self.n is not None and self.n_units is not None and self.n**2 != self.n_units:
            raise LmrnnError(
                f"n = {self.n} puts {self.n**2} units on the lattice, but n_units = {self.n_units}."
            )
        if self.graph in ("locality", "small_world") and self.n is None:
            raise LmrnnError(f"graph {self.graph!r} lives on a lattice: give n (the side).")
        if self.graph == "small_world" and self.local_radius is None:
            raise LmrnnError("graph 'small_world' needs local_radius (0 = random, d = LM).")
        if self.graph == "locality":
            check_no_wrap(self.n, self.d)
        if self.graph == "small_world":  # as training: d sets the default total_edges
            check_no_wrap(self.n, max(self.d, check_radius("local_radius", self.local_radius)))

    @property
    def units(self) -> int:
        """N, the number of hidden units."""
        if self.graph == "custom":
            return len(self.adjacency)
        return self.n_units if self.n_units is not None else self.n**2

    @property
    def frozen(self) -> bool:
        """True for the frozen autapse pool: W = I, not trained."""
        return self.graph == "frozen_autapse"

    def replace(self, **changes: Any) -> ModelConfig:
        """A copy with some fields changed (checked like a new config)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any]) -> ModelConfig:
        """Build from a mapping, refusing unknown keys with the nearest valid name."""
        names = [f.name for f in dataclasses.fields(cls)]
        for key in mapping:
            if key not in names:
                raise LmrnnError(
                    f"unknown model config key {key!r}{did_you_mean(str(key), names)}; "
                    f"valid keys: {', '.join(names)}."
                )
        return cls(**mapping)


def build_graph(config: ModelConfig, seed: int | None = None) -> Graph:
    """The graph ``config`` names. ``seed`` (default: graph_seed, else seed) seeds random ones."""
    if seed is None:
        seed = config.graph_seed if config.graph_seed is not None else config.seed
    kind, n, units = config.graph, config.n, config.units
    if kind == "locality":
        return locality(n, config.d)
    if kind == "erdos_renyi":
        k = config.in_degree if config.in_degree is not None else locality_degree(config.d, n)
        return erdos_renyi(units, k, seed)
    if kind == "small_world":
        total = config.total_edges
        if total is None:
            total = units * locality_degree(config.d, n)
        return small_world(n, total, config.local_radius, seed)
    if kind in ("autapse", "frozen_autapse"):
        return Graph(autapse(units).adjacency, kind="autapse", lattice_n=n, d=0.0)
    if kind == "dense":
        return dense(units)
    return from_adjacency(config.adjacency, lattice_n=n)
