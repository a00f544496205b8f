"""The results store: one SQLite file per output folder, ``OUT/results.sqlite``.

Tables::

    runs(id, experiment, kind, config_json, status, error, started, finished, seconds)
    metrics(run, seed, step, task, criterion, value)      -- metrics.csv, counts, analyses
    members(experiment, scale, network, run)              -- which runs make which figure
    experiments(name, scale, spec_json)                   -- the spec each was run with
    meta(key, value)                                      -- environment of the last sweep

Only the process that drives a sweep writes (workers never touch the file), so no locking
beyond SQLite's own is needed. Times are unix seconds; ``seconds`` is the run's wall time.
"""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lmrnn.experiments.jobs import GRAPH_JSON, Job, Outcome, run_dir, run_folder

DB_NAME = "results.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, experiment TEXT, kind TEXT, config_json TEXT, status TEXT,
    error TEXT, started REAL, finished REAL, seconds REAL);
CREATE TABLE IF NOT EXISTS metrics (
    run TEXT, seed INTEGER, step INTEGER, task TEXT, criterion TEXT, value REAL);
CREATE INDEX IF NOT EXISTS metrics_run ON metrics(run);
CREATE TABLE IF NOT EXISTS members (
    experiment TEXT, scale TEXT, network TEXT, run TEXT,
    PRIMARY KEY (experiment, scale, network));
CREATE TABLE IF NOT EXISTS experiments (
    name TEXT, scale TEXT, spec_json TEXT, PRIMARY KEY (name, scale));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""


def db_path(out: str | Path) -> Path:
    return Path(out) / DB_NAME


@contextlib.contextmanager
def connect(out: str | Path) -> Iterator[sqlite3.Connection]:
    """A connection to OUT/results.sqlite (created with its tables); commits on success."""
    Path(out).mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(db_path(out), timeout=60)
    db.row_factory = sqlite3.Row
    try:
        db.executescript(SCHEMA)
        yield db
        db.commit()
    finally:
        db.close()


def register(db: sqlite3.Connection, spec: dict[str, Any], jobs: dict[str, Job]) -> None:
    """Record an experiment at a scale, its networks (label -> job) and its planned runs."""
    db.execute("INSERT OR REPLACE INTO experiments VALUES (?, ?, ?)",
               (spec["name"], spec["scale"], json.dumps(spec)))  # fmt: skip
    db.execute(
        "DELETE FROM members WHERE experiment = ? AND scale = ?", (spec["name"], spec["scale"])
    )
    for label, job in jobs.items():
        db.execute(
            "INSERT INTO members VALUES (?, ?, ?, ?)", (spec["name"], spec["scale"], label, job.id)
        )
        db.execute(
            "INSERT OR IGNORE INTO runs (id, experiment, kind, config_json, status) "
            "VALUES (?, ?, ?, ?, 'planned')",
            (job.id, spec["name"], job.kind, json.dumps(job.config, sort_keys=True)),
        )


def status(db: sqlite3.Connection, job_id: str) -> str | None:
    row = db.execute("SELECT status FROM runs WHERE id = ?", (job_id,)).fetchone()
    return row["status"] if row else None


def mark_running(db: sqlite3.Connection, job_id: str, started: float) -> None:
    db.execute("UPDATE runs SET status = 'running', error = NULL, started = ? WHERE id = ?",
               (started, job_id))  # fmt: skip
    db.commit()


def record(db: sqlite3.Connection, out: str | Path, job: Job, outcome: Outcome) -> None:
    """Store a finished job: its status and timings and, when complete, all its metrics."""
    db.execute(
        "UPDATE runs SET status = ?, error = ?, started = ?, finished = ?, seconds = ? "
        "WHERE id = ?",
        (outcome.status, outcome.error, outcome.started, outcome.finished, outcome.seconds,
         job.id),
    )  # fmt: skip
    db.execute("DELETE FROM metrics WHERE run = ?", (job.id,))
    if outcome.status == "complete":
        db.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?)",
                       [(job.id, *row) for row in metric_rows(out, job)])  # fmt: skip
    db.commit()


