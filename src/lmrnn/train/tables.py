"""Per-task accuracy of an evaluation as a text table (``lmrnn train``, ``evaluate``, ``demo``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lmrnn.train.outputs import mean_sem

if TYPE_CHECKING:
    from lmrnn.train.evaluate import Evaluation


def format_table(result: Evaluation, criterion: str) -> str:
    """Per-task accuracy, mean ± s.e.m. across seeds (the value alone for one seed), and the
    mean over tasks."""
    c = result.criteria.index(criterion)
    width = max(len(t) for t in result.tasks) + 2
    one = len(result.seeds) == 1

    def cell(values: list[float]) -> str:
        m, e = mean_sem(values)
        return f"{m:.3f}" if one else f"{m:.3f} ± {e:.3f}"

    over = "one seed" if one else f"mean ± s.e.m. over {len(result.seeds)} seeds"
    lines = [f"{'task':{width}s} {criterion} ({over})"]
    for j, task in enumerate(result.tasks):
        lines.append(f"{task:{width}s} {cell(result.accuracy[:, j, c].tolist())}")
    lines.append(f"{'MEAN':{width}s} {cell(result.mean(criterion).tolist())}")
    return "\n".join(lines)
