"""The training loop, top to bottom: data, forward, loss, step, mask, evaluate, checkpoint.

All seeds of a run train together as one :class:`~lmrnn.models.EnsembleRNN`: the loss is the
sum of each seed's own mean cross-entropy, so each seed's gradient, Adam state and weights are
those it would have trained alone. Each seed draws its own stream of batches by default
(``data_streams=per_seed``: seed s sees what it would see trained alone, so the spread over
seeds includes the data's variance, as separate runs would); ``data_streams=shared`` gives every
seed the one stream of ``data_seed``.

A seed whose loss or weights stop being finite **diverges alone**: it is frozen at its last
weights with a finite training loss (one step back: the weights that gave the non-finite loss
are not kept) and the other seeds train on, exactly as they would have without it (their
gradients, clipping and Adam state never mix with its). The run records the step in
``metrics.csv`` (criterion ``diverged``) and ``summary.json``; the frozen seed is still
evaluated, so its curve shows where it stopped. A run stops with
:class:`~lmrnn.errors.TrainingDiverged` only when every seed has diverged.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from lmrnn.errors import DeadlineReached, LmrnnError, TrainingDiverged, check_output
from lmrnn.models import EnsembleRNN, clip_grad_norm_per_seed_
from lmrnn.seeds import derive_seed
from lmrnn.tasks import StreamLoader
from lmrnn.train import outputs
from lmrnn.train.checkpoint import load_checkpoint, run_lock, save_checkpoint
from lmrnn.train.config import ADDED_LATER, TrainConfig, resolve_device
from lmrnn.train.evaluate import Evaluation, evaluate
from lmrnn.train.memory import keep_freed_memory
from lmrnn.train.runs import RunFolder
from lmrnn.train.threads import ThreadGovernor
from lmrnn.train.trainable import Trainable

# Fields that may change when a run is resumed (how long and how it reports, not what it is).
RESUMABLE = ("steps", "eval_every", "checkpoint_every", "device", "tensorboard", "out")


def noise_seed(config: TrainConfig) -> int:
    """The seed of a run's recurrent noise, from its data seed and its seeds."""
    return derive_seed(config.data_seed, *config.seeds)


@dataclass
class RunResult:
    run_dir: Path
    model: EnsembleRNN
    final: Evaluation
    steps_per_second: float


def train(config: TrainConfig, resume: bool = False, progress: bool = True,
          deadline: float | None = None, restart: bool = False) -> RunResult:  # fmt: skip
    """Train every seed of ``config`` for ``config.steps`` steps; write the run folder.

    One process writes a run folder at a time (:func:`~lmrnn.train.checkpoint.run_lock`: a
    second writer fails at once, naming the first's pid). ``resume``: go on from the folder's
    checkpoint (a run killed before its first checkpoint starts afresh). ``restart``: delete
    the folder's checkpoint and outputs first (the way out of a damaged checkpoint).
    ``deadline`` (unix seconds): past it, the run writes a checkpoint at the next step and
    raises :class:`~lmrnn.errors.DeadlineReached`; resuming goes on from there, to the same
    weights as a straight run.

    Recurrent noise (``noise_std`` > 0) comes from torch's global generators, which a new run
    seeds from its data seed and seeds (:func:`noise_seed`) and a resumed run restores from its
    checkpoint.
    """
    run_dir = check_output(config.out, "run folder out", folder=True)
    resolve_device(config.device)
    if resume and restart:
        raise LmrnnError("--resume continues a run and --restart deletes it; give one of them.")
    with run_lock(run_dir):
        if restart:
            outputs.clear_run(run_dir)
        elif resume and not RunFolder(run_dir).checkpoint.exists():
            resume = False  # killed before its first checkpoint: nothing to resume, start afresh
        keep_freed_memory()  # a step's buffers reused, not faulted in again page by page
        governor = ThreadGovernor()  # the CPU's threads: one, or all when that is faster
        try:
            return _train_locked(config, run_dir, resume, progress, deadline, governor)
        finally:
            governor.restore()


