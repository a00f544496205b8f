"""Every experiment of the paper at ci scale, once, then the store, `results` and `report`."""

import base64
import re
import sqlite3

import pytest

import lmrnn.train
from lmrnn.cli import main
from lmrnn.errors import LmrnnError
from lmrnn.experiments import EXPERIMENTS, SCALES, VERDICTS, judge, load, plan, reproduce
from lmrnn.experiments.catalog import PAPER_EXPERIMENTS
from lmrnn.experiments.claims import FAILS, HOLDS, INCONCLUSIVE, NOT_RUN
from lmrnn.experiments.runner import resolve

CLAIMS = {f"C{i}" for i in range(1, 15)}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("ci")
    return reproduce("all", "ci", out, device="cpu", verbose=False)


def test_every_claim_has_an_experiment_at_every_scale():
    seen = {c.id.split()[0] for e in EXPERIMENTS.values() for c in e.claims}
    assert seen == CLAIMS and len(PAPER_EXPERIMENTS) == 13
    for e in EXPERIMENTS.values():
        assert set(e.scales) - {"medium"} == set(SCALES) - {"medium"}
        assert all(c.verdict in VERDICTS for c in e.claims)
        paper = e.scale("paper")
        plan(e, "small")  # every small-scale config is valid
        if e.kind == "train" and e.name in PAPER_EXPERIMENTS:
            assert paper.base["steps"] == 10_000 and len(paper.base["seeds"]) == 15
            assert paper.base["collection"] in ("yang20", "modcog82")


MEDIUM = {"fig1d", "fig2a", "fig3i", "fig4f", "fig5a", "fig5b", "fig5c", "fig5d", "fig5f",
          "table1", "fig7-11"}  # fmt: skip


def test_medium_scale_decides_the_mod_cog_claims_and_the_asymptotes():
    """Every Mod-Cog experiment and the 20-task asymptote claims (C2, C6) have a medium scale:
    5 seeds or more, the paper's 10^4 steps on Mod-Cog, longer than small on the 20 tasks, its
    reason stated; fig2b and fig3 (C3-C5, decided at small) have none."""
    have = {name for name, e in EXPERIMENTS.items() if "medium" in e.scales}
    assert have == MEDIUM | {"sensitivity-fig5a", "sensitivity-table1"}
    for name in MEDIUM - {"fig1d"}:
        medium, small = EXPERIMENTS[name].scale("medium"), EXPERIMENTS[name].scale("small")
        assert len(medium.why) > 60 and len(medium.base["seeds"]) >= 5, name
        plan(EXPERIMENTS[name], "medium")  # every config valid
        if medium.base["collection"] == "modcog82":
            assert medium.base["steps"] == 10_000, name
        else:
            assert medium.base["steps"] >= 4 * small.base["steps"], name
        assert {n.label for n in medium.networks} == {n.label for n in small.networks}, name
    # the paper's early points: 2x10^3 of 10^4 (fig5a), 10^3 and 2x10^3 (fig5f)
    assert EXPERIMENTS["fig5a"].scale("medium").points["early"] == 2000
    fig5f = EXPERIMENTS["fig5f"].scale("medium").points
    assert (fig5f["early"], fig5f["later"]) == (1000, 2000)
    grouped = {e.name for e in resolve("all", "medium")}
    assert grouped == MEDIUM
    with pytest.raises(LmrnnError, match=r"fig2b has no medium scale .* reproduce all --scale"):
        resolve("fig2b", "medium")


def test_paper_scale_has_the_papers_networks():
    labels = {n.label for n in EXPERIMENTS["table1"].scale("paper").networks}
    assert {"LM(50x50, d=6)", "LM(50x50, d=10)", "RNN(N=676)", "RNN(N=2500)"} <= labels
    assert sum("L1" in label for label in labels) == 4
    fig2b = {n.label for n in EXPERIMENTS["fig2b"].scale("paper").networks}
    assert {"RNN(N=196)", "RNN(N=256)", "LM(25x25, d=2)", "LM(25x25, d=4)"} == fig2b


def test_all_ci_runs_complete_and_are_stored(sweep):
    assert sweep.count("failed") == 0 and sweep.count("complete") == len(sweep.jobs)
    db = sqlite3.connect(sweep.out / "results.sqlite")
    statuses = dict(db.execute("SELECT status, COUNT(*) FROM runs GROUP BY status").fetchall())
    assert statuses == {"complete": len(sweep.jobs)}
    with_metrics = db.execute("SELECT COUNT(DISTINCT run) FROM metrics").fetchone()[0]
    assert with_metrics == len(sweep.jobs)
    clusters = db.execute("SELECT COUNT(*) FROM metrics WHERE task = 'analysis:clusters' AND "
                          "criterion = 'n_clusters'").fetchone()[0]  # fmt: skip
    assert clusters == 3  # fig3's pool, fig7-11's two networks


