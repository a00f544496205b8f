"""The `lmrnn tasks` command line, as a user would run it."""

import pytest

from lmrnn.cli import main
from lmrnn.tasks import get_collection


def test_list_prints_rule_order(capsys):
    assert main(["tasks", "list", "--collection", "modcog82"]) == 0
    lines = capsys.readouterr().out.split()
    assert tuple(lines) == get_collection("modcog82").names


def test_show_writes_a_png(tmp_path, capsys):
    out = tmp_path / "trial.png"
    assert main(["tasks", "show", "DlyGo_IntL", "--out", str(out), "--trials", "2"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "dlygo_intl" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["tasks", "show", "dlgo"], "unknown task 'dlgo' (did you mean 'dlygo'"),
     (["tasks", "list", "--collection", "yang21"], "unknown collection 'yang21'"),
     (["tasks", "show", "go", "--dt", "30"], "dt=30 ms does not divide"),
     (["tasks", "show", "go", "--trials", "0"], "--trials must be a whole number >= 1"),
     (["tasks", "bench", "--threads", "0"], "--threads must be a whole number >= 1"),
     (["tasks", "show", "go", "--out", "trial.txt"], "needs a picture suffix"),
     (["tasks", "show", "go", "--out", "trial"], "needs a picture suffix"),
     (["tasks", "show", "go", "--seed", str(2**70)], "seed must be a whole number in 0 .. 2**64")],
)  # fmt: skip
def test_errors_are_one_line_without_traceback(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


@pytest.mark.parametrize("seconds", ["0.2", "1e-9"])  # too short to time: still one chunk
def test_bench_reports_batches_per_second(capsys, seconds):
    import torch

    threads = torch.get_num_threads()
    try:
        argv = ["tasks", "bench", "--seconds", seconds, "--batch-size", "4", "--seq-len", "50",
                "--threads", "1"]  # fmt: skip
        assert main(argv) == 0
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert "1 CPU thread(s)" in out
    assert "stream_batch" in out and "StreamLoader(chunk=8)" in out and out.count("batches/s") == 2
