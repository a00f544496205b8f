"""A run's learning curve as text: mean performance over tasks against training step, read back
from its ``metrics.csv`` (``lmrnn demo``; :func:`lmrnn.train.outputs.plot_curve` draws it)."""

from __future__ import annotations

from pathlib import Path

from lmrnn.train.outputs import mean_sem, read_metrics


def learning_curve(
    run_dir: str | Path, criterion: str = "decision"
) -> list[tuple[int, float, float]]:
    """``(step, mean, s.e.m.)`` at each evaluated step, in step order: each seed's performance
    averaged over tasks (the ``task == "mean"`` rows), then mean ± s.e.m. across seeds."""
    by_step: dict[int, list[float]] = {}
    for r in read_metrics(Path(run_dir)):
        if r["task"] == "mean" and r["criterion"] == criterion:
            by_step.setdefault(r["step"], []).append(r["value"])
    return [(step, *mean_sem(by_step[step])) for step in sorted(by_step)]


def format_curve(curve: list[tuple[int, float, float]], criterion: str = "decision") -> str:
    """A heading and one line per step of a :func:`learning_curve`: the step, mean ± s.e.m.,
    and a bar of ``#`` 40 long at performance 1."""
    lines = [f"Learning curve (mean performance over tasks, {criterion} criterion):"]
    for step, m, e in curve:
        lines.append(f"  step {step:5d}  {m:.3f} ± {e:.3f}  " + "#" * round(40 * m))
    return "\n".join(lines)
