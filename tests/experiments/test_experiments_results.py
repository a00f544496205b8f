"""The results tables: a seed that collapsed during training (its last evaluation far below its
own best) is named beside the mean it pulls down."""

from __future__ import annotations

import numpy as np

from lmrnn.experiments.results import (
    FELL_BY,
    ExperimentResult,
    NetworkResult,
    format_table,
    formatted,
    table_rows,
)
from lmrnn.train.outputs import mean_sem


def _net(per_seed: dict[int, list[float]], seeds: list[int]) -> NetworkResult:
    curve = {s: (*mean_sem(v), len(v)) for s, v in per_seed.items()}
    return NetworkResult("LM", "r", "complete", None, {"seeds": seeds}, 1.0, curve, {},
                         dict(per_seed))  # fmt: skip


def test_fell_names_exactly_the_seeds_that_ended_far_below_their_best():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n_seeds, n_steps = int(rng.integers(1, 6)), int(rng.integers(2, 12))
        values = rng.uniform(0, 1, (n_steps, n_seeds))
        steps = sorted(rng.choice(10_000, n_steps, replace=False).tolist())
        seeds = (np.arange(n_seeds) * 7 + 3).tolist()
        net = _net({s: values[i].tolist() for i, s in enumerate(steps)}, seeds)
        best = values.max(axis=0)
        expected = [seeds[i] for i in range(n_seeds) if best[i] - values[-1, i] >= FELL_BY]
        fell = net.fell()
        assert [seed for seed, *_ in fell] == expected
        for seed, top, at, last in fell:
            i = seeds.index(seed)
            assert top == best[i] and last == values[-1, i]
            assert values[steps.index(at), i] == top


def test_a_collapsed_seed_is_named_in_the_table_and_a_dip_that_recovers_is_not():
    per_seed = {0: [0.02] * 3, 5000: [0.60, 0.64, 0.40], 10000: [0.70, 0.01, 0.69]}
    result = ExperimentResult("x", "medium", {"figure": "Fig x", "kind": "train"},
                              {"LM": _net(per_seed, [0, 1, 2])})  # fmt: skip
    (row,) = table_rows(result)
    assert row["fell"] == 1 and row["fell_seeds"] == "seed 1 0.640 at step 5000 -> 0.010"
    assert formatted(row)["status"] == (
        "complete (1 of 3 seeds fell from their best: seed 1 0.640 at step 5000 -> 0.010)"
    )
    assert "seed 1 0.640 at step 5000 -> 0.010" in format_table(result)
    steady = _net({0: [0.02] * 2, 10000: [0.7, 0.69]}, [0, 1])
    assert steady.fell() == [] and _net({10000: [0.7]}, [0]).fell() == []
