"""Fixed points of a network's dynamics under a constant input (Sussillo & Barak 2013; Golub &
Sussillo 2018).

One step of the network is F(h) = φ(W h + W_in u + b_h). A fixed point h* = F(h*) is a zero of
the speed q(h) = |F(h) - h|² / 2. :func:`find_fixed_points` minimises q from many starting
states at once (K starts: Adam on one (K, N) tensor, each row with its own adaptive learning
rate), polishes the minima with damped Newton steps (h <- h - (J - I)⁻¹ (F(h) - h), kept only
where q falls), keeps those with q <= ``tol_q``, merges duplicates (points closer than
``tol_unique``, the one with the lowest q kept) and classifies each by the eigenvalues λ of the
Jacobian J = dF/dh there: ``stable`` (every |λ| < 1), ``marginal`` (none above 1, some at 1
within 1e-6: a line or ring of fixed points), ``saddle`` (some |λ| > 1) or ``unstable`` (every
|λ| > 1); ``n_unstable`` counts the modes with |λ| > 1.

:func:`fixed_points` does this for a trained network: for each task the constant input is its
rule and the fixation input (stimuli off, as in the fixation period), and the starts are hidden
states drawn from the network's own trials of that task (:func:`lmrnn.analysis.record`). All
tasks' starts are optimised together.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from lmrnn.analysis.activity import DEFAULT_ACTIVITY_TRIALS, Activity, record
from lmrnn.analysis.common import Source, resolve, select_tasks
from lmrnn.checks import check_int, check_seed
from lmrnn.errors import LmrnnError
from lmrnn.models import MaskedRNN
from lmrnn.models.activations import ACTIVATIONS
from lmrnn.seeds import derive_seed
from lmrnn.tasks import Collection

DEFAULT_TOL_Q = 1e-10  # the speed below which a minimum is a fixed point
DEFAULT_TOL_UNIQUE = 1e-3  # points closer than this (Euclidean) are one fixed point
DEFAULT_STARTS = 64  # starting states per input
DEFAULT_ITERATIONS = 1000
DEFAULT_LR = 0.05
RATE_CAP = 5.0  # a row's learning rate grows to at most this times lr
STALL = 0.1  # with polishing, Adam stops a row whose q fell < 10% in 100 iterations
POLISH_Q = 1e-2  # only minima with q below this are polished
MARGINAL = 1e-6  # |λ| within this of 1: a marginal mode
KINDS = ("stable", "marginal", "saddle", "unstable")

#: F(h) or F(h, context): a batch of states (K, N) -> the next states (K, N), row by row (row k
#: of the output depends on row k of the input and of the context only).
Step = Callable[..., torch.Tensor]


@dataclass(frozen=True)
class FixedPoints:
    """Fixed points found from K starting states, over one or more inputs (groups).

    Attributes:
        points: (P, N) float64 the fixed points h*.
        q: (P,) float64 their speed |F(h*) - h*|² / 2.
        group: (P,) int64 the input (group of starts) each belongs to.
        eigenvalues: (P, N) complex128 eigenvalues of the Jacobian dF/dh at each point,
            by decreasing modulus.
        n_unstable: (P,) int64 modes with |λ| > 1.
        kind: (P,) str ``stable``, ``marginal``, ``saddle`` or ``unstable`` (module doc).
        starts: (P,) int64 how many starts ended at each point.
        candidate_q: (K,) float64 the speed every start ended at (above ``tol_q``: slow points
            or no convergence).
        tol_q, tol_unique: the tolerances used.
        iterations: Adam iterations run; seconds: wall time of the search.
    """

    points: np.ndarray
    q: np.ndarray
    group: np.ndarray
    eigenvalues: np.ndarray
    n_unstable: np.ndarray
    kind: np.ndarray
    starts: np.ndarray
    candidate_q: np.ndarray
    tol_q: float
    tol_unique: float
    iterations: int
    seconds: float

    def __len__(self) -> int:
        return int(self.points.shape[0])

    @property
    def spectral_radius(self) -> np.ndarray:
        """(P,) the largest |λ| at each point."""
        return np.abs(self.eigenvalues[:, 0]) if len(self) else np.zeros(0)

    def select(self, group: int) -> FixedPoints:
        """The points of one group (input)."""
        rows = self.group == group
        return FixedPoints(
            self.points[rows], self.q[rows], self.group[rows], self.eigenvalues[rows],
            self.n_unstable[rows], self.kind[rows], self.starts[rows], self.candidate_q,
            self.tol_q, self.tol_unique, self.iterations, self.seconds,
        )  # fmt: skip

    def counts(self) -> dict[str, int]:
        """How many points of each kind."""
        return {k: int((self.kind == k).sum()) for k in KINDS}

    def to_dict(self, groups: Sequence[str] | None = None) -> dict[str, Any]:
        """For the JSON: every point with its speed, kind and leading eigenvalues."""
        names = list(groups) if groups is not None else None
        rows = []
        for i in range(len(self)):
            lead = self.eigenvalues[i, :5]
            rows.append({
                "group": names[self.group[i]] if names else int(self.group[i]),
                "q": float(self.q[i]),
                "kind": str(self.kind[i]),
                "n_unstable": int(self.n_unstable[i]),
                "spectral_radius": float(np.abs(lead[0])) if lead.size else 0.0,
                "leading_eigenvalues": [[float(z.real), float(z.imag)] for z in lead],
                "starts": int(self.starts[i]),
                "norm": float(np.linalg.norm(self.points[i])),
                "point": self.points[i],
            })  # fmt: skip
        return {"tol_q": self.tol_q, "tol_unique": self.tol_unique, "iterations":
                self.iterations, "seconds": self.seconds, "n_points": len(self),
                "counts": self.counts(), "n_candidates": int(self.candidate_q.size),
                "n_converged": int((self.candidate_q <= self.tol_q).sum()),
                "points": rows}  # fmt: skip


def _speed(step: Step, h: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
    """(K,) q(h) = |F(h) - h|² / 2 row by row."""
    r = (step(h) if context is None else step(h, context)) - h
    return 0.5 * (r * r).sum(-1)


def _check_start(initial: torch.Tensor | np.ndarray, groups, context) -> tuple:
    h = torch.as_tensor(initial)
    if h.dim() != 2 or h.shape[0] == 0 or not h.is_floating_point():
        raise LmrnnError(
            f"starting states must be a non-empty float (K, N) array, got shape "
            f"{tuple(h.shape)} of {h.dtype}."
        )
    if not bool(torch.isfinite(h).all()):
        raise LmrnnError("starting states must be finite.")
    k = h.shape[0]
    g = torch.zeros(k, dtype=torch.long) if groups is None else torch.as_tensor(groups).long()
    if tuple(g.shape) != (k,):
        raise LmrnnError(f"groups must have one entry per start, shape ({k},), got "
                         f"{tuple(g.shape)}.")  # fmt: skip
    if context is not None:
        context = torch.as_tensor(context)
        if context.shape[0] != k:
            raise LmrnnError(f"context must have one row per start ({k}), got "
                             f"{tuple(context.shape)}.")  # fmt: skip
    return h, g.cpu(), context


def check_tolerance(name: str, value: float) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not (ok and np.isfinite(value) and value > 0):
        raise LmrnnError(f"{name} must be a finite number > 0, got {value!r}.")
    return float(value)


def minimize_speed(
    step: Step,
    initial: torch.Tensor,
    context: torch.Tensor | None = None,
    iterations: int = DEFAULT_ITERATIONS,
    lr: float = DEFAULT_LR,
    stop_q: float = DEFAULT_TOL_Q * 1e-2,
    stall: float | None = None,
    progress: bool = False,
    groups: torch.Tensor | None = None,
    join: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Minimise q from every start: Adam on the (K, N) tensor of states, with one learning rate
    per row (halved when the row's q rose, raised by 5% when it fell, at most ``RATE_CAP``
    times ``lr``). A row stops once its q reached ``stop_q``, or (with ``stall``) when its best
    q fell by less than the fraction ``stall`` over the last 100 iterations (a slow point, or a
    minimum Newton steps finish faster); the rest go on for at most ``iterations`` steps.
    With ``join``, every 100 iterations a row closer than ``join`` to a row of the same group
    (``groups``) with a lower q stops and ends where that row ends (starts that fell into one
    basin are optimised once).

    Returns the best state of each row (K, N), its q (K,) and the iterations run.
    """
    beta1, beta2, eps = 0.9, 0.999, 1e-12
    top = lr * RATE_CAP
    best_h = initial.detach().clone()
    with torch.no_grad():
        best_q = _speed(step, best_h, context)
    rows = torch.arange(best_h.shape[0], device=best_h.device)
    h, c = best_h.clone(), context
    m, v = torch.zeros_like(h), torch.zeros_like(h)
    rate = torch.full((h.shape[0], 1), lr, dtype=h.dtype, device=h.device)
    last, checked = best_q.clone(), best_q.clone()
    follows = torch.arange(best_h.shape[0], device=best_h.device)  # the row each row ends as
    done_at = 0
    bar = tqdm(total=iterations, disable=not progress, unit="it", desc="fixed points",
               leave=False)  # fmt: skip
    for it in range(1, iterations + 1):
        done_at = it
        with torch.enable_grad():
            x = h.detach().requires_grad_(True)
            q = _speed(step, x, c)
            (grad,) = torch.autograd.grad(q.sum(), x)
        with torch.no_grad():
            better = q < best_q[rows]
            if bool(better.any()):
                idx = rows[better]
                best_q[idx] = q[better]
                best_h[idx] = x[better]
            rate = torch.where((q > last).unsqueeze(1), rate * 0.5, rate * 1.05).clamp(max=top)
            last = q
            m.mul_(beta1).add_(grad, alpha=1 - beta1)
            v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            h = h - rate * (m / (1 - beta1**it)) / ((v / (1 - beta2**it)).sqrt() + eps)
            if it % 25 == 0 or it == iterations:
                bar.update(it - bar.n)
                now = best_q[rows]
                keep = now > stop_q
                if stall is not None and it % 100 == 0:
                    keep &= now < (1 - stall) * checked
                    checked = now
                if join is not None and it % 100 == 0:
                    keep &= _join(best_h, best_q, rows, groups, join, follows)
                if not bool(keep.any()):
                    break
                if not bool(keep.all()):  # drop the rows that are done
                    rows, h, m, v, rate, last, checked = (
                        t[keep] for t in (rows, h, m, v, rate, last, checked)
                    )
                    c = c[keep] if c is not None else None
    bar.close()
    for _ in range(follows.numel()):  # chains of followed rows end at a row that went on
        nxt = follows[follows]
        if torch.equal(nxt, follows):
            break
        follows = nxt
    return best_h[follows], best_q[follows], done_at


