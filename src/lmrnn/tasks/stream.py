"""Stream batches: rows of back-to-back trials cut at ``seq_len`` (how the paper trained), and
:class:`StreamLoader`, which serves them to training step by step.

One job, the stream layout: how many trials each row draws, where each step falls among them,
and which block of rows a batch renders (a stream drawn once renders any block of its rows
exactly as in the whole, which is how :class:`StreamLoader` works on a CPU). Drawing trials,
laying them out in time and rendering them belong to :mod:`lmrnn.tasks.batch`, shared with
trial batches; this module imports from there, never the reverse.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields

import torch

from lmrnn.checks import check_device, check_int, check_seed
from lmrnn.seeds import derive_seed
from lmrnn.tasks import families
from lmrnn.tasks.batch import (
    _draw_trials,
    _durations,
    _generator,
    _locate,
    _render,
    _Trials,
)
from lmrnn.tasks.collection import Collection, get_collection
from lmrnn.tasks.noise import InputNoise, flat_nonzero
from lmrnn.tasks.timing import PERIODS


@dataclass
class StreamBatch:
    """Back-to-back trials per row, cut at ``seq_len`` (how the paper trained).

    Attributes (T = seq_len steps, B rows):
        inputs: (T, B, n_in) float32; targets: (T, B) int64.
        task: (T, B) int64 rule index of the trial each step belongs to.
        trial_start: (T, B) bool, True on the first step of each trial.
        period: (T, B) int64 index into ``PERIODS`` of each step.

    ``task``, ``trial_start`` and ``period`` are worked out when first read (training reads
    only inputs and targets).
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    collection: Collection
    dt: int
    _steps: _StepIndex = field(repr=False)

    @functools.cached_property
    def task(self) -> torch.Tensor:
        return _per_step(self._steps.trial_task, self._steps.seg)

    @functools.cached_property
    def trial_start(self) -> torch.Tensor:
        ix = self._steps
        nonempty = ix.trial_steps > 0
        first_period = nonempty & (torch.cumsum(nonempty, 1) == 1)  # (M, 5)
        t = torch.arange(ix.seg.shape[0], device=ix.seg.device).unsqueeze(1)
        return families.lookup(first_period.view(-1), ix.seg) & (t == ix.seg_start)

    @functools.cached_property
    def period(self) -> torch.Tensor:
        return self._steps.seg % len(PERIODS)

    def to(self, device: torch.device | str) -> StreamBatch:
        return StreamBatch(self.inputs.to(device), self.targets.to(device), self.collection,
                           self.dt, self._steps.apply(lambda x: x.to(device)))  # fmt: skip


