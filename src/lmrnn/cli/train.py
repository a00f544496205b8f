"""``lmrnn train`` and ``lmrnn evaluate``."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train an ensemble of seeds on a task collection",
        description="Train every seed of a config together. CONFIG is an optional YAML file; "
        "key=value overrides follow (e.g. d=2 seeds=[0,1,2] collection=modcog82).",
    )
    p.add_argument("items", nargs="*", metavar="[CONFIG.yaml] key=value", help="config")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in out= from its checkpoint (its config.yaml is read; steps, "
        "eval_every, checkpoint_every, device and tensorboard may change)",
    )
    p.add_argument(
        "--restart",
        action="store_true",
        help="delete the run in out= (checkpoint and outputs) and train it again from scratch",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--show-defaults", action="store_true", help="print every key and its default")
    p.set_defaults(func=_train)

    e = sub.add_parser("evaluate", help="per-task table of a saved run")
    e.add_argument("run", help="run folder")
    e.add_argument("--trials", type=int, default=None, help="trials per task (default: the run's)")
    e.add_argument("--criterion", default="decision", help="decision, last_step or strict")
    e.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    e.set_defaults(func=_evaluate)


def _train(args: argparse.Namespace) -> int:
    import yaml

    from lmrnn.train import DEFAULTS, RunFolder, load_config, parse_overrides, train
    from lmrnn.train.tables import format_table

    if args.show_defaults:
        defaults = {k: list(v) if isinstance(v, tuple) else v for k, v in DEFAULTS.items()}
        print(yaml.safe_dump(defaults, sort_keys=False), end="")
        return 0
    path = None
    overrides = list(args.items)
    if overrides and "=" not in overrides[0]:
        path = overrides.pop(0)
    if args.resume and path is None:  # the run's own config, the overrides on top
        saved = RunFolder(str(parse_overrides(overrides).get("out", DEFAULTS["out"]))).config
        path = saved if saved.is_file() else None
    config = load_config(path, overrides)
    result = train(config, resume=args.resume, progress=not args.no_progress,
                   restart=args.restart)  # fmt: skip
    print(format_table(result.final, "decision"))
    print(f"wrote {result.run_dir} ({result.steps_per_second:.1f} steps/s)")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from lmrnn.checks import check_int
    from lmrnn.errors import check_choice
    from lmrnn.tasks import CRITERIA
    from lmrnn.train import evaluate, load_run
    from lmrnn.train.tables import format_table

    check_choice("criterion", args.criterion, CRITERIA)
    if args.trials is not None:
        check_int("--trials", args.trials)
    config, model = load_run(args.run, args.device)
    trials = config.eval_trials if args.trials is None else args.trials
    result = evaluate(model, config.tasks(), trials, config.eval_seed, config.seeds)
    print(format_table(result, args.criterion))
    return 0