def _join(
    best_h: torch.Tensor,
    best_q: torch.Tensor,
    rows: torch.Tensor,
    groups: torch.Tensor | None,
    distance: float,
    follows: torch.Tensor,
) -> torch.Tensor:
    """(len(rows),) bool: the active ``rows`` that go on; a row within ``distance`` of an active
    row of its group with a lower q (ties: the lower index) stops and follows it."""
    keep = torch.ones(rows.numel(), dtype=torch.bool, device=rows.device)
    g = groups[rows] if groups is not None else torch.zeros_like(rows)
    for value in torch.unique(g):
        local = torch.nonzero(g == value).squeeze(1)
        if local.numel() < 2:
            continue
        idx = rows[local]
        x, q = best_h[idx], best_q[idx]
        near = torch.cdist(x, x) <= distance
        order = torch.argsort(q, stable=True)
        rank = torch.empty_like(order)
        rank[order] = torch.arange(order.numel(), device=order.device)
        before = rank.unsqueeze(0) < rank.unsqueeze(1)  # [i, j]: j ranks before i
        leader = near & before
        has = leader.any(1)
        if bool(has.any()):
            first = torch.where(leader, rank.unsqueeze(0), order.numel()).argmin(1)
            follows[idx[has]] = idx[first[has]]
            keep[local[has]] = False
    return keep