@dataclass
class _StepIndex:
    """Where each step of a stream batch falls: its segment ``seg`` (T, B) (``trial * 5 +
    period`` into the M trials of tasks ``trial_task`` (M,) and period durations
    ``trial_steps`` (M, 5)) and the step ``seg_start`` (T, B) its segment starts at."""

    trial_task: torch.Tensor
    trial_steps: torch.Tensor
    seg: torch.Tensor
    seg_start: torch.Tensor

    def apply(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> _StepIndex:
        return _StepIndex(*(fn(getattr(self, f.name)) for f in fields(self)))


def _per_step(per_trial: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
    """(T, B) the value of each step's trial, from (M,) values and (T, B) segment indices."""
    return families.lookup(per_trial.repeat_interleave(len(PERIODS)), seg)


def stream_batch(
    collection: Collection | str | list[str],
    batch_size: int,
    seq_len: int,
    seed: int,
    device: torch.device | str = "cpu",
    profile: str | None = None,
    dt: int | None = None,
    noise: bool = True,
) -> StreamBatch:
    """``batch_size`` rows of back-to-back trials, each trial's task drawn independently and
    uniformly from the collection, cut at ``seq_len`` steps (neurogym's ``Dataset`` layout).

    The same seed gives the same batch on the same device. Fixed shapes throughout: on CUDA it
    runs without a host synchronisation.
    """
    coll = get_collection(collection).with_timing(dt, profile)
    batch_size = check_int("batch_size", batch_size)
    seq_len = check_int("seq_len", seq_len)
    stream = _Stream.draw(coll, batch_size, seq_len, _generator(seed, check_device(device)), noise)
    return stream.render()


@dataclass
class _Stream:
    """Rows of back-to-back trials, drawn and laid out in time but not yet rendered: any block of
    rows renders to exactly those rows of a render of all of them."""

    coll: Collection
    trials: _Trials  # the M trials, row by row
    seg: torch.Tensor  # (T, R) int64 segment (trial * 5 + period) of each step
    seg_start: torch.Tensor  # (T, R) int64 the step its segment starts at
    first_trial: list[int]  # (R + 1) index of each row's first trial, and M
    noise: InputNoise | None

    @classmethod
    def draw(
        cls, coll: Collection, rows: int, seq_len: int, gen: torch.Generator, noise: bool
    ) -> _Stream:
        trials = _stream_trials_cpu if gen.device.type == "cpu" else _stream_trials_fixed
        tr, seg, seg_start, first_trial = trials(coll, rows, seq_len, gen)
        eps = InputNoise(tr.shown.noisy, seg, coll.dt, gen) if noise else None
        return cls(coll, tr, seg, seg_start, first_trial, eps)

    def render(self, rows: slice = slice(None)) -> StreamBatch:
        """The :class:`StreamBatch` of the rows ``rows``: all of them, or a block of ``b`` rows
        starting at a multiple of ``b``."""
        first, stop, _ = rows.indices(self.seg.shape[1])
        if stop <= first or first % (stop - first):
            raise ValueError(f"rows {first}:{stop} are not a block of {stop - first} rows")
        lo, hi = self.first_trial[first], self.first_trial[stop]
        tr = self.trials.part(lo, hi)
        seg = self.seg[:, rows]
        seg = (seg - len(PERIODS) * lo) if lo else seg.contiguous()
        seg_start = self.seg_start[:, rows]
        inputs, targets = _render(self.coll, tr, seg, seg_start, self.noise, rows)
        return StreamBatch(inputs, targets, self.coll, self.coll.dt,
                           _StepIndex(tr.task, tr.steps, seg, seg_start))  # fmt: skip


def _stream_trials_fixed(
    coll: Collection, batch_size: int, seq_len: int, gen: torch.Generator
) -> tuple[_Trials, torch.Tensor, torch.Tensor, list[int]]:
    """Trials of a stream batch in fixed shapes (no host synchronisation, for GPUs): each row
    draws as many trials as the shortest possible trials would need.

    Returns the M trials (row by row), each step's segment index into them and segment start,
    (T, B), and the index of each row's first trial (B + 1 entries, the last M).
    """
    dev = gen.device
    per_row = seq_len // coll.min_trial_steps + 1
    task_idx = torch.randint(coll.n_tasks, (batch_size, per_row), generator=gen, device=dev)
    steps = _durations(coll, task_idx, gen)  # (B, K, 5)
    tr = _draw_trials(coll, task_idx.view(-1), steps.view(-1, len(PERIODS)), gen)
    seg, seg_start = _row_segments(steps, seq_len, torch.full((batch_size,), per_row, device=dev))
    return tr, seg, seg_start, list(range(0, task_idx.numel() + 1, per_row))


def _row_segments(
    steps: torch.Tensor, seq_len: int, trials_per_row: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(T, B) segment index (trial * 5 + period) and segment start of each step of rows of
    back-to-back trials: ``steps`` (B, K, 5) the period durations of each row's first K trials,
    which are numbered on from the rows before, ``trials_per_row`` (B,) to a row."""
    first_seg = len(PERIODS) * (torch.cumsum(trials_per_row, 0) - trials_per_row)
    return _locate(steps.reshape(steps.shape[0], -1), seq_len, first_seg)


def _stream_trials_cpu(
    coll: Collection, batch_size: int, seq_len: int, gen: torch.Generator
) -> tuple[_Trials, torch.Tensor, torch.Tensor, list[int]]:
    """As :func:`_stream_trials_fixed`, drawing conditions only for the trials that start
    within ``seq_len``: on a CPU the per-trial work, not the synchronisation, is what costs.

    Durations come first for a typical number of trials per row, then (rarely) for as many more
    as the worst case needs.
    """
    bound = seq_len // coll.min_trial_steps + 1
    per_row = min(bound, math.ceil(1.5 * seq_len / coll.typical_trial_steps) + 4)
    task_idx = torch.randint(coll.n_tasks, (batch_size, per_row), generator=gen)
    steps = _durations(coll, task_idx, gen)  # (B, K, 5)
    if per_row < bound and bool((steps.sum((1, 2)) < seq_len).any()):
        more = torch.randint(coll.n_tasks, (batch_size, bound - per_row), generator=gen)
        task_idx = torch.cat([task_idx, more], 1)
        steps = torch.cat([steps, _durations(coll, more, gen)], 1)
    lengths = steps.sum(-1)
    needed = torch.cumsum(lengths, 1) - lengths < seq_len  # (B, K): starts within the row
    per_row = int(needed.sum(1).max())
    task_idx, steps, needed = task_idx[:, :per_row], steps[:, :per_row], needed[:, :per_row]
    keep = flat_nonzero(needed.reshape(-1))
    tr = _draw_trials(coll, task_idx.reshape(-1)[keep],
                      steps.reshape(-1, len(PERIODS))[keep], gen)  # fmt: skip
    # a row's kept trials are its first ones (those starting before seq_len) and no step falls
    # in another: the kept trials are numbered as if each row had only those
    kept = needed.sum(1)
    seg, seg_start = _row_segments(steps, seq_len, kept)
    return tr, seg, seg_start, [0, *itertools.accumulate(kept.tolist())]


class StreamLoader:
    """Training batches by step: batch ``step`` is rows ``(step % chunk) * B ...`` of one
    :func:`stream_batch` of ``chunk * B`` rows drawn for steps ``step // chunk * chunk ...``.

    Drawing ``chunk`` batches at once amortises the fixed per-call cost over many steps: the
    trials of the whole chunk are drawn in one go; on a GPU (where the cost is kernel launches)
    the chunk is also rendered in one go, while on a CPU each batch is rendered when asked for
    (a chunk's inputs would not fit in the caches). Rows are independent, so each batch has the
    distribution of a lone :func:`stream_batch`. Batch ``step`` depends only on (``seed``,
    ``step``, ``chunk``): a resumed run sees the same data.
    """

    def __init__(
        self,
        collection: Collection | str | list[str],
        batch_size: int,
        seq_len: int,
        seed: int,
        device: torch.device | str = "cpu",
        chunk: int = 8,
        profile: str | None = None,
        dt: int | None = None,
    ) -> None:
        self.collection = get_collection(collection).with_timing(dt, profile)
        self.batch_size = check_int("batch_size", batch_size)
        self.seq_len = check_int("seq_len", seq_len)
        self.chunk = check_int("chunk", chunk)
        self.seed = check_seed("seed", seed)
        self.device = check_device(device)
        self._cached: tuple[int, _Stream | StreamBatch] | None = None

    def chunk_seed(self, index: int) -> int:
        """The seed of chunk ``index`` (independent streams for different ``seed``)."""
        return derive_seed(self.seed, index)

    def batch(self, step: int) -> StreamBatch:
        """The batch of training step ``step`` (>= 0)."""
        index, part = divmod(check_int("step", step, minimum=0), self.chunk)
        entry = self._cached  # read once: another thread may replace it meanwhile
        if entry is None or entry[0] != index:
            gen = _generator(self.chunk_seed(index), self.device)
            rows = self.batch_size * self.chunk
            drawn = _Stream.draw(self.collection, rows, self.seq_len, gen, noise=True)
            entry = (index, drawn if self.device.type == "cpu" else drawn.render())
            self._cached = entry
        rows = slice(part * self.batch_size, (part + 1) * self.batch_size)
        cached = entry[1]
        return cached.render(rows) if isinstance(cached, _Stream) else _rows(cached, rows)

    __getitem__ = batch

    def __iter__(self) -> Iterator[StreamBatch]:
        """The batches of steps 0, 1, 2, ... without end (``itertools.islice`` takes some):
        ``for batch in loader: model(batch.inputs)``."""
        return map(self.batch, itertools.count())


def _rows(batch: StreamBatch, rows: slice) -> StreamBatch:
    """The rows ``rows`` of a stream batch (views, no copy)."""
    steps = batch._steps
    return StreamBatch(batch.inputs[:, rows], batch.targets[:, rows], batch.collection, batch.dt,
                       _StepIndex(steps.trial_task, steps.trial_steps, steps.seg[:, rows],
                                  steps.seg_start[:, rows]))  # fmt: skip


__all__ = [
    "StreamBatch",
    "StreamLoader",
    "stream_batch",
]
