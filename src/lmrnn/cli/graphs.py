"""``lmrnn graph``: LM vs Erdős–Rényi graph metrics, and the paper's Fig 1d as a PNG."""

from __future__ import annotations

import argparse

from lmrnn.errors import check_picture
from lmrnn.graphs import compare_lm_er, format_comparison
from lmrnn.graphs.checks import check_int, check_no_wrap, check_radius, check_seed


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "graph",
        help="compare LM and Erdős–Rényi graphs (diameter, path length, clustering)",
        description="Print diameter, average shortest path and clustering of the locality "
        "mask and of a random graph with the same in-degree, for each d, and draw Fig 1d.",
    )
    p.add_argument("--n", type=int, default=20, help="lattice side (default 20, as the paper)")
    p.add_argument(
        "--d", type=float, nargs="+", default=[0, 1, 2, 4, 6], help="radii in lattice spacings"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the Erdős–Rényi graphs")
    p.add_argument("--out", default="fig1d.png", help="PNG to write (default fig1d.png)")
    p.add_argument("--no-plot", action="store_true", help="print the table only")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_int("lattice side n", args.n)
    for d in args.d:
        check_no_wrap(args.n, check_radius("locality radius d", d))
    check_seed("seed", args.seed)
    if not args.no_plot:
        check_picture(args.out, "--out")
    rows = compare_lm_er(args.n, args.d, args.seed)
    print(format_comparison(rows, args.n, args.seed))
    if not args.no_plot:
        from lmrnn.graphs.figures import plot_fig1d  # matplotlib only when drawing

        print(f"wrote {plot_fig1d(rows, args.out, args.n)}")
    return 0
