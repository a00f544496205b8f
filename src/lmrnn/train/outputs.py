"""What a run writes: the resolved config with its environment, metrics, summary, weights, curve.

Where each goes is :class:`lmrnn.train.runs.RunFolder`'s (its docstring draws the layout of a run
folder); this module writes and reads their contents.
"""

from __future__ import annotations

import csv
import io
import json
import math
import platform
import subprocess
from pathlib import Path
from typing import Any

import torch
import yaml
from safetensors.torch import save_file

from lmrnn import __version__
from lmrnn.train.runs import RunFolder, atomic_write_bytes, atomic_write_text

METRIC_COLUMNS = ("step", "seed", "task", "criterion", "value")

RUN_OUTPUTS = RunFolder.OUTPUTS  # the names, for those that import them from here
RUN_FOLDERS = RunFolder.FOLDERS


def clear_run(run_dir: Path) -> None:
    """Delete a run folder's checkpoint and outputs (its lock stays: the caller holds it)."""
    RunFolder(run_dir).clear()


def environment(device: str) -> dict[str, Any]:
    """Versions and machine, recorded with every output."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip() or "unknown"  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    dev_name = torch.cuda.get_device_name(device) if device.startswith("cuda") else "cpu"
    return {
        "lmrnn": __version__, "git_commit": commit, "torch": str(torch.__version__),
        "python": platform.python_version(), "device": device, "device_name": dev_name,
        "machine": platform.machine(), "cpu_threads": torch.get_num_threads(),
    }  # fmt: skip


def write_config(run_dir: Path, config: dict[str, Any], env: dict[str, Any]) -> None:
    """Write the resolved config with the environment it runs on (YAML)."""
    text = yaml.safe_dump({**config, "environment": env}, sort_keys=False)
    atomic_write_text(RunFolder(run_dir).config, text)


def write_metrics(run_dir: Path, rows: list[tuple]) -> None:
    """Write every metric row so far (CSV, :data:`METRIC_COLUMNS`)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(METRIC_COLUMNS)
    writer.writerows(rows)
    atomic_write_text(RunFolder(run_dir).metrics, buf.getvalue())


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """The run's metric rows, step, seed and value as numbers."""
    with open(RunFolder(run_dir).metrics, newline="") as fh:
        return [
            {**r, "step": int(r["step"]), "seed": int(r["seed"]), "value": float(r["value"])}
            for r in csv.DictReader(fh)
        ]


def mean_sem(values: list[float]) -> tuple[float, float]:
    """Mean and standard error of the mean (0 for a single value)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, 0.0
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(var / n)


def write_weights(run_dir: Path, model: torch.nn.Module, seeds: tuple[int, ...]) -> None:
    """Write each seed's weights alone (safetensors)."""
    folder = RunFolder(run_dir)
    for i, seed in enumerate(seeds):
        state = {k: v.contiguous().cpu() for k, v in model.seed_state_dict(i).items()}
        path = folder.weights(seed)
        atomic_write_bytes(path, lambda tmp, state=state: save_file(state, str(tmp)))


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON, atomically."""
    atomic_write_text(path, json.dumps(data, indent=2))


def plot_curve(rows: list[tuple], path: Path, title: str, criterion: str = "decision") -> None:
    """Mean performance over tasks, mean ± s.e.m. across seeds, against step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_step: dict[int, list[float]] = {}
    for step, _seed, task, crit, value in rows:
        if task == "mean" and crit == criterion:
            by_step.setdefault(step, []).append(value)
    steps = sorted(by_step)
    stats = [mean_sem(by_step[s]) for s in steps]
    mean = [m for m, _ in stats]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(steps, mean, color="tab:blue")
    ax.fill_between(steps, [m - e for m, e in stats], [m + e for m, e in stats], alpha=0.3,
                    color="tab:blue", lw=0)  # fmt: skip
    ax.set_xlabel("gradient step")
    ax.set_ylabel(f"performance ({criterion})")
    ax.set_ylim(0, 1)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    atomic_write_bytes(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    plt.close(fig)
