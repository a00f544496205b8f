"""Parameter counts: every figure of the paper, and counts of built models."""

from __future__ import annotations

import pytest

from lmrnn.cli import main
from lmrnn.errors import LmrnnError
from lmrnn.models import PAPER_ROWS, ModelConfig, build_model, count_model, count_parameters
from torus_helpers import torus_config

# (label, counted quantity) -> our exact figure, from paper-targets.md
EXPECTED = {
    ("RNN(N=196), 20 tasks", "total"): 52_136,
    ("RNN(N=256), 20 tasks", "total"): 83_456,
    ("625 autapses (25×25, d=0), 20 tasks", "total"): 44_375,
    ("LM-RNN(25×25, d=2), 20 tasks", "total"): 51_875,
    ("LM-RNN(25×25, d=4), 20 tasks", "total"): 74_375,
    ("LM-RNN(50×50, d=6), Mod-Cog", "recurrent"): 282_500,
    ("LM-RNN(50×50, d=10), Mod-Cog", "recurrent"): 792_500,
    ("RNN(N=676), Mod-Cog", "recurrent"): 456_976,
    ("RNN(N=2500), Mod-Cog", "recurrent"): 6_250_000,
    ("LM-RNN(50×50, d=6), Mod-Cog", "total"): 612_500,
    ("LM-RNN(50×50, d=10), Mod-Cog", "total"): 1_122_500,
    ("RNN(N=676), Mod-Cog", "total"): 546_208,
    ("RNN(N=2500), Mod-Cog", "total"): 6_580_000,
}


@pytest.mark.parametrize("row", PAPER_ROWS, ids=lambda r: f"{r.label} {r.quantity}")
def test_every_paper_row(row):
    assert row.ours() == EXPECTED[(row.label, row.quantity)]
    assert abs(row.ours() - row.paper) / row.paper < 0.01  # the paper rounds to 2-3 digits


def test_paper_rows_cover_the_table():
    assert {(r.label, r.quantity) for r in PAPER_ROWS} == set(EXPECTED)


def test_count_parts():
    c = count_parameters("lattice", 50, 6, n_tasks=82)
    assert (c.recurrent, c.input, c.output, c.biases) == (282_500, 2500 * 115, 2500 * 17, 2517)
    assert c.total == 612_500
    assert count_parameters("autapse", 625).recurrent == 625
    assert count_parameters("lattice", 25, 0) == count_parameters("autapse", 625)


@pytest.mark.parametrize(
    ("config", "kind", "size", "d"),
    [
        (ModelConfig(n=9, d=2), "lattice", 9, 2),
        (torus_config(5, 3), "lattice", 5, 3),  # wraps: fewer than 29 neighbours
        (ModelConfig(graph="dense", n_units=30), "dense", 30, 0),
        (ModelConfig(graph="autapse", n_units=30), "autapse", 30, 0),
    ],
)
def test_count_of_built_model_matches_formula(config, kind, size, d):
    model = build_model(config)
    assert count_model(model) == count_parameters(kind, size, d, n_tasks=20)
    assert count_model(model).recurrent == int((model.recurrent_weight() != 0).sum())


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"kind": "lattise", "size": 5}, "unknown network kind 'lattise'.*did you mean 'lattice'"),
        ({"kind": "lattice", "size": 0}, "size must be a whole number >= 1, got 0"),
        ({"kind": "lattice", "size": 5, "d": -2}, "d must be a finite number >= 0"),
        ({"kind": "dense", "size": 5, "n_tasks": 0}, "number of tasks must be a whole number >= 1"),
    ],
)
def test_bad_count_input(kw, message):
    with pytest.raises(LmrnnError, match=message):
        count_parameters(**kw)


def test_cli_count_prints_the_paper_table(capsys):
    assert main(["count"]) == 0
    out = capsys.readouterr().out
    for (label, _), ours in EXPECTED.items():
        line = next(x for x in out.splitlines() if x.startswith(label) and f"{ours:,}" in x)
        assert line
    assert "6.17×10⁵" in out and "-0.73%" in out


def test_cli_count_own_networks(capsys):
    assert (
        main(["count", "--lattice", "50", "--d", "6", "10", "--dense", "2500", "--tasks", "82"])
        == 0
    )
    out = capsys.readouterr().out
    assert "n_in = 115" in out
    assert "612,500" in out and "1,122,500" in out and "6,580,000" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["count", "--lattice", "50", "--d", "-1"], "d must be a finite number >= 0"),
        (
            ["count", "--lattice", "0", "--d", "1"],
            "--lattice (the lattice side) must be a whole number >= 1, got 0",
        ),
        (["count", "--d", "3"], "give --lattice"),
    ],
)
def test_cli_count_errors(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err
