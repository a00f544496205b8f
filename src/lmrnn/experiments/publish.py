"""Committed results: a finished sweep's numbers in a small folder that git can hold, read back
by ``lmrnn results`` and ``lmrnn report`` from a fresh clone, and the README's claims table
generated from them.

``lmrnn publish OUT DEST`` writes into DEST: ``results.sqlite`` (a copy of the store, which
holds no per-task rows or losses: every run's config, status, mean performance per seed and
step, non-zero counts and analysis numbers: what the tables and verdicts read; stores written
before that are slimmed in the copy), ``report.html`` with its
figures, ``results.txt`` (what ``lmrnn results`` prints) and ``results.csv``. Never
checkpoints or weights.

The README's table between ``<!-- claims:begin -->`` and ``<!-- claims:end -->`` is
:func:`claims_markdown` over every published folder under ``docs/results``, judged by today's
rules; so are its sensitivity block (:func:`sensitivity_markdown`) and its Table 1 block
(:func:`table1_markdown`). ``make readme`` rewrites them and a test checks that they match.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from lmrnn.errors import LmrnnError
from lmrnn.experiments import store
from lmrnn.experiments.claims import judge
from lmrnn.experiments.results import load

BEGIN, END = "<!-- claims:begin -->", "<!-- claims:end -->"
#: The block of the README that says which verdicts depend on a model choice (generated).
SENSITIVITY_BEGIN, SENSITIVITY_END = "<!-- sensitivity:begin -->", "<!-- sensitivity:end -->"
#: The paper's Table 1 beside ours at the largest published scale (generated).
TABLE1_BEGIN, TABLE1_END = "<!-- table1:begin -->", "<!-- table1:end -->"
# metrics rows kept: the mean over tasks (every criterion), counts ("*") and analyses
KEPT_ROWS = "task = 'mean' OR task = '*' OR task LIKE 'analysis:%' OR task LIKE 'd=%'"


def publish(out: str | Path, dest: str | Path, only: list[str] | None = None) -> Path:
    """Write OUT's slim store, report, tables and CSV into DEST; returns DEST. ``only``: the
    experiments to keep (names; default every one in OUT)."""
    from lmrnn.experiments.report import results_text, write_report
    from lmrnn.experiments.results import write_csv

    out, dest = Path(out), Path(dest)
    if not store.db_path(out).is_file():
        raise LmrnnError(f"{str(out)!r} holds no results ({store.DB_NAME} not found); run "
                         f"`lmrnn reproduce NAME --out {out}` first.")  # fmt: skip
    if dest.resolve() == out.resolve():
        raise LmrnnError("publish needs a folder other than the sweep's own; give another DEST.")
    dest.mkdir(parents=True, exist_ok=True)
    slim = dest / store.DB_NAME
    tmp = slim.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    with store.connect(out) as source:
        source.commit()
        target = sqlite3.connect(tmp)
        source.backup(target)
        if only:
            names = sorted(_names(target, only))
            marks = ",".join("?" * len(names))
            for table in ("experiments", "members"):
                column = "name" if table == "experiments" else "experiment"
                target.execute(f"DELETE FROM {table} WHERE {column} NOT IN ({marks})", names)
            target.execute("DELETE FROM runs WHERE id NOT IN (SELECT run FROM members)")
            target.execute("DELETE FROM metrics WHERE run NOT IN (SELECT id FROM runs)")
        target.execute(f"DELETE FROM metrics WHERE NOT ({KEPT_ROWS})")
        target.execute("DELETE FROM metrics WHERE criterion = 'loss'")
        target.commit()
        target.execute("VACUUM")
        target.close()
    tmp.replace(slim)
    results = load(dest)
    write_report(dest, dest / "report.html", runs=out)
    write_csv(results, dest / "results.csv")
    (dest / "results.txt").write_text(results_text(dest))
    return dest


def _names(db: sqlite3.Connection, only: list[str]) -> set[str]:
    """The experiment names ``only`` stands for (groups such as "baselines" expanded), each
    checked to be in the store."""
    from lmrnn.experiments.catalog import GROUPS

    wanted = {n for item in only for n in GROUPS.get(item, (item,))}
    have = {r[0] for r in db.execute("SELECT name FROM experiments")}
    missing = sorted(wanted - have)
    if missing:
        raise LmrnnError(f"the sweep holds no experiment {', '.join(map(repr, missing))}; it "
                         f"holds {', '.join(sorted(have)) or 'none'}.")  # fmt: skip
    return wanted


def published(root: str | Path) -> list[Path]:
    """Every published folder under ``root`` (one holding a results.sqlite), sorted."""
    return sorted(p.parent for p in Path(root).rglob(store.DB_NAME))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def claims_markdown(root: str | Path, base: str | Path = ".") -> str:
    """A markdown table of every verdict of every published folder under ``root``, judged by
    today's rules, with a link to the folder's report (relative to ``base``)."""
    lines = ["| claim | verdict | scale | ours (test, difference [95% interval], p) | report |",
             "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for folder in published(root):
        link = Path(os.path.relpath(folder, base)).as_posix()
        for result in load(folder):
            for v in judge(result):
                lines.append(f"| {v.claim} | **{v.verdict}** | {v.scale} | {_cell(v.ours)} | "
                             f"[{result.name}]({link}/report.html) |")  # fmt: skip
    return "\n".join(lines)


def sensitivity_markdown(root: str | Path, base: str | Path = ".") -> str:
    """A markdown table of the sensitivity experiments published under ``root``: per claim,
    the verdict under the project's model (alpha = 1, relu, the fair recipe), under each other
    variant, and whether it is the same under all of them (with a link to the report)."""
    from lmrnn.experiments import sensitivity

    default = sensitivity.DEFAULT
    lines = ["| claim | ours (a=1, relu, fair recipe) | under the other model choices | so | "
             "report |", "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for folder in published(root):
        link = Path(os.path.relpath(folder, base)).as_posix()
        for result in load(folder):
            judged = sensitivity.rows([result])
            for claim in dict.fromkeys(r.claim for r in judged):
                mine = [r for r in judged if r.claim == claim]
                ours = next((r.verdict for r in mine if r.variant == default), "not run")
                others = "; ".join(f"{r.variant}: {r.verdict}" for r in mine
                                   if r.variant != default)  # fmt: skip
                so = sensitivity.across(ours, [r.verdict for r in mine])
                lines.append(f"| {claim} | **{ours}** | {_cell(others)} | {so} | "
                             f"[{result.name}]({link}/report.html) |")  # fmt: skip
    if len(lines) == 2:
        lines.append("| - | no sensitivity runs published yet | - | - | - |")
    return "\n".join(lines)


def table1_markdown(root: str | Path, base: str | Path = ".") -> str:
    """A markdown table of the paper's Table 1 as printed, and beneath it our table1
    experiment at the largest scale published under ``root`` (its networks, the step of the
    last evaluation, performance mean ± s.e.m. over seeds, non-zero counts, with a link to
    the report). Our networks are smaller than the paper's, so orderings compare, not values."""
    from lmrnn.experiments.catalog import PAPER_TABLE1
    from lmrnn.experiments.results import formatted, table_rows
    from lmrnn.experiments.specs import SCALES

    lines = ["| | network | step | performance (mean ± s.e.m.) | non-zero weights | "
             "non-zero recurrent |", "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for network, perf, total, recurrent in PAPER_TABLE1:
        lines.append(f"| paper (15 seeds) | {network} | 10000 | {perf} | {total} | {recurrent} |")
    ours = [(SCALES.index(r.scale), folder, r) for folder in published(root)
            for r in load(folder) if r.name == "table1"]  # fmt: skip
    if not ours:
        lines.append("| ours | no table1 experiment published yet | - | - | - | - |")
        return "\n".join(lines)
    _, folder, result = max(ours, key=lambda o: o[0])
    link = Path(os.path.relpath(folder, base)).as_posix()
    for row in table_rows(result):
        c = formatted(row)
        seeds = f"{row['seeds']} seeds" if row["status"] == "complete" else c["status"]
        if row["status"] == "complete" and row["fell"]:
            seeds += f"; fell from its best: {row['fell_seeds']}"
        lines.append(f"| [ours]({link}/report.html) ({result.scale}, {seeds}) | "
                     f"{_cell(row['network'])} | {row['step'] or '-'} | {c['performance']} | "
                     f"{c['nonzero_total']} | {c['nonzero_recurrent']} |")  # fmt: skip
    return "\n".join(lines)


def _fill(text: str, begin: str, end: str, table: str, readme: str | Path) -> str:
    if begin not in text or end not in text:
        raise LmrnnError(f"{str(readme)!r} has no {begin} ... {end} block to fill.")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{table}\n{end}{tail}"


def readme_block(readme: str | Path, root: str | Path) -> tuple[str, str]:
    """(the README's text, the text with its claims block regenerated from ``root``, and its
    sensitivity and Table 1 blocks where it has them)."""
    text = Path(readme).read_text()
    new = _fill(text, BEGIN, END, claims_markdown(root, Path(readme).parent), readme)
    if SENSITIVITY_BEGIN in new:
        table = sensitivity_markdown(root, Path(readme).parent)
        new = _fill(new, SENSITIVITY_BEGIN, SENSITIVITY_END, table, readme)
    if TABLE1_BEGIN in new:
        table = table1_markdown(root, Path(readme).parent)
        new = _fill(new, TABLE1_BEGIN, TABLE1_END, table, readme)
    return text, new


def update_readme(readme: str | Path, root: str | Path) -> bool:
    """Rewrite the README's claims block; True if it changed."""
    old, new = readme_block(readme, root)
    if new != old:
        Path(readme).write_text(new)
    return new != old


__all__ = [
    "claims_markdown",
    "publish",
    "published",
    "readme_block",
    "sensitivity_markdown",
    "table1_markdown",
    "update_readme",
]
