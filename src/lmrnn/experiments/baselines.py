"""The training recipe, chosen from the grid of ``lmrnn reproduce baselines`` by a rule stated in
advance.

Every network family (dense, L1, LM, Erdős–Rényi, small-world, autapse, frozen autapse) is
trained under every setting of :data:`~lmrnn.experiments.catalog.RECIPE_GRID` (gradient-norm
clipping off / 1 / 5, learning rate 3e-4 / 1e-3 / 3e-3, recurrent init gain 0.5 / 1; the frozen
pool has no recurrent init, so gain 1 only) on both collections, with the same budget. A
setting's **score** for a family is its held-out accuracy at the end of the grid's horizon:
the mean over tasks of the decision accuracy on the fixed evaluation trials, averaged over the
last three evaluations (so one evaluation's noise does not pick the winner).

**The rule**: a setting's *regret* is the largest gap, over every family and both collections,
between that family's best score and the setting's. The common setting is the one of least
regret; it becomes the ``fair`` recipe for every family when its regret is at most
:data:`~lmrnn.train.recipe.COMMON_TOLERANCE` (one recipe is simpler to state and to trust, and
no family then gives up more than that); otherwise each family whose gap exceeds the tolerance
gets its own least-regret setting over the two collections.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from lmrnn.experiments.results import ExperimentResult
from lmrnn.train.recipe import COMMON_TOLERANCE, RECIPES

PREFIX = "baselines-"
LAST_EVALUATIONS = 3

Setting = tuple[float, float, float]  # clip (0 = off), lr, gain


@dataclass(frozen=True)
class GridPoint:
    """One network of the grid: its collection ("yang" / "modcog"), family, setting, score
    and curve (step -> mean performance)."""

    collection: str
    family: str
    network: str
    setting: Setting
    score: float
    curve: dict[int, float]


@dataclass(frozen=True)
class Choice:
    """The outcome of the rule: the least-regret common setting, its regret, whether it is
    kept for every family, and each family's own choice where it is not."""

    common: Setting
    regret: float
    kept: bool
    per_family: dict[str, Setting]
    best: dict[tuple[str, str], tuple[Setting, float]]  # (collection, family) -> best, score
    score: dict[tuple[str, str, Setting], float]
    tolerance: float

    def setting_for(self, family: str) -> Setting:
        return self.common if self.kept else self.per_family.get(family, self.common)


def setting_text(setting: Setting) -> str:
    clip, lr, gain = setting
    return f"clip {'off' if not clip else f'{clip:g}'}, lr {lr:g}, gain {gain:g}"


def grid_points(results: list[ExperimentResult]) -> list[GridPoint]:
    """Every complete network of the baselines experiments in ``results``."""
    points = []
    for result in results:
        if not result.name.startswith(PREFIX):
            continue
        collection = result.name[len(PREFIX) :]
        for net in result.networks.values():
            diverged = net.status == "failed" and "TrainingDiverged" in (net.error or "")
            if diverged:
                score = 0.0
            elif not net.complete or not net.curve:
                continue
            else:
                steps = sorted(net.curve)[-LAST_EVALUATIONS:]
                score = sum(net.curve[s][0] for s in steps) / len(steps)
            c = net.config
            setting = (float(c.get("clip") or 0.0), float(c["lr"]), float(c["gain"]))
            family = net.label.split(":")[0]
            points.append(GridPoint(collection, family, net.label, setting, score,
                                    {s: v[0] for s, v in net.curve.items()}))  # fmt: skip
    return points


def _as_family(setting: Setting, family: str) -> Setting:
    """The frozen pool is trained at gain 1 only: it stands for every gain."""
    return (setting[0], setting[1], 1.0) if family == "frozen_autapse" else setting


def choose(points: list[GridPoint], tolerance: float = COMMON_TOLERANCE) -> Choice | None:
    """Apply the rule to the grid; None when no complete grid point is there."""
    if not points:
        return None
    score = {(p.collection, p.family, p.setting): p.score for p in points}
    cells = sorted({(p.collection, p.family) for p in points})
    best = {}
    for cell in cells:
        here = [(p.setting, p.score) for p in points if (p.collection, p.family) == cell]
        best[cell] = max(here, key=lambda sv: sv[1])
    settings = sorted({p.setting for p in points if p.family != "frozen_autapse"}
                      or {p.setting for p in points})  # fmt: skip

    def regret(setting: Setting, among=cells) -> float:
        gaps = []
        for cell in among:
            value = score.get((*cell, _as_family(setting, cell[1])))
            gaps.append(math.inf if value is None else best[cell][1] - value)
        return max(gaps)

    common = min(settings, key=lambda s: (regret(s), s != RECIPES["legacy"]))
    worst = regret(common)
    per_family = {}
    for family in sorted({f for _, f in cells}):
        mine = [c for c in cells if c[1] == family]
        if regret(common, mine) > tolerance:
            own = min(settings, key=lambda s, mine=mine: regret(s, mine))
            per_family[family] = _as_family(own, family)
    return Choice(common, worst, worst <= tolerance, per_family, best, score, tolerance)


