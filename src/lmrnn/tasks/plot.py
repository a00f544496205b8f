"""Pictures of trials, as in the paper's Fig 4a-e: inputs as a heat map, targets over time."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

from lmrnn.tasks.batch import PERIODS, TrialBatch
from lmrnn.tasks.collection import RING

_PERIOD_COLOURS = ("#dddddd", "#9ecae1", "#fdd0a2", "#a1d99b", "#fc9272")


def plot_trials(
    batch: TrialBatch,
    rows: list[int] | None = None,
    outputs: torch.Tensor | None = None,
    path: str | Path | None = None,
) -> plt.Figure:
    """Draw trials of ``batch``: one column per trial, inputs above, labels below.

    Args:
        batch: a :class:`TrialBatch`.
        rows: which trials (default: up to the first 3).
        outputs: optional (T, B, 17) network logits; their argmax is drawn over the targets.
        path: where to save a PNG (optional).
    """
    rows = rows if rows is not None else list(range(min(3, batch.inputs.shape[1])))
    fig, axes = plt.subplots(
        3, len(rows), figsize=(4.2 * len(rows), 6.5), squeeze=False, sharex="col",
        gridspec_kw={"height_ratios": [0.5, 2.2, 1.6]},
    )  # fmt: skip
    for col, b in enumerate(rows):
        length = int(batch.length[b])
        x = batch.inputs[:length, b].cpu()
        starts = [*batch.period_starts[b].tolist(), length]
        task = int(batch.task[b])
        fix_ax, ring_ax, label_ax = axes[:, col]
        fix_ax.step(range(length), x[:, 0], where="mid", color="k")
        fix_ax.set_ylim(-0.2, 1.3)
        fix_ax.set_yticks([0, 1])
        fix_ax.set_title(
            f"{batch.task_names[b]}  (rule unit {task}, delay {int(batch.delay_ms[b])} ms)",
            fontsize=9,
        )
        fix_ax.set_ylabel("fixation", fontsize=8)
        extent = (-0.5, length - 0.5, 2 * RING - 0.5, -0.5)
        rings = x[:, 1 : 1 + 2 * RING].T
        ring_ax.imshow(rings, aspect="auto", interpolation="nearest", extent=extent)
        ring_ax.axhline(RING - 0.5, color="white", lw=1)
        ring_ax.set_yticks([RING // 2, RING + RING // 2])
        ring_ax.set_yticklabels(["ring 1", "ring 2"])
        for p, name in enumerate(PERIODS):
            if starts[p + 1] > starts[p]:
                label_ax.axvspan(starts[p] - 0.5, starts[p + 1] - 0.5, color=_PERIOD_COLOURS[p],
                                 lw=0, label=name)  # fmt: skip
        label_ax.plot(range(length), batch.targets[:length, b].cpu(), "s", ms=4, color="k",
                      label="target")  # fmt: skip
        if outputs is not None:
            pred = outputs[:length, b].argmax(-1).cpu()
            label_ax.plot(range(length), pred, "o", ms=3, color="tab:red", label="network")
        label_ax.set_ylim(-0.5, 17)
        label_ax.set_xlim(-0.5, length - 0.5)
        label_ax.set_xlabel(f"time step ({batch.dt} ms)")
        label_ax.set_ylabel("label (0 = fixate)", fontsize=8)
    axes[2, -1].legend(fontsize=6, loc="upper left", ncol=2)
    fig.tight_layout()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig
