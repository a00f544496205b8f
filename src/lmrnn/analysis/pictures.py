"""Figures of the analyses, drawn with matplotlib's object API on the Agg canvas (no pyplot, no
global backend). Each function takes computed results and a path, writes a PNG, returns it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lmrnn.analysis.autapse import Ablation, AutapseClasses, VectorAddition
from lmrnn.analysis.clustering import Clustering
from lmrnn.analysis.inputs import InputGeometry
from lmrnn.analysis.variance import TaskVariance
from lmrnn.analysis.weights import LatticeActivity, LatticeWeights

_HEAT = "viridis"
_DIVERGING = "RdBu_r"


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    fig.savefig(path, format="png", dpi=100)
    return path


def _task_axis(ax: Axes, tasks: tuple[str, ...] | list[str], axis: str = "x") -> None:
    size = 7 if len(tasks) <= 30 else 4
    ticks = range(len(tasks))
    if axis == "x":
        ax.set_xticks(ticks)
        ax.set_xticklabels(tasks, rotation=90, fontsize=size)
    else:
        ax.set_yticks(ticks)
        ax.set_yticklabels(tasks, fontsize=size)


def _heat(ax: Axes, matrix: np.ndarray, **kwargs) -> object:
    return ax.imshow(matrix, aspect="auto", interpolation="nearest", **kwargs)


def plot_variance(tv: TaskVariance, path: str | Path) -> Path:
    """The normalised unit x task variance matrix, units sorted by preferred task."""
    fig = Figure(figsize=(max(6.0, 0.25 * len(tv.tasks) + 3), 6), layout="constrained")
    ax = fig.subplots()
    x = tv.normalized
    order = np.lexsort((-x.max(1), x.argmax(1))) if x.size else np.arange(0)
    image = _heat(ax, x[order], cmap=_HEAT, vmin=0, vmax=1)
    _task_axis(ax, tv.tasks)
    ax.set_ylabel(f"unit ({tv.kept.size} of {tv.variance.shape[0]}, sorted by preferred task)")
    ax.set_title(f"normalised task variance (units with summed variance > {tv.threshold:g})")
    fig.colorbar(image, ax=ax, label="variance / unit's max")
    return _save(fig, path)


def plot_clusters(tv: TaskVariance, clustering: Clustering, path: str | Path) -> Path:
    """Paper Fig 3a / Figs 7-11: the sorted variance matrix with cluster boundaries, and the
    silhouette score of each k."""
    fig = Figure(figsize=(max(9.0, 0.25 * len(tv.tasks) + 6), 6), layout="constrained")
    heat, curve = fig.subplots(1, 2, width_ratios=[3, 1.3])
    image = _heat(heat, tv.normalized[clustering.order], cmap=_HEAT, vmin=0, vmax=1)
    for b in clustering.boundaries:
        heat.axhline(b - 0.5, color="white", lw=1)
    edges = np.concatenate([[0], clustering.boundaries, [clustering.labels.size]])
    heat.set_yticks((edges[:-1] + edges[1:] - 1) / 2)
    heat.set_yticklabels([str(c + 1) for c in range(clustering.n_clusters)], fontsize=6)
    heat.set_ylabel("cluster (units sorted by cluster)")
    _task_axis(heat, tv.tasks)
    heat.set_title(f"{clustering.n_clusters} clusters ({clustering.method})")
    fig.colorbar(image, ax=heat, label="normalised task variance")
    ks = sorted(clustering.silhouette)
    curve.plot(ks, [clustering.silhouette[k] for k in ks], "o-", ms=3)
    curve.axvline(
        clustering.n_clusters, color="C3", ls="--", label=f"best k = {clustering.n_clusters}"
    )
    curve.set_xlabel("number of clusters k")
    curve.set_ylabel("silhouette score")
    curve.legend(fontsize=8)
    return _save(fig, path)


def _histogram(ax: Axes, classes: AutapseClasses) -> None:
    w = classes.weights
    bins = np.linspace(min(w.min(), 0.0) - 0.05, max(w.max(), 1.0) + 0.05, 40)
    ax.hist(w[classes.low], bins=bins, color="C0", label=f"near 0 ({classes.low.size})")
    ax.hist(w[classes.high], bins=bins, color="C1", label=f"near 1 ({classes.high.size})")
    ax.axvline(classes.threshold, color="k", ls="--", lw=1)
    ax.set_xlabel("autapse weight $W_{ii}$")
    ax.set_ylabel("units")
    ax.set_title("(f) autapse weights")
    ax.legend(fontsize=7)


def _ablation(ax: Axes, ablation: Ablation) -> None:
    x = np.arange(len(ablation.tasks))
    labels = {"intact": "intact", "low": "near-0 ablated", "high": "near-1 ablated",
              "random": "as many at random"}  # fmt: skip
    labels = {k: v for k, v in labels.items() if k in ablation.accuracy}
    width = 0.8 / len(labels)
    for i, (key, label) in enumerate(labels.items()):
        offset = (i - (len(labels) - 1) / 2) * width
        ax.bar(x + offset, ablation.accuracy[key], width, label=label)
    ax.scatter(x, ablation.chance, marker="_", color="k", s=60, zorder=3, label="chance")
    _task_axis(ax, ablation.tasks)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("accuracy (decision)")
    ax.set_title(f"(g) ablation ({ablation.mode})")
    ax.legend(fontsize=6, ncol=2)


def _rule_matrix(ax: Axes, geometry: InputGeometry, fig: Figure) -> None:
    image = _heat(ax, geometry.rule, cmap=_DIVERGING, vmin=-1, vmax=1)
    _task_axis(ax, geometry.tasks)
    _task_axis(ax, geometry.tasks, axis="y")
    fams = list(geometry.families)
    for i in range(1, len(fams)):
        if fams[i] != fams[i - 1]:
            ax.axhline(i - 0.5, color="k", lw=0.8)
            ax.axvline(i - 0.5, color="k", lw=0.8)
    ax.set_title("(c) rule-input weight cosines (by family)")
    fig.colorbar(image, ax=ax, shrink=0.8)


def _rule_vs_others(ax: Axes, geometry: InputGeometry) -> None:
    n = len(geometry.tasks)
    panel = np.concatenate([geometry.rule_vs_fixation[:, None], geometry.rule_vs_stimulus], 1)
    _heat(ax, panel, cmap=_DIVERGING, vmin=-1, vmax=1)
    ax.axvline(0.5, color="k", lw=0.8)
    ax.axvline(16.5, color="k", lw=0.8)
    ax.set_xticks([0, 8.5, 24.5])
    ax.set_xticklabels(["fix", "ring 1", "ring 2"], fontsize=7)
    _task_axis(ax, geometry.tasks, axis="y")
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_title("(d, e) rule vs fixation and stimulus")


def _stimulus(ax: Axes, geometry: InputGeometry, fig: Figure) -> None:
    image = _heat(ax, geometry.stimulus, cmap=_DIVERGING, vmin=-1, vmax=1)
    ax.axhline(15.5, color="k", lw=0.8)
    ax.axvline(15.5, color="k", lw=0.8)
    ticks = [7.5, 23.5]
    ax.set_xticks(ticks)
    ax.set_xticklabels(["ring 1", "ring 2"])
    ax.set_yticks(ticks)
    ax.set_yticklabels(["ring 1", "ring 2"])
    ring1, ring2 = geometry.circulant
    ax.set_title(f"(e inset) stimulus cosines; circulant {ring1:.2f} / {ring2:.2f}")
    fig.colorbar(image, ax=ax, shrink=0.8)


def _addition(ax: Axes, addition: VectorAddition) -> None:
    for i, (task, readout) in enumerate(addition.readout.items()):
        line = ax.plot(np.arange(1, 17), readout, "o-", ms=3,
                       label=f"{task}: accuracy {addition.accuracy[task]:.2f}")  # fmt: skip
        ax.axvline(addition.target[task], color=line[0].get_color(), ls=":", lw=1.2 + i * 0.3)
    ax.set_xlabel("ring output (dotted: the trial's answer)")
    ax.set_ylabel("logit at the decision onset")
    ax.set_title(f"(h) explicit vector addition ({addition.mode})")
    ax.legend(fontsize=7)


def plot_autapse(
    classes: AutapseClasses,
    ablation: Ablation,
    geometry: InputGeometry,
    addition: VectorAddition,
    path: str | Path,
) -> Path:
    """Paper Fig 3c-h for one autapse pool, in six panels."""
    fig = Figure(figsize=(17, 10), layout="constrained")
    axes = fig.subplots(2, 3)
    _histogram(axes[0, 0], classes)
    _ablation(axes[0, 1], ablation)
    _addition(axes[0, 2], addition)
    _rule_matrix(axes[1, 0], geometry, fig)
    _rule_vs_others(axes[1, 1], geometry)
    _stimulus(axes[1, 2], geometry, fig)
    return _save(fig, path)


def plot_weights(weights: LatticeWeights, activity: LatticeActivity, path: str | Path) -> Path:
    """The recurrent weights (matrix, one unit's connections on the lattice, |W| by distance)
    above, and one trial's activity on the lattice at the middle of each period below."""
    fig = Figure(figsize=(14, 8), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.1, 1])
    matrix, lattice, by_distance = top.subplots(1, 3)
    bound = float(np.abs(weights.weight).max()) or 1.0
    image = _heat(matrix, weights.weight, cmap=_DIVERGING, vmin=-bound, vmax=bound)
    matrix.set_title(f"W (to row i from column j), spectral radius {weights.spectral_radius:.2f}")
    top.colorbar(image, ax=matrix, shrink=0.8)
    image = lattice.imshow(weights.incoming, cmap=_DIVERGING, vmin=-bound, vmax=bound,
                           interpolation="nearest")  # fmt: skip
    cols = weights.incoming.shape[1]
    lattice.plot(weights.centre % cols, weights.centre // cols, "k+", ms=10)
    lattice.set_title(f"weights into unit {weights.centre} (+) on the lattice")
    if weights.distance is not None:
        by_distance.plot(weights.distance, weights.mean_abs, "o-")
        by_distance.set_xlabel("torus distance (lattice spacings)")
        by_distance.set_ylabel("mean |W| over edges")
        by_distance.set_title("|W| by distance")
    else:
        by_distance.axis("off")
        by_distance.text(0.5, 0.5, "no lattice: distances undefined", ha="center")
    frames = bottom.subplots(1, len(activity.steps), squeeze=False)[0]
    finite = activity.frames[np.isfinite(activity.frames)]
    low = min(0.0, float(finite.min())) if finite.size else 0.0
    high = float(finite.max()) if finite.size and finite.max() > low else low + 1.0
    for ax, frame, step, period in zip(frames, activity.frames, activity.steps, activity.periods,
                                       strict=True):  # fmt: skip
        image = ax.imshow(frame, cmap=_HEAT, vmin=low, vmax=high, interpolation="nearest")
        ax.set_title(f"{period}, step {step}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    bottom.colorbar(image, ax=list(frames), shrink=0.8, label="activity")
    bottom.suptitle(f"hidden activity of one {activity.task} trial on the lattice")
    return _save(fig, path)
