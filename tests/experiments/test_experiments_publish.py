"""Published results: a sweep's numbers in a small folder, read back from there, and the
README's claims table generated from every published folder."""

from pathlib import Path

import pytest

from lmrnn.cli import main
from lmrnn.errors import LmrnnError
from lmrnn.experiments import judge, load, reproduce
from lmrnn.experiments.publish import (
    BEGIN,
    END,
    TABLE1_BEGIN,
    TABLE1_END,
    claims_markdown,
    publish,
    readme_block,
    table1_markdown,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    reproduce(["fig2a", "fig3i"], "ci", out, device="cpu", verbose=False)
    return out


def test_a_published_folder_reads_back_with_the_same_verdicts_and_no_weights(sweep, tmp_path):
    dest = publish(sweep, tmp_path / "pub")
    names = {p.name for p in dest.iterdir()}
    assert {"results.sqlite", "report.html", "results.txt", "results.csv", "figures"} <= names
    assert not list(dest.rglob("*.safetensors")) and not list(dest.rglob("checkpoint.pt"))
    assert (dest / "results.sqlite").stat().st_size <= (sweep / "results.sqlite").stat().st_size
    before = [(v.claim, v.verdict, v.ours) for r in load(sweep) for v in judge(r)]
    after = [(v.claim, v.verdict, v.ours) for r in load(dest) for v in judge(r)]
    assert before == after and len(after) == 2
    assert "fig2a (Fig 2a, scale ci)" in (dest / "results.txt").read_text()
    assert main(["report", str(dest), "--out", str(tmp_path / "again.html")]) == 0


def test_the_claims_table_is_generated_from_published_folders(sweep, tmp_path):
    publish(sweep, tmp_path / "docs" / "results" / "ci" / "x")
    table = claims_markdown(tmp_path / "docs" / "results", tmp_path)
    rows = table.splitlines()
    assert rows[0].startswith("| claim | verdict") and len(rows) == 2 + 2
    assert "[fig2a](docs/results/ci/x/report.html)" in table
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{BEGIN}\nold\n{END}\nafter\n")
    assert main(["publish", "--readme", str(readme), "--root",
                 str(tmp_path / "docs" / "results")]) == 0  # fmt: skip
    text = readme.read_text()
    assert "old" not in text and "| C2 |" in text and text.endswith(f"{END}\nafter\n")


def test_publish_keeps_only_the_experiments_asked_for(sweep, tmp_path):
    dest = publish(sweep, tmp_path / "one", only=["fig3i"])
    assert [r.name for r in load(dest)] == ["fig3i"]
    page = (dest / "report.html").read_text()
    assert "fig3i (Fig 3i" in page and "fig2a (Fig 2a" not in page
    with pytest.raises(LmrnnError, match="holds no experiment 'fig9'"):
        publish(sweep, tmp_path / "two", only=["fig9"])


def test_publish_refuses_what_it_cannot_do(sweep, tmp_path):
    with pytest.raises(LmrnnError, match="holds no results"):
        publish(tmp_path / "nothing", tmp_path / "pub")
    with pytest.raises(LmrnnError, match="other than the sweep's own"):
        publish(sweep, sweep)
    assert main(["publish", str(sweep)]) == 2  # DIR without DEST


def test_table1_stands_beside_ours_at_the_largest_published_scale(tmp_path):
    """The paper's eight rows as printed, then every network of the largest scale's table1
    (medium over small), each with its step, performance and counts, linked to its report."""
    from lmrnn.experiments.catalog import EXPERIMENTS, PAPER_TABLE1

    table = table1_markdown(ROOT / "docs" / "results", ROOT)
    rows = table.splitlines()[2:]
    assert [r.split(" | ")[1] for r in rows[:8]] == [p[0] for p in PAPER_TABLE1]
    ours = rows[8:]
    labels = {n.label for n in EXPERIMENTS["table1"].scale("medium").networks}
    assert {r.split(" | ")[1] for r in ours} == labels
    assert all("(docs/results/medium/report.html) (medium, " in r for r in ours)
    done = [r for r in ours if "5 seeds" in r]
    assert done and all(" | 10000 | 0." in r for r in done)
    empty = table1_markdown(tmp_path, tmp_path)
    assert empty.splitlines()[-1].startswith("| ours | no table1 experiment published yet")
    readme = tmp_path / "README.md"
    readme.write_text(f"{BEGIN}\n{END}\nTable 1:\n{TABLE1_BEGIN}\nold\n{TABLE1_END}\nend\n")
    _, new = readme_block(readme, tmp_path)
    assert "old" not in new and "| paper (15 seeds) | RNN(N=676) | 10000 | 0.69 ± 0.01 |" in new


def test_the_readme_claims_table_matches_the_committed_results():
    """Every number of the README's claims table comes from docs/results (`make readme`)."""
    old, new = readme_block(ROOT / "README.md", ROOT / "docs" / "results")
    assert old == new, "the README's claims table is stale: run `make readme`"


def test_a_committed_store_stands_for_its_runs(sweep, tmp_path, monkeypatch):
    """A fresh clone holds the published store but no run folders: reproduce into it skips
    every recorded run, and the dry run says they are complete."""
    import shutil

    import lmrnn.train
    from lmrnn.experiments import dry_run

    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copy(sweep / "results.sqlite", clone / "results.sqlite")
    rows, _ = dry_run(["fig2a", "fig3i"], "ci", clone)
    assert rows and all(r.status == "complete" for r in rows)
    monkeypatch.setattr(lmrnn.train, "train", lambda *a, **k: pytest.fail("trained again"))
    again = reproduce(["fig2a", "fig3i"], "ci", clone, device="cpu", verbose=False)
    assert again.count("skipped") == len(again.jobs)
    assert [v.verdict for r in load(clone) for v in judge(r)] == [
        v.verdict for r in load(sweep) for v in judge(r)]  # fmt: skip


def test_the_store_keeps_no_per_task_rows_or_losses(sweep):
    import sqlite3

    db = sqlite3.connect(sweep / "results.sqlite")
    tasks = {t for (t,) in db.execute("SELECT DISTINCT task FROM metrics")}
    assert "mean" in tasks and "go" not in tasks and "dm1" not in tasks
    assert not db.execute("SELECT COUNT(*) FROM metrics WHERE criterion = 'loss'").fetchone()[0]
