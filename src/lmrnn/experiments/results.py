"""Reading a sweep back from its store: per experiment, per network, curves and final numbers.

Performance is the mean over tasks of the ``decision`` accuracy (metrics.csv task "mean"),
summarised across seeds as mean ± s.e.m.; ``lmrnn results`` prints these tables and writes
them as CSV.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lmrnn.errors import LmrnnError
from lmrnn.experiments import store
from lmrnn.train.outputs import mean_sem

CRITERION = "decision"
#: A seed "fell" when its last evaluation is this far below its own best one (accuracy).
FELL_BY = 0.2


@dataclass
class NetworkResult:
    """One network of an experiment.

    curve: step -> (mean, sem, number of seeds) of mean-over-tasks performance.
    per_seed: step -> each seed's mean-over-tasks performance, in seed order (what the
    verdicts' tests read).
    values: (task, criterion) -> mean over seeds, for every other metric (counts, analyses,
    graph metrics); seed_values: the same, each seed's value in seed order.
    diverged: seed -> the step it diverged at (it is frozen from there on; its curve goes on
    at the frozen weights).
    """

    label: str
    run: str
    status: str
    error: str | None
    config: dict[str, Any]
    seconds: float | None
    curve: dict[int, tuple[float, float, int]] = field(default_factory=dict)
    values: dict[tuple[str, str], float] = field(default_factory=dict)
    per_seed: dict[int, list[float]] = field(default_factory=dict)
    seed_values: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    diverged: dict[int, int] = field(default_factory=dict)

    def _last(self, step: int) -> int | None:
        steps = [s for s in self.curve if s <= step]
        return max(steps) if steps else None

    def seeds_at(self, step: int) -> list[float]:
        """Each seed's performance at the last evaluation at or before ``step`` (empty if
        there is none; one value, the mean, where only the summary was recorded)."""
        last = self._last(step)
        if last is None:
            return []
        if last in self.per_seed:
            return list(self.per_seed[last])
        return [self.curve[last][0]]

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    def at(self, step: int) -> tuple[float, float] | None:
        """(mean, sem) at the last evaluation at or before ``step``; None if there is none."""
        last = self._last(step)
        if last is None:
            return None
        mean, sem, _ = self.curve[last]
        return mean, sem

    @property
    def final(self) -> tuple[float, float] | None:
        return self.at(max(self.curve)) if self.curve else None

    def fell(self, drop: float = FELL_BY) -> list[tuple[int, float, int, float]]:
        """The seeds whose last evaluation lies ``drop`` or more below their own best earlier
        one (a training collapse, not a NaN: those are in ``diverged``), each as (seed, best,
        step of the best, last), seeds as the run's config names them."""
        if len(self.per_seed) < 2:
            return []
        steps = sorted(self.per_seed)
        seeds = self.config.get("seeds") or list(range(len(self.per_seed[steps[-1]])))
        out = []
        for i, last in enumerate(self.per_seed[steps[-1]]):
            best, at = max((self.per_seed[s][i], s) for s in steps if i < len(self.per_seed[s]))
            if best - last >= drop:
                out.append((int(seeds[i]), best, at, last))
        return out


@dataclass
class ExperimentResult:
    """One experiment at one scale: its spec (as stored) and its networks by label."""

    name: str
    scale: str
    spec: dict[str, Any]
    networks: dict[str, NetworkResult]

    @property
    def complete(self) -> bool:
        """Every network of the spec has a complete run (a spec without a network list, as
        in hand-made results, asks only that the networks present be complete)."""
        wanted = [n["label"] for n in self.spec.get("networks", [])]
        present = all(label in self.networks for label in wanted)
        return bool(self.networks) and present and all(n.complete for n in self.networks.values())

    def point(self, name: str) -> int:
        """The step of the evaluation point ``name`` ("early", "later", "final"): the spec's
        step, or the last evaluation before it where the runs have none there (a ci-scale
        run evaluates sparsely), so that verdicts name the step they read."""
        step = int(self.spec["points"][name])
        steps = {s for n in self.networks.values() for s in n.curve if s <= step}
        return max(steps) if steps and step not in steps else step


def load(out: str | Path) -> list[ExperimentResult]:
    """Every experiment recorded in OUT/results.sqlite, in the catalog's order."""
    if not store.db_path(out).is_file():
        raise LmrnnError(
            f"{str(out)!r} holds no results ({store.DB_NAME} not found); run `lmrnn reproduce "
            f"NAME --out {out}` first."
        )
    with store.connect(out) as db:
        specs = db.execute("SELECT name, scale, spec_json FROM experiments").fetchall()
        results = [_experiment(db, r["name"], r["scale"], json.loads(r["spec_json"]))
                   for r in specs]  # fmt: skip
    return sorted(results, key=lambda r: (_is_grid(r.name), r.name, r.scale))


def _is_grid(name: str) -> bool:
    """The recipe grid and the sensitivity variants come after the paper's experiments (whose
    names, fig1d ... fig7-11, table1, sort in the paper's order)."""
    return name.startswith(("baselines-", "sensitivity-"))


def _experiment(db, name: str, scale: str, spec: dict[str, Any]) -> ExperimentResult:
    labels = [n["label"] for n in spec["networks"]]
    members = {
        r["network"]: r["run"]
        for r in db.execute(
            "SELECT network, run FROM members WHERE experiment = ? AND scale = ?", (name, scale)
        )
    }
    # the network as the experiment names it (LM d = 0, not the autapse pool its run shares)
    overrides = {n["label"]: n.get("overrides", {}) for n in spec["networks"]}
    networks = {}
    for label in labels:
        run = db.execute("SELECT * FROM runs WHERE id = ?", (members.get(label),)).fetchone()
        if run is None:
            continue
        config = {**json.loads(run["config_json"]), **overrides.get(label, {})}
        net = NetworkResult(label, run["id"], run["status"], run["error"], config,
                            run["seconds"])  # fmt: skip
        _fill(db, net)
        networks[label] = net
    return ExperimentResult(name, scale, spec, networks)


