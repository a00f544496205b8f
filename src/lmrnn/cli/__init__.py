"""The ``lmrnn`` command line: one sub-command per room; it only parses and calls.

Each module of this package exposes ``register(subparsers)`` which adds its sub-command(s)
and sets ``func`` on the parser to a callable taking the parsed namespace.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from lmrnn import __version__
from lmrnn.errors import LmrnnError, TrainingDiverged

# Modules of this package that add sub-commands, in the order `lmrnn --help` lists them.
_COMMAND_MODULES = ("tasks", "graphs", "models", "train", "analyze", "experiments", "demo")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lmrnn",
        description="Locality-masked RNNs and the Mod-Cog task battery (Khona et al. 2023).",
    )
    parser.add_argument("--version", action="version", version=f"lmrnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(f"lmrnn.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"lmrnn.cli.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if (
        extra
        and isinstance(getattr(args, "items", None), list)
        and all("=" in e and not e.startswith("-") for e in extra)
    ):  # key=value items after an option (lmrnn train out=x --resume steps=9)
        args.items += extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        for key, value in vars(args).items():
            if isinstance(value, str) and not value.strip() and key != "func":
                option = key.replace("_", "-")
                raise LmrnnError(f"--{option} (or {key}) is empty; give a value or leave it out.")
        result = args.func(args)
    except LmrnnError as exc:
        print(f"lmrnn: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print("lmrnn: interrupted (a training run continues from its last checkpoint with the "
              "same command and --resume).", file=sys.stderr)  # fmt: skip
        return 130
    except OSError as exc:  # a file or folder that cannot be read or written
        name = f": {exc.filename}" if exc.filename else ""
        print(f"lmrnn: error: {exc.strerror or exc}{name}.", file=sys.stderr)
        return 2
    except TrainingDiverged as exc:
        print(f"lmrnn: error: {exc}", file=sys.stderr)
        return 1
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
