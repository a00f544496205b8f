"""Helpers shared by the analyses: one network out of an ensemble (or a run folder), its hidden
states, the tasks asked for, JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lmrnn.errors import LmrnnError
from lmrnn.models import EnsembleRNN, MaskedRNN
from lmrnn.tasks import Collection, TrialBatch, get_collection
from lmrnn.train import load_run


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


#: What the analyses of a network take: a run folder, or a network (with its collection).
Source = str | Path | MaskedRNN | EnsembleRNN


@dataclass(frozen=True)
class Subject:
    """The one network an analysis looks at.

    Attributes:
        net: the network (eval mode; a copy when taken out of an ensemble).
        collection: the tasks it was trained on (its rule inputs).
        run: the run folder, or None for a network given directly.
        network_seed: the seed of its weights (the run's seed, or the model config's).
    """

    net: MaskedRNN
    collection: Collection
    run: str | None
    network_seed: int


def resolve(
    source: Source,
    collection: Collection | str | Sequence[str] | None = None,
    seed_index: int = 0,
) -> Subject:
    """The network of ``source`` (a run folder, a MaskedRNN or an EnsembleRNN; seed
    ``seed_index`` of an ensemble) and its collection: the run's own, or ``collection``, which a
    network given directly needs (its rule inputs have no names)."""
    run = None
    if isinstance(source, (str, Path)):
        config, model = load_run(source)
        coll = config.tasks() if collection is None else get_collection(collection)
        run = str(source)
    elif isinstance(source, (MaskedRNN, EnsembleRNN)):
        if collection is None:
            raise LmrnnError(
                "a network given directly needs its collection: pass collection=... (the tasks "
                "it was trained on, e.g. 'yang20'), or give the run folder instead."
            )
        model, coll = source, get_collection(collection)
    else:
        raise LmrnnError(
            f"expected a run folder or a network (MaskedRNN or EnsembleRNN), got "
            f"{type(source).__name__}."
        )
    net = single_network(model, seed_index)
    check_fits(net, coll)
    seed = model.seeds[seed_index] if isinstance(model, EnsembleRNN) else model.config.seed
    return Subject(net, coll, run, int(seed))


def select_tasks(collection: Collection, tasks: str | Sequence[str] | None) -> tuple[str, ...]:
    """Canonical names of ``tasks`` (one name, a list, or None: every task of the collection),
    each checked to be in ``collection`` (one sentence if not)."""
    if tasks is None:
        return collection.names
    names = [tasks] if isinstance(tasks, str) else list(tasks)
    if not names:
        raise LmrnnError("no task was asked for; name at least one, or pass None for all.")
    for name in names:
        if not isinstance(name, str):
            raise LmrnnError(f"tasks must be given by name, got {name!r}.")
    chosen = [collection.names[collection.index(name)] for name in names]
    return tuple(dict.fromkeys(chosen))
