"""``lmrnn analyze RUN --what variance|clusters|autapse|graph|weights``: numbers and a figure."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze",
        help="analyse a saved run: task variance, clusters, autapses, graph, weights",
        description="Analyse one seed of a saved run and write <out>/<what>.json (the numbers) "
        "and <out>/<what>.png (the figure): variance (unit x task variance, Yang 2019), "
        "clusters (paper Fig 3a, Figs 7-11), autapse (Fig 3c-h, autapse pools only), graph "
        "(Fig 1d), weights (recurrent weights and one trial's activity on the lattice).",
    )
    p.add_argument("run", help="run folder (as written by lmrnn train)")
    p.add_argument("--what", required=True, help="variance, clusters, autapse, graph or weights")
    p.add_argument("--out", default=None, help="output folder (default RUN/analysis)")
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--seed",
        type=int,
        default=None,
        help="the seed to analyse, one of the run's seeds (default its first)",
    )
    which.add_argument(
        "--seed-index",
        type=int,
        default=None,
        help="or its position in the run's list of seeds (0: the first)",
    )
    p.add_argument(
        "--method", default="ward", help="clusters: a scipy linkage method or kmeans (default ward)"
    )
    p.add_argument("--trials", type=int, default=256, help="trials per task (default 256)")
    p.add_argument(
        "--threshold", type=float, default=1e-3, help="summed-variance cut (default 1e-3)"
    )
    p.add_argument("--task", default=None, help="weights: the task of the trial drawn")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lmrnn.analysis import analyze
    from lmrnn.errors import check_output
    from lmrnn.train import seed_position

    if args.out:
        check_output(args.out, "--out", folder=True)
    index = args.seed_index or 0
    if args.seed is not None:
        index = seed_position(args.run, args.seed)
    report = analyze(
        args.run, args.what, args.out, seed_index=index, method=args.method,
        trials=args.trials, threshold=args.threshold, task=args.task,
    )  # fmt: skip
    for line in report.summary:
        print(line)
    print(f"wrote {report.json_path} and {report.png_path}")
    return 0