def _train_locked(config: TrainConfig, run_dir: Path, resume: bool, progress: bool,
                  deadline: float | None, governor: ThreadGovernor) -> RunResult:  # fmt: skip
    device = resolve_device(config.device)
    if not device.startswith("cpu"):
        governor = ThreadGovernor(1)
    coll = config.tasks()
    _check_run_dir(run_dir, config, resume)
    if not resume:
        torch.manual_seed(noise_seed(config))
    model = EnsembleRNN(config.model_config(), config.seeds).to(device)
    trainable = Trainable(model)  # a sparse W as its non-zeros
    optimizer = torch.optim.Adam(trainable.tensors, lr=config.lr)
    step, rows = 0, []
    losses = torch.zeros(len(config.seeds), device=device)  # summed since the last evaluation
    n_losses = 0
    guard = DivergenceGuard(config.seeds, trainable.tensors)
    if resume:
        step, rows, losses, n_losses = _restore(run_dir, config, trainable, optimizer, device,
                                                guard)  # fmt: skip
    backend = model.backend_for(device)
    env = {**outputs.environment(device), "backend": backend}  # what backend=auto chose
    outputs.write_config(run_dir, config.to_dict(), env)
    writer = _tensorboard(run_dir) if config.tensorboard else None
    streams = [StreamLoader(coll, config.batch_size, config.seq_len, seed, device,
                            chunk=config.data_chunk) for seed in config.stream_seeds()]  # fmt: skip

    start_time, start_step = time.perf_counter(), step
    governor.start()
    perf = float("nan")  # the last evaluated mean performance, for the progress bar
    bar = tqdm(total=config.steps, initial=step, disable=not progress, unit="step",
               desc=f"train seeds {list(config.seeds)} ({device}, {backend})")  # fmt: skip
    while True:
        if step % config.eval_every == 0 or step == config.steps:
            result = evaluate(model, coll, config.eval_trials, config.eval_seed, config.seeds)
            rows += result.rows(step)
            if n_losses:
                mean_loss = (losses / n_losses).tolist()
                rows += [(step, s, "*", "loss", v)
                         for s, v in zip(config.seeds, mean_loss, strict=True)
                         if s not in guard.diverged]  # fmt: skip
                losses.zero_()
                n_losses = 0
            outputs.write_metrics(run_dir, rows)
            perf = float(result.mean().mean())
            bar.set_postfix(perf=f"{perf:.3f}", loss="-")
            if writer is not None:
                _log_tensorboard(writer, step, result, rows)
        if step == config.steps:
            break

        governor.before_step()
        began = time.perf_counter()
        inputs, targets = training_batch(streams, step)
        logits, _ = model(inputs)  # (S, T, B, 17)
        loss_per_seed = cross_entropy_per_seed(logits, targets)  # (S,)
        detached = loss_per_seed.detach()
        loss = torch.where(torch.isfinite(detached), loss_per_seed, 0.0).sum()
        if config.l1 > 0 and not model.config.frozen:
            loss = loss + config.l1 * model.recurrent_weight().abs().sum()
        guard.before_step()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        trainable.take_grads()
        if config.clip > 0:
            clip_grad_norm_per_seed_(trainable.tensors, config.clip)
        optimizer.step()
        trainable.constrain_()
        step += 1
        newly = guard.after_step(detached, step)
        trainable.write_back_()
        governor.after_step(time.perf_counter() - began)

        if len(guard.diverged) == len(config.seeds):
            raise TrainingDiverged(_diverged_message(run_dir, step, detached))
        for seed in newly:
            rows.append((step, seed, "*", "diverged", float(step)))
            tqdm.write(f"seed {seed} diverged at step {step} (its loss or a weight is not "
                       "finite): it is frozen at its last finite weights; the other seeds "
                       "train on.", file=sys.stderr)  # fmt: skip
        losses += torch.where(guard.alive, detached, 0.0)
        n_losses += 1
        bar.update(1)
        shown = float(detached[guard.alive].mean())
        bar.set_postfix(perf=f"{perf:.3f}", loss=f"{shown:.3f}", refresh=False)
        late = deadline is not None and time.time() >= deadline and step < config.steps
        if step % config.checkpoint_every == 0 or step == config.steps or late:
            save_checkpoint(run_dir, _state(config, model, optimizer, step, rows,
                                            (losses, n_losses), guard))  # fmt: skip
        if late:
            bar.close()
            kept = RunFolder(run_dir).checkpoint
            raise DeadlineReached(f"stopped at step {step} of {config.steps} (the deadline); "
                                  f"resume from {str(kept)!r}")  # fmt: skip
    bar.close()
    rate = (step - start_step) / max(time.perf_counter() - start_time, 1e-9)
    _finish(run_dir, config, model, result, rows, env, rate, guard.diverged)
    if writer is not None:
        writer.close()
    return RunResult(run_dir, model, result, rate)