def test_every_claim_gets_a_verdict(sweep):
    verdicts = [v for r in load(sweep.out) for v in judge(r)]
    assert {v.claim.split()[0] for v in verdicts} == CLAIMS
    assert all(v.verdict in (HOLDS, FAILS, INCONCLUSIVE) for v in verdicts)  # all completed
    # ci runs are seconds long: the Mod-Cog comparisons cannot be decided, and say so
    # a few dozen steps train nothing: every claim about trained networks is left open
    trained = [v for v in verdicts if v.claim.split()[0] != "C1"]
    assert trained and all(v.verdict == INCONCLUSIVE for v in trained)
    c1 = next(v for v in verdicts if v.claim == "C1")
    assert c1.verdict == HOLDS  # a graph fact, true at any size


def test_a_second_sweep_skips_everything(sweep, monkeypatch):
    monkeypatch.setattr(lmrnn.train, "train", lambda *a, **k: pytest.fail("trained again"))
    again = reproduce("all", "ci", sweep.out, device="cpu", verbose=False)
    assert again.count("skipped") == len(again.jobs)


def test_results_command_prints_tables_and_csv(sweep, capsys):
    csv_path = sweep.out / "table.csv"
    assert main(["results", str(sweep.out), "--csv", str(csv_path)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("ran on: lmrnn ") and "torch " in text.splitlines()[0]
    for name in PAPER_EXPERIMENTS:
        assert f"{name} (" in text
    assert re.search(r"LM\(5x5, d=1\)\s+30\s+\d\.\d{3} ± \d\.\d{3}\s+1\d\d", text)
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("experiment,scale,network,run,status,step,performance,sem")
    assert sum(line.startswith("table1,ci,") for line in lines) == 5


def test_report_is_self_contained_html_with_a_claims_table(sweep, tmp_path):
    path = tmp_path / "report.html"
    assert main(["report", str(sweep.out), "--out", str(path)]) == 0
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) >= len(PAPER_EXPERIMENTS)
    assert all(base64.b64decode(i)[:4] == b"\x89PNG" for i in images)
    table = page[page.index('<table id="claims">') : page.index("</table>")]
    assert table.count("<tr") == 1 + 15  # header + C1..C14 and C1 (clustering)
    assert 'src="http' not in page and NOT_RUN not in table
    assert "<th>decided by</th>" in table and "within 0.05" in table
    assert "git_commit" in page and "torch" in page
    # every training experiment shows its networks; the paper's Table 1 and counts beside ours
    for name in PAPER_EXPERIMENTS:
        if EXPERIMENTS[name].kind != "graph":
            assert f'<table id="table-{name}">' in page
    counts = page[page.index('<table id="parameter-counts">') :]
    counts = counts[: counts.index("</table>")]
    assert counts.count("<tr>") == 1 + 13 and "6.25×10⁶" in counts and "6,250,000" in counts
    assert "0.815 ± 0.005" in page


def test_dry_run_says_where_each_run_stands_and_writes_nothing(sweep, tmp_path, capsys):
    from lmrnn.experiments import dry_run, plan
    from lmrnn.experiments.jobs import run_dir
    from lmrnn.train.checkpoint import save_checkpoint

    rows, _ = dry_run("all", "ci", sweep.out)
    assert rows and all(r.status == "complete" for r in rows)
    fresh = tmp_path / "fresh"
    job = next(iter(plan(EXPERIMENTS["fig2a"], "ci").values()))
    save_checkpoint(_mkdir(run_dir(fresh, job.id)), {"step": 7})
    rows, minutes = dry_run("fig2a", "ci", fresh)
    status = {r.id: r.status for r in rows}
    assert status.pop(job.id) == "resumes from step 7"
    assert set(status.values()) == {"to run"} and list(minutes) == ["fig2a"]
    assert (
        dry_run("fig2a", "small", fresh)[1]["fig2a"]
        == EXPERIMENTS["fig2a"].scale("small").cpu_minutes
        > 0
    )
    empty = tmp_path / "empty"
    assert main(["reproduce", "fig2a", "--scale", "ci", "--out", str(empty), "--dry-run"]) == 0
    assert not empty.exists()
    assert "to run (dry run: nothing was run or written)" in capsys.readouterr().out


def _mkdir(path):
    path.mkdir(parents=True)
    return path
