"""The paper's experiments as data, the sweep runner, the results store and the report.

Public API::

    from lmrnn.experiments import EXPERIMENTS, reproduce, load, judge, write_report
    sweep = reproduce("fig2a", scale="ci", out="results/ci")   # or "all"; executor="slurm"
    results = load("results/ci")                 # per experiment: networks, curves, counts
    verdicts = [v for r in results for v in judge(r)]        # claim, paper, ours, verdict
    write_report("results/ci", "results/ci/report.html")     # self-contained HTML

Depends on :mod:`lmrnn.train`, :mod:`lmrnn.analysis` and :mod:`lmrnn.graphs`; only the
command line imports it.
"""

from lmrnn.experiments.catalog import EXPERIMENTS
from lmrnn.experiments.claims import VERDICTS, Verdict, judge
from lmrnn.experiments.executors import EXECUTORS
from lmrnn.experiments.jobs import Job, Outcome, execute, make_job, run_id
from lmrnn.experiments.report import write_report
from lmrnn.experiments.results import ExperimentResult, NetworkResult, load, write_csv
from lmrnn.experiments.runner import PlannedRun, Sweep, dry_run, get_experiment, plan, reproduce
from lmrnn.experiments.specs import SCALES, Claim, Experiment, Network, Scale

__all__ = [
    "EXECUTORS",
    "EXPERIMENTS",
    "SCALES",
    "VERDICTS",
    "Claim",
    "Experiment",
    "ExperimentResult",
    "Job",
    "Network",
    "NetworkResult",
    "Outcome",
    "PlannedRun",
    "Scale",
    "Sweep",
    "Verdict",
    "dry_run",
    "execute",
    "get_experiment",
    "judge",
    "load",
    "make_job",
    "plan",
    "reproduce",
    "run_id",
    "write_csv",
    "write_report",
]