def training_batch(streams: list[StreamLoader], step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Step ``step``'s batch: inputs (T, B, n_in) and targets (T, B) from one shared stream,
    or (S, T, B, n_in) and (S, T, B) with one stream per seed."""
    if len(streams) == 1:
        batch = streams[0].batch(step)
        return batch.inputs, batch.targets
    batches = [stream.batch(step) for stream in streams]
    return torch.stack([b.inputs for b in batches]), torch.stack([b.targets for b in batches])


class DivergenceGuard:
    """Freezes each seed whose training loss or weights stop being finite, alone.

    Call :meth:`before_step` before the optimizer's step and :meth:`after_step` after it.
    A seed whose loss at step k was not finite goes back to its weights before step k-1's
    update (the last ones with a finite loss); one whose weights became non-finite in the
    update goes back to its weights before it. A frozen seed is put back after every step
    (Adam's momentum would move it otherwise). Parameters are stacked: leading dimension S.
    """

    def __init__(self, seeds: tuple[int, ...], params: list[torch.Tensor]) -> None:
        self.seeds = tuple(seeds)
        self.params = params
        self.alive = torch.ones(len(self.seeds), dtype=torch.bool, device=params[0].device)
        self.diverged: dict[int, int] = {}  # seed -> the step it diverged at
        self.previous: list[torch.Tensor] | None = None  # the weights before the last update
        self._current: list[torch.Tensor] | None = None

    @torch.no_grad()
    def before_step(self) -> None:
        self._current = [p.detach().clone() for p in self.params]

    @torch.no_grad()
    def after_step(self, loss: torch.Tensor, step: int) -> list[int]:
        """Freeze the seeds that diverged at ``step`` (loss: (S,) the step's training loss);
        returns them."""
        current = self._current
        bad_loss = self.alive & ~torch.isfinite(loss)
        bad_weights = torch.zeros_like(self.alive)
        for p in self.params:
            bad_weights |= ~torch.isfinite(p.reshape(p.shape[0], -1)).all(1)
        bad_weights &= self.alive & ~bad_loss
        back_two = self.previous if self.previous is not None else current
        for p, now, before in zip(self.params, current, back_two, strict=True):
            p[~self.alive | bad_weights] = now[~self.alive | bad_weights]
            p[bad_loss] = before[bad_loss]
        newly = (bad_loss | bad_weights).nonzero().flatten().tolist()
        for i in newly:
            self.diverged[self.seeds[i]] = step
        self.alive &= ~(bad_loss | bad_weights)
        self.previous, self._current = current, None
        return [self.seeds[i] for i in newly]

    def state(self) -> dict:
        return {"diverged": {str(s): k for s, k in self.diverged.items()},
                "previous": self.previous}  # fmt: skip

    def load(self, state: dict) -> None:
        self.diverged = {int(s): int(k) for s, k in state.get("diverged", {}).items()}
        for i, seed in enumerate(self.seeds):
            self.alive[i] = seed not in self.diverged
        previous = state.get("previous")
        self.previous = None if previous is None else [t.to(self.alive.device) for t in previous]


def cross_entropy_per_seed(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over every step and row, per seed: logits (S, T, B, C), targets
    (T, B) shared by the seeds or (S, T, B) -> (S,)."""
    S, C = logits.shape[0], logits.shape[-1]
    expanded = targets.expand(S, *targets.shape[-2:]).reshape(-1)
    ce = F.cross_entropy(logits.reshape(-1, C), expanded, reduction="none")
    return ce.view(S, -1).mean(1)


def _state(config, model, optimizer, step, rows, since_eval, guard) -> dict:
    """What a checkpoint holds; ``since_eval``: the per-seed losses summed since the last
    evaluation and their count (the next evaluation's loss row needs them on resume);
    ``guard``: the diverged seeds and the weights a divergence would go back to."""
    state = {
        "step": step, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
        "rng_cpu": torch.get_rng_state(), "metrics": [list(r) for r in rows],
        "config": config.to_dict(), "losses": since_eval[0], "n_losses": since_eval[1],
        "guard": guard.state(),
    }  # fmt: skip
    if torch.cuda.is_available():
        state["rng_cuda"] = torch.cuda.get_rng_state_all()
    return state


def _restore(run_dir, config, trainable, optimizer, device, guard) -> tuple:
    """Load the checkpoint into the model, ``optimizer`` and ``guard`` (state saved in the dense
    form taken into ``trainable``'s); returns the step, the metric rows
    so far, and the losses summed since the last evaluation with their count."""
    state = load_checkpoint(run_dir, map_location=device)
    saved = state["config"]
    for key, value in config.to_dict().items():
        if key not in RESUMABLE and saved.get(key, ADDED_LATER.get(key)) != value:
            raise LmrnnError(
                f"cannot resume {str(run_dir)!r} with {key}={value!r}: the run was started with "
                f"{key}={saved.get(key)!r}; only {', '.join(RESUMABLE)} may change on resume."
            )
    if state["step"] > config.steps:
        raise LmrnnError(
            f"the checkpoint is at step {state['step']}, past steps={config.steps}; "
            "resume with steps at least that large."
        )
    trainable.model.load_state_dict(state["model"])
    trainable.read_model_()
    optimizer.load_state_dict(trainable.adopt_optimizer_state(state["optimizer"]))
    torch.set_rng_state(state["rng_cpu"].cpu())
    if "rng_cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["rng_cuda"]])
    guard_state = dict(state.get("guard", {}))
    if guard_state.get("previous") is not None:
        guard_state["previous"] = trainable.adopt(guard_state["previous"])
    guard.load(guard_state)
    rows = [tuple(r) for r in state["metrics"] if r[0] <= state["step"]]
    losses = state.get("losses", torch.zeros(len(config.seeds))).to(device)
    return state["step"], rows, losses, int(state.get("n_losses", 0))


def _check_run_dir(run_dir: Path, config: TrainConfig, resume: bool) -> None:
    if resume or not run_dir.exists():
        return
    if RunFolder(run_dir).holds_run():
        raise LmrnnError(
            f"{str(run_dir)!r} already holds a run; pass --resume to continue it, --restart to "
            "train it again from scratch, or choose another out= folder."
        )


def _diverged_message(run_dir: Path, step: int, loss: torch.Tensor) -> str:
    kept = RunFolder(run_dir).checkpoint
    where = "no checkpoint was written yet"
    if kept.exists():
        where = f"the last good checkpoint is kept in {str(kept)!r}"
    every = "every seed has" if loss.numel() > 1 else "it"
    return (
        f"training diverged at step {step}: {every} a loss or a weight that is not finite (the "
        f"loss per seed at this step: {loss.tolist()}); {where}; try a smaller lr, gain or "
        "gradient clipping (clip=1.0)."
    )


def _finish(run_dir, config, model, result, rows, env, rate, diverged) -> None:
    folder = RunFolder(run_dir)
    outputs.write_weights(run_dir, model, config.seeds)
    summary = summarise(config, model, result, rate)
    summary["diverged"] = {str(s): k for s, k in sorted(diverged.items())}
    outputs.write_json(folder.summary, {**summary, "environment": env})
    for i, seed in enumerate(config.seeds):
        per_task = {t: float(result.accuracy[i, j, 0]) for j, t in enumerate(result.tasks)}
        seed_summary = {"seed": seed, "performance": float(result.mean()[i]), "per_task": per_task,
                        "diverged_at_step": diverged.get(seed)}  # fmt: skip
        outputs.write_json(folder.seed_summary(seed), seed_summary)
    title = f"{config.graph} n={config.n} d={config.d} on {config.collection}"
    title += f", {len(config.seeds)} seeds"
    outputs.plot_curve(rows, folder.curve, title)


def summarise(config: TrainConfig, model: EnsembleRNN, result: Evaluation, rate: float) -> dict:
    """The final numbers of a run: performance per seed and across seeds, per task, counts."""
    perf = {}
    for crit in result.criteria:
        values = result.mean(crit).tolist()
        mean, sem = outputs.mean_sem(values)
        per_seed = dict(zip(map(str, result.seeds), values, strict=True))
        perf[crit] = {"mean": mean, "sem": sem, "per_seed": per_seed}
    c = result.criteria.index("decision")
    per_task = {}
    for j, task in enumerate(result.tasks):
        mean, sem = outputs.mean_sem(result.accuracy[:, j, c].tolist())
        per_task[task] = {"mean": mean, "sem": sem}
    threshold = config.l1_threshold if config.l1 > 0 else 0.0
    return {
        "steps": config.steps, "seeds": list(config.seeds), "performance": perf,
        "per_task": per_task, "nonzero": nonzero_counts(model, threshold),
        "steps_per_second": rate,
    }  # fmt: skip


@torch.no_grad()
def nonzero_counts(model: EnsembleRNN, threshold: float) -> dict:
    """Weights with |w| > threshold per seed: recurrent (on the graph), input, output, total
    (the threshold is for L1 networks, whose small weights count as zero; 0 for the others)."""
    rec = (model.recurrent_weight().abs() > threshold).flatten(1).sum(1)
    w_in = (model.weight_ih.abs() > threshold).flatten(1).sum(1)
    w_out = (model.weight_ho.abs() > threshold).flatten(1).sum(1)
    total = rec + w_in + w_out
    as_dict = lambda t: dict(zip(map(str, model.seeds), t.tolist(), strict=True))  # noqa: E731
    return {
        "threshold": threshold, "recurrent": as_dict(rec), "input": as_dict(w_in),
        "output": as_dict(w_out), "total": as_dict(total),
        "recurrent_mean": float(rec.float().mean()), "total_mean": float(total.float().mean()),
    }  # fmt: skip


def _tensorboard(run_dir: Path):
    from torch.utils.tensorboard import SummaryWriter  # the config checked it is installed

    return SummaryWriter(str(RunFolder(run_dir).tensorboard))


def _log_tensorboard(writer, step: int, result: Evaluation, rows) -> None:
    for seed, value in zip(result.seeds, result.mean().tolist(), strict=True):
        writer.add_scalar(f"performance/seed_{seed}", value, step)
    for r in rows:
        if r[0] == step and r[3] == "loss":
            writer.add_scalar(f"loss/seed_{r[1]}", r[4], step)
    if not math.isnan(float(result.mean().mean())):
        writer.add_scalar("performance/mean", float(result.mean().mean()), step)
