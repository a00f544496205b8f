"""Run folders: their layout (:class:`RunFolder`, the one place that spells it), the atomic
writes every output goes through, and reading a saved run back: its config, its trained
ensemble, its outputs on new trials."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
import yaml
from safetensors.torch import load_file

from lmrnn.errors import LmrnnError
from lmrnn.models import EnsembleRNN
from lmrnn.tasks import TrialBatch
from lmrnn.train.config import FIELDS, TrainConfig, from_dict


class RunFolder:
    """The layout of a run folder, and the one place that spells it.

    Layout of a run folder::

        config.yaml          the resolved config, lmrnn version, git commit, torch version, device
        metrics.csv          step, seed, task, criterion, value  (task "mean": mean over tasks;
                             criterion "loss": the mean training loss since the previous row)
        summary.json         final performance per seed, mean ± s.e.m., per-task table, counts
        curve.png            mean performance ± s.e.m. across seeds against training step
        seed_<s>/weights.safetensors   seed s alone, loadable into lmrnn.models.MaskedRNN
        seed_<s>/summary.json          seed s alone: its performance, per task, divergence
        checkpoint.pt        the last complete checkpoint (for --resume)
        analysis/<what>.json the numbers of analysis <what> (``lmrnn analyze``; and <what>.png)
        tensorboard/         TensorBoard logs (tensorboard=true)
        error.txt            the traceback of a run of a sweep that failed
        .lock                held by the process writing the folder (its pid)

    A RunFolder is path-like (``Path(folder)``, ``open``), so it goes wherever a run folder's
    path does. Nothing is created or checked when one is made.
    """

    CONFIG = "config.yaml"
    METRICS = "metrics.csv"
    SUMMARY = "summary.json"
    CURVE = "curve.png"
    WEIGHTS = "weights.safetensors"
    CHECKPOINT = "checkpoint.pt"
    ANALYSIS = "analysis"
    TENSORBOARD = "tensorboard"
    ERROR = "error.txt"
    LOCK = ".lock"
    #: The files :meth:`clear` deletes (the lock stays: its holder is the one clearing).
    OUTPUTS = (CHECKPOINT, CONFIG, METRICS, SUMMARY, CURVE, ERROR)
    #: The folders :meth:`clear` deletes (glob patterns).
    FOLDERS = ("seed_*", ANALYSIS, TENSORBOARD)

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunFolder) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)

    # -- the layout ----------------------------------------------------------------------
    @property
    def config(self) -> Path:
        return self.path / self.CONFIG

    @property
    def metrics(self) -> Path:
        return self.path / self.METRICS

    @property
    def summary(self) -> Path:
        return self.path / self.SUMMARY

    @property
    def curve(self) -> Path:
        return self.path / self.CURVE

    @property
    def checkpoint(self) -> Path:
        return self.path / self.CHECKPOINT

    @property
    def error(self) -> Path:
        return self.path / self.ERROR

    @property
    def lock(self) -> Path:
        return self.path / self.LOCK

    @property
    def tensorboard(self) -> Path:
        return self.path / self.TENSORBOARD

    @property
    def analysis_dir(self) -> Path:
        return self.path / self.ANALYSIS

    def seed_dir(self, seed: int) -> Path:
        """The folder of seed ``seed`` alone."""
        return self.path / f"seed_{seed}"

    def weights(self, seed: int) -> Path:
        """Seed ``seed``'s trained weights (safetensors)."""
        return self.seed_dir(seed) / self.WEIGHTS

    def seed_summary(self, seed: int) -> Path:
        """Seed ``seed``'s own summary (JSON)."""
        return self.seed_dir(seed) / self.SUMMARY

    def analysis(self, what: str, suffix: str = ".json") -> Path:
        """Where analysis ``what`` writes its numbers (``suffix`` ``.png``: its figure)."""
        return analysis_file(self.analysis_dir, what, suffix)

    def analysis_files(self) -> list[Path]:
        """The numbers (JSON) of every analysis in the folder, sorted by name."""
        return sorted(self.analysis_dir.glob("*.json"))

    # -- what is there -------------------------------------------------------------------
    def has_analysis(self, what: str) -> bool:
        """Analysis ``what`` has written its numbers here."""
        return self.analysis(what).is_file()

    def is_complete(self, analyses: Iterable[str] = ()) -> bool:
        """Training has finished (its summary is written) and so has each of ``analyses``."""
        return self.summary.is_file() and all(self.has_analysis(w) for w in analyses)

    def holds_run(self) -> bool:
        """A run has been started here (a checkpoint) or finished (a summary)."""
        return self.checkpoint.exists() or self.summary.exists()

    # -- writing -------------------------------------------------------------------------
    def clear(self) -> None:
        """Delete the folder's checkpoint and outputs (its lock stays: the caller holds it)."""
        for name in self.OUTPUTS:
            (self.path / name).unlink(missing_ok=True)
        for pattern in self.FOLDERS:
            for folder in self.path.glob(pattern):
                shutil.rmtree(folder, ignore_errors=True)

    def remove_stale_temporaries(self) -> None:
        """Delete the temporary files of :func:`atomic_write_bytes` left by a writer killed
        mid-write (in the folder and its subfolders one level down)."""
        for stale in [*self.path.glob(".*.tmp"), *self.path.glob("*/.*.tmp")]:
            stale.unlink(missing_ok=True)


def analysis_file(folder: str | os.PathLike[str], what: str, suffix: str = ".json") -> Path:
    """Where analysis ``what`` writes in ``folder`` (a run's analysis folder, or another)."""
    return Path(folder) / f"{what}{suffix}"


def atomic_write_bytes(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp_path)`` then move the result to ``path`` atomically (fsynced)."""
    path = Path(path)
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
    """Write ``text`` to ``path`` atomically (:func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, lambda tmp: tmp.write_text(text))


def load_run(run_dir: str | Path, device: str = "cpu") -> tuple[TrainConfig, EnsembleRNN]:
    """The config and trained ensemble of a finished run (weights from safetensors)."""
    folder = RunFolder(run_dir)
    raw = _saved_config(folder)
    config = from_dict({k: v for k, v in raw.items() if k in FIELDS}).replace(device=device)
    model = EnsembleRNN(config.model_config(), config.seeds)
    states = []
    for seed in config.seeds:
        path = folder.weights(seed)
        if not path.is_file():
            raise LmrnnError(
                f"{str(folder.path)!r} has no trained weights for seed {seed} yet; finish or "
                "resume the run first."
            )
        states.append(load_file(str(path)))
    stacked = {k: torch.stack([s[k] for s in states]) for k in states[0]}
    model.load_state_dict(stacked)
    return config, model.to(device).eval()


def _saved_config(folder: RunFolder) -> dict:
    """The mapping in a run folder's config.yaml (one sentence if it is not a run folder)."""
    if not folder.config.is_file():
        raise LmrnnError(f"{str(folder.path)!r} is not a run folder (no {RunFolder.CONFIG}).")
    return yaml.safe_load(folder.config.read_text())


def seed_position(run_dir: str | Path, seed: int) -> int:
    """The position of ``seed`` in the run's list of seeds (one sentence if it has no such
    seed)."""
    seeds = list(_saved_config(RunFolder(run_dir)).get("seeds", []))
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
