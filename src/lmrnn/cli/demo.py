"""``lmrnn demo``: the main job on a small default, for `make demo` (CPU, a few minutes).

Trains an LM-RNN (16x16 lattice, d=2, 3 seeds trained together) on the 20 tasks of Yang et al.
2019, then prints its learning curve and final per-task table, and draws a few Mod-Cog trials.
Running it again resumes the same run folder (and finishes at once if it is complete).
"""

from __future__ import annotations

import argparse

DEMO = {
    "collection": "yang20",
    "n": 16,
    "d": 2.0,
    "seeds": [0, 1, 2],
    "steps": 3000,
    "batch_size": 16,
    "seq_len": 100,
    "lr": 3e-3,
    "eval_every": 250,
    "eval_trials": 64,
    "checkpoint_every": 250,
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="train a small LM-RNN on the 20 tasks (CPU, minutes)")
    p.add_argument("--out", default="runs/demo", help="run folder")
    p.add_argument(
        "--steps", type=int, default=DEMO["steps"], help=f"training steps (default {DEMO['steps']})"
    )
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from lmrnn.tasks import get_collection, trial_batch
    from lmrnn.tasks.plot import plot_trials
    from lmrnn.train import RunFolder, from_dict, train
    from lmrnn.train.curves import format_curve, learning_curve
    from lmrnn.train.tables import format_table

    out = Path(args.out)
    folder = RunFolder(out)
    config = from_dict({**DEMO, "steps": args.steps, "out": str(out), "device": "cpu"})
    print(
        f"Training LM-RNN({config.n}x{config.n}, d={config.d}) on the 20 Yang et al. tasks, "
        f"seeds {list(config.seeds)} together, {config.steps} steps of {config.batch_size} x "
        f"{config.seq_len}; run folder {out}"
    )
    result = train(config, resume=folder.checkpoint.exists(), progress=not args.no_progress)
    print("\n" + format_curve(learning_curve(out, "decision"), "decision"))
    print()
    print(format_table(result.final, "decision"))
    coll = get_collection("modcog126")
    for task in ("dlygo_intl", "go_seqr", "dlygo_intl_seqr"):
        plot_trials(trial_batch(coll, task, 3, seed=0), path=out / f"trial_{task}.png")
    rate = result.steps_per_second
    speed = (f"{rate:.1f} steps/s on this CPU" if rate > 0 else
             f"it was already trained (remove {out} to train again)")  # fmt: skip
    print(
        f"\nwrote {folder.curve}, {folder.summary}, per-seed weights and Mod-Cog trial "
        f"pictures ({out}/trial_*.png); {speed}"
    )
    return 0
