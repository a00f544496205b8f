"""Helpers shared by the analyses: one network out of an ensemble, its hidden states, JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lmrnn.errors import LmrnnError
from lmrnn.models import EnsembleRNN, MaskedRNN
from lmrnn.tasks import Collection, TrialBatch


def single_network(model: MaskedRNN | EnsembleRNN, seed_index: int = 0) -> MaskedRNN:
    """The network to analyse: ``model`` itself, or seed ``seed_index`` of an ensemble (a copy),
    in eval mode (no recurrent noise)."""
    if isinstance(model, EnsembleRNN):
        if isinstance(seed_index, bool) or not isinstance(seed_index, int):
            raise LmrnnError(f"seed index must be a whole number, got {seed_index!r}.")
        if not 0 <= seed_index < model.n_seeds:
            raise LmrnnError(
                f"seed index {seed_index} is out of range: the run has {model.n_seeds} seeds "
                f"({', '.join(map(str, model.seeds))}); use 0..{model.n_seeds - 1}."
            )
        return model.extract(seed_index).eval()
    if isinstance(model, MaskedRNN):
        return model.eval()
    raise LmrnnError(
        f"expected a MaskedRNN or an EnsembleRNN, got {type(model).__name__}; load a run with "
        "lmrnn.train.load_run."
    )


def check_fits(net: MaskedRNN, collection: Collection) -> None:
    """Raise unless the network's input size is the collection's (1 + 32 + n_tasks)."""
    if net.config.n_in != collection.n_inputs:
        raise LmrnnError(
            f"the network takes {net.config.n_in} inputs but the collection's trials have "
            f"{collection.n_inputs} ({collection.n_tasks} tasks); use the collection it was "
            "trained on."
        )


@torch.no_grad()
def run_trials(net: MaskedRNN, batch: TrialBatch) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (T, B, 17) and hidden states (T, B, N) of ``net`` on ``batch``."""
    device = net.weight_ih.device
    return net(batch.inputs.to(device))


def to_jsonable(value: Any) -> Any:
    """Numbers, arrays and tensors as plain JSON values (non-finite floats as strings)."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if torch.is_tensor(value):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else str(value)
    return value


def write_json(path: str | Path, numbers: Mapping[str, Any]) -> Path:
    """Write ``numbers`` as indented JSON and return the path."""
    path = Path(path)
    path.write_text(json.dumps(to_jsonable(numbers), indent=1) + "\n")
    return path
