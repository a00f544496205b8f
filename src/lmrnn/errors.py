"""The one exception type users see for bad input.

Every check of user input raises :class:`LmrnnError` with one sentence that names what is
wrong and what would be right, before any work starts. The command line prints that sentence
alone (no traceback) and exits with status 2.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from pathlib import Path


class LmrnnError(ValueError):
    """Bad input to lmrnn: the message names the bad value and what would be right."""


class RunFolderBusy(LmrnnError):
    """Another process is writing the run folder (it holds the folder's lock)."""


class DeadlineReached(RuntimeError):
    """Training stopped at its deadline after writing a checkpoint: the run resumes from there
    (``--resume``, or the next ``lmrnn reproduce`` into the same folder)."""


class TrainingDiverged(RuntimeError):
    """Training stopped: the loss or the weights stopped being finite (the message names the
    step and where the last good checkpoint is). The command line prints it alone, status 1."""


def did_you_mean(word: str, choices: Iterable[str], n: int = 3) -> str:
    """Return ``" (did you mean 'a', 'b'?)"`` for the closest choices, or ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=n, cutoff=0.5)
    if not close:
        return ""
    return " (did you mean " + ", ".join(repr(c) for c in close) + "?)"


def check_choice(what: str, value: object, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise one sentence naming the valid
    ones: ``unknown criterion 'decisoin' (did you mean 'decision'?); choose one of ...``."""
    options = list(choices)
    if value not in options:
        raise LmrnnError(
            f"unknown {what} {value!r}{did_you_mean(str(value), options)}; "
            f"choose one of {', '.join(options)}."
        )
    return value  # type: ignore[return-value]


def check_output(path: str | os.PathLike, what: str = "output", folder: bool = False) -> Path:
    """``path`` as a Path once it is sure it can be written (a file, or a folder when
    ``folder``), before any work starts; nothing is made here. One sentence if a file stands
    where a folder must be, a folder where a file must be, or the place is not writable."""
    p = Path(path)
    if folder and p.exists() and not p.is_dir():
        raise LmrnnError(f"{what} {str(p)!r} is a file; give a folder.")
    if not folder and p.is_dir():
        raise LmrnnError(f"{what} {str(p)!r} is a folder; give a file name.")
    nearest = p if folder else p.parent
    while not nearest.exists():
        nearest = nearest.parent
    where = f"cannot write {what} {str(p)!r}"
    if not nearest.is_dir():
        raise LmrnnError(f"{where}: {str(nearest)!r} is a file, not a folder.")
    if not os.access(nearest, os.W_OK | os.X_OK):
        raise LmrnnError(f"{where}: no permission to write in {str(nearest)!r}.")
    return p


def check_picture(path: str | os.PathLike, what: str = "output") -> Path:
    """As :func:`check_output`, for a picture: its suffix must be a format matplotlib writes."""
    from matplotlib.figure import Figure

    p = check_output(path, what)
    formats = Figure().canvas.get_supported_filetypes()
    if p.suffix.lower().lstrip(".") not in formats:
        raise LmrnnError(
            f"{what} {str(p)!r} needs a picture suffix matplotlib can write, such as .png, .pdf "
            f"or .svg (one of {', '.join('.' + f for f in sorted(formats))})."
        )
    return p
