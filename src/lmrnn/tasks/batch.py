"""Trial batches, and the trial pipeline that stream batches share, vectorised in torch on any
device.

One pipeline for both modes: draw each trial's task, durations and conditions
(:mod:`lmrnn.tasks.families`), lay the trials out in time (each step finds its (trial, period)
segment by a scatter-add and cumulative sum over the segments' ends) and draw the input noise;
then render: every step reads its inputs and target from per-segment tables. No Python loop
over trials or tasks, and no host synchronisation in stream mode on a GPU. Trial batches (one
trial per row) are made here; stream batches (back-to-back trials, :mod:`lmrnn.tasks.stream`)
use the same drawing, layout and render. On a CPU the per-step work (the layout, where the
noise goes, the render) runs as compiled loops (:mod:`lmrnn.tasks.render_cpu`) with the same
results bit for bit; trials are drawn in torch everywhere.
"""

from __future__ import annotations

import functools
import numbers
from dataclasses import dataclass, fields

import torch

from lmrnn.checks import check_device, check_int, check_seed
from lmrnn.errors import LmrnnError, check_choice
from lmrnn.tasks import families, render_cpu
from lmrnn.tasks.collection import INT_PARAMS, RING, Collection, get_collection
from lmrnn.tasks.noise import InputNoise
from lmrnn.tasks.timing import DECISION, DELAY, MS_PER_UNIT, PERIODS, STIM1, STIM2


@dataclass
class TrialBatch:
    """One trial per row, time-major, padded to the longest trial (or to ``seq_len``).

    Attributes (T steps of ``dt`` ms, B trials):
        inputs: (T, B, n_in) float32 = [fixation, ring 1 (16), ring 2 (16), rule one-hot].
        targets: (T, B) int64 labels, 0 = fixate, i + 1 = ring direction i; 0 on padding.
        mask: (T, B) bool, True on the trial's own steps.
        task: (B,) int64 rule index of each trial in ``collection``.
        period_starts: (B, 5) int64 first step of fixation, stim1, delay, stim2, decision
            (a period of length 0 starts where the next one does).
        length: (B,) int64 trial length in steps.
        stim_dir: (B, 2) int64 first and second stimulus directions (-1: none). go/anti: the
            stimulus; dm: θ1, θ2; match: sample, test.
        stim_strength: (B, 2, 2) float32 [stimulus, ring] strength of each stimulus on each ring.
        delay_ms: (B,) int64 duration of the delay period in ms.
        base_response: (B,) int64 the base task's label (0 = keep fixating).
        response: (B,) int64 the label after the Int displacement, at the first decision step.
        seq_sign: (B,) int64 +1/-1: the target drifts one unit per 100 ms during decision
            (Seq tasks); 0: it stays.
        collection: the collection the rule indices refer to; dt: ms per step.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    mask: torch.Tensor
    task: torch.Tensor
    period_starts: torch.Tensor
    length: torch.Tensor
    stim_dir: torch.Tensor
    stim_strength: torch.Tensor
    delay_ms: torch.Tensor
    base_response: torch.Tensor
    response: torch.Tensor
    seq_sign: torch.Tensor
    collection: Collection
    dt: int

    @property
    def decision_start(self) -> torch.Tensor:
        """(B,) first step of the decision period."""
        return self.period_starts[:, DECISION]

    @property
    def task_names(self) -> list[str]:
        return [self.collection.names[i] for i in self.task.tolist()]

    def to(self, device: torch.device | str) -> TrialBatch:
        return _to(self, device)


def _to(batch: TrialBatch, device: torch.device | str) -> TrialBatch:
    kwargs = {f.name: getattr(batch, f.name) for f in fields(batch)}
    moved = {k: v.to(device) if torch.is_tensor(v) else v for k, v in kwargs.items()}
    return type(batch)(**moved)


TIMINGS = ("random", "fixed")


def _generator(seed: int, device: torch.device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(check_seed("seed", seed))


def sample_durations(
    params: torch.Tensor, dt: int, gen: torch.Generator, fixed: bool = False
) -> torch.Tensor:
    """(..., 5) int64 period durations in steps, from per-trial duration parameters (..., 5, 4)
    ``(lo, span, step, count)`` in ms (see :meth:`Collection.tables`); ``fixed``: every period
    at the middle of its range (the draws are still made, so the conditions drawn after them
    are those of random timing).

    The one place where durations are floored to a multiple of ``dt``.
    """
    lo, span, step, count = params.unbind(-1)
    u = torch.rand(lo.shape, generator=gen, device=lo.device)
    if fixed:
        u = torch.full_like(u, 0.5)
    ms = lo + span * u + step * torch.floor(u * count)
    return torch.div(ms, dt, rounding_mode="floor").long()


@dataclass
class _Trials:
    """M trials drawn but not yet laid out in time."""

    task: torch.Tensor  # (M,)
    steps: torch.Tensor  # (M, 5) period durations in steps
    shown: families.Shown
    response: torch.Tensor  # (M,) label after Int
    seq_sign: torch.Tensor  # (M,)

    def part(self, lo: int, hi: int) -> _Trials:
        """Trials ``lo .. hi - 1`` (views)."""
        if lo == 0 and hi == len(self.task):
            return self
        shown = families.Shown(*(x[lo:hi] for x in self.shown))
        return _Trials(self.task[lo:hi], self.steps[lo:hi], shown, self.response[lo:hi],
                       self.seq_sign[lo:hi])  # fmt: skip


def _durations(
    coll: Collection, task: torch.Tensor, gen: torch.Generator, fixed: bool = False
) -> torch.Tensor:
    """(..., 5) period durations in steps of trials of the tasks ``task`` (...)."""
    params = families.lookup(coll.tables(task.device)["durations"], task)
    return sample_durations(params, coll.dt, gen, fixed)


def _in_units(steps: torch.Tensor, dt: int) -> torch.Tensor:
    """Whole units of 100 ms in ``steps`` steps of ``dt`` ms (Int and Seq move one ring unit
    per 100 ms); no division at dt = 100."""
    return steps if dt == MS_PER_UNIT else steps * dt // MS_PER_UNIT


def _shift_label(label: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Ring labels moved by ``shift`` units around the ring; 0 (fixate) stays 0."""
    return torch.where(label > 0, ((label - 1 + shift) & (RING - 1)) + 1, label)


