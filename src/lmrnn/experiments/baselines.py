"""The training recipe, chosen from the grid of ``lmrnn reproduce baselines`` by a rule stated in
advance, in two stages.

**Stage 1** (``baselines-yang``, ``baselines-modcog``): every network family (dense, L1, LM,
Erdős–Rényi, small-world, autapse, frozen autapse) is trained under every setting of
:data:`~lmrnn.experiments.catalog.RECIPE_GRID` (gradient-norm clipping off / 1 / 5, learning
rate 3e-4 / 1e-3 / 3e-3, recurrent init gain 0.5 / 1; the frozen pool has no recurrent init, so
gain 1 only) on both collections, one seed, the same budget.

**Stage 2, stability** (``baselines-yang-seeds``, ``baselines-modcog-seeds``): one seed cannot
show that a setting is stable (the stage-1 choice lost seeds to divergence in the experiments).
The candidates (:func:`candidates`: the four least-regret common settings of stage 1 and each
family's two least-regret settings) are trained again with three new seeds at the same budget,
beside each family's grid network and the densest networks the experiments train with it (the
LM of the largest radius, the L1 network of the largest λ).

A seed's **score** is its held-out accuracy at the end of the horizon: the mean over tasks of
the decision accuracy on the fixed evaluation trials, averaged over the last three evaluations
(one evaluation's noise does not pick the winner); a seed that diverged scores 0. A setting's
score for a network is the mean over its seeds (both stages).

**The rule**: a setting's *regret* is the largest gap, over every network and both
collections, between that network's best score and the setting's. The common setting is the
one of least regret among those where no seed of any network diverged (when stage 2 has run:
among its candidates only, so that every score rests on four seeds); it becomes the ``fair``
recipe for every family when its regret is at most :data:`~lmrnn.train.recipe.COMMON_TOLERANCE`
(one recipe is simpler to state and to trust, and no family then gives up more than that);
otherwise each family with a network farther than that gets its own least-regret setting among
those where none of its seeds diverged (if every setting lost a seed: the least-regret one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from lmrnn.experiments.results import ExperimentResult
from lmrnn.train.recipe import COMMON_TOLERANCE, RECIPES

PREFIX = "baselines-"
STAGE2 = "-seeds"
LAST_EVALUATIONS = 3

Setting = tuple[float, float, float]  # clip (0 = off), lr, gain
Cell = tuple[str, str]  # (collection, network), network = "family: label"


@dataclass(frozen=True)
class GridPoint:
    """One network of the grid under one setting: its experiment, collection ("yang" /
    "modcog"), family, network ("family: label", without the setting), setting, each seed's
    score (a diverged seed: 0), the seeds that diverged and the mean curve (step -> mean
    performance)."""

    experiment: str
    collection: str
    family: str
    network: str
    setting: Setting
    seed_scores: dict[int, float]
    diverged: frozenset[int]
    curve: dict[int, float]

    @property
    def score(self) -> float:
        return sum(self.seed_scores.values()) / len(self.seed_scores)

    @property
    def cell(self) -> Cell:
        return (self.collection, self.network)


@dataclass(frozen=True)
class Choice:
    """The outcome of the rule: the least-regret common setting, its regret, whether it is
    kept for every family, and each family's own choice where it is not."""

    common: Setting
    regret: float
    kept: bool
    per_family: dict[str, Setting]
    best: dict[Cell, tuple[Setting, float]]  # cell -> its best setting and score
    score: dict[tuple[str, str, Setting], float]  # (collection, network, setting) -> score
    seeds: dict[tuple[str, str, Setting], int]  # ... -> how many seeds
    diverged: dict[tuple[str, str, Setting], int]  # ... -> how many of them diverged
    tolerance: float

    def setting_for(self, family: str) -> Setting:
        return self.common if self.kept else self.per_family.get(family, self.common)


def setting_text(setting: Setting) -> str:
    clip, lr, gain = setting
    return f"clip {'off' if not clip else f'{clip:g}'}, lr {lr:g}, gain {gain:g}"