def summary_lines(choice: Choice | None) -> list[str]:
    """The rule's outcome in plain lines (for ``lmrnn results`` and the report)."""
    if choice is None:
        return ["no complete grid runs yet"]
    lines = [
        f"least-regret common setting: {setting_text(choice.common)} (regret "
        f"{choice.regret:.3f}; tolerance {choice.tolerance:g}): "
        + ("kept for every family" if choice.kept else "not kept for every family"),
    ]
    for (collection, family), (setting, value) in sorted(choice.best.items()):
        mine = choice.score.get((collection, family, _as_family(choice.common, family)))
        gap = "" if mine is None else f"; common {mine:.3f} ({value - mine:+.3f} below)"
        lines.append(f"  {collection:7s} {family:15s} best {value:.3f} under "
                     f"{setting_text(setting)}{gap}")  # fmt: skip
    for family, setting in choice.per_family.items():
        lines.append(f"  {family}: its own setting {setting_text(setting)}")
    return lines


# The paper's dense networks on Mod-Cog at 10^4 steps (Table 1), for the trend figure.
PAPER_DENSE = {"RNN(N=676)": 0.69, "RNN(N=2500)": 0.71}


def plot_grid(points: list[GridPoint], choice: Choice, path: Path) -> Path:
    """Per collection and family, every setting's curve (the chosen one bold, today's
    ``legacy`` recipe dashed), and the dense network's curves beside the paper's dense
    figures."""
    from matplotlib.figure import Figure

    collections = sorted({p.collection for p in points})
    families = sorted({p.family for p in points})
    fig = Figure(figsize=(2.3 * (len(families) + 1), 2.3 * len(collections)),
                 layout="constrained")  # fmt: skip
    axes = fig.subplots(len(collections), len(families) + 1, squeeze=False, sharey=True)
    legacy = (RECIPES["legacy"]["clip"], RECIPES["legacy"]["lr"], RECIPES["legacy"]["gain"])
    for row, collection in enumerate(collections):
        for col, family in enumerate(families):
            ax = axes[row][col]
            chosen = _as_family(choice.setting_for(family), family)
            for p in points:
                if (p.collection, p.family) != (collection, family):
                    continue
                steps = sorted(p.curve)
                style = {"color": "0.75", "lw": 0.7}
                if p.setting == chosen:
                    style = {"color": "C0", "lw": 2.2, "label": "chosen"}
                elif p.setting == _as_family(legacy, family):
                    style = {"color": "C3", "lw": 1.2, "ls": "--", "label": "legacy"}
                ax.plot(steps, [p.curve[s] for s in steps], **style)
            ax.set_title(f"{collection}: {family}", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
        ax = axes[row][-1]
        for p in points:
            if p.collection == collection and p.family == "dense":
                steps = sorted(p.curve)
                chosen = p.setting == choice.setting_for("dense")
                ax.plot(steps, [p.curve[s] for s in steps], color="C0" if chosen else "0.75",
                        lw=2 if chosen else 0.7)  # fmt: skip
        if collection == "modcog":
            for i, (name, value) in enumerate(PAPER_DENSE.items()):
                ax.axhline(value, color=f"C{i + 2}", ls=":", label=f"paper {name}, 10^4 steps")
            ax.legend(fontsize=6)
        ax.set_title(f"{collection}: dense, every setting", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0][0].set_ylim(0, 1)
    handles = {}
    for ax in axes.flat:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, h)
    shown = [k for k in ("chosen", "legacy") if k in handles]
    if shown:
        axes[0][0].legend([handles[k] for k in shown], shown, fontsize=6)
    fig.supxlabel("gradient step", fontsize=8)
    fig.supylabel("held-out performance (decision)", fontsize=8)
    fig.savefig(path, format="png", dpi=80)
    return path


__all__ = ["Choice", "GridPoint", "choose", "grid_points", "plot_grid", "setting_text",
           "summary_lines"]  # fmt: skip
