"""Checkpoints that survive a kill: written to a temporary file, then renamed into place.

A checkpoint is one file, ``checkpoint.pt``, read back with ``torch.load(weights_only=True)``
(no code runs on load): the ensemble's weights, the optimizer state, the RNG state, the step,
the metric rows so far and the resolved config. ``os.replace`` is atomic on POSIX, so a run
killed at any moment (SIGTERM or SIGKILL) leaves either the previous complete checkpoint or
the new one, never half of one; a stray ``*.tmp`` is never read. The folder's layout and the
atomic writes belong to :class:`~lmrnn.train.runs.RunFolder` (re-exported here).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from lmrnn.errors import LmrnnError, RunFolderBusy
from lmrnn.train.runs import RunFolder, atomic_write_bytes, atomic_write_text

CHECKPOINT = RunFolder.CHECKPOINT  # the names, for those that import them from here
LOCK = RunFolder.LOCK
__all__ = ["CHECKPOINT", "LOCK", "atomic_write_bytes", "atomic_write_text", "is_locked",
           "load_checkpoint", "run_lock", "save_checkpoint"]  # fmt: skip


def save_checkpoint(run_dir: Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (tensors, numbers, strings, lists, dicts) as the run's checkpoint."""
    path = RunFolder(run_dir).checkpoint
    atomic_write_bytes(path, lambda tmp: torch.save(state, tmp))
    return path


def load_checkpoint(
    run_dir: Path, map_location: str | torch.device = "cpu", mmap: bool = False
) -> dict[str, Any]:
    """The run's last complete checkpoint; one clear error if there is none or it is damaged.
    ``mmap``: map the file instead of reading it, so that reading one number (the step) does
    not read every weight."""
    path = RunFolder(run_dir).checkpoint
    if not path.is_file():
        raise LmrnnError(f"no checkpoint to resume from in {str(run_dir)!r} ({CHECKPOINT}).")
    try:
        return torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
    except Exception as exc:  # a damaged file: say so, without torch's advice to unpickle it
        raise LmrnnError(
            f"checkpoint {str(path)!r} cannot be read ({type(exc).__name__}: the file is damaged "
            "or truncated); start the run over with --restart (it deletes the checkpoint and "
            "the run's outputs), or move the folder away."
        ) from None


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold ``run_dir``'s lock while writing it: an OS lock on ``run_dir/.lock``, released by
    the OS when the holder ends however it ends (no stale lock to clean by hand). A second
    writer fails at once, naming the holder's pid. Creates the folder."""
    run_dir = Path(run_dir)
    folder = RunFolder(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    handle = open(folder.lock, "a+")  # noqa: SIM115 (held open while the lock is held)
    try:
        import fcntl
    except ImportError:  # no POSIX locks (Windows): one writer is the user's to ensure
        fcntl = None
    try:
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "unknown"
                raise RunFolderBusy(
                    f"{str(run_dir)!r} is being written by another process (pid {holder}); "
                    "wait for it to finish, or choose another out= folder."
                ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        folder.remove_stale_temporaries()  # left by a writer killed mid-write
        yield
    finally:
        handle.close()


def is_locked(run_dir: Path) -> bool:
    """Whether a writer holds ``run_dir``'s lock now (another process training it); reads
    only: the lock is tried and let go at once, and nothing is written."""
    path = RunFolder(run_dir).lock
    if not path.is_file():
        return False
    try:
        import fcntl
    except ImportError:  # no POSIX locks: nobody can be seen holding one
        return False
    with open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False