def _fill(db, net: NetworkResult) -> None:
    by_step: dict[int, list[float]] = {}
    other: dict[tuple[str, str], list[float]] = {}
    for r in db.execute("SELECT seed, step, task, criterion, value FROM metrics WHERE run = ? "
                        "ORDER BY seed", (net.run,)):  # fmt: skip
        if r["task"] == "mean" and r["criterion"] == CRITERION:
            by_step.setdefault(r["step"], []).append(r["value"])
        elif r["criterion"] == "diverged":
            net.diverged[int(r["seed"])] = int(r["value"])
        elif r["criterion"] != "loss" and r["task"] not in ("mean",):
            other.setdefault((r["task"], r["criterion"]), []).append(r["value"])
    net.curve = {s: (*mean_sem(v), len(v)) for s, v in sorted(by_step.items())}
    net.per_seed = dict(sorted(by_step.items()))
    net.values = {k: sum(v) / len(v) for k, v in other.items()}
    net.seed_values = other


# -- tables ------------------------------------------------------------------------------------
def table_rows(result: ExperimentResult) -> list[dict[str, Any]]:
    """One row per network: status, final performance mean ± s.e.m., non-zero counts."""
    rows = []
    for net in result.networks.values():
        final, fell = net.final, net.fell()
        rows.append({
            "experiment": result.name, "scale": result.scale, "network": net.label,
            "run": net.run, "status": net.status,
            "step": max(net.curve) if net.curve else None,
            "performance": final[0] if final else None, "sem": final[1] if final else None,
            "seeds": net.curve[max(net.curve)][2] if net.curve else None,
            "nonzero_recurrent": net.values.get(("*", "nonzero_recurrent")),
            "nonzero_total": net.values.get(("*", "nonzero_total")),
            "seconds": net.seconds, "error": net.error, "diverged": len(net.diverged),
            "fell": len(fell), "fell_seeds": ", ".join(
                f"seed {seed} {top:.3f} at step {at} -> {last:.3f}" for seed, top, at, last in fell
            ),
        })  # fmt: skip
    return rows


def formatted(row: dict[str, Any]) -> dict[str, str]:
    """The printed cells of a :func:`table_rows` row: performance "mean ± s.e.m.", the
    non-zero counts with thousands separators ("-" where there is none yet), and the status
    with its error, its diverged seeds and the seeds that fell from their best."""
    count = lambda key: f"{row[key]:,.0f}" if row[key] is not None else "-"  # noqa: E731
    perf = row["performance"]
    status = row["status"] + (f" ({row['error']})" if row["error"] else "")
    if row.get("diverged"):
        status += f" ({row['diverged']} of {row['seeds']} seeds diverged)"
    if row.get("fell"):
        fell = f"{row['fell']} of {row['seeds']} seeds fell from their best"
        status += f" ({fell}: {row['fell_seeds']})"
    return {
        "status": status,
        "performance": f"{perf:.3f} ± {row['sem']:.3f}" if perf is not None else "-",
        "nonzero_recurrent": count("nonzero_recurrent"),
        "nonzero_total": count("nonzero_total"),
    }


def format_table(result: ExperimentResult) -> str:
    """A plain-text table of :func:`table_rows` (Table 1 style for training experiments)."""
    head = f"{result.name} ({result.spec['figure']}, scale {result.scale})"
    if result.spec["kind"] == "graph":
        return head + "\n" + _graph_table(result)
    lines = [head, f"{'network':<40} {'step':>6} {'performance':>16} {'nonzero W':>10} "
             f"{'nonzero all':>12}  status"]  # fmt: skip
    for r in table_rows(result):
        c = formatted(r)
        cells = f"{c['performance']:>16} {c['nonzero_recurrent']:>10} {c['nonzero_total']:>12}"
        lines.append(f"{r['network']:<40} {r['step'] or '-':>6} {cells}  {c['status']}")
    return "\n".join(lines)


def _graph_table(result: ExperimentResult) -> str:
    lines = [f"{'d':>5} | {'diam LM':>7} {'diam ER':>7} {'ER (u)':>6} | {'path LM':>7} "
             f"{'path ER':>7} {'ER (u)':>6} | {'clust LM':>8} {'clust ER':>8}   "
             "(u): the undirected ER graph"]  # fmt: skip
    for net in result.networks.values():
        for task in sorted({t for t, _ in net.values}, key=lambda t: float(t[2:])):
            v = lambda c, net=net, task=task: net.values.get((task, c), float("nan"))  # noqa: E731
            lines.append(
                f"{task[2:]:>5} | {v('diameter_lm'):>7.0f} {v('diameter_er'):>7.0f} "
                f"{v('diameter_undirected_er'):>6.0f} | {v('avg_shortest_path_lm'):>7.3f} "
                f"{v('avg_shortest_path_er'):>7.3f} {v('avg_shortest_path_undirected_er'):>6.3f} | "
                f"{v('clustering_lm'):>8.3f} {v('clustering_er'):>8.3f}"
            )
    return "\n".join(lines)


def write_csv(results: list[ExperimentResult], path: str | Path) -> Path:
    """Every network row of every experiment to one CSV file."""
    rows = [row for r in results for row in table_rows(r)]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        fields = list(rows[0]) if rows else ["experiment"]
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path