def stored_row(task: str, criterion: str) -> bool:
    """Whether a metric row belongs in the store: the mean over tasks, counts ("*"), analysis
    numbers and graph metrics. Per-task accuracies and losses stay in the run's metrics.csv
    (nothing read from the store uses them), which keeps a store small enough to commit."""
    if criterion == "loss":
        return False
    return task in ("mean", "*") or task.startswith(("analysis:", "d="))


def has_result(db: sqlite3.Connection, job: Job) -> bool:
    """The store holds this run's result (complete, with its performance and every analysis
    it needs): a committed store stands for run folders that are not there any more."""
    if status(db, job.id) != "complete":
        return False
    tasks = {r["task"] for r in db.execute("SELECT DISTINCT task FROM metrics WHERE run = ?",
                                           (job.id,))}  # fmt: skip
    needed = {"mean"} if job.kind == "train" else set()
    needed |= {f"analysis:{what}" for what in job.analyses}
    return bool(tasks) and needed <= tasks


def metric_rows(out: str | Path, job: Job) -> list[tuple]:
    """(seed, step, task, criterion, value) rows of a complete job, from its run folder.

    metrics.csv (the rows :func:`stored_row` keeps); non-zero counts (task "*", criterion
    "nonzero_recurrent"/"nonzero_total") at the final step; the scalar numbers of each
    analysis JSON in the run's analysis folder (task "analysis:<what>", criterion the dotted
    key); for a graph job, each metric of LM and ER per d (task "d=<d>").
    """
    if job.kind == "graph":
        return _graph_rows(run_dir(out, job.id), job.config["seed"])
    from lmrnn.train.outputs import read_metrics

    folder = run_folder(out, job.id)
    metrics = read_metrics(folder.path)
    rows = [(r["seed"], r["step"], r["task"], r["criterion"], r["value"])
            for r in metrics if stored_row(r["task"], r["criterion"])]  # fmt: skip
    summary = json.loads(folder.summary.read_text())
    for key in ("recurrent", "total"):
        for seed, value in summary["nonzero"][key].items():
            rows.append((int(seed), summary["steps"], "*", f"nonzero_{key}", float(value)))
    for path in folder.analysis_files():
        what = path.stem
        numbers = json.loads(path.read_text())
        seed = int(numbers.get("seed", job.config["seeds"][0]))
        for key, value in flatten(numbers).items():
            rows.append((seed, summary["steps"], f"analysis:{what}", key, value))
    return rows


def _graph_rows(folder: Path, seed: int) -> list[tuple]:
    data = json.loads((folder / GRAPH_JSON).read_text())
    rows = []
    for r in data["rows"]:
        for net in ("lm", "er"):
            for metric, value in r[net].items():
                if isinstance(value, (int, float)):
                    rows.append((seed, 0, f"d={r['d']:g}", f"{metric}_{net}", float(value)))
    return rows


def flatten(data: Any, prefix: str = "", depth: int = 3) -> dict[str, float]:
    """Finite numeric scalars of nested dicts, keyed "a.b.c" (lists are skipped)."""
    out: dict[str, float] = {}
    if isinstance(data, dict) and depth > 0:
        for k, v in data.items():
            out.update(flatten(v, f"{prefix}{k}.", depth - 1))
    elif isinstance(data, (int, float)) and not isinstance(data, bool) and math.isfinite(data):
        out[prefix.rstrip(".")] = float(data)
    return out


def set_meta(db: sqlite3.Connection, values: dict[str, Any]) -> None:
    db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                   [(k, json.dumps(v)) for k, v in values.items()])  # fmt: skip


def get_meta(db: sqlite3.Connection) -> dict[str, Any]:
    return {r["key"]: json.loads(r["value"]) for r in db.execute("SELECT key, value FROM meta")}
