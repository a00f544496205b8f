"""``lmrnn report DIR``: one self-contained HTML page of a sweep (figures as data URIs).

Per experiment: a figure (learning curves, mean ± s.e.m. across seeds per network, for
training experiments; Fig 1d for fig1d; the analysis PNGs for fig3 and fig7-11) beside the
paper's claim and our verdict; then the claims table and the environment it ran on. The
figures are also written as PNG files next to the page.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from matplotlib.figure import Figure

from lmrnn.experiments import baselines, sensitivity, store
from lmrnn.experiments.catalog import PAPER_TABLE1
from lmrnn.experiments.claims import Verdict, judge
from lmrnn.experiments.jobs import GRAPH_PNG, run_dir, run_folder
from lmrnn.experiments.results import (
    ExperimentResult,
    format_table,
    formatted,
    load,
    table_rows,
)

STYLE = """body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;font-size:90%}
.holds{background:#dfd}.does{background:#fdd}.not{background:#eee}
.inconclusive{background:#ffd}
.exp{display:flex;gap:1em;align-items:flex-start;border-top:1px solid #999;padding:.5em 0}
.exp img{max-width:560px}"""


def plot_curves(result: ExperimentResult, path: Path) -> Path:
    """Mean performance (decision) ± s.e.m. across seeds against step, one line per network."""
    fig = Figure(figsize=(6, 3.8), layout="constrained")
    ax = fig.subplots()
    for net in result.networks.values():
        if not net.curve:
            continue
        steps = list(net.curve)
        mean = [net.curve[s][0] for s in steps]
        sem = [net.curve[s][1] for s in steps]
        (line,) = ax.plot(steps, mean, label=net.label)
        lo = [m - e for m, e in zip(mean, sem, strict=True)]
        hi = [m + e for m, e in zip(mean, sem, strict=True)]
        ax.fill_between(steps, lo, hi, color=line.get_color(), alpha=0.25, lw=0)
    for name, step in result.spec.get("points", {}).items():
        if name != "final":
            ax.axvline(step, color="grey", ls=":", lw=1)
    ax.set(xlabel="gradient step", ylabel="performance (decision)", ylim=(0, 1),
           title=f"{result.spec['figure']} ({result.scale} scale)")  # fmt: skip
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:  # nothing to label while no run has finished
        ax.legend(fontsize=7)
    fig.savefig(path, format="png", dpi=90)
    return path


def figures(result: ExperimentResult, out: Path, folder: Path) -> list[Path]:
    """The PNGs shown for one experiment, written or copied into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{result.name}_{result.scale}"
    if result.spec["kind"] == "graph":
        paths = [run_dir(out, n.run) / GRAPH_PNG for n in result.networks.values()]
    else:
        paths = [plot_curves(result, folder / f"{stem}_curves.png")]
        for net in result.networks.values():
            for what in result.spec.get("analyses", []):
                paths.append(run_folder(out, net.run).analysis(what, ".png"))
    kept = []
    for i, p in enumerate(paths):
        if not p.is_file():
            continue
        if p.parent != folder:
            target = folder / f"{stem}_{i}_{p.name}"
            target.write_bytes(p.read_bytes())
            p = target
        kept.append(p)
    return kept


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.name)}" src="data:image/png;base64,{data}">'


def _verdict_class(v: Verdict) -> str:
    return v.verdict.split()[0]


def claims_table(verdicts: list[Verdict]) -> str:
    rows = "".join(
        f'<tr class="{_verdict_class(v)}"><td>{html.escape(v.claim)}</td>'
        f"<td>{html.escape(v.experiment)}</td><td>{html.escape(v.text)}</td>"
        f"<td>{html.escape(v.paper)}</td><td>{html.escape(v.ours)}</td>"
        f"<td>{html.escape(v.verdict)}</td><td>{v.scale}</td><td>{html.escape(v.rule)}</td></tr>"
        for v in verdicts
    )
    head = ("<tr><th>claim</th><th>experiment</th><th>statement</th><th>paper</th><th>ours</th>"
            "<th>verdict</th><th>scale</th><th>decided by</th></tr>")  # fmt: skip
    return f'<table id="claims">{head}{rows}</table>'


def _html_table(head: list[str], rows: list[list[str]], table_id: str = "") -> str:
    cells = lambda tag, row: "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in row)  # noqa: E731
    body = "".join(f"<tr>{cells('td', r)}</tr>" for r in rows)
    ident = f' id="{table_id}"' if table_id else ""
    return f"<table{ident}><tr>{cells('th', head)}</tr>{body}</table>"


def networks_table(result: ExperimentResult) -> str:
    """Our networks of a training experiment: final performance and non-zero counts."""
    rows = []
    for r in table_rows(result):
        c = formatted(r)
        rows.append([r["network"], str(r["step"] or "-"), c["performance"], c["nonzero_total"],
                     c["nonzero_recurrent"], c["status"]])  # fmt: skip
    head = ["network", "step", "performance (mean ± s.e.m.)", "non-zero weights",
            "non-zero recurrent", "status"]  # fmt: skip
    return _html_table(head, rows, f"table-{result.name}")


def paper_tables() -> str:
    """The paper's Table 1 as printed, and every parameter count it prints beside ours (the
    counts depend on the architecture only, so they are checked at the paper's sizes)."""
    from lmrnn.models.counts import PAPER_ROWS

    table1 = _html_table(
        ["network", "performance", "non-zero weights", "non-zero recurrent"],
        [list(r) for r in PAPER_TABLE1], "paper-table1",
    )  # fmt: skip
    rows = [[r.label, r.quantity, r.paper_text, f"{r.ours():,}",
             f"{(r.ours() - r.paper) / r.paper:+.2%}"] for r in PAPER_ROWS]  # fmt: skip
    counts = _html_table(["network", "count", "paper", "ours", "difference"], rows,
                         "parameter-counts")  # fmt: skip
    return (
        "<h2>Table 1 in the paper (Mod-Cog, 10k steps)</h2>" + table1
        + "<p>Our networks and numbers for the table1 experiment are in its section below "
        "(at small and medium scale the networks are 20x20, not 50x50, and small scale trains "
        "1000 steps, not 10^4: compare orderings, not values)."
        "</p><h2>Parameter counts: the paper's and ours (<code>lmrnn count</code>)</h2>"
        + counts
    )  # fmt: skip


def _grid_section(result: ExperimentResult, grid, choice, folder: Path) -> str:
    """The recipe grid of one collection: every family's curves, the rule's outcome."""
    points = [p for p in grid if p.experiment == result.name]
    title = f"{html.escape(result.name)} ({html.escape(result.spec['figure'])}, {result.scale})"
    if not points or choice is None:
        return f'<div class="exp"><div><h3>{title}</h3><p>no complete runs yet</p></div></div>'
    folder.mkdir(parents=True, exist_ok=True)
    png = baselines.plot_grid(points, choice, folder / f"{result.name}_{result.scale}.png")
    rule = html.escape(" ".join((baselines.__doc__ or "").split("**The rule**:")[-1].split()))
    lines = "<br>".join(html.escape(line) for line in baselines.summary_lines(choice))
    return (f'<div class="exp"><div>{_img(png)}</div><div><h3>{title}</h3><p><b>rule</b>: '
            f"{rule}</p><p>{lines}</p></div></div>")  # fmt: skip


def results_text(out: str | Path) -> str:
    """What ``lmrnn results OUT`` prints: where it ran, each experiment's table with its
    verdicts, the recipe grid's outcome and the sensitivity table (where they are there)."""
    results = load(out)
    with store.connect(out) as db:
        env = store.get_meta(db).get("environment", {})
    parts = []
    if env:
        parts.append("ran on: " + ", ".join(f"{k} {v}" for k, v in env.items()) + "\n")
    for r in results:
        lines = [format_table(r)]
        lines += [f"  {v.claim}: {v.verdict} ({v.ours}; paper: {v.paper})" for v in judge(r)]
        parts.append("\n".join(lines) + "\n")
    grid = baselines.grid_points(results)
    if grid:
        outcome = "\n".join(baselines.summary_lines(baselines.choose(grid)))
        parts.append(f"training recipe (lmrnn reproduce baselines):\n{outcome}\n")
    judged = sensitivity.rows(results)
    if judged:
        table = "\n".join(sensitivity.table_lines(judged))
        parts.append(
            f"verdicts under other model choices (lmrnn reproduce sensitivity):\n{table}\n"
        )
    return "".join(part + "\n" for part in parts)


def _sensitivity_section(result: ExperimentResult) -> str:
    """One sensitivity experiment: claim x variant -> verdict, with the numbers, and its
    networks (every variant's) with their final performance and status."""
    judged = sensitivity.rows([result])
    title = f"{html.escape(result.name)} ({html.escape(result.spec['figure'])}, {result.scale})"
    body = [[r.claim, r.variant, r.verdict, r.ours] for r in judged]
    table = _html_table(["claim", "variant", "verdict", "ours"], body, f"verdicts-{result.name}")
    lines = "<br>".join(html.escape(f"{c}: {t}") for c, t in sensitivity.summary(judged).items())
    nets = networks_table(result)
    return f'<div class="exp"><div><h3>{title}</h3><p>{lines}</p>{table}{nets}</div></div>'


def write_report(out: str | Path, path: str | Path | None = None,
                 runs: str | Path | None = None) -> Path:  # fmt: skip
    """Write the HTML report of the sweep in ``out`` (default ``out/report.html``); ``runs``:
    the folder whose ``runs/`` hold the run folders' pictures, if not ``out`` (a published
    store's sweep)."""
    out = Path(out)
    results = load(out)
    pictures = Path(runs) if runs is not None else out
    path = Path(path) if path is not None else out / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    with store.connect(out) as db:
        meta = store.get_meta(db)
    verdicts: list[Verdict] = []
    sections = []
    grid = baselines.grid_points(results)
    choice = baselines.choose(grid)
    for r in results:
        vs = judge(r)
        verdicts += vs
        if r.name.startswith(baselines.PREFIX):
            sections.append(_grid_section(r, grid, choice, path.parent / "figures"))
            continue
        if r.name.startswith(sensitivity.PREFIX):
            sections.append(_sensitivity_section(r))
            continue
        imgs = "".join(_img(p) for p in figures(r, pictures, path.parent / "figures"))
        claims = "".join(
            f"<p><b>{html.escape(v.claim)}</b> {html.escape(v.text)}<br>paper: "
            f"{html.escape(v.paper)}<br>ours: {html.escape(v.ours)}<br>verdict: "
            f'<span class="{_verdict_class(v)}">{html.escape(v.verdict)}</span></p>'
            for v in vs
        )
        title = f"{html.escape(r.name)} ({html.escape(r.spec['figure'])}, {r.scale})"
        table = networks_table(r) if r.spec["kind"] != "graph" else ""
        sections.append(
            f'<div class="exp"><div>{imgs}</div><div><h3>{title}</h3>{claims}{table}</div></div>'
        )
    env = meta.get("environment", {})
    env_rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
                       for k, v in {**env, "scale": meta.get("scale")}.items())  # fmt: skip
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>lmrnn results</title>"
        f"<style>{STYLE}</style></head><body><h1>Khona et al. 2023, reproduced</h1>"
        f"<h2>Claims</h2>{claims_table(verdicts)}<h2>Experiments</h2>{''.join(sections)}"
        f"{paper_tables()}"
        f"<h2>Environment</h2><table id='environment'>{env_rows}</table></body></html>"
    )
    path.write_text(page)
    return path
