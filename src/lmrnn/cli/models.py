"""``lmrnn count``: parameter counts of networks, the paper's table by default."""

from __future__ import annotations

import argparse

from lmrnn.errors import LmrnnError
from lmrnn.graphs.checks import check_int, check_no_wrap, check_radius
from lmrnn.models.counts import count_parameters, format_counts, n_inputs, paper_table


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "count",
        help="count non-zero recurrent, input and output weights (the paper's table by default)",
        description="Without options: every count the paper prints, ours beside it. With "
        "options: count your own networks, e.g. --lattice 50 --d 6 10 --tasks 82, --dense 2500.",
    )
    p.add_argument(
        "--lattice",
        "--n",
        dest="lattice",
        type=int,
        nargs="+",
        default=[],
        metavar="N_SIDE",
        help="LM-RNNs on N_SIDE×N_SIDE tori (one per side and per --d; --n is the same)",
    )
    p.add_argument(
        "--d",
        type=float,
        nargs="+",
        default=None,
        metavar="D",
        help="locality radii for --lattice, in lattice spacings",
    )
    p.add_argument(
        "--dense", type=int, nargs="+", default=[], metavar="N", help="dense RNNs with N units"
    )
    p.add_argument(
        "--autapse", type=int, nargs="+", default=[], metavar="N", help="autapse pools with N units"
    )
    p.add_argument(
        "--tasks",
        type=int,
        default=20,
        help="rule inputs (n_in = 1 + 32 + tasks; 20, or 82 for Mod-Cog)",
    )
    p.add_argument("--n-out", type=int, default=17, help="outputs (default 17)")
    p.set_defaults(func=run)


def _networks(args: argparse.Namespace) -> list[tuple[str, str, int, float]]:
    nets = []
    for side in args.lattice:
        for d in args.d:
            nets.append((f"LM-RNN({side}×{side}, d={d:g})", "lattice", side, d))
    nets += [(f"RNN(N={n})", "dense", n, 0.0) for n in args.dense]
    nets += [(f"{n} autapses", "autapse", n, 0.0) for n in args.autapse]
    return nets


def run(args: argparse.Namespace) -> int:
    if args.d is not None and not args.lattice:
        for d in args.d:
            check_radius("locality radius d", d)
        raise LmrnnError("--d sets the radius of --lattice networks; give --lattice N_SIDE too.")
    if args.lattice and args.d is None:
        raise LmrnnError("--lattice needs the locality radii too, e.g. --lattice 50 --d 6 10.")
    for side in args.lattice:
        check_int("--lattice (the lattice side)", side)
        for d in args.d:
            check_no_wrap(side, check_radius("locality radius d", d))
    for option, sizes in (("--dense", args.dense), ("--autapse", args.autapse)):
        for n in sizes:
            check_int(f"{option} (a number of units)", n)
    check_int("--tasks", args.tasks, minimum=1)
    check_int("--n-out", args.n_out)
    nets = _networks(args)
    if not nets:
        print(paper_table())
        return 0
    counts = [count_parameters(k, s, d, args.tasks, args.n_out) for _, k, s, d in nets]
    print(f"{args.tasks} tasks: n_in = {n_inputs(args.tasks)}, n_out = {args.n_out}")
    print(format_counts([label for label, *_ in nets], counts))
    return 0
