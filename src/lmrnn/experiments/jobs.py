"""Runs of an experiment: deterministic ids, run folders, and executing one run in isolation.

A :class:`Job` is one network of one experiment: a resolved config (every TrainConfig key, or
the graph parameters of Fig 1d) whose hash is its id, plus the analyses to run after training.
:func:`execute` runs one job in ``OUT/runs/<id>/``: it skips what is complete, resumes from a
checkpoint, and turns any exception into a ``failed`` :class:`Outcome` instead of raising.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lmrnn.train import RunFolder, from_dict
from lmrnn.train.config import ADDED_LATER

RUN_EXCLUDED = ("out", "device")  # keys that do not change what a run computes
GRAPH_JSON = "graph.json"  # a graph job's folder (Fig 1d): its numbers and its figure
GRAPH_PNG = "fig1d.png"
GRAPH_FILES = (GRAPH_JSON, GRAPH_PNG)


@dataclass(frozen=True)
class Job:
    """One run: ``config`` is resolved (defaults filled in) and JSON-ready."""

    id: str
    kind: str  # "train" | "graph"
    config: dict[str, Any]
    analyses: tuple[str, ...] = ()
    analysis_trials: int = 64

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def run_id(config: dict[str, Any]) -> str:
    """12 hex digits of the SHA-256 of the config (minus out/device, and minus the keys added
    later while at their defaults: published runs keep their ids), keys sorted."""
    kept = {k: v for k, v in config.items() if k not in RUN_EXCLUDED
            and not (k in ADDED_LATER and v == ADDED_LATER[k])}  # fmt: skip
    text = json.dumps(kept, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def make_job(
    kind: str, config: dict[str, Any], analyses: Sequence[str] = (), analysis_trials: int = 64
) -> Job:
    """Resolve ``config`` (a training config is validated here, before any work) into a Job."""
    if kind == "train":
        # the graph's one spelling first: the recipe follows the graph kind
        resolved = from_dict({**canonical(_with_defaults(config)), "device": "cpu",
                              "out": "."}).to_dict()  # fmt: skip
        resolved = canonical({k: v for k, v in resolved.items() if k not in RUN_EXCLUDED})
    else:
        resolved = {"kind": "graph", **config}
    return Job(run_id(resolved), kind, resolved, tuple(analyses), analysis_trials)


def _with_defaults(config: dict[str, Any]) -> dict[str, Any]:
    from lmrnn.train import DEFAULTS

    graph_keys = ("graph", "d", "local_radius", "total_edges")
    return {**{k: DEFAULTS[k] for k in graph_keys}, **config}


def canonical(config: dict[str, Any]) -> dict[str, Any]:
    """One spelling for configs that build the same network (same graph, same initial weights,
    same training), so that they are one run id and are trained once: a locality mask of
    radius 0 is the autapse pool, and a small-world graph whose local radius is its d (no random
    edges) is the locality mask."""
    out = dict(config)
    if out.get("graph") == "locality" and out.get("d") in (0, 0.0):
        out["graph"] = "autapse"
    if (out.get("graph") == "small_world" and out.get("total_edges") is None
            and out.get("local_radius") == out.get("d")):  # fmt: skip
        out.update(graph="locality", local_radius=None)
    return out


@dataclass(frozen=True)
class Outcome:
    """What happened to one job: status "complete" or "failed" (with the error)."""

    id: str
    status: str
    error: str | None
    started: float  # unix seconds
    finished: float
    seconds: float


def run_dir(out: str | Path, job_id: str) -> Path:
    """The folder of run ``job_id`` of the sweep in ``out``."""
    return Path(out) / "runs" / job_id


def run_folder(out: str | Path, job_id: str) -> RunFolder:
    """The :class:`~lmrnn.train.RunFolder` of run ``job_id`` of the sweep in ``out``."""
    return RunFolder(run_dir(out, job_id))


def is_complete(out: str | Path, job: Job) -> bool:
    """Every output of the job exists (summary.json / graph files and each analysis JSON)."""
    if job.kind == "graph":
        folder = run_dir(out, job.id)
        return all((folder / f).is_file() for f in GRAPH_FILES)
    return run_folder(out, job.id).is_complete(job.analyses)


def execute(job: Job, out: str | Path, device: str = "auto",
            deadline: float | None = None) -> Outcome:  # fmt: skip
    """Run one job in OUT/runs/<id>/, never raising: an error makes a "failed" Outcome, a
    training stopped at ``deadline`` (unix seconds) an "interrupted" one that resumes from its
    checkpoint next time."""
    from lmrnn.errors import DeadlineReached, RunFolderBusy

    started = time.time()
    try:
        if job.kind == "graph":
            _graph(job, run_dir(out, job.id))
        else:
            _train(job, run_dir(out, job.id), device, deadline)
        status, error = "complete", None
    except DeadlineReached as exc:
        status, error = "interrupted", str(exc)
    except RunFolderBusy as exc:  # another process is training it: its result is that one's
        status, error = "busy", str(exc)
    except Exception as exc:
        status = "failed"
        error = f"{type(exc).__name__}: {exc}".strip()
        _write_error(run_dir(out, job.id), traceback.format_exc())
    finished = time.time()
    return Outcome(job.id, status, error, started, finished, finished - started)


EXTENDABLE = ("steps", "checkpoint_every", "tensorboard")
"""Keys in which a run may differ from a shorter run it continues (:func:`shorter_twin`)."""


def shorter_twin(out: str | Path, job: Job) -> RunFolder | None:
    """The run folder in ``OUT/runs`` whose training ``job`` continues instead of starting
    afresh: the same config but for :data:`EXTENDABLE` (the same evaluation grid too), fewer
    steps, and a checkpoint; the longest of them. A run lengthened in the catalog (an
    asymptote that was still rising) then trains only the steps it adds, to the same weights
    as a straight run (the loop's resume is exact)."""
    if job.kind != "train":
        return None
    ours = {k: v for k, v in job.config.items() if k not in EXTENDABLE}
    best, best_steps = None, -1
    for folder in sorted((Path(out) / "runs").glob("*")):
        run = RunFolder(folder)
        if folder.name == job.id or not (run.checkpoint.is_file() and run.config.is_file()):
            continue
        try:
            saved = yaml.safe_load(run.config.read_text())
        except (OSError, yaml.YAMLError):
            continue
        if not isinstance(saved, dict):
            continue
        steps = saved.get("steps")
        theirs = canonical({k: v for k, v in saved.items()
                            if k not in EXTENDABLE and k not in RUN_EXCLUDED
                            and k != "environment"})  # fmt: skip
        theirs = {k: theirs.get(k, ADDED_LATER.get(k)) for k in ours}
        if theirs == ours and isinstance(steps, int) and best_steps < steps < job.config["steps"]:
            best, best_steps = run, steps
    return best


def _adopt_twin(out: str | Path, job: Job, run: RunFolder) -> bool:
    """Start ``run`` from its shorter twin's checkpoint (a copy; the twin keeps its own), unless
    the folder has one already: whether there is a checkpoint to resume from now."""
    if run.checkpoint.is_file():
        return True
    twin = shorter_twin(out, job)
    if twin is None:
        return False
    fd, tmp = tempfile.mkstemp(prefix=".twin-", dir=run.path)
    os.close(fd)
    try:
        shutil.copyfile(twin.checkpoint, tmp)
        os.link(tmp, run.checkpoint)  # fails if another process put a checkpoint here first
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    return True


def _train(job: Job, folder: Path, device: str, deadline: float | None = None) -> None:
    from lmrnn.analysis import analyze
    from lmrnn.train import train

    folder.mkdir(parents=True, exist_ok=True)
    run = RunFolder(folder)
    config = from_dict({**job.config, "out": str(folder), "device": device})
    if not run.summary.is_file():
        # a progress bar where someone watches (a terminal), none in batch jobs' logs
        train(
            config,
            resume=_adopt_twin(folder.parent.parent, job, run),
            progress=sys.stderr.isatty(),
            deadline=deadline,
        )
    for what in job.analyses:
        if not run.has_analysis(what):
            analyze(folder, what, run.analysis_dir, trials=job.analysis_trials)


def _graph(job: Job, folder: Path) -> None:
    from lmrnn.graphs import compare_lm_er
    from lmrnn.graphs.figures import plot_fig1d

    folder.mkdir(parents=True, exist_ok=True)
    n, seed = job.config["n"], job.config["seed"]
    rows = compare_lm_er(n, job.config["ds"], seed)
    data = [
        {"d": r.d, "in_degree": r.in_degree, "density": r.density,
         "lm": dataclasses.asdict(r.lm), "er": dataclasses.asdict(r.er)}
        for r in rows
    ]  # fmt: skip
    plot_fig1d(rows, folder / GRAPH_PNG, n)
    text = json.dumps({"n": n, "seed": seed, "rows": data}, indent=2, default=_inf)
    (folder / GRAPH_JSON).write_text(text)


def _inf(x: Any) -> Any:
    return str(x)


def _write_error(folder: Path, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    RunFolder(folder).error.write_text(text)
