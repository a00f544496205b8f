"""Collections: an ordered list of tasks, their rule indices, and their tables as tensors."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import torch

from lmrnn.errors import LmrnnError, check_choice, did_you_mean
from lmrnn.tasks.registry import COLLECTIONS, FAMILIES, ON_REGISTER, TaskSpec, parse_task
from lmrnn.tasks.timing import (
    INT_DELAY,
    PERIODS,
    PROFILES,
    SEQ_DECISION,
    Duration,
    Grid,
    Uniform,
    check_dt,
    duration_range,
)

RING = 16  #: units per ring
#: the integer per-task parameters, columns of ``Collection.tables()["ints"]``
INT_PARAMS = ("family", "anti", "reaction", "category", "go_on_match", "int_sign", "seq_sign")
N_OUTPUTS = 1 + RING  #: fixate + one label per ring direction


@dataclass(frozen=True)
class Collection:
    """An ordered set of tasks; a task's rule input is its index here.

    Attributes:
        names: canonical task names in rule order.
        dt: time step in ms.
        profile: timing profile (``"modcog"`` or ``"neurogym"``).
        n_inputs: 1 fixation + 2 rings x 16 + one rule unit per task.
        n_outputs: 17 (0 = fixate, i + 1 = ring direction i).
    """

    names: tuple[str, ...]
    dt: int = 100
    profile: str = "modcog"
    name: str | None = None
    tasks: tuple[TaskSpec, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_choice("timing profile", self.profile, PROFILES)
        if not self.names:
            raise LmrnnError("a collection needs at least one task name, got an empty list.")
        tasks = tuple(parse_task(n) for n in self.names)
        seen: set[str] = set()
        for t in tasks:
            if t.name in seen:
                raise LmrnnError(f"task {t.name!r} appears twice in the collection; list it once.")
            seen.add(t.name)
        for t in tasks:
            check_dt(self.dt, self.durations(t), t.name)
        object.__setattr__(self, "tasks", tasks)
        object.__setattr__(self, "names", tuple(t.name for t in tasks))

    # -- sizes ---------------------------------------------------------------------------
    @property
    def n_tasks(self) -> int:
        return len(self.names)

    @property
    def n_inputs(self) -> int:
        return 1 + 2 * RING + self.n_tasks

    @property
    def n_outputs(self) -> int:
        return N_OUTPUTS

    def __len__(self) -> int:
        return self.n_tasks

    def index(self, task: str | int) -> int:
        """Rule index of ``task`` (a name in any accepted spelling, or an index)."""
        if isinstance(task, int) and not isinstance(task, bool):
            if not 0 <= task < self.n_tasks:
                raise LmrnnError(
                    f"task index {task} is out of range for a collection of {self.n_tasks} tasks."
                )
            return task
        name = parse_task(task).name
        if name not in self.names:
            raise LmrnnError(
                f"task {name!r} is not in this collection{did_you_mean(name, self.names)}; "
                f"it has {self.n_tasks} task(s): {', '.join(self.names[:3])}"
                f"{', ...' if self.n_tasks > 3 else ''}."
            )
        return self.names.index(name)

    def with_timing(self, dt: int | None = None, profile: str | None = None) -> Collection:
        """The same tasks with another ``dt`` or timing profile."""
        if (dt is None or dt == self.dt) and (profile is None or profile == self.profile):
            return self
        dt = self.dt if dt is None else dt
        return _collection(self.names, dt, profile or self.profile, self.name)

    # -- timing --------------------------------------------------------------------------
    def durations(self, task: TaskSpec) -> dict[str, Duration]:
        """Period -> duration (ms) of ``task`` under this collection's profile."""
        table = dict(task.base.timing or PROFILES[self.profile][task.base.name])
        if task.int_sign:
            table["delay"] = INT_DELAY
        if task.seq_sign:
            table["decision"] = SEQ_DECISION
        return table

    def length_range(self, task: str | int) -> tuple[int, int]:
        """Shortest and longest possible trial of ``task``, in steps of dt."""
        spec = self.tasks[self.index(task)]
        ranges = [duration_range(d, self.dt) for d in self.durations(spec).values()]
        return sum(r[0] for r in ranges) // self.dt, sum(r[1] for r in ranges) // self.dt

    @cached_property
    def min_trial_steps(self) -> int:
        return min(self.length_range(i)[0] for i in range(self.n_tasks))

    @cached_property
    def typical_trial_steps(self) -> float:
        """The mean over tasks of the midpoint of each task's trial-length range, in steps."""
        return sum(sum(self.length_range(i)) / 2 for i in range(self.n_tasks)) / self.n_tasks

    @cached_property
    def max_trial_steps(self) -> int:
        return max(self.length_range(i)[1] for i in range(self.n_tasks))

    # -- tables as tensors ----------------------------------------------------------------
    def tables(self, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
        """Per-task parameters as tensors on ``device`` (cached): ``ints`` (n_tasks, 7) int64,
        the columns :data:`INT_PARAMS` (family index, family switches, Int and Seq signs);
        ``floats`` (n_tasks, 4) float32, the DM modality weights and the rings shown;
        ``durations`` (n_tasks, 5, 4), each period's ``(lo, span, step, count)`` in ms (see
        :func:`lmrnn.tasks.batch.sample_durations`). Packed so that a batch reads each table
        with one ``index_select``.
        """
        device = torch.device(device)
        cache = self._table_cache
        if device not in cache:
            cache[device] = {k: v.to(device) for k, v in self._cpu_tables.items()}
        return cache[device]

    @cached_property
    def _table_cache(self) -> dict:
        return {}

    def period_inputs(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """(n_tasks, 5, n_inputs): each task's inputs in each period, rings left empty: the
        fixation unit on until decision and the task's rule unit on throughout (cached)."""
        device = torch.device(device)
        key = ("period_inputs", device)
        if key not in self._table_cache:
            base = torch.zeros(self.n_tasks, 5, self.n_inputs)
            base[:, :4, 0] = 1.0  # fixation, stim1, delay, stim2: fixate; decision: go
            base[torch.arange(self.n_tasks), :, 1 + 2 * RING + torch.arange(self.n_tasks)] = 1.0
            self._table_cache[key] = base.to(device)
        return self._table_cache[key]

    @cached_property
    def _cpu_tables(self) -> dict[str, torch.Tensor]:
        rows = []
        for t in self.tasks:
            p = t.base.params
            durations = [self.durations(t)[name] for name in PERIODS]
            rows.append(
                {
                    "family": FAMILIES.index(t.family),
                    "anti": bool(p.get("anti", False)),
                    "reaction": bool(p.get("reaction", False)),
                    "weights": [float(w) for w in p.get("weights", (0, 0))],
                    "shown": [bool(s) for s in p.get("shown", (False, False))],
                    "category": bool(p.get("category", False)),
                    "go_on_match": bool(p.get("go_on_match", False)),
                    "int_sign": t.int_sign,
                    "seq_sign": t.seq_sign,
                    "durations": [_duration_params(d) for d in durations],
                }
            )
        ints = [[int(r[key]) for key in INT_PARAMS] for r in rows]
        floats = [[*r["weights"], *map(float, r["shown"])] for r in rows]
        return {"ints": torch.tensor(ints), "floats": torch.tensor(floats),
                "durations": torch.tensor([r["durations"] for r in rows])}  # fmt: skip


def _duration_params(d: Duration) -> tuple[float, float, float, float]:
    """``(lo, span, step, count)``: a draw u ~ U[0, 1) lasts ``lo + span·u + step·⌊count·u⌋`` ms
    (span > 0 for a continuous uniform duration, count > 0 for a grid)."""
    if isinstance(d, Uniform):
        return (d.lo, d.hi - d.lo, 0, 0)
    if isinstance(d, Grid):
        return (d.lo, 0, d.step, (d.hi - d.lo) // d.step + 1)
    return (d, 0, 0, 0)


def get_collection(
    name_or_names: str | Sequence[str] | Collection,
    dt: int | None = None,
    profile: str | None = None,
) -> Collection:
    """A named collection (``yang20``, ``modcog82``, ``modcog126``) or one from task names.

    Examples:
        >>> get_collection("modcog82").n_inputs
        115
        >>> get_collection(["go", "dlygo_intl"]).names
        ('go', 'dlygo_intl')

    ``dt`` (ms, default 100) and ``profile`` (default ``"modcog"``) left as None keep those of a
    :class:`Collection` passed in.
    """
    if isinstance(name_or_names, Collection):
        return name_or_names.with_timing(dt, profile)
    if isinstance(name_or_names, str):
        key = name_or_names.strip().lower()
        if key not in COLLECTIONS:
            raise LmrnnError(
                f"unknown collection {name_or_names!r}{did_you_mean(key, COLLECTIONS)}; "
                f"choose one of {', '.join(COLLECTIONS)} or pass a list of task names."
            )
        names, name = COLLECTIONS[key], key
    elif isinstance(name_or_names, Sequence | set | frozenset):
        names, name = tuple(name_or_names), None
    else:
        raise LmrnnError(
            f"a collection is a name ({', '.join(COLLECTIONS)}), a list of task names or a "
            f"Collection, got {name_or_names!r}."
        )
    return _collection(names, 100 if dt is None else dt, profile or "modcog", name)


def _collection(names: tuple, dt: int, profile: str, name: str | None) -> Collection:
    """Collections are values: one object per (names, dt, profile, name), so that its tensor
    tables are built once, not at every ``stream_batch("modcog82", ...)``."""
    try:
        return _cached_collection(names, dt, profile, name)
    except TypeError:  # an unhashable argument: the constructor says what is wrong with it
        return Collection(names, dt, profile, name)


_cached_collection = functools.lru_cache(maxsize=64)(Collection)
ON_REGISTER.append(_cached_collection.cache_clear)  # a task registered anew changes its tables
