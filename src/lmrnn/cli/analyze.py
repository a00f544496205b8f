"""``lmrnn analyze RUN --what variance|clusters|autapse|graph|weights|activity|fixed_points|
psychometric``: numbers and a figure."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze",
        help="analyse a saved run: task variance, clusters, autapses, graph, weights, activity, "
        "fixed points, psychometric curves",
        description="Analyse one seed of a saved run and write <out>/<what>.json (the numbers) "
        "and <out>/<what>.png (the figure): variance (unit x task variance, Yang 2019), "
        "clusters (paper Fig 3a, Figs 7-11), autapse (Fig 3c-h, autapse pools only), graph "
        "(Fig 1d), weights (recurrent weights and one trial's activity on the lattice), "
        "activity (hidden states, inputs, outputs and trial conditions to <out>/activity.npz; "
        "trajectories in PCA space), fixed_points (under each task's rule input, classified by "
        "their Jacobian), psychometric (P(choose 1) against the signed evidence of the DM tasks, "
        "a logistic with lapse fitted per task and seed).",
    )
    p.add_argument("run", help="run folder (as written by lmrnn train)")
    p.add_argument(
        "--what",
        required=True,
        help="variance, clusters, autapse, graph, weights, activity, fixed_points or psychometric",
    )
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
    p.add_argument(
        "--trials",
        type=int,
        default=None,
        help="trials per task (default 256; activity and fixed_points 32; psychometric 512)",
    )
    p.add_argument(
        "--threshold", type=float, default=1e-3, help="summed-variance cut (default 1e-3)"
    )
    p.add_argument(
        "--task",
        default=None,
        help="weights: the task of the trial drawn; activity, fixed_points, psychometric: the "
        "only task looked at (default all; psychometric: every DM task)",
    )
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
        progress=sys.stderr.isatty(),
    )  # fmt: skip
    for line in report.summary:
        print(line)
    extra = "".join(f", {p}" for p in report.extra)
    print(f"wrote {report.json_path}{extra} and {report.png_path}")
    return 0
