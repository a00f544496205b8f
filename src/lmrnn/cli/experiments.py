"""``lmrnn reproduce NAME``, ``lmrnn results DIR``, ``lmrnn report DIR``: the paper's sweeps."""

from __future__ import annotations

import argparse

from lmrnn.errors import LmrnnError, check_output


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reproduce",
        help="run one of the paper's experiments (or all) at a scale",
        description="Expand an experiment (fig1d, fig2a, ..., table1; all = the paper's 13; "
        "baselines = the training recipe's grid) into runs with "
        "deterministic ids under OUT/runs/<id>/, skip complete runs, resume interrupted ones, "
        "record every run (failed ones with their error) in OUT/results.sqlite.",
    )
    p.add_argument("name", help="experiment name, all, or baselines")
    p.add_argument(
        "--scale",
        default="ci",
        help="ci, small, medium (the Mod-Cog claims on a CPU) or paper (default ci)",
    )
    p.add_argument("--executor", default="local", help="local (default) or slurm (submitit)")
    p.add_argument("--out", default=None, help="output folder (default results/<scale>)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--cluster", default=None, help="slurm: submitit cluster (slurm or local)")
    p.add_argument("--timeout-min", type=int, default=60, help="slurm: minutes per job")
    p.add_argument("--partition", default=None, help="slurm: partition")
    p.add_argument("--gpus", type=int, default=None, help="slurm: GPUs per job")
    p.add_argument(
        "--until",
        default=None,
        metavar="DURATION",
        help="stop cleanly after this long (e.g. 2h30m, 90m, 45s): the running job writes a "
        "checkpoint, no new one starts, and the next call resumes; says what remains",
    )
    p.add_argument(
        "--order",
        default="forward",
        choices=("forward", "reverse"),
        help="the queue's order: forward (default) or reverse, for a second process on the "
        "same --out that works the queue from the other end",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="list the runs and where each stands in OUT; run and write nothing",
    )
    p.set_defaults(func=run_reproduce)

    r = sub.add_parser("results", help="print a sweep's tables; --csv writes them")
    r.add_argument("dir", help="output folder of lmrnn reproduce")
    r.add_argument("--csv", default=None, help="also write every row to this CSV file")
    r.set_defaults(func=run_results)

    u = sub.add_parser(
        "publish",
        help="copy a sweep's numbers (no weights) into a small folder to commit",
        description="Write DEST/results.sqlite (the store without per-task rows), report.html, "
        "results.txt and results.csv from the sweep in DIR; `lmrnn results DEST` and `lmrnn "
        "report DEST` read it back. --readme also regenerates a README's claims table from "
        "every published folder under docs/results.",
    )
    u.add_argument("dir", nargs="?", default=None, help="output folder of lmrnn reproduce")
    u.add_argument("dest", nargs="?", default=None, help="folder to write (e.g. docs/results/..)")
    u.add_argument(
        "--only",
        nargs="+",
        default=None,
        metavar="NAME",
        help="the experiments to publish (default every one in DIR)",
    )
    u.add_argument("--readme", default=None, help="README to regenerate the claims table of")
    u.add_argument("--root", default="docs/results", help="where published folders live")
    u.set_defaults(func=run_publish)

    h = sub.add_parser("report", help="write a self-contained HTML report of a sweep")
    h.add_argument("dir", help="output folder of lmrnn reproduce")
    h.add_argument("--out", default=None, help="HTML file (default DIR/report.html)")
    h.set_defaults(func=run_report)


def run_reproduce(args: argparse.Namespace) -> int:
    from lmrnn.experiments import reproduce

    if args.dry_run:
        return _dry_run(args)
    check_output(args.out or f"results/{args.scale}", "--out", folder=True)
    until = None
    if args.until is not None:
        import time

        if args.executor != "local":
            raise LmrnnError("--until stops the local executor; with slurm use --timeout-min.")
        until = time.time() + parse_duration(args.until)
    params = {"timeout_min": args.timeout_min}
    if args.partition:
        params["slurm_partition"] = args.partition
    if args.gpus is not None:
        params["gpus_per_node"] = args.gpus
    sweep = reproduce(
        args.name, args.scale, args.out or f"results/{args.scale}", args.executor,
        args.device, args.cluster, params, until=until, order=args.order,
    )  # fmt: skip
    print(
        f"{len(sweep.jobs)} runs in {sweep.out}: {sweep.count('skipped')} already complete, "
        f"{sweep.count('complete')} completed, {sweep.count('failed')} failed"
    )
    for job_id, error in sweep.errors.items():
        print(f"  failed {job_id}: {error}")
    remaining, busy = sweep.remaining(), sweep.count("busy")
    if remaining and (until is not None or busy):
        reached = "deadline reached: " if until is not None and time.time() >= until else ""
        print(f"{reached}{len(remaining)} runs remain ({busy} being trained by another process, "
              f"{sweep.count('interrupted')} interrupted, resuming from their checkpoints); run "
              "the same command again to go on")  # fmt: skip
    return 1 if sweep.errors else 0


