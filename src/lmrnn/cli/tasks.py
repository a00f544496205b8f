"""``lmrnn tasks list|show|bench``."""

from __future__ import annotations

import argparse

from lmrnn.checks import check_int
from lmrnn.errors import LmrnnError, check_picture


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tasks", help="the task battery: list, show or benchmark tasks")
    tsub = p.add_subparsers(dest="tasks_command", metavar="ACTION", required=True)

    ls = tsub.add_parser("list", help="task names, one per line, in rule order")
    ls.add_argument(
        "--collection",
        default="modcog126",
        help="yang20, modcog82 or modcog126 (default: modcog126, all 126 tasks)",
    )
    ls.set_defaults(func=_list)

    show = tsub.add_parser("show", help="draw trials of one task as a PNG")
    show.add_argument("name", help="task name, e.g. dlygo_intl")
    show.add_argument("--out", default=None, help="PNG path (default: <name>.png)")
    show.add_argument("--trials", type=int, default=3, help="how many trials to draw")
    show.add_argument("--seed", type=int, default=0)
    show.add_argument("--collection", default=None, help="collection for the rule input")
    show.add_argument("--profile", default=None, help="timing profile: modcog (default), neurogym")
    show.add_argument("--dt", type=int, default=None, help="time step in ms (default 100)")
    show.add_argument(
        "--run",
        default=None,
        help="overlay a trained run's outputs (run folder; its collection and timing are used)",
    )
    show.set_defaults(func=_show)

    bench = tsub.add_parser(
        "bench", help="stream batches per second for a collection (stream_batch, StreamLoader)"
    )
    bench.add_argument("--collection", default="modcog82", help="default modcog82")
    bench.add_argument("--batch-size", type=int, default=64, help="rows per batch (default 64)")
    bench.add_argument("--seq-len", type=int, default=350, help="steps per row (default 350)")
    bench.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    bench.add_argument(
        "--seconds", type=float, default=3.0, help="time spent measuring (default 3)"
    )
    bench.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: torch's; 1 is steadier on a busy machine)",
    )
    bench.set_defaults(func=_bench)


def _list(args: argparse.Namespace) -> int:
    from lmrnn.tasks import get_collection

    for name in get_collection(args.collection).names:
        print(name)
    return 0


def _show(args: argparse.Namespace) -> int:
    from lmrnn.tasks import get_collection, parse_task, trial_batch
    from lmrnn.tasks.gym import default_collection
    from lmrnn.tasks.plot import plot_trials

    name = parse_task(args.name).name
    check_int("--trials", args.trials)
    out = check_picture(args.out or f"{name}.png", "--out")
    outputs = None
    given = [f"--{k}" for k in ("collection", "profile", "dt") if getattr(args, k) is not None]
    if args.run is not None and given:
        raise LmrnnError(f"{' and '.join(given)} cannot be combined with --run: the trials are "
                         "drawn with the run's own collection and timing.")  # fmt: skip
    if args.run is not None:  # overlay a trained network: its collection gives the rule inputs
        from lmrnn.train import load_run, outputs_for_batch

        coll = load_run(args.run)[0].tasks()
        batch = trial_batch(coll, name, args.trials, args.seed)
        outputs = outputs_for_batch(args.run, batch)
    else:
        coll = get_collection(args.collection or default_collection(name), args.dt, args.profile)
        batch = trial_batch(coll, name, args.trials, args.seed)
    plot_trials(batch, list(range(args.trials)), outputs=outputs, path=out)
    print(f"wrote {out}: {args.trials} trial(s) of {name}, lengths {batch.length.tolist()} steps")
    return 0


def _bench(args: argparse.Namespace) -> int:
    import torch

    from lmrnn.tasks import get_collection
    from lmrnn.tasks.bench import time_stream_batches

    coll = get_collection(args.collection)
    if not args.seconds > 0:
        raise LmrnnError(f"--seconds must be above 0, got {args.seconds:g}.")
    if args.threads is not None:
        check_int("--threads", args.threads)
        torch.set_num_threads(args.threads)
    timings = time_stream_batches(coll, args.batch_size, args.seq_len, args.device, args.seconds)
    shape = f"{args.batch_size} x {args.seq_len} steps on {args.device}"
    print(f"{args.collection}, batches of {shape}, {torch.get_num_threads()} CPU thread(s):")
    for name, per in timings:
        print(f"  {name:22s} {1 / per:8.1f} batches/s ({per * 1e3:.2f} ms per batch)")
    return 0