def collection_of(experiment: str) -> str:
    """ "baselines-modcog-seeds" -> "modcog"."""
    return experiment[len(PREFIX) :].removesuffix(STAGE2)


def grid_points(results: list[ExperimentResult]) -> list[GridPoint]:
    """Every network of the baselines experiments in ``results`` that finished (complete, or
    failed because every seed diverged)."""
    points = []
    for result in results:
        if not result.name.startswith(PREFIX):
            continue
        for net in result.networks.values():
            seeds = sorted(int(s) for s in net.config.get("seeds", [0]))
            if net.status == "failed" and "TrainingDiverged" in (net.error or ""):
                seed_scores, diverged = dict.fromkeys(seeds, 0.0), frozenset(seeds)
            elif not net.complete or not net.curve:
                continue
            else:
                steps = sorted(net.per_seed or net.curve)[-LAST_EVALUATIONS:]
                seed_scores = {}
                for i, seed in enumerate(seeds):
                    values = [net.per_seed[s][i] if net.per_seed else net.curve[s][0]
                              for s in steps]  # fmt: skip
                    seed_scores[seed] = 0.0 if seed in net.diverged else sum(values) / len(values)
                diverged = frozenset(net.diverged)
            c = net.config
            setting = (float(c.get("clip") or 0.0), float(c["lr"]), float(c["gain"]))
            network = net.label.split(" | ")[0]
            points.append(GridPoint(result.name, collection_of(result.name),
                                    network.split(":")[0], network, setting, seed_scores,
                                    diverged, {s: v[0] for s, v in net.curve.items()}))  # fmt: skip
    return points


def _as_family(setting: Setting, family: str) -> Setting:
    """The frozen pool is trained at gain 1 only: it stands for every gain."""
    return (setting[0], setting[1], 1.0) if family == "frozen_autapse" else setting


def _merged(points: list[GridPoint]) -> dict[tuple[str, str, Setting], tuple[dict, set]]:
    """(collection, network, setting) -> (seed -> score, diverged seeds), over both stages."""
    merged: dict[tuple[str, str, Setting], tuple[dict, set]] = {}
    for p in points:
        scores, diverged = merged.setdefault((*p.cell, p.setting), ({}, set()))
        scores.update(p.seed_scores)
        diverged |= p.diverged
    return merged


def _regret_table(points: list[GridPoint]):
    merged = _merged(points)
    score = {k: sum(v[0].values()) / len(v[0]) for k, v in merged.items()}
    cells = sorted({p.cell for p in points})
    family = {p.cell: p.family for p in points}
    best = {}
    for cell in cells:
        here = [(k[2], v) for k, v in score.items() if k[:2] == cell]
        best[cell] = max(here, key=lambda sv: sv[1])

    def regret(setting: Setting, among) -> float:
        gaps = []
        for cell in among:
            value = score.get((*cell, _as_family(setting, family[cell])))
            gaps.append(math.inf if value is None else best[cell][1] - value)
        return max(gaps)

    def unstable(setting: Setting, among) -> bool:
        keys = [(*cell, _as_family(setting, family[cell])) for cell in among]
        return any(merged[k][1] for k in keys if k in merged)

    return merged, score, cells, family, best, regret, unstable


def candidates(points: list[GridPoint], common: int = 4, own: int = 2) -> list[Setting]:
    """Stage 2's settings from stage 1's grid: the ``common`` least-regret common settings
    and each family's ``own`` least-regret ones."""
    _, _, cells, family, _, regret, _ = _regret_table(points)
    settings = sorted({p.setting for p in points if p.family != "frozen_autapse"})
    chosen = set(sorted(settings, key=lambda s: (regret(s, cells), s))[:common])
    for fam in sorted(set(family.values())):
        mine = [c for c in cells if family[c] == fam]
        chosen |= set(sorted(settings, key=lambda s, mine=mine: (regret(s, mine), s))[:own])
    return sorted(chosen)


