"""Locality-masked RNNs, their recurrence back-ends, ensembles and parameter counts.

Depends on :mod:`lmrnn.graphs`. Build a network with ``build_model(ModelConfig(...))``, many
seeds of one with ``EnsembleRNN(config, seeds)``.
"""

from lmrnn.models.activations import ACTIVATIONS
from lmrnn.models.backends import BACKENDS, choose_backend
from lmrnn.models.config import GRAPH_KINDS, ModelConfig, build_graph
from lmrnn.models.counts import (
    PAPER_ROWS,
    ParameterCount,
    count_model,
    count_parameters,
    n_inputs,
    paper_table,
)
from lmrnn.models.ensemble import EnsembleRNN, clip_grad_norm_per_seed_
from lmrnn.models.init import init_parameters
from lmrnn.models.rnn import MaskedRNN


def build_model(config: ModelConfig) -> MaskedRNN:
    """One network from its config."""
    return MaskedRNN(config)


def extract_seed(ensemble: EnsembleRNN, index: int) -> MaskedRNN:
    """Seed ``ensemble.seeds[index]`` as a standalone network (a copy)."""
    return ensemble.extract(index)


__all__ = [
    "ACTIVATIONS",
    "BACKENDS",
    "GRAPH_KINDS",
    "PAPER_ROWS",
    "EnsembleRNN",
    "MaskedRNN",
    "ModelConfig",
    "ParameterCount",
    "build_graph",
    "build_model",
    "choose_backend",
    "clip_grad_norm_per_seed_",
    "count_model",
    "count_parameters",
    "extract_seed",
    "init_parameters",
    "n_inputs",
    "paper_table",
]
