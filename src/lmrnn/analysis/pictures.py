"""Figures of the analyses, drawn with matplotlib's object API on the Agg canvas (no pyplot, no
global backend). Each function takes computed results and a path, writes a PNG, returns it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from sklearn.decomposition import PCA

from lmrnn.analysis.activity import DM_FAMILIES, Activity
from lmrnn.analysis.autapse import Ablation, AutapseClasses, VectorAddition
from lmrnn.analysis.clustering import Clustering
from lmrnn.analysis.decisions import Psychometric
from lmrnn.analysis.dynamics import NetworkFixedPoints
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


# -- activity, fixed points, psychometric curves ------------------------------------------------


class Projection:
    """The first two principal components of some hidden states (scikit-learn's PCA), or the
    first two units where the states do not vary (a silent network)."""

    def __init__(self, states: np.ndarray) -> None:
        states = np.asarray(states, dtype=np.float64)
        self.n_units = states.shape[1]
        self.mean = states.mean(0) if states.size else np.zeros(self.n_units)
        spread = states.var(0).sum() if states.shape[0] > 1 else 0.0
        if spread > 1e-12 and min(states.shape) >= 2:
            pca = PCA(n_components=2, svd_solver="randomized", random_state=0).fit(states)
            self.components = pca.components_
            self.explained = pca.explained_variance_ratio_
        else:
            self.components = np.eye(2, self.n_units)
            self.explained = np.zeros(2)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """(..., N) -> (..., 2)."""
        return (np.asarray(x, dtype=np.float64) - self.mean) @ self.components.T

    def label(self, ax: Axes) -> None:
        ax.set_xlabel(f"PC1 ({100 * self.explained[0]:.0f}%)", fontsize=7)
        ax.set_ylabel(f"PC2 ({100 * self.explained[1]:.0f}%)", fontsize=7)
        ax.tick_params(labelsize=6)


def _panels(n: int, size: float = 2.8) -> tuple[Figure, list[Axes]]:
    cols = min(5, n)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(size * cols + 1.2, size * rows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel().tolist()
    for ax in axes[n:]:
        ax.axis("off")
    return fig, axes[:n]


def _colouring(activity: Activity, rows: np.ndarray) -> tuple[np.ndarray, str, object, str]:
    """Colours of the trials ``rows``: by signed evidence for DM tasks, else by the first
    stimulus direction; with the colour map, norm and label of the colour bar."""
    family = str(activity.trials["family"][rows[0]]) if rows.size else ""
    if family in DM_FAMILIES:
        values = activity.trials["evidence"][rows]
        bound = float(np.nanmax(np.abs(values))) or 1.0
        return values, "coolwarm", TwoSlopeNorm(0.0, -bound, bound), "evidence (stim 1 - 2)"
    return activity.trials["stim1_dir"][rows], "twilight", Normalize(0, 16), "stimulus 1 direction"


def _trajectories(ax: Axes, activity: Activity, task: str, proj: Projection,
                  colour: bool = True) -> ScalarMappable:  # fmt: skip
    """Draw every trial of ``task`` in PC space (one LineCollection); returns a mappable for a
    colour bar."""
    rows = activity.task_trials(task)
    values, cmap_name, norm, _ = _colouring(activity, rows)
    cmap = colormaps[cmap_name]
    lines, colours, onsets = [], [], []
    for value, b in zip(values, rows, strict=True):
        xy = proj(activity.hidden[activity.mask[:, b], b])
        lines.append(xy)
        colours.append(cmap(norm(value)) if colour and np.isfinite(value) else (0.6, 0.6, 0.6, 1))
        start = int(activity.trials["decision_start"][b])
        if colour and 0 <= start < xy.shape[0]:
            onsets.append((*xy[start], len(colours) - 1))
    ax.add_collection(LineCollection(lines, colors=colours, linewidths=0.7,
                                     alpha=0.8 if colour else 0.35))  # fmt: skip
    if onsets:
        pts = np.array(onsets)
        ax.scatter(pts[:, 0], pts[:, 1], s=5, c=[colours[int(i)] for i in pts[:, 2]], zorder=3)
    ax.plot(*proj(activity.hidden[0, rows]).mean(0), "k^", ms=4)
    ax.autoscale_view()
    return ScalarMappable(norm=norm, cmap=cmap)


def plot_activity(activity: Activity, path: str | Path) -> Path:
    """One panel per task: its trials' hidden-state trajectories in the task's own first two
    principal components, coloured by condition (DM tasks: signed evidence; others: the first
    stimulus's direction); ▲ the first step, dots the decision onset."""
    fig, axes = _panels(len(activity.tasks))
    for ax, task in zip(axes, activity.tasks, strict=True):
        proj = Projection(activity.states(task))
        mappable = _trajectories(ax, activity, task, proj)
        proj.label(ax)
        ax.set_title(task, fontsize=9)
        label = _colouring(activity, activity.task_trials(task))[3]
        fig.colorbar(mappable, ax=ax, shrink=0.7).set_label(label, fontsize=6)
    fig.suptitle(f"hidden-state trajectories ({activity.n_trials} noise-free trials, "
                 f"{activity.n_units} units; ▲ first step, • decision onset)")  # fmt: skip
    return _save(fig, path)


_KIND_STYLE = {
    "stable": {"marker": "o", "color": "k", "ms": 6},
    "marginal": {"marker": "s", "color": "C0", "ms": 6},
    "saddle": {"marker": "X", "color": "C3", "ms": 7},
    "unstable": {"marker": "D", "color": "C1", "ms": 6},
}


def plot_fixed_points(result: NetworkFixedPoints, path: str | Path) -> Path:
    """One panel per input: the fixed points (● stable, ■ marginal, ✕ saddle, ◆ unstable)
    over the recorded trajectories (grey) in the first two principal components of the
    activity (of the input's task; of all recorded tasks for other inputs)."""
    activity = result.activity
    fig, axes = _panels(len(result.names))
    pooled = None
    for g, (ax, name) in enumerate(zip(axes, result.names, strict=True)):
        own = name in activity.tasks
        if own:
            proj = Projection(activity.states(name))
        else:
            pooled = pooled if pooled is not None else Projection(activity.states())
            proj = pooled
        for task in [name] if own else activity.tasks:
            _trajectories(ax, activity, task, proj, colour=False)
        sub = result.found.select(g)
        xy = proj(sub.points) if len(sub) else np.zeros((0, 2))
        for kind, style in _KIND_STYLE.items():
            rows = sub.kind == kind
            if rows.any():
                ax.plot(xy[rows, 0], xy[rows, 1], ls="none", label=f"{kind} ({rows.sum()})",
                        mec="white", mew=0.5, **style)  # fmt: skip
        proj.label(ax)
        ax.set_title(f"{name}: {len(sub)} fixed point{'s' if len(sub) != 1 else ''}", fontsize=9)
        if len(sub):
            ax.legend(fontsize=6, loc="best")
    fig.suptitle("fixed points under each constant input (rule + fixation, stimuli off) in the "
                 "activity's PCA space")  # fmt: skip
    return _save(fig, path)


def plot_psychometric(result: Psychometric, path: str | Path,
                      others: Mapping[int, Psychometric] | None = None) -> Path:  # fmt: skip
    """Yang et al. 2019 style: one panel per DM task, P(choose direction 1) against the signed
    evidence (points, area ~ trials) and the fitted logistic with lapse; ``others``: more
    networks' (seed -> result) fitted curves, drawn thin in grey."""
    tasks = list(result.curves)
    fig, axes = _panels(len(tasks), size=2.6)
    for ax, task in zip(axes, tasks, strict=True):
        curve = result.curves[task]
        span = float(np.abs(curve.evidence).max()) * 1.1 or 1.0
        x = np.linspace(-span, span, 300)
        for other in (others or {}).values():
            if task in other.curves:
                ax.plot(x, other.curves[task].fit.predict(x), color="0.7", lw=0.8)
        ax.plot(x, curve.fit.predict(x), color="C0", lw=1.5)
        ax.scatter(curve.evidence, curve.p_first, s=8 + 40 * curve.n / curve.n.max(),
                   color="k", zorder=3)  # fmt: skip
        ax.axhline(0.5, color="0.8", lw=0.6, ls=":")
        ax.axvline(0.0, color="0.8", lw=0.6, ls=":")
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlim(-span, span)
        f = curve.fit
        ax.set_title(f"{task}: slope {f.slope:.3g}, bias {f.bias:.2g}, lapse {f.lapse:.2f}",
                     fontsize=8)  # fmt: skip
        ax.set_xlabel("evidence (stim 1 - stim 2)", fontsize=7)
        ax.set_ylabel("P(choose direction 1)", fontsize=7)
        ax.tick_params(labelsize=6)
    seeds = f"; grey: seeds {', '.join(map(str, others))}" if others else ""
    fig.suptitle(f"psychometric curves, network seed {result.network_seed} "
                 f"({result.trials} trials per task{seeds})")  # fmt: skip
    return _save(fig, path)
