"""``lmrnn graph``: the LM vs ER table and the Fig 1d PNG."""

from __future__ import annotations

import re

import matplotlib.image

from lmrnn.cli import main


def test_graph_command_prints_table_and_writes_png(tmp_path, capsys):
    out = tmp_path / "fig1d.png"
    assert main(["graph", "--n", "8", "--d", "0", "1", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0].startswith("LM (locality) vs ER") and "8x8 torus" in lines[0]
    assert "Fagiolo" in text and "self-loops removed" in text
    rows = {m[1]: m[0].split() for m in map(re.compile(r"^\s+(\d+) .*").match, lines) if m}
    assert rows["0"][1] == "1" and rows["1"][1] == "5" and rows["2"][1] == "13"
    assert "inf" in rows["0"]
    assert "LM clustering vs ER: higher at d = 2; lower at d = 1; equal at d = 0." in text
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(out)
    assert image.shape[0] > 200 and image.shape[1] > 600


def test_graph_command_without_plot(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["graph", "--n", "6", "--d", "1", "--no-plot"]) == 0
    assert "wrote" not in capsys.readouterr().out
    assert not list(tmp_path.iterdir())


def test_graph_command_errors(capsys):
    assert main(["graph", "--n", "0"]) == 2
    assert "lattice side n must be a whole number >= 1, got 0" in capsys.readouterr().err
    assert main(["graph", "--d", "-1", "--no-plot"]) == 2
    assert "d must be a finite number >= 0" in capsys.readouterr().err
