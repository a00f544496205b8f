"""``lmrnn demo``: the main job on a small default, for `make demo`."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="a short tour of the battery (CPU, seconds)")
    p.add_argument("--out", default="demo", help="folder for the pictures")
    p.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from lmrnn.tasks import COLLECTIONS, get_collection, stream_batch, trial_batch
    from lmrnn.tasks.plot import plot_trials

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print("The battery:")
    for name in COLLECTIONS:
        c = get_collection(name)
        print(f"  {name:10s} {c.n_tasks:4d} tasks, {c.n_inputs} inputs, {c.n_outputs} outputs")
    coll = get_collection("modcog126")
    for task in ("dlygo_intl", "go_seqr", "dlygo_intl_seqr", "dmc"):
        batch = trial_batch(coll, task, 3, seed=0)
        path = out / f"{task}.png"
        plot_trials(batch, path=path)
        print(f"  drew 3 trials of {task:16s} -> {path}  (responses {batch.response.tolist()})")
    m82 = get_collection("modcog82")
    start = time.perf_counter()
    for seed in range(20):
        stream_batch(m82, 64, 350, seed)
    per = (time.perf_counter() - start) / 20
    print(f"modcog82 stream batch of 64 x 350 steps: {per * 1e3:.1f} ms on this CPU")
    return 0
