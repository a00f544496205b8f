"""Where runs execute: ``local`` (this process, one after another) or ``slurm`` (submitit).

Both call :func:`lmrnn.experiments.jobs.execute` once per job and report each
:class:`~lmrnn.experiments.jobs.Outcome` through ``on_done`` as soon as it is known, so the
sweep's store fills while the rest still run. With ``slurm`` the jobs are one submitit job
array; ``cluster="local"`` runs that same path on this machine (submitit's LocalExecutor), which
is how the tests check it end to end. A worker that dies outright is recorded as failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lmrnn.checks import check_int
from lmrnn.errors import LmrnnError, check_choice
from lmrnn.experiments.jobs import Job, Outcome, execute

EXECUTORS = ("local", "slurm")
OnStart = Callable[[Job], None]
OnDone = Callable[[Job, Outcome], None]


def check_executor(name: str) -> str:
    check_choice("executor", name, EXECUTORS)
    if name == "slurm":
        import importlib.util

        if importlib.util.find_spec("submitit") is None:
            raise LmrnnError("executor 'slurm' needs submitit: pip install 'lmrnn[slurm]'.")
    return name


def check_slurm(cluster: str | None, parameters: dict[str, Any]) -> None:
    """One sentence, before any work, if the slurm executor cannot run as asked: no Slurm here
    (unless ``cluster="local"``, submitit's local stand-in), or job sizes below their minimum."""
    import shutil

    if cluster not in (None, "slurm", "local"):
        raise LmrnnError(f"unknown cluster {cluster!r}; choose slurm, or local (a stand-in here).")
    if cluster != "local" and shutil.which("sbatch") is None:
        raise LmrnnError(
            "executor 'slurm' found no Slurm on this machine (no sbatch on PATH); run it on the "
            "cluster's login node, or add --cluster local to try the path here."
        )
    for key, flag, minimum in (("timeout_min", "--timeout-min", 1), ("gpus_per_node", "--gpus", 0)):
        if parameters.get(key) is not None:
            check_int(flag, parameters[key], minimum)


def run_local(jobs: Sequence[Job], out: Path, on_start: OnStart, on_done: OnDone,
              device: str = "auto", deadline: float | None = None) -> None:  # fmt: skip
    """Run the jobs one after another in this process (seeds of a job train as one ensemble);
    past ``deadline`` (unix seconds) the running job checkpoints and stops, and no new one
    starts."""
    for job in jobs:
        if deadline is not None and time.time() >= deadline:
            return
        on_start(job)
        on_done(job, execute(job, out, device, deadline))


def run_slurm(jobs: Sequence[Job], out: Path, on_start: OnStart, on_done: OnDone,
              device: str = "auto", cluster: str | None = None,
              parameters: dict[str, Any] | None = None) -> None:  # fmt: skip
    """Submit the jobs as one submitit job array and record each as it finishes.

    ``cluster``: None lets submitit pick (slurm where available), "local" forces its local
    executor, "slurm" forces slurm. ``parameters``: passed to ``update_parameters`` (e.g.
    ``timeout_min``, ``slurm_partition``, ``gpus_per_node``).
    """
    import submitit

    if not jobs:
        return
    executor = submitit.AutoExecutor(folder=out / "submitit" / "%j", cluster=cluster)
    params = {"timeout_min": 60, "name": "lmrnn", **(parameters or {})}
    executor.update_parameters(**params)
    for job in jobs:
        on_start(job)
    n = len(jobs)
    handles = executor.map_array(execute, list(jobs), [out] * n, [device] * n)
    by_id = {h.job_id: job for h, job in zip(handles, jobs, strict=True)}
    for handle in submitit.helpers.as_completed(handles, poll_frequency=1):
        job = by_id[handle.job_id]
        try:
            outcome = handle.result()
        except Exception as exc:
            now = time.time()
            message = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
            outcome = Outcome(job.id, "failed", f"{type(exc).__name__}: {message}", now, now, 0.0)
        on_done(job, outcome)
