"""Task names, the Mod-Cog compositions, named collections and user-registered tasks.

A task name is ``<base>[_intl|_intr][_seql|_seqr]``, e.g. ``dlygo_intl``, ``go_seqr`` or
``dms_intr_seql``. The public Mod-Cog file's spellings (``dlygointl``, ``goseqr``) and any
capitalisation (``DlyGo_IntL``) are accepted as aliases.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lmrnn.errors import LmrnnError, check_choice, did_you_mean
from lmrnn.tasks.timing import PROFILES, Duration

REACH, DM, DLYDM, MATCH = "reach", "dm", "dlydm", "match"
FAMILIES = (REACH, DM, DLYDM, MATCH)


@dataclass(frozen=True)
class BaseTask:
    """One of the 20 tasks of Yang et al. 2019, or a user-registered one.

    ``params`` holds the family's switches: reach ``anti``, ``reaction``; dm/dlydm
    ``weights`` (w1, w2) and ``shown`` (ring 1 shown, ring 2 shown); match ``category``
    (compare categories, not directions) and ``go_on_match`` (respond on a match, fixate on a
    non-match; False for the non-match tasks). ``timing`` overrides the profiles' table.
    """

    name: str
    family: str
    params: dict = field(default_factory=dict, hash=False, compare=False)
    timing: dict[str, Duration] | None = field(default=None, hash=False, compare=False)

    @property
    def has_delay(self) -> bool:
        durations = self.timing or PROFILES["modcog"][self.name]
        return durations["delay"] != 0


def _reach(name: str, anti: bool, reaction: bool = False) -> BaseTask:
    return BaseTask(name, REACH, {"anti": anti, "reaction": reaction})


def _dm(name: str, family: str, weights: tuple[int, int], shown: tuple[bool, bool]) -> BaseTask:
    return BaseTask(name, family, {"weights": weights, "shown": shown})


def _match(name: str, category: bool, go_on_match: bool) -> BaseTask:
    return BaseTask(name, MATCH, {"category": category, "go_on_match": go_on_match})


_BASE_LIST = [
    _reach("go", anti=False),
    _reach("rtgo", anti=False, reaction=True),
    _reach("dlygo", anti=False),
    _reach("anti", anti=True),
    _reach("rtanti", anti=True, reaction=True),
    _reach("dlyanti", anti=True),
    _dm("dm1", DM, (1, 1), (True, False)),
    _dm("dm2", DM, (1, 1), (False, True)),
    _dm("ctxdm1", DM, (1, 0), (True, True)),
    _dm("ctxdm2", DM, (0, 1), (True, True)),
    _dm("multidm", DM, (1, 1), (True, True)),
    _dm("dlydm1", DLYDM, (1, 1), (True, False)),
    _dm("dlydm2", DLYDM, (1, 1), (False, True)),
    _dm("ctxdlydm1", DLYDM, (1, 0), (True, True)),
    _dm("ctxdlydm2", DLYDM, (0, 1), (True, True)),
    _dm("multidlydm", DLYDM, (1, 1), (True, True)),
    _match("dms", category=False, go_on_match=True),
    _match("dnms", category=False, go_on_match=False),
    _match("dmc", category=True, go_on_match=True),
    _match("dnmc", category=True, go_on_match=False),
]
BASE_TASKS: dict[str, BaseTask] = {t.name: t for t in _BASE_LIST}

YANG20: tuple[str, ...] = tuple(BASE_TASKS)
DELAY_TASKS: tuple[str, ...] = (
    "dlygo", "dlyanti", "dlydm1", "dlydm2", "ctxdlydm1", "ctxdlydm2", "multidlydm",
    "dms", "dnms", "dmc", "dnmc",
)  # fmt: skip
INT_TASKS = tuple(f"{b}_{s}" for b in DELAY_TASKS for s in ("intr", "intl"))
SEQ_TASKS = tuple(f"{b}_seqr" for b in YANG20) + tuple(f"{b}_seql" for b in YANG20)
INT_SEQ_TASKS = tuple(f"{t}_seqr" for t in INT_TASKS) + tuple(f"{t}_seql" for t in INT_TASKS)

COLLECTIONS: dict[str, tuple[str, ...]] = {
    "yang20": YANG20,
    "modcog82": YANG20 + INT_TASKS + SEQ_TASKS,
    "modcog126": YANG20 + INT_TASKS + SEQ_TASKS + INT_SEQ_TASKS,
}


@dataclass(frozen=True)
class TaskSpec:
    """A task of the battery: a base task with optional Int and Seq extensions.

    ``int_sign``: +1 for ``_intr``, -1 for ``_intl``, 0 without interval estimation.
    ``seq_sign``: +1 for ``_seqr``, -1 for ``_seql``, 0 without sequence generation.
    """

    name: str
    base: BaseTask
    int_sign: int = 0
    seq_sign: int = 0

    @property
    def family(self) -> str:
        return self.base.family


_NAME = re.compile(r"^(?P<base>[a-z0-9]+?)(?:_?int(?P<int>[lr]))?(?:_?seq(?P<seq>[lr]))?$")
_SIGN = {"l": -1, "r": +1, None: 0}


def _all_known_names() -> list[str]:
    delay = set(_delay_tasks())
    extended = [
        f"{b}{i}{s}"
        for b in BASE_TASKS
        for i in (("", "_intl", "_intr") if b in delay else ("",))
        for s in ("", "_seql", "_seqr")
    ]
    return extended


def _delay_tasks() -> list[str]:
    return [name for name, base in BASE_TASKS.items() if base.has_delay]


def canonical_name(name: str) -> str:
    """The canonical spelling of a task name (``DlyGoIntL`` -> ``dlygo_intl``)."""
    return parse_task(name).name


def parse_task(name: str) -> TaskSpec:
    """Parse a task name into a :class:`TaskSpec`, or raise one clear :class:`LmrnnError`."""
    if not isinstance(name, str):
        raise LmrnnError(f"a task name must be a string such as 'dlygo_intl', got {name!r}.")
    key = name.strip().lower().replace("-", "_")
    m = _NAME.match(key.replace("__", "_"))
    base = m and BASE_TASKS.get(m["base"].rstrip("_"))
    if base is None:
        hint = did_you_mean(key, _all_known_names())
        raise LmrnnError(
            f"unknown task {name!r}{hint}; `lmrnn tasks list --collection modcog126` lists "
            "every task."
        )
    int_sign, seq_sign = _SIGN[m["int"]], _SIGN[m["seq"]]
    if int_sign and not base.has_delay:
        raise LmrnnError(
            f"task {name!r} asks for interval estimation but '{base.name}' has no delay period; "
            f"Int applies to the delay tasks: {', '.join(_delay_tasks())}."
        )
    canon = base.name + {-1: "_intl", 1: "_intr", 0: ""}[int_sign]
    canon += {-1: "_seql", 1: "_seqr", 0: ""}[seq_sign]
    return TaskSpec(canon, base, int_sign, seq_sign)


def register_task(base: BaseTask, *, overwrite: bool = False) -> None:
    """Register a new base task (a new parameterisation of a family) under ``base.name``.

    Its Int/Seq extensions become available by name at once (Int only if it has a delay).
    ``base.timing`` must give all five periods (see :data:`lmrnn.tasks.timing.PERIODS`).
    """
    from lmrnn.tasks.timing import PERIODS, check_duration, duration_range

    check_choice("family", base.family, FAMILIES)
    if not re.fullmatch(r"[a-z][a-z0-9]*", base.name) or "int" in base.name or "seq" in base.name:
        raise LmrnnError(
            f"a new task name must be lower-case letters and digits without 'int' or 'seq', "
            f"got {base.name!r}."
        )
    if base.name in BASE_TASKS and not overwrite:
        raise LmrnnError(f"task {base.name!r} already exists; pass overwrite=True to replace it.")
    if base.timing is None or set(base.timing) != set(PERIODS):
        raise LmrnnError(
            f"task {base.name!r} needs a timing table with exactly the periods {PERIODS}."
        )
    for period, duration in base.timing.items():
        check_duration(duration, period, base.name)
    if duration_range(base.timing["decision"], 1)[0] < 1:
        raise LmrnnError(
            f"task {base.name!r} has a decision period that can last 0 ms; every trial needs one."
        )
    _check_params(base)
    BASE_TASKS[base.name] = base
    for hook in ON_REGISTER:
        hook()


#: called after every :func:`register_task` (collections forget their cached tables; gymnasium
#: registers the new ids)
ON_REGISTER: list[Callable[[], None]] = []
#: each family's parameters and whether a new task must give them
_PARAMS = {
    REACH: {"anti": False, "reaction": False},
    DM: {"weights": True, "shown": True},
    DLYDM: {"weights": True, "shown": True},
    MATCH: {"category": False, "go_on_match": False},
}


def _check_params(base: BaseTask) -> None:
    known = _PARAMS[base.family]
    unknown = sorted(set(base.params) - set(known))
    missing = [k for k, needed in known.items() if needed and k not in base.params]
    if unknown or missing:
        what = f"unknown {unknown}" if unknown else f"missing {missing}"
        raise LmrnnError(
            f"task {base.name!r} ({base.family}) has {what} parameters; a {base.family} task "
            f"takes {', '.join(known)}."
        )
    if base.family in (DM, DLYDM):
        weights, shown = base.params["weights"], base.params["shown"]
        pairs = all(isinstance(x, tuple | list) and len(x) == 2 for x in (weights, shown))
        if not pairs or not any(shown) or not any(weights):
            raise LmrnnError(
                f"task {base.name!r} needs weights (w1, w2), not both 0, and shown (ring 1, "
                f"ring 2), at least one True; got {weights!r} and {shown!r}."
            )