def jacobians(step: Step, h: torch.Tensor, context: torch.Tensor | None = None,
              chunk: int = 64) -> torch.Tensor:  # fmt: skip
    """(K, N, N) the Jacobian dF/dh at every row of ``h`` (K, N): ``step.jacobian(h[, context])``
    if the step has one (:class:`NetworkStep`), else by autograd."""
    own = getattr(step, "jacobian", None)
    out = []
    for lo in range(0, h.shape[0], chunk):
        x = h[lo : lo + chunk].detach()
        c = context[lo : lo + chunk] if context is not None else None
        if own is not None:
            out.append(own(x) if c is None else own(x, c))
            continue

        def summed(y: torch.Tensor, c: torch.Tensor | None = c) -> torch.Tensor:
            return (step(y) if c is None else step(y, c)).sum(0)

        with torch.enable_grad():
            jac = torch.autograd.functional.jacobian(summed, x, vectorize=True)  # (N, k, N)
        out.append(jac.permute(1, 0, 2))
    if not out:
        return h.new_zeros(0, h.shape[1], h.shape[1])
    return torch.cat(out)


def _newton_step(a: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """-(A⁻¹ r) row by row for A (K, N, N), r (K, N); the pseudo-inverse where A is singular."""
    try:
        delta, info = torch.linalg.solve_ex(a, -r)
    except RuntimeError:  # torch's batched solve can refuse a batch with a singular matrix
        delta = torch.full_like(r, float("nan"))  # outright (seen on 2 threads): pinv for all
        info = torch.ones(r.shape[0], dtype=torch.int32, device=r.device)
    bad = (info != 0) | ~torch.isfinite(delta).all(1)
    if bool(bad.any()):
        delta[bad] = -(torch.linalg.pinv(a[bad]) @ r[bad].unsqueeze(-1)).squeeze(-1)
    return delta


@torch.no_grad()
def newton_polish(
    step: Step,
    h: torch.Tensor,
    context: torch.Tensor | None = None,
    iterations: int = 8,
    stop_q: float = 0.0,
    chunk: int = 64,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Damped Newton steps on F(h) - h = 0 from every row of ``h``: δ = -(J - I)⁻¹ (F(h) - h)
    (the pseudo-inverse where J - I is singular), the step halved until q falls (at most 5
    times). A row stops when its q is at most ``stop_q`` or no step lowered it. Returns the
    states and their q; ``chunk`` rows at a time."""
    h = h.clone()
    q = _speed(step, h, context)
    eye = torch.eye(h.shape[1], dtype=h.dtype, device=h.device)
    for lo in range(0, h.shape[0], chunk):
        moving = torch.arange(lo, min(lo + chunk, h.shape[0]), device=h.device)
        for _ in range(iterations):
            moving = moving[q[moving] > stop_q]
            if moving.numel() == 0:
                break
            x = h[moving]
            c = context[moving] if context is not None else None
            r = (step(x) if c is None else step(x, c)) - x
            delta = _newton_step(jacobians(step, x, c) - eye, r)
            improved = torch.zeros(moving.numel(), dtype=torch.bool, device=h.device)
            scale = 1.0
            for _ in range(6):
                trial = x + scale * delta
                qt = _speed(step, trial, c)
                take = (qt < q[moving]) & ~improved & torch.isfinite(qt)
                if bool(take.any()):
                    idx = moving[take]
                    h[idx], q[idx] = trial[take], qt[take]
                    improved |= take
                if bool(improved.all()):
                    break
                scale /= 2
            moving = moving[improved]
    return h, q


def merge(points: torch.Tensor, q: torch.Tensor, groups: torch.Tensor,
          tol_unique: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Greedy merge of near-duplicates within each group: in order of increasing q, a point is
    kept unless a kept point of its group lies within ``tol_unique``. Returns the kept row
    indices and, for every row, the kept row it went to."""
    order = torch.argsort(q, stable=True)
    owner = np.full(points.shape[0], -1, dtype=np.int64)
    kept: list[int] = []
    for g in torch.unique(groups).tolist():
        rows = order[groups[order] == g]
        dist = torch.cdist(points[rows], points[rows]).cpu().numpy()
        rows_np = rows.cpu().numpy()
        mine = np.zeros(rows_np.size, dtype=np.int64)
        n_mine = 0
        for i in range(rows_np.size):
            near = np.flatnonzero(dist[i, mine[:n_mine]] <= tol_unique)
            if near.size:
                owner[rows_np[i]] = rows_np[mine[near[0]]]
            else:
                mine[n_mine] = i
                n_mine += 1
                owner[rows_np[i]] = rows_np[i]
        kept += rows_np[mine[:n_mine]].tolist()
    return np.array(sorted(kept), dtype=np.int64), owner


def eigenvalues(jac: np.ndarray) -> np.ndarray:
    """(P, N) complex128 eigenvalues of each Jacobian (P, N, N), by decreasing modulus. A unit
    whose row is zero (a silent relu unit) adds an eigenvalue 0 and is left out of the
    eigenproblem (J is block-triangular then), which is much faster for relu networks."""
    out = np.zeros(jac.shape[:2], dtype=np.complex128)
    for i, j in enumerate(jac):
        live = np.flatnonzero(np.abs(j).sum(1) > 0)
        if live.size:
            out[i, : live.size] = np.linalg.eigvals(j[np.ix_(live, live)])
    return np.take_along_axis(out, np.argsort(-np.abs(out), 1, kind="stable"), 1)


def classify(eigenvalues: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P,) number of unstable modes (|λ| > 1 + 1e-6) and the kind of each point, from the
    eigenvalues (P, N)."""
    mod = np.abs(eigenvalues)
    n_unstable = (mod > 1 + MARGINAL).sum(1).astype(np.int64)
    marginal = (np.abs(mod - 1) <= MARGINAL).any(1)
    n = eigenvalues.shape[1]
    kind = np.where(n_unstable == 0, np.where(marginal, "marginal", "stable"),
                    np.where(n_unstable == n, "unstable", "saddle"))  # fmt: skip
    return n_unstable, kind.astype(str)


def find_fixed_points(
    step: Step,
    initial: torch.Tensor | np.ndarray,
    groups: torch.Tensor | np.ndarray | Sequence[int] | None = None,
    context: torch.Tensor | None = None,
    *,
    tol_q: float = DEFAULT_TOL_Q,
    tol_unique: float = DEFAULT_TOL_UNIQUE,
    iterations: int = DEFAULT_ITERATIONS,
    lr: float = DEFAULT_LR,
    polish: bool = True,
    search_dtype: torch.dtype | None = None,
    progress: bool = False,
) -> FixedPoints:
    """The fixed points of ``step`` reached from the starts ``initial`` (K, N).

    Args:
        step: F(h) -> next state, or F(h, context) when ``context`` is given; it takes a batch
            (K, N) and must act row by row (a batch of systems, one per row).
        initial: (K, N) starting states (float); polishing and the Jacobians run in their dtype.
        groups: (K,) which input each start belongs to; duplicates merge only within a group.
        context: (K, ...) per-row data for ``step`` (e.g. each row's constant input drive).
        tol_q: the largest speed q of a fixed point; tol_unique: the merge distance.
        iterations, lr: Adam's budget and initial learning rate (per row, adapted; at most
            ``RATE_CAP`` times ``lr``). Starts of a group that come within ``tol_unique / 10``
            of each other are optimised as one from then on.
        polish: refine the minima with damped Newton steps (exact fixed points of piecewise
            linear systems such as relu networks; quadratic convergence for smooth ones). Adam
            then stops a row once its q is below ``10 tol_q`` (else ``tol_q / 100``).
        search_dtype: the dtype of the Adam phase (float32 is about twice as fast on a CPU);
            default the starts' dtype. ``step`` must then take both.

    On a CPU the search runs on one torch thread (restored after): its tensors are small, and a
    second thread made it 3.5x slower on a quiet 2-core machine and 16x on a busy one
    (BENCHMARKS.md).
    """
    with _one_cpu_thread(initial):
        return _find_fixed_points(step, initial, groups, context, tol_q=tol_q,
                                  tol_unique=tol_unique, iterations=iterations, lr=lr,
                                  polish=polish, search_dtype=search_dtype,
                                  progress=progress)  # fmt: skip


@contextlib.contextmanager
def _one_cpu_thread(initial: torch.Tensor | np.ndarray) -> Iterator[None]:
    on_cpu = not (torch.is_tensor(initial) and initial.device.type != "cpu")
    before = torch.get_num_threads()
    if on_cpu:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if on_cpu:
            torch.set_num_threads(before)


def _find_fixed_points(step, initial, groups, context, *, tol_q, tol_unique, iterations, lr,
                       polish, search_dtype, progress) -> FixedPoints:  # fmt: skip
    tol_q, tol_unique = check_tolerance("tol_q", tol_q), check_tolerance("tol_unique", tol_unique)
    iterations = check_int("iterations", iterations, minimum=0)
    check_tolerance("lr", lr)
    h0, groups_t, context = _check_start(initial, groups, context)
    dtype = h0.dtype
    start = time.perf_counter()
    search = search_dtype or dtype
    ctx = context.to(search) if context is not None and context.is_floating_point() else context
    stop_q = tol_q * 10 if polish else tol_q * 1e-2
    h, q, done = minimize_speed(step, h0.to(search), ctx, iterations, lr, stop_q,
                                STALL if polish else None, progress, groups_t.to(h0.device),
                                tol_unique / 10)  # fmt: skip
    h = h.to(dtype)
    with torch.no_grad():
        q = _speed(step, h, context)
    owner = np.arange(h.shape[0])
    if polish:  # polish one representative of each cluster of near-duplicates
        kept, owner = merge(h, q, groups_t.to(h.device), tol_unique)
        sel = torch.as_tensor(kept, device=h.device)
        sel = sel[q[sel] <= POLISH_Q]  # slow points far from any fixed point are left
        hp, qp = newton_polish(step, h[sel], context[sel] if context is not None else None,
                               stop_q=tol_q * 1e-6)  # fmt: skip
        h, q = h.clone(), q.clone()
        h[sel], q[sel] = hp, qp
    candidate_q = q.double().cpu().numpy()[owner]
    ok = candidate_q <= tol_q
    reps = np.flatnonzero(ok & (owner == np.arange(owner.size)))
    if reps.size:  # merge again: polished points may coincide
        sel = torch.as_tensor(reps, device=h.device)
        kept_local, second = merge(h[sel], q[sel], groups_t[reps].to(h.device), tol_unique)
        final = reps[kept_local]
        remap = dict(zip(reps.tolist(), reps[second].tolist(), strict=True))
        owner = np.array([remap.get(int(o), -1) if ok[i] else -1 for i, o in enumerate(owner)])
    else:
        final = reps
    rows = torch.as_tensor(final, dtype=torch.long, device=h.device)
    ctx = context[rows] if context is not None else None
    eig = eigenvalues(jacobians(step, h[rows], ctx).double().cpu().numpy())
    n_unstable, kind = classify(eig)
    starts = np.array([(owner == k).sum() for k in final], dtype=np.int64)
    return FixedPoints(
        h[rows].double().cpu().numpy(), q[rows].double().cpu().numpy(),
        groups_t[final].numpy().astype(np.int64), eig.astype(np.complex128), n_unstable,
        kind, starts, candidate_q, tol_q, tol_unique, done, time.perf_counter() - start,
    )  # fmt: skip


class NetworkStep:
    """One step of a network under a constant drive, F(h, drive) = φ(h Wᵀ + drive), with
    drive = W_in u + b_h (:func:`input_drive`); in the dtype of h. Its :meth:`jacobian` is
    diag(φ'(pre)) W. Leaky units (alpha < 1) step F = (1 - alpha) h + alpha φ(...), with the
    same fixed points, Jacobian (1 - alpha) I + alpha diag(φ') W and speeds alpha² as large."""

    def __init__(self, net: MaskedRNN) -> None:
        self.activation = net.config.activation
        self.phi = ACTIVATIONS[self.activation]
        self.alpha = float(net.config.alpha)
        self._weight = net.recurrent_weight().detach()
        self._cast: dict[torch.dtype, torch.Tensor] = {}

    def weight(self, dtype: torch.dtype) -> torch.Tensor:
        if dtype not in self._cast:
            self._cast[dtype] = self._weight.to(dtype)
        return self._cast[dtype]

    def __call__(self, h: torch.Tensor, drive: torch.Tensor) -> torch.Tensor:
        new = self.phi(h @ self.weight(h.dtype).T + drive.to(h.dtype))
        return new if self.alpha == 1.0 else torch.lerp(h, new, self.alpha)

    def jacobian(self, h: torch.Tensor, drive: torch.Tensor) -> torch.Tensor:
        """(K, N, N) dF/dh at each row of h."""
        pre = h @ self.weight(h.dtype).T + drive.to(h.dtype)
        if self.activation == "relu":
            slope = (pre > 0).to(h.dtype)
        elif self.activation == "tanh":
            slope = 1 - torch.tanh(pre) ** 2
        else:
            slope = torch.sigmoid(pre)
        jac = slope.unsqueeze(-1) * self.weight(h.dtype)
        if self.alpha == 1.0:
            return jac
        eye = torch.eye(jac.shape[-1], dtype=jac.dtype, device=jac.device)
        return (1 - self.alpha) * eye + self.alpha * jac


def network_step(net: MaskedRNN) -> NetworkStep:
    """One step of ``net`` under a constant drive (see :class:`NetworkStep`)."""
    return NetworkStep(net)


def input_drive(net: MaskedRNN, inputs: torch.Tensor | np.ndarray,
                dtype: torch.dtype = torch.float64) -> torch.Tensor:  # fmt: skip
    """(R, N) W_in u + b_h for constant inputs ``inputs`` (R, n_in) (or one input (n_in,))."""
    u = torch.as_tensor(np.asarray(inputs, dtype=np.float64), device=net.weight_ih.device)
    u = u.unsqueeze(0) if u.dim() == 1 else u
    if u.dim() != 2 or u.shape[1] != net.config.n_in:
        raise LmrnnError(
            f"an input must have one value per network input ({net.config.n_in}), got shape "
            f"{tuple(u.shape[1:]) if u.dim() == 2 else tuple(u.shape)}."
        )
    return torch.nn.functional.linear(u.to(dtype), net.weight_ih.detach().to(dtype),
                                      net.bias_h.detach().to(dtype))  # fmt: skip


def rule_input(collection: Collection, task: str) -> np.ndarray:
    """(n_in,) float64 the constant input of ``task`` with the stimuli off: fixation 1, the
    task's rule unit 1, the rings 0 (the fixation period's input, without noise)."""
    u = np.zeros(collection.n_inputs)
    u[0] = 1.0
    u[1 + 2 * 16 + collection.index(task)] = 1.0
    return u


@dataclass(frozen=True)
class NetworkFixedPoints:
    """Fixed points of one network, one group per constant input.

    Attributes:
        names: the inputs' names (task names for rule inputs), in group order.
        inputs: (R, n_in) float64 the constant inputs.
        found: the fixed points (``found.group`` indexes ``names``).
        activity: the recorded trials whose hidden states gave the starts (and the PCA space of
            the figure).
        starts: starts per input.
    """

    names: tuple[str, ...]
    inputs: np.ndarray
    found: FixedPoints
    activity: Activity
    starts: int

    def to_dict(self) -> dict[str, Any]:
        per = {}
        for g, name in enumerate(self.names):
            sub = self.found.select(g)
            per[name] = {"n_points": len(sub), "counts": sub.counts(),
                         "n_unstable": sub.n_unstable}  # fmt: skip
        return {"names": list(self.names), "inputs": self.inputs, "starts_per_input": self.starts,
                "per_input": per, **self.found.to_dict(self.names)}  # fmt: skip


def _check_inputs(inputs: Mapping[str, Any], n_in: int) -> tuple[tuple[str, ...], np.ndarray]:
    if not isinstance(inputs, Mapping) or not inputs:
        raise LmrnnError("inputs must be a non-empty mapping of name -> constant input vector.")
    rows = []
    for name, u in inputs.items():
        u = np.asarray(u, dtype=np.float64)
        if u.shape != (n_in,) or not np.isfinite(u).all():
            raise LmrnnError(
                f"input {name!r} must be {n_in} finite values (the network's input width), "
                f"got shape {u.shape}."
            )
        rows.append(u)
    return tuple(map(str, inputs)), np.stack(rows)


def fixed_points(
    source: Source,
    tasks: str | Sequence[str] | None = None,
    inputs: Mapping[str, np.ndarray | Sequence[float]] | None = None,
    trials: int = DEFAULT_ACTIVITY_TRIALS,
    starts: int = DEFAULT_STARTS,
    seed: int = 0,
    seed_index: int = 0,
    collection: Collection | str | Sequence[str] | None = None,
    *,
    noise: float = 0.0,
    tol_q: float = DEFAULT_TOL_Q,
    tol_unique: float = DEFAULT_TOL_UNIQUE,
    iterations: int = DEFAULT_ITERATIONS,
    lr: float = DEFAULT_LR,
    activity: Activity | None = None,
    progress: bool = False,
) -> NetworkFixedPoints:
    """The fixed points of one network (a run folder or a network, as :func:`record` takes).

    By default one constant input per task of ``tasks`` (all: None): its rule and fixation
    inputs, stimuli off (:func:`rule_input`); the ``starts`` starting states of a task are
    hidden states drawn at random (seeded by ``seed``) from ``trials`` recorded trials of that
    task, plus Gaussian noise of std ``noise``. ``inputs`` (name -> (n_in,) vector) replaces the
    rule inputs; its starts are drawn from the trials of all ``tasks``. ``activity`` reuses a
    recording (from :func:`record` on the same network) instead of making one. The search is
    :func:`find_fixed_points` over all inputs' starts at once, in float64.
    """
    subject = resolve(source, collection, seed_index)
    coll, net = subject.collection, subject.net
    names = select_tasks(coll, tasks)
    check_int("trials", trials)
    check_seed("seed", seed)
    starts = check_int("starts", starts)
    if not (isinstance(noise, (int, float)) and np.isfinite(noise) and noise >= 0):
        raise LmrnnError(f"noise must be a finite number >= 0, got {noise!r}.")
    if inputs is None:
        groups, u = names, np.stack([rule_input(coll, t) for t in names])
    else:
        groups, u = _check_inputs(inputs, net.config.n_in)
    drive = input_drive(net, u)  # checks the width before the recording
    if activity is None:
        activity = record(net, names, trials, seed, collection=coll, progress=progress)
    elif activity.n_units != net.n_units or not set(names) <= set(activity.tasks):
        raise LmrnnError(
            "the activity given was not recorded from this network on these tasks; record it "
            "with lmrnn.analysis.record(...) on the same network and tasks."
        )
    rng = np.random.default_rng(derive_seed(seed, 7))
    pooled = np.concatenate([activity.states(t) for t in names])
    starts_list = []
    for g in range(len(groups)):
        pool = activity.states(groups[g]) if inputs is None else pooled
        pick = rng.choice(pool.shape[0], size=starts, replace=pool.shape[0] < starts)
        starts_list.append(pool[pick])
    h0 = torch.as_tensor(np.concatenate(starts_list), dtype=torch.float64)
    if noise > 0:
        h0 = h0 + noise * torch.as_tensor(rng.standard_normal(h0.shape))
    group = torch.arange(len(groups)).repeat_interleave(starts)
    found = find_fixed_points(network_step(net), h0.to(drive.device), group,
                              drive.index_select(0, group.to(drive.device)), tol_q=tol_q,
                              tol_unique=tol_unique, iterations=iterations, lr=lr,
                              search_dtype=torch.float32, progress=progress)  # fmt: skip
    return NetworkFixedPoints(tuple(groups), u, found, activity, starts)
