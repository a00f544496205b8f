"""Checkpoints that survive a kill: written to a temporary file, then renamed into place.

A checkpoint is one file, ``checkpoint.pt``, read back with ``torch.load(weights_only=True)``
(no code runs on load): the ensemble's weights, the optimizer state, the RNG state, the step,
the metric rows so far and the resolved config. ``os.replace`` is atomic on POSIX, so a run
killed at any moment (SIGTERM or SIGKILL) leaves either the previous complete checkpoint or
the new one, never half of one; a stray ``*.tmp`` is never read.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from lmrnn.errors import LmrnnError

CHECKPOINT = "checkpoint.pt"


def atomic_write_bytes(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp_path)`` then move the result to ``path`` atomically (fsynced)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, lambda tmp: tmp.write_text(text))


def save_checkpoint(run_dir: Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (tensors, numbers, strings, lists, dicts) as the run's checkpoint."""
    path = Path(run_dir) / CHECKPOINT
    atomic_write_bytes(path, lambda tmp: torch.save(state, tmp))
    return path


def load_checkpoint(run_dir: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The run's last complete checkpoint; one clear error if there is none or it is damaged."""
    path = Path(run_dir) / CHECKPOINT
    if not path.is_file():
        raise LmrnnError(f"no checkpoint to resume from in {str(run_dir)!r} ({CHECKPOINT}).")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # a damaged file: say so instead of a pickle traceback
        raise LmrnnError(f"checkpoint {str(path)!r} cannot be read ({exc}).") from exc
