"""``reproduce``: expand an experiment into runs, skip the complete ones, run the rest, store.

    from lmrnn.experiments import reproduce
    sweep = reproduce("fig2a", scale="ci", out="results/ci")      # local, sequential
    sweep = reproduce("all", scale="small", out="results/small", executor="slurm")

Every run lives in ``OUT/runs/<id>/`` (id: hash of the resolved config). A run whose outputs
are complete is skipped (and imported into the store if it was not recorded yet); one with a
checkpoint resumes from it; one that raises is recorded as failed with its error and the
others go on.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lmrnn.errors import LmrnnError, check_choice, did_you_mean
from lmrnn.experiments import store
from lmrnn.experiments.catalog import EXPERIMENTS, GROUPS
from lmrnn.experiments.executors import check_executor, check_slurm, run_local, run_slurm
from lmrnn.experiments.jobs import Job, Outcome, is_complete, make_job, run_folder, shorter_twin
from lmrnn.experiments.specs import Experiment, check_scale
from lmrnn.train.checkpoint import is_locked, load_checkpoint

ORDERS = ("forward", "reverse")


@dataclass
class Sweep:
    """What one ``reproduce`` did: per run id, "skipped" (already complete), "complete",
    "interrupted" (stopped at the deadline, resumes next time), "busy" (another process was
    training it) or "failed"; errors holds the message of each failed run."""

    out: Path
    scale: str
    experiments: list[str]
    jobs: dict[str, Job]
    status: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(1 for s in self.status.values() if s == status)

    def remaining(self) -> list[str]:
        """Ids of the runs not complete after this sweep (interrupted, failed or not started)."""
        return [i for i in self.jobs if self.status.get(i) not in ("complete", "skipped")]


def get_experiment(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        choices = [*list(EXPERIMENTS), *GROUPS]
        raise LmrnnError(
            f"unknown experiment {name!r}{did_you_mean(str(name), choices)}; choose one of "
            f"{', '.join(choices)}."
        )
    return EXPERIMENTS[name]


def resolve(names: str | Experiment | Sequence[str | Experiment],
            scale: str | None = None) -> list[Experiment]:  # fmt: skip
    """Experiments from names ("all" = the paper's, "baselines" = the recipe grid's) or
    Experiment objects; a group stands for its experiments that have ``scale`` (``medium``
    exists only where a claim needs it), a name for its experiment (which must have it)."""
    if isinstance(names, (str, Experiment)):
        names = [names]
    out: list[Experiment] = []
    for item in names:
        if isinstance(item, Experiment):
            out.append(item)
        elif item in GROUPS:
            group = [EXPERIMENTS[name] for name in GROUPS[item]]
            out.extend(e for e in group if scale is None or scale in e.scales)
        else:
            out.append(get_experiment(item))
    if scale is not None:
        for e in out:
            e.scale(scale)  # one sentence if it has no such scale
    if not out:
        raise LmrnnError(f"no experiment of {names!r} has a {scale} scale.")
    return out


def plan(experiment: Experiment, scale: str) -> dict[str, Job]:
    """Network label -> Job for one experiment at one scale (configs validated here)."""
    s = experiment.scale(scale)
    return {
        net.label: make_job(experiment.kind, {**s.base, **net.overrides}, s.analyses,
                            s.analysis_trials)
        for net in s.networks
    }  # fmt: skip


def reproduce(
    names: str | Experiment | Sequence[str | Experiment],
    scale: str = "ci",
    out: str | Path = "results",
    executor: str = "local",
    device: str = "auto",
    cluster: str | None = None,
    slurm_parameters: dict[str, Any] | None = None,
    verbose: bool = True,
    until: float | None = None,
    order: str = "forward",
) -> Sweep:
    """Run experiment(s) at ``scale`` into ``out``; every input is checked before any work.

    ``until`` (unix seconds, local executor): stop cleanly there: the running job writes a
    checkpoint and is recorded "interrupted", no new job starts, and the next call resumes.
    ``order``: ``forward`` (the catalog's) or ``reverse``, so that two processes on one
    ``out`` work a queue from both ends (a run the other one is training is left to it).
    """
    check_scale(scale)
    check_choice("order", order, ORDERS)
    check_executor(executor)
    if executor == "slurm":
        check_slurm(cluster, slurm_parameters or {})
    from lmrnn.train.config import resolve_device

    device_name = resolve_device(device)
    experiments = resolve(names, scale)
    plans = {e.name: plan(e, scale) for e in experiments}
    out = Path(out)
    jobs: dict[str, Job] = {}
    for p in plans.values():
        for job in p.values():
            jobs[job.id] = merge(jobs.get(job.id), job)
    sweep = Sweep(out, scale, [e.name for e in experiments], jobs)
    log = (lambda msg: print(msg, file=sys.stderr, flush=True)) if verbose else (lambda msg: None)

    with store.connect(out) as db:
        for e in experiments:
            store.register(db, e.to_dict(scale), plans[e.name])
        store.set_meta(db, {"environment": _environment(device_name), "scale": scale})
        db.commit()
        todo = []
        for job in jobs.values():
            if is_complete(out, job):
                sweep.status[job.id] = "skipped"
                if store.status(db, job.id) != "complete":
                    store.record(db, out, job, Outcome(job.id, "complete", None, 0, 0, 0))
            elif store.has_result(db, job):  # recorded, its folder gone (a committed store)
                sweep.status[job.id] = "skipped"
            else:
                todo.append(job)
        log(f"{len(jobs)} runs: {len(jobs) - len(todo)} already complete, {len(todo)} to run")

        def on_start(job: Job) -> None:
            import time

            store.mark_running(db, job.id, time.time())

        def on_done(job: Job, outcome: Outcome) -> None:
            if outcome.status != "busy":  # a run another process trains: it records it
                store.record(db, out, job, outcome)
            sweep.status[job.id] = outcome.status
            if outcome.error and outcome.status == "failed":
                sweep.errors[job.id] = outcome.error
            extra = f": {outcome.error}" if outcome.error else ""
            log(f"run {job.id} {outcome.status} in {outcome.seconds:.1f} s{extra}")

        if executor == "local":
            queue = todo if order == "forward" else todo[::-1]
            run_local(queue, out, on_start, on_done, device, until)
        else:
            run_slurm(todo, out, on_start, on_done, device, cluster, slurm_parameters)
    return sweep


@dataclass(frozen=True)
class PlannedRun:
    """One run of a dry run: where it stands in ``out``."""

    experiment: str
    network: str
    id: str
    seeds: int
    steps: int
    status: str  # "complete", "resumes from step N", "continues <id> from step N" or "to run"


def dry_run(
    names: str | Experiment | Sequence[str | Experiment],
    scale: str = "ci",
    out: str | Path = "results",
) -> tuple[list[PlannedRun], dict[str, float]]:
    """What ``reproduce`` would do, writing nothing: every run with its status in ``out``, and
    each experiment's rough CPU estimate in minutes (the spec's ``cpu_minutes``)."""
    check_scale(scale)
    experiments = resolve(names, scale)
    out = Path(out)
    rows = []
    db = None
    if store.db_path(out).is_file():  # read only: a dry run writes nothing
        db = sqlite3.connect(f"file:{store.db_path(out)}?mode=ro", uri=True)
        db.row_factory = sqlite3.Row
    try:
        for e in experiments:
            for label, job in plan(e, scale).items():
                seeds = len(job.config.get("seeds", [0])) if job.kind == "train" else 1
                steps = int(job.config.get("steps", 0)) if job.kind == "train" else 0
                rows.append(PlannedRun(e.name, label, job.id, seeds, steps,
                                       _standing(out, job, db)))  # fmt: skip
    finally:
        if db is not None:
            db.close()
    return rows, {e.name: e.scale(scale).cpu_minutes for e in experiments}


def _standing(out: Path, job: Job, db: sqlite3.Connection | None) -> str:
    if is_complete(out, job) or (db is not None and store.has_result(db, job)):
        return "complete"
    folder = run_folder(out, job.id)
    busy = is_locked(folder.path)
    if folder.checkpoint.is_file():
        try:
            step = load_checkpoint(folder.path, mmap=True).get("step", "?")
        except LmrnnError:
            return "to run (its checkpoint cannot be read)"
        if busy:
            return f"being trained by another process (checkpoint at step {step})"
        return f"resumes from step {step}"
    if busy:
        return "being trained by another process"
    twin = shorter_twin(out, job)
    if twin is not None:
        try:
            step = load_checkpoint(twin.path, mmap=True).get("step", "?")
        except LmrnnError:
            return "to run"
        return f"continues {twin.path.name} from step {step}"
    return "to run"


def merge(old: Job | None, new: Job) -> Job:
    """One job for a run shared by several experiments: the union of their analyses."""
    if old is None:
        return new
    analyses = tuple(dict.fromkeys(old.analyses + new.analyses))
    trials = max(old.analysis_trials, new.analysis_trials)
    return Job(new.id, new.kind, new.config, analyses, trials)


def _environment(device: str) -> dict[str, Any]:
    from lmrnn.train.outputs import environment

    return environment(device)
