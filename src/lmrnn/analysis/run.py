"""One analysis of a saved training run: numbers to ``<out>/<what>.json``, a figure to
``<out>/<what>.png`` and a few lines of summary. What ``lmrnn analyze`` calls."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lmrnn.analysis import pictures
from lmrnn.analysis.activity import DEFAULT_ACTIVITY_TRIALS, record
from lmrnn.analysis.autapse import (
    ablation_study,
    autapse_weights,
    split_autapses,
    vector_addition,
)
from lmrnn.analysis.clustering import NEAR_BEST, Clustering, check_method, cluster_units
from lmrnn.analysis.common import single_network, write_json
from lmrnn.analysis.decisions import DEFAULT_PSYCHOMETRIC_TRIALS, dm_tasks, psychometric
from lmrnn.analysis.dynamics import fixed_points
from lmrnn.analysis.inputs import input_geometry
from lmrnn.analysis.variance import (
    DEFAULT_THRESHOLD,
    DEFAULT_TRIALS,
    TaskVariance,
    check_threshold,
    task_variance,
)
from lmrnn.analysis.weights import lattice_activity, recurrent_on_lattice
from lmrnn.checks import check_int
from lmrnn.errors import LmrnnError, check_choice
from lmrnn.graphs import compare_lm_er, format_comparison, graph_metrics
from lmrnn.graphs.figures import plot_fig1d
from lmrnn.models import EnsembleRNN
from lmrnn.train import RunFolder, TrainConfig, load_run
from lmrnn.train.outputs import environment
from lmrnn.train.runs import analysis_file

WHATS = ("variance", "clusters", "autapse", "graph", "weights", "activity", "fixed_points",
         "psychometric")  # fmt: skip
#: Trials per task of each analysis when none are asked for (the rest: DEFAULT_TRIALS).
TRIALS_BY_WHAT = {"activity": DEFAULT_ACTIVITY_TRIALS, "fixed_points": DEFAULT_ACTIVITY_TRIALS,
                  "psychometric": DEFAULT_PSYCHOMETRIC_TRIALS}  # fmt: skip
FIG1D_DS = (0.0, 1.0, 2.0, 4.0, 6.0)  # radii of the Fig 1d panel (the paper's)
FIG1D_MAX_SIDE = 20  # Fig 1d is drawn on at most a 20x20 torus (the paper's; metrics are O(N³))
GRAPH_METRICS_LIMIT = 1024  # the run's own graph metrics only up to this many units


@dataclass
class Report:
    """What one analysis wrote and found."""

    what: str
    json_path: Path
    png_path: Path
    summary: list[str]
    numbers: dict[str, Any] = field(repr=False)
    extra: tuple[Path, ...] = ()  # other files written (activity: the .npz)


def check_what(what: str) -> str:
    return check_choice("analysis", what, WHATS)


def analyze(
    run_dir: str | Path,
    what: str,
    out: str | Path | None = None,
    seed_index: int = 0,
    method: str = "ward",
    trials: int | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    task: str | None = None,
    progress: bool = False,
) -> Report:
    """Run analysis ``what`` on seed ``seed_index`` of the saved run in ``run_dir``.

    ``out`` defaults to ``run_dir/analysis``. ``method`` (clusters): a linkage method or
    ``kmeans``; ``trials``: trials per task (variance, clusters, autapse: default 256;
    activity and fixed_points: 32; psychometric: 512); ``threshold``: the summed-variance cut;
    ``task``: the trial drawn on the lattice (weights), or the only task looked at (activity,
    fixed_points, psychometric). ``activity`` also writes ``activity.npz`` (see
    :class:`lmrnn.analysis.Activity`). ``progress``: tqdm bars for the slow steps.
    """
    check_what(what)
    check_method(method)
    config, model = load_run(run_dir)
    single_network(model, seed_index)  # checks the index before any work
    if what == "autapse":
        autapse_weights(model, seed_index)  # refuses a network that is not an autapse pool
    if task is not None:
        config.tasks().index(task)
    if what == "psychometric":
        dm_tasks(config.tasks(), task)  # refuses a task (or a run) without decision-making
    if trials is None:
        trials = TRIALS_BY_WHAT.get(what, DEFAULT_TRIALS)
    trials = check_int("trials", trials, minimum=2)  # a variance needs two
    check_threshold(threshold)
    out_dir = Path(out) if out is not None else RunFolder(run_dir).analysis_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, png_path = analysis_file(out_dir, what), analysis_file(out_dir, what, ".png")
    run = _RUNNERS[what]
    numbers, summary = run(config, model, seed_index, png_path, method=method, trials=trials,
                           threshold=threshold, task=task, progress=progress,
                           run_dir=str(run_dir))  # fmt: skip
    extra = tuple(Path(p) for p in numbers.pop("_files", ()))
    settings = {"what": what, "method": method, "trials": trials, "threshold": threshold,
                "task": task}  # fmt: skip
    numbers = {"run": str(run_dir), "seed": model.seeds[seed_index], "settings": settings,
               "environment": environment("cpu"), **numbers}  # fmt: skip
    write_json(json_path, numbers)
    return Report(what, json_path, png_path, summary, numbers, extra)


def _variance(config, model, seed_index, png, *, trials, threshold, **_) -> tuple[dict, list]:
    tv = task_variance(model, config.tasks(), trials, seed=0, seed_index=seed_index,
                       threshold=threshold)  # fmt: skip
    pictures.plot_variance(tv, png)
    counts = np.bincount(tv.preferred_task, minlength=len(tv.tasks)) if tv.kept.size else []
    top = sorted(zip(counts, tv.tasks, strict=True), reverse=True)[:3] if tv.kept.size else []
    lines = [
        f"task variance: {len(tv.tasks)} tasks x {tv.variance.shape[0]} units, {tv.kept.size} "
        f"units above threshold {tv.threshold:g} ({trials} noise-free trials per task)",
    ]
    if top:
        lines.append("most preferred tasks: " + ", ".join(f"{t} ({c} units)" for c, t in top))
    return {"trials": trials, **tv.to_dict()}, lines


def _cluster_pair(tv: TaskVariance, method: str) -> tuple[Clustering, Clustering]:
    main = cluster_units(tv.normalized, method)
    other = cluster_units(tv.normalized, "kmeans" if method != "kmeans" else "ward")
    return main, other


def _ks(ks: list[int]) -> str:
    """``[2, 3, 4, 9]`` -> ``"2-4, 9"``."""
    runs: list[list[int]] = []
    for k in ks:
        if runs and k == runs[-1][-1] + 1:
            runs[-1].append(k)
        else:
            runs.append([k])
    text = [f"{r[0]}-{r[-1]}" if len(r) > 1 else f"{r[0]}" for r in runs]
    return ", ".join(text[:6]) + (", ..." if len(text) > 6 else "")


SPREAD_SAMPLES = 3  # fresh samples of analysis trials per seed for the count's spread


def count_spread(config, model, method: str, trials: int, threshold: float,
                 samples: int = SPREAD_SAMPLES) -> dict[str, Any]:  # fmt: skip
    """The cluster count of every seed of the run on ``samples`` fresh samples of analysis
    trials (trial seeds 1..samples; seed 0 is the main analysis's): per seed the counts and
    their mean (the unit a test over seeds compares; the samples average out the count's
    dependence on the trials)."""
    counts: dict[str, list[int]] = {}
    for index, seed in enumerate(model.seeds):
        ks = []
        for sample in range(1, samples + 1):
            tv = task_variance(model, config.tasks(), trials, seed=sample, seed_index=index,
                               threshold=threshold)  # fmt: skip
            ks.append(cluster_units(tv.normalized, method).n_clusters if tv.kept.size > 2 else 1)
        counts[str(seed)] = ks
    means = {seed: float(np.mean(ks)) for seed, ks in counts.items()}
    return {"samples": samples, "counts": counts, "mean_per_seed": means}


def _clusters(config, model, seed_index, png, *, method, trials, threshold, **_):
    tv = task_variance(model, config.tasks(), trials, seed=0, seed_index=seed_index,
                       threshold=threshold)  # fmt: skip
    main, other = _cluster_pair(tv, method)
    pictures.plot_clusters(tv, main, png)
    spread = count_spread(config, model, method, trials, threshold)
    numbers = {
        "trials": trials,
        "n_clusters": main.n_clusters,
        "clustering": main.to_dict(),
        "other_method": other.to_dict(),
        "variance": tv.to_dict(),
        "spread": spread,
    }
    near = main.near_best
    flat = "" if len(near) < 4 else "; a flat curve: k is ill-determined"
    lines = [
        f"{main.n_clusters} clusters ({main.method}, silhouette {main.best_score:.3f}) of "
        f"{tv.kept.size} active units over {len(tv.tasks)} tasks",
        f"k within {NEAR_BEST} of the best silhouette: {_ks(near)} ({len(near)} of "
        f"{len(main.silhouette)} cuts){flat}",
        f"for comparison, {other.method}: {other.n_clusters} clusters (silhouette "
        f"{other.best_score:.3f})",
        f"over {spread['samples']} fresh trial samples per seed: "
        + "; ".join(f"seed {s}: {', '.join(map(str, ks))}" for s, ks in spread["counts"].items()),
    ]
    return numbers, lines


def _autapse(config, model, seed_index, png, *, trials, **_):
    coll = config.tasks()
    classes = split_autapses(autapse_weights(model, seed_index))
    ablation = ablation_study(model, coll, classes, trials, config.eval_seed, seed_index)
    geometry = input_geometry(single_network(model, seed_index).weight_ih.detach().numpy(), coll)
    tasks = [t for t in ("go", "anti") if t in coll.names] or [coll.names[0]]
    addition = vector_addition(model, coll, classes, tasks, trials, config.eval_seed, seed_index)
    identity = vector_addition(model, coll, classes, tasks, trials, config.eval_seed, seed_index,
                               mode="identity")  # fmt: skip
    pictures.plot_autapse(classes, ablation, geometry, addition, png)
    held = [t for t, a, c in zip(ablation.tasks, ablation.accuracy["high"], ablation.chance,
                                 strict=True) if a > c + 0.25]  # fmt: skip
    mean = {k: float(v.mean()) for k, v in ablation.accuracy.items()}
    g = geometry.summary()
    lines = [
        f"autapses: {classes.low.size} near 0 (mean {_mean(classes, 'low'):.2f}), "
        f"{classes.high.size} near 1 (mean {_mean(classes, 'high'):.2f}), threshold "
        f"{classes.threshold:.2f}",
        f"mean accuracy: intact {mean['intact']:.2f}, near-0 ablated {mean['low']:.2f}, near-1 "
        f"ablated {mean['high']:.2f}, as many at random {mean['random']:.2f} (tasks still above "
        f"chance: {', '.join(held) or 'none'})",
        "vector addition: "
        + ", ".join(f"{t} {a:.2f}" for t, a in addition.accuracy.items())
        + " (every unit summing: "
        + ", ".join(f"{t} {a:.2f}" for t, a in identity.accuracy.items())
        + ")",
        f"rule cosines within family {g['rule_within_family']:.2f}, between "
        f"{g['rule_between_family']:.2f}; |rule·fixation| {g['abs_rule_vs_fixation']:.2f}, "
        f"|rule·stimulus| {g['abs_rule_vs_stimulus']:.2f}; stimulus circulant "
        f"{g['circulant_ring1']:.2f}/{g['circulant_ring2']:.2f}",
    ]
    numbers = {
        "classes": classes.to_dict(),
        "ablation": ablation.to_dict(),
        "vector_addition": addition.to_dict(),
        "vector_addition_identity": identity.to_dict(),
        "input_geometry": geometry.to_dict(),
    }
    return numbers, lines


def _mean(classes, name: str) -> float:
    idx = getattr(classes, name)
    return float(classes.weights[idx].mean()) if idx.size else float("nan")


def _graph(config: TrainConfig, model: EnsembleRNN, seed_index, png, **_):
    graph = model.graphs[seed_index]
    side = graph.lattice_side()
    if side is None:
        raise LmrnnError(
            f"the run's {graph.n_units} units sit on no lattice (not a perfect square), so the "
            "LM vs ER comparison has no lattice size; use `lmrnn graph --n N` instead."
        )
    n = min(side, FIG1D_MAX_SIDE)
    ds = sorted({d for d in FIG1D_DS if 2 * math.floor(d) + 1 <= n}
                | ({float(graph.d)} if graph.kind == "locality" and graph.d is not None
                   and 2 * math.floor(graph.d) + 1 <= n else set()))  # fmt: skip
    rows = compare_lm_er(n, ds, seed=0)
    plot_fig1d(rows, png, n)
    own = graph_metrics(graph) if graph.n_units <= GRAPH_METRICS_LIMIT else None
    numbers = {
        "lattice_n": n,
        "run_lattice_n": side,
        "rows": [{"d": r.d, "in_degree": r.in_degree, "density": r.density,
                  "lm": vars(r.lm), "er": vars(r.er)} for r in rows],
        "run_graph": {"kind": graph.kind, "d": graph.d, "n_units": graph.n_units,
                      "n_edges": graph.n_edges, "metrics": vars(own) if own else None},
    }  # fmt: skip
    lines = format_comparison(rows, n, 0).splitlines()
    if own is not None:
        lines.append(
            f"the run's graph ({graph.kind}, {graph.n_edges} edges): diameter {own.diameter:g}, "
            f"average path {own.avg_shortest_path:.3f}, clustering {own.clustering:.3f}"
        )
    else:
        lines.append(f"the run's own graph ({graph.n_units} units) is too large for the metrics")
    return numbers, lines


def _weights(config, model, seed_index, png, *, task, **_):
    weights = recurrent_on_lattice(model, seed_index)
    activity = lattice_activity(model, config.tasks(), task, seed=0, seed_index=seed_index)
    pictures.plot_weights(weights, activity, png)
    side = weights.lattice_n
    where = f"on a {side}x{side} lattice" if side else "no lattice"
    lines = [
        f"recurrent weights: {np.count_nonzero(weights.weight)} non-zero of "
        f"{weights.weight.shape[0]}² ({where}), spectral radius {weights.spectral_radius:.3f}",
    ]
    if weights.distance is not None:
        pairs = ", ".join(
            f"{d:.2f}: {m:.3f}"
            for d, m in zip(weights.distance[:6], weights.mean_abs[:6], strict=True)
        )
        lines.append(f"mean |W| by distance: {pairs}")
    lines.append(
        f"one {activity.task} trial ({activity.hidden.shape[0]} steps): "
        f"{100 * float((activity.hidden > 0).mean()):.0f}% of unit-steps active"
    )
    return {"weights": weights.to_dict(), "activity": activity.to_dict()}, lines


def _activity(config, model, seed_index, png, *, trials, task, progress, run_dir, **_):
    activity = record(model, task, trials, seed=0, seed_index=seed_index,
                      collection=config.tasks(), progress=progress)  # fmt: skip
    activity = dataclasses.replace(activity, run=run_dir)
    npz = activity.save(png.with_suffix(".npz"))
    pictures.plot_activity(activity, png)
    summary = activity.summary()
    acc = np.mean([v["accuracy"] for v in summary["per_task"].values()])
    lines = [
        f"activity: {activity.n_trials} noise-free trials ({trials} per task, "
        f"{len(activity.tasks)} tasks, fixed timing) x {summary['n_steps']} steps x "
        f"{activity.n_units} units; mean accuracy {acc:.2f}",
        f"hidden states, inputs, logits and trial conditions in {npz} (numpy: np.load; keys in "
        "its 'metadata' JSON)",
    ]
    return {**summary, "file": str(npz), "metadata": activity.metadata(), "_files": [npz]}, lines


def _fixed_points(config, model, seed_index, png, *, trials, task, progress, **_):
    result = fixed_points(model, task, trials=trials, seed=0, seed_index=seed_index,
                          collection=config.tasks(), progress=progress)  # fmt: skip
    pictures.plot_fixed_points(result, png)
    found = result.found
    counts = found.counts()
    per = [f"{name} {len(found.select(g))}" for g, name in enumerate(result.names)]
    lines = [
        f"fixed points: {len(found)} under {len(result.names)} constant inputs (rule + fixation, "
        f"stimuli off) from {result.starts} starts each, in {found.seconds:.1f} s: "
        + ", ".join(f"{c} {k}" for k, c in counts.items() if c),
        f"converged starts: {int((found.candidate_q <= found.tol_q).sum())} of "
        f"{found.candidate_q.size} (q <= {found.tol_q:g}); per input: "
        + ", ".join(per[:10])
        + (", ..." if len(per) > 10 else ""),
    ]
    return result.to_dict(), lines


def _psychometric(config, model, seed_index, png, *, trials, task, progress, **_):
    coll = config.tasks()
    results = {
        index: psychometric(model, task, trials, seed=0, seed_index=index, collection=coll,
                            progress=progress)
        for index in range(model.n_seeds)
    }  # fmt: skip
    main = results[seed_index]
    others = {r.network_seed: r for i, r in results.items() if i != seed_index}
    pictures.plot_psychometric(main, png, others)
    lines = [
        f"psychometric curves of {len(main.curves)} DM tasks ({trials} noise-free trials each), "
        f"seed {main.network_seed}: logistic with lapse fitted",
        *(f"  {t}: slope {c.fit.slope:.3g}, bias {c.fit.bias:.3g}, lapse {c.fit.lapse:.3f}, "
          f"accuracy {c.accuracy:.2f}" for t, c in main.curves.items()),
    ]  # fmt: skip
    per_seed = {str(r.network_seed): {t: c.fit.to_dict() for t, c in r.curves.items()}
                for r in results.values()}  # fmt: skip
    return {**main.to_dict(), "fits_per_seed": per_seed}, lines


_RUNNERS = {
    "variance": _variance,
    "clusters": _clusters,
    "autapse": _autapse,
    "graph": _graph,
    "weights": _weights,
    "activity": _activity,
    "fixed_points": _fixed_points,
    "psychometric": _psychometric,
}
