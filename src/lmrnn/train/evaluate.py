"""Evaluation on held-out trials of every task: per seed, per task, per accuracy criterion."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lmrnn.tasks import CRITERIA, Collection, performance, trial_batch

MAX_ROWS = 1024  # trials per forward pass (bounds memory at large N)


@dataclass
class Evaluation:
    """Accuracy of S seeds on every task of a collection.

    Attributes:
        accuracy: (S, n_tasks, n_criteria) float, fraction of correct trials.
        tasks: task names (rule order); criteria: criterion names; seeds: the seeds.
    """

    accuracy: torch.Tensor
    tasks: tuple[str, ...]
    criteria: tuple[str, ...]
    seeds: tuple[int, ...]

    def mean(self, criterion: str = "decision") -> torch.Tensor:
        """(S,) performance of each seed: the mean over tasks."""
        return self.accuracy[:, :, self.criteria.index(criterion)].mean(1)

    def rows(self, step: int) -> list[tuple[int, int, str, str, float]]:
        """(step, seed, task, criterion, value) rows, with task "mean" for the task average."""
        out = []
        for s, seed in enumerate(self.seeds):
            for c, crit in enumerate(self.criteria):
                for t, task in enumerate(self.tasks):
                    out.append((step, seed, task, crit, float(self.accuracy[s, t, c])))
                out.append((step, seed, "mean", crit, float(self.accuracy[s, :, c].mean())))
        return out


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    collection: Collection,
    trials: int,
    seed: int,
    seeds: tuple[int, ...],
    criteria: tuple[str, ...] = CRITERIA,
) -> Evaluation:
    """Run ``model`` (an :class:`~lmrnn.models.EnsembleRNN`) on ``trials`` noise-on trials of
    each task, drawn with fixed seeds (``seed`` + chunk), and score them.

    The model is put in eval mode (no recurrent noise) and restored afterwards.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    n_tasks = collection.n_tasks
    correct = torch.zeros(len(seeds), n_tasks, len(criteria), device=device)
    per_chunk = max(1, MAX_ROWS // trials)
    for chunk, first in enumerate(range(0, n_tasks, per_chunk)):
        tasks = torch.arange(first, min(first + per_chunk, n_tasks), device=device)
        rows = tasks.repeat_interleave(trials)
        batch = trial_batch(collection, rows, rows.numel(), seed + chunk, device=device)
        logits, _ = model(batch.inputs)  # (S, T, B, 17)
        for c, crit in enumerate(criteria):
            ok = performance(logits, batch, crit).float()  # (S, B)
            correct[:, tasks, c] = ok.view(len(seeds), len(tasks), trials).mean(-1)
    model.train(was_training)
    return Evaluation(correct.cpu(), collection.names, tuple(criteria), tuple(seeds))