def _draw_trials(
    coll: Collection, task: torch.Tensor, steps: torch.Tensor, gen: torch.Generator
) -> _Trials:
    """Draw the conditions of trials of tasks ``task`` (M,) with durations ``steps`` (M, 5)."""
    device = task.device
    tables = coll.tables(device)
    tab = dict(zip(INT_PARAMS, families.lookup(tables["ints"], task).unbind(1), strict=True))
    floats = families.lookup(tables["floats"], task)
    tab["weights"], tab["shown"] = floats[:, :2], floats[:, 2:]
    shown = families.show(families.draw(task.numel(), gen, device), tab)
    shift = tab["int_sign"] * _in_units(steps[:, DELAY], coll.dt)
    return _Trials(task, steps, shown, _shift_label(shown.response, shift), tab["seq_sign"])


def _segment_table(coll: Collection, tr: _Trials) -> torch.Tensor:
    """(M * 5, n_in) float32: the noise-free input during each period of each trial."""
    m = tr.task.numel()
    table = coll.period_inputs(tr.task.device).index_select(0, tr.task)  # (M, 5, n_in)
    patterns = tr.shown.patterns(families.bump_table(tr.task.device))  # (M, 3, 32)
    rings = slice(1, 1 + 2 * RING)
    table[:, STIM1, rings] = patterns[:, 0]
    table[:, STIM2, rings] = patterns[:, 1]
    table[:, DECISION, rings] = patterns[:, 2]
    return table.view(m * len(PERIODS), coll.n_inputs)


