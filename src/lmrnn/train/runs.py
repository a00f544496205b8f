"""Reading a saved run back: its config, its trained ensemble, its outputs on new trials."""

from __future__ import annotations

from pathlib import Path

import torch
import yaml
from safetensors.torch import load_file

from lmrnn.errors import LmrnnError
from lmrnn.models import EnsembleRNN
from lmrnn.tasks import TrialBatch
from lmrnn.train.config import FIELDS, TrainConfig, from_dict


def load_run(run_dir: str | Path, device: str = "cpu") -> tuple[TrainConfig, EnsembleRNN]:
    """The config and trained ensemble of a finished run (weights from safetensors)."""
    run_dir = Path(run_dir)
    raw = _saved_config(run_dir)
    config = from_dict({k: v for k, v in raw.items() if k in FIELDS}).replace(device=device)
    model = EnsembleRNN(config.model_config(), config.seeds)
    states = []
    for seed in config.seeds:
        path = run_dir / f"seed_{seed}" / "weights.safetensors"
        if not path.is_file():
            raise LmrnnError(
                f"{str(run_dir)!r} has no trained weights for seed {seed} yet; finish or resume "
                "the run first."
            )
        states.append(load_file(str(path)))
    stacked = {k: torch.stack([s[k] for s in states]) for k in states[0]}
    model.load_state_dict(stacked)
    return config, model.to(device).eval()


def _saved_config(run_dir: Path) -> dict:
    """The mapping in a run folder's config.yaml (one sentence if it is not a run folder)."""
    if not (run_dir / "config.yaml").is_file():
        raise LmrnnError(f"{str(run_dir)!r} is not a run folder (no config.yaml).")
    return yaml.safe_load((run_dir / "config.yaml").read_text())


def seed_position(run_dir: str | Path, seed: int) -> int:
    """The position of ``seed`` in the run's list of seeds (one sentence if it has no such
    seed)."""
    seeds = list(_saved_config(Path(run_dir)).get("seeds", []))
    if seed not in seeds:
        raise LmrnnError(f"run {str(run_dir)!r} has no seed {seed}; its seeds are {seeds}.")
    return seeds.index(seed)


@torch.no_grad()
def outputs_for_batch(run_dir: str | Path, batch: TrialBatch, seed_index: int = 0) -> torch.Tensor:
    """Logits (T, B, 17) of one seed of a saved run on a :class:`~lmrnn.tasks.TrialBatch`."""
    config, model = load_run(run_dir)
    if batch.collection.names != config.tasks().names:
        raise LmrnnError(
            f"the run was trained on {config.collection!r}; draw the trials from that collection."
        )
    logits, _ = model(batch.inputs)
    return logits[seed_index]
