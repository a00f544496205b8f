"""The one exception type users see for bad input.

Every check of user input raises :class:`LmrnnError` with one sentence that names what is
wrong and what would be right, before any work starts. The command line prints that sentence
alone (no traceback) and exits with status 2.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class LmrnnError(ValueError):
    """Bad input to lmrnn: the message names the bad value and what would be right."""


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