def _render(
    coll: Collection,
    tr: _Trials,
    seg: torch.Tensor,
    seg_start: torch.Tensor,
    noise: InputNoise | None,
    rows: slice = slice(None),
    compiled: bool | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Lay trials out in time: every per-step quantity is read from a per-segment table.

    Args:
        seg: (T, B) int64 index of the (trial, period) segment each step falls in
            (``trial * 5 + period``), contiguous.
        seg_start: (T, B) int64 the step at which that segment starts.
        noise: the input noise of a layout these B rows are the columns ``rows`` of.

    Returns inputs (T, B, n_in) and targets (T, B). On a CPU :func:`lmrnn.tasks.render_cpu.render`
    writes them, the same values in one compiled loop, unless ``compiled`` is False.
    """
    dev = seg.device
    period_inputs = coll.period_inputs(dev)
    if compiled is None:
        compiled = render_cpu.usable(dev) and (noise is None or noise.compiled)
        compiled &= period_inputs.dtype in (torch.float32, torch.float64)
    if compiled:
        patterns = tr.shown.patterns(families.bump_table(dev))
        eps = None
        if noise is not None:
            n_cols = noise.bits.shape[1]
            eps = (noise.slots, noise.eps, rows.indices(n_cols)[0], n_cols)
        per_trial = (tr.task, patterns, tr.response, tr.seq_sign)
        return render_cpu.render(
            period_inputs, *per_trial, seg, seg_start, eps, _target_table(dev), coll.dt
        )
    flat = seg.view(-1)
    inputs = _segment_table(coll, tr).index_select(0, flat)  # (T * B, n_in)
    if noise is not None:
        noise.add_to(inputs[:, 1 : 1 + 2 * RING], rows)
    # target = _target_table()[label, Seq sign, units into the period mod 16]: label = the
    # trial's response - 1 in its decision period, 16 (fixate) elsewhere
    label = torch.where(tr.response > 0, tr.response - 1, RING)
    row = torch.full((len(label), len(PERIODS)), RING * 3 * RING, device=seg.device)
    row[:, DECISION] = (label * 3 + tr.seq_sign + 1) * RING
    t = torch.arange(seg.shape[0], device=seg.device).unsqueeze(1)
    units = _in_units(t - seg_start, coll.dt) & (RING - 1)
    index = families.lookup(row.view(-1), seg) + units
    targets = _target_table(seg.device).index_select(0, index.view(-1)).view(seg.shape)
    return inputs.view(*seg.shape, coll.n_inputs), targets


@functools.cache
def _target_table(device: torch.device) -> torch.Tensor:
    """(17 * 3 * 16,) int64: entry ``(3a + s + 1) * 16 + k`` is the label ``a + 1`` moved ``s * k``
    units around the ring (a < 16, Seq sign s in -1, 0, 1), or 0 (a = 16: fixate)."""
    a = torch.arange(RING + 1).view(-1, 1, 1)
    s = torch.arange(-1, 2).view(1, -1, 1)
    k = torch.arange(RING).view(1, 1, -1)
    return torch.where(a < RING, (a + s * k) % RING + 1, 0).view(-1).to(device)


def _locate(
    lengths: torch.Tensor,
    steps: int,
    offset: torch.Tensor | None = None,
    compiled: bool | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Segment index and segment start of each step (on a CPU by
    :func:`lmrnn.tasks.render_cpu.locate`, unless ``compiled`` is False).

    Args:
        lengths: (B, S) int64 segment lengths per row, in order; steps: T.
        offset: (B,) added to each row's segment indices (default 0).
    Returns:
        seg: (T, B) index in 0..S-1 (S for steps past the row's end), plus the offset;
        start: (T, B).
    """
    if render_cpu.usable(lengths.device) if compiled is None else compiled:
        return render_cpu.locate(lengths, steps, offset)
    ends = torch.cumsum(lengths, 1).T  # (S, B)
    # the segment of step t is the number of segments ending at or before t
    ended = torch.zeros(steps + 1, lengths.shape[0], dtype=torch.long, device=lengths.device)
    ended.scatter_add_(0, ends.clamp(max=steps), torch.ones_like(ends))
    seg = torch.cumsum(ended[:steps], 0)
    starts = torch.cat([torch.zeros_like(ends[:1]), ends])  # (S + 1, B)
    seg_start = starts.gather(0, seg)
    return (seg, seg_start) if offset is None else (seg + offset, seg_start)


def _candidates(coll: Collection, task: str | int | list[str] | None) -> list[int]:
    """Rule indices a trial batch draws from: one task, a list (a set in rule order), or (None)
    the collection."""
    if torch.is_tensor(task):
        if task.dtype.is_floating_point or task.dtype.is_complex or task.dtype == torch.bool:
            raise LmrnnError(f"a tensor of tasks holds integer rule indices, got {task.dtype}.")
        return sorted({coll.index(int(i)) for i in task.unique().tolist()})
    if task is None:
        return list(range(coll.n_tasks))
    if isinstance(task, numbers.Integral) and not isinstance(task, bool):
        return [coll.index(int(task))]
    if isinstance(task, str):
        return [coll.index(task)]
    if not isinstance(task, list | tuple | set | frozenset):
        raise LmrnnError(
            f"task must be a name, a rule index, a list of them, None (every task) or a tensor "
            f"of rule indices, got {task!r}."
        )
    idx = [coll.index(int(t) if isinstance(t, numbers.Integral) else t) for t in task]
    if isinstance(task, set | frozenset):  # no order of its own: rule order, for reproducibility
        idx.sort()
    if not idx:
        raise LmrnnError("the list of tasks is empty; give at least one task name or None.")
    return idx


def trial_batch(
    collection: Collection | str | list[str],
    task: str | int | list[str] | torch.Tensor | None,
    batch_size: int,
    seed: int,
    device: torch.device | str = "cpu",
    profile: str | None = None,
    dt: int | None = None,
    seq_len: int | None = None,
    noise: bool = True,
    timing: str = "random",
) -> TrialBatch:
    """``batch_size`` independent trials, one per row, of ``task`` (a name or rule index), of
    tasks drawn uniformly from a list of names, or (``task=None``) from the whole collection;
    or, given a (batch_size,) tensor of rule indices, of exactly those tasks row by row.

    Rows are padded to the longest trial drawn, or to ``seq_len`` steps when given (which must
    fit the longest possible trial). ``noise=False`` leaves out the input noise and
    ``timing="fixed"`` puts every period at the middle of its range, so that the trials of a
    task differ only in their conditions (analyses; Yang et al.'s test trials). The same seed
    gives the same batch on the same device.
    """
    coll = get_collection(collection).with_timing(dt, profile)
    check_choice("timing", timing, TIMINGS)
    batch_size = check_int("batch_size", batch_size)
    dev = check_device(device)
    gen = _generator(seed, dev)
    candidates = _candidates(coll, task)
    if seq_len is not None:
        seq_len = check_int("seq_len", seq_len)
        longest = max(coll.length_range(i)[1] for i in candidates)
        if seq_len < longest:
            raise LmrnnError(
                f"seq_len={seq_len} is shorter than the longest possible trial of the tasks "
                f"asked for ({longest} steps of {coll.dt} ms); use seq_len >= {longest} or leave "
                "it out to pad to the longest trial drawn."
            )
    if torch.is_tensor(task):
        if task.shape != (batch_size,):
            raise LmrnnError(
                f"a tensor of tasks needs one rule index per row, shape ({batch_size},), got "
                f"{tuple(task.shape)}."
            )
        task_idx = task.to(dev, torch.long)
    else:
        pick = torch.randint(len(candidates), (batch_size,), generator=gen, device=dev)
        task_idx = torch.tensor(candidates, device=dev)[pick]
    steps = _durations(coll, task_idx, gen, fixed=timing == "fixed")
    tr = _draw_trials(coll, task_idx, steps, gen)
    length = tr.steps.sum(1)
    T = seq_len if seq_len is not None else int(length.max())
    seg, seg_start = _locate(tr.steps, T)
    mask = seg < len(PERIODS)
    seg = seg.clamp(max=len(PERIODS) - 1) + len(PERIODS) * torch.arange(batch_size, device=dev)
    eps = InputNoise(tr.shown.noisy, seg, coll.dt, gen) if noise else None
    inputs, targets = _render(coll, tr, seg, seg_start, eps)
    inputs *= mask.unsqueeze(-1)
    targets *= mask
    starts = torch.cumsum(tr.steps, 1) - tr.steps
    return TrialBatch(
        inputs=inputs, targets=targets, mask=mask, task=task_idx, period_starts=starts,
        length=length, stim_dir=tr.shown.stim_dir, stim_strength=tr.shown.strength,
        delay_ms=tr.steps[:, DELAY] * coll.dt, base_response=tr.shown.response,
        response=tr.response, seq_sign=tr.seq_sign, collection=coll, dt=coll.dt,
    )  # fmt: skip


__all__ = [
    "PERIODS",
    "TrialBatch",
    "sample_durations",
    "trial_batch",
]