def parse_duration(text: str) -> float:
    """``"2h30m"``, ``"90m"``, ``"45s"``, ``"1.5h"`` -> seconds; one sentence if malformed."""
    import re

    parts = re.fullmatch(r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*"
                         r"(?:(\d+(?:\.\d+)?)s)?\s*", text or "")  # fmt: skip
    if not text or not text.strip() or parts is None or not any(parts.groups()):
        raise LmrnnError(f"--until {text!r} is not a duration; give e.g. 2h30m, 90m or 45s.")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in parts.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise LmrnnError(f"--until {text!r} must be longer than 0 seconds.")
    return total


def _dry_run(args: argparse.Namespace) -> int:
    from lmrnn.experiments import EXPERIMENTS, dry_run

    out = args.out or f"results/{args.scale}"
    rows, minutes = dry_run(args.name, args.scale, out)
    for name, estimate in minutes.items():
        runs = [r for r in rows if r.experiment == name]
        cost = f"about {estimate:g} CPU minutes in all" if estimate else "no CPU estimate"
        print(f"{name} ({args.scale}): {len(runs)} runs, {cost}")
        why = EXPERIMENTS[name].scale(args.scale).why if name in EXPERIMENTS else ""
        if why:
            print(f"  why this scale: {why}")
        print(f"  {'run id':12s}  {'network':<40} {'seeds x steps':>13}  where it stands in OUT")
        for r in runs:
            size = f"{r.seeds} x {r.steps}" if r.steps else "graph"
            print(f"  {r.id:12s}  {r.network:<40} {size:>13}  {r.status}")
    distinct = list({r.id: r for r in rows}.values())  # a run shared by experiments once
    done = sum(r.status == "complete" for r in distinct)
    resume = sum(r.status.startswith("resumes") for r in distinct)
    extend = sum(r.status.startswith("continues") for r in distinct)
    busy = sum(r.status.startswith("being trained") for r in distinct)
    left = len(distinct) - done - resume - extend - busy
    longer = f"{extend} to continue from shorter runs, " if extend else ""
    training = f"{busy} being trained by another process, " if busy else ""
    print(
        f"{len(distinct)} runs in {out}: {done} complete, {training}{resume} to resume, "
        f"{longer}{left} to run (dry run: nothing was run or written)"
    )
    return 0


def run_results(args: argparse.Namespace) -> int:
    from lmrnn.experiments import load, write_csv
    from lmrnn.experiments.report import results_text

    if args.csv:
        check_output(args.csv, "--csv")
    print(results_text(args.dir), end="")
    if args.csv:
        print(f"wrote {write_csv(load(args.dir), args.csv)}")
    return 0


def run_publish(args: argparse.Namespace) -> int:
    from lmrnn.experiments.publish import publish, update_readme

    if (args.dir is None) != (args.dest is None) or (args.dir is None and not args.readme):
        raise LmrnnError("give DIR and DEST (lmrnn publish runs/small docs/results/small/x), "
                         "--readme README.md, or both.")  # fmt: skip
    if args.dir is not None:
        check_output(args.dest, "DEST", folder=True)
        print(f"wrote {publish(args.dir, args.dest, args.only)}")
    if args.readme:
        changed = update_readme(args.readme, args.root)
        print(f"{'rewrote' if changed else 'unchanged:'} the claims table of {args.readme}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    from lmrnn.experiments import write_report

    if args.out:
        check_output(args.out, "--out")
    print(f"wrote {write_report(args.dir, args.out)}")
    return 0