def choose(points: list[GridPoint], tolerance: float = COMMON_TOLERANCE) -> Choice | None:
    """Apply the rule to the grid; None when no finished grid point is there."""
    if not points:
        return None
    if any(p.experiment.endswith(STAGE2) for p in points):
        stage2 = {p.setting for p in points if p.experiment.endswith(STAGE2)}
        points = [p for p in points if p.setting in stage2 or p.family == "frozen_autapse"]
    merged, score, cells, family, best, regret, unstable = _regret_table(points)
    settings = sorted({p.setting for p in points if p.family != "frozen_autapse"}
                      or {p.setting for p in points})  # fmt: skip

    def key(setting: Setting, among=cells):
        return (unstable(setting, among), regret(setting, among), setting != RECIPES["legacy"])

    common = min(settings, key=key)
    worst = regret(common, cells)
    kept = worst <= tolerance and not unstable(common, cells)
    per_family = {}
    for fam in sorted(set(family.values())):
        mine = [c for c in cells if family[c] == fam]
        if regret(common, mine) > tolerance or unstable(common, mine):
            own = min(settings, key=lambda s, mine=mine: key(s, mine))
            per_family[fam] = _as_family(own, fam)
    seeds = {k: len(v[0]) for k, v in merged.items()}
    diverged = {k: len(v[1]) for k, v in merged.items()}
    return Choice(common, worst, kept, per_family, best, score, seeds, diverged, tolerance)


def summary_lines(choice: Choice | None) -> list[str]:
    """The rule's outcome in plain lines (for ``lmrnn results`` and the report)."""
    if choice is None:
        return ["no complete grid runs yet"]
    lines = [
        f"least-regret common setting: {setting_text(choice.common)} (regret "
        f"{choice.regret:.3f}; tolerance {choice.tolerance:g}): "
        + ("kept for every family" if choice.kept else "not kept for every family"),
    ]
    for (collection, network), (setting, value) in sorted(choice.best.items()):
        family = network.split(":")[0]
        key = (collection, network, _as_family(choice.common, family))
        mine = choice.score.get(key)
        gap = "" if mine is None else f"; common {mine:.3f} ({value - mine:+.3f} below"
        if mine is not None:
            lost = choice.diverged.get(key, 0)
            gap += f", {lost} of {choice.seeds[key]} seeds diverged)" if lost else ")"
        n = choice.seeds.get((collection, network, setting), 1)
        lines.append(f"  {collection:7s} {network}: best {value:.3f} under "
                     f"{setting_text(setting)} ({n} seeds){gap}")  # fmt: skip
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
    networks = sorted({p.network for p in points})
    fig = Figure(figsize=(2.3 * (len(networks) + 1), 2.3 * len(collections)),
                 layout="constrained")  # fmt: skip
    axes = fig.subplots(len(collections), len(networks) + 1, squeeze=False, sharey=True)
    legacy = (RECIPES["legacy"]["clip"], RECIPES["legacy"]["lr"], RECIPES["legacy"]["gain"])
    for row, collection in enumerate(collections):
        for col, network in enumerate(networks):
            ax = axes[row][col]
            family = network.split(":")[0]
            chosen = _as_family(choice.setting_for(family), family)
            for p in points:
                if p.cell != (collection, network):
                    continue
                steps = sorted(p.curve)
                style = {"color": "0.75", "lw": 0.7}
                if p.setting == chosen:
                    style = {"color": "C0", "lw": 2.2, "label": "chosen"}
                elif p.setting == _as_family(legacy, family):
                    style = {"color": "C3", "lw": 1.2, "ls": "--", "label": "legacy"}
                ax.plot(steps, [p.curve[s] for s in steps], **style)
            ax.set_title(f"{collection}: {network}", fontsize=6)
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


__all__ = ["Choice", "GridPoint", "candidates", "choose", "collection_of", "grid_points",
           "plot_grid", "setting_text", "summary_lines"]  # fmt: skip
