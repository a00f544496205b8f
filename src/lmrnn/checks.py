"""The checks of user input that every room shares: whole numbers, seeds, fractions, devices.

One wording for each, so that the same mistake reads the same wherever it is made::

    batch_size must be a whole number >= 1, got 0.
    seed must be a whole number in 0 .. 2**64 - 1, got -1.
    excitatory must be a fraction in (0, 1], got 1.5.
    unknown device 'tpu'; use cpu, cuda or cuda:N.

Each returns the value in its plain Python type (an ``int`` for a numpy integer) or raises
:class:`~lmrnn.errors.LmrnnError`. Depends on nothing of the project but :mod:`lmrnn.errors`,
so that every room may use it.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

from lmrnn.errors import LmrnnError

if TYPE_CHECKING:
    import torch

#: Seeds are what ``torch.Generator.manual_seed`` takes: 0 .. 2**64 - 1.
SEED_LIMIT = 2**64


def _is_whole(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(name: str, value: object, minimum: int = 1) -> int:
    """``value`` as an int if it is a whole number >= ``minimum``, else one sentence:
    ``{name} must be a whole number >= {minimum}, got {value!r}.``"""
    if not _is_whole(value) or value < minimum:
        raise LmrnnError(f"{name} must be a whole number >= {minimum}, got {value!r}.")
    return int(value)


def check_seed(name: str, value: object) -> int:
    """``value`` as an int if it is a seed (a whole number in 0 .. 2**64 - 1, what a torch
    generator takes), else one sentence:
    ``{name} must be a whole number in 0 .. 2**64 - 1, got {value!r}.``"""
    if not _is_whole(value) or not 0 <= value < SEED_LIMIT:
        raise LmrnnError(f"{name} must be a whole number in 0 .. 2**64 - 1, got {value!r}.")
    return int(value)


def check_fraction(name: str, value: object, hint: str = "") -> float:
    """``value`` as a float if it is a number in (0, 1], else one sentence:
    ``{name} must be a fraction in (0, 1] ({hint}), got {value!r}.`` (without the
    parenthesis when there is no ``hint``)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not (ok and 0 < value <= 1):
        extra = f" ({hint})" if hint else ""
        raise LmrnnError(f"{name} must be a fraction in (0, 1]{extra}, got {value!r}.")
    return float(value)


def check_device(device: object, auto: bool = False) -> torch.device:
    """``device`` as a ``torch.device`` if it is a CPU, or a CUDA device that is there, else one
    sentence. ``auto`` (where the caller allows it): ``"auto"`` is CUDA when available, else the
    CPU."""
    import torch

    choices = "auto, cpu, cuda or cuda:N" if auto else "cpu, cuda or cuda:N"
    if auto and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise LmrnnError(f"unknown device {device!r}; use {choices}.") from exc
    if dev.type not in ("cpu", "cuda"):
        raise LmrnnError(f"device {device!r} is not supported; use {choices}.")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise LmrnnError(f"device {device!r} was asked for but CUDA is not available; use cpu.")
    return dev
