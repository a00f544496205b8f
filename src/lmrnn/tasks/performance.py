"""Accuracy of trials: did the network's argmax give the right answer?"""

from __future__ import annotations

import torch

from lmrnn.errors import LmrnnError, check_choice
from lmrnn.tasks.batch import TrialBatch

CRITERIA = ("decision", "last_step", "strict")


def performance(
    logits: torch.Tensor, batch: TrialBatch, criterion: str = "decision"
) -> torch.Tensor:
    """Per-trial correctness, a bool tensor of shape (..., B).

    Args:
        logits: (..., T, B, 17) network outputs for ``batch`` (leading dims, e.g. seeds, are
            kept); only the argmax matters.
        batch: the :class:`TrialBatch` the network was run on.
        criterion: ``"decision"`` (default): argmax equals the target at every step of the
            decision period; ``"last_step"``: at the trial's last step (neurogym's convention);
            ``"strict"``: ``decision`` and the argmax is 0 (fixate) at every step before it.
    """
    check_choice("criterion", criterion, CRITERIA)
    if not isinstance(batch, TrialBatch):
        raise LmrnnError(
            "performance needs a TrialBatch (trial mode, one trial per row), got "
            f"{type(batch).__name__}; use trial_batch(...) for evaluation."
        )
    T, B = batch.targets.shape
    if not torch.is_tensor(logits):
        raise LmrnnError(f"logits must be a torch tensor (..., {T}, {B}, 17), got "
                         f"{type(logits).__name__}.")  # fmt: skip
    n_out = batch.collection.n_outputs
    if logits.dim() < 3 or tuple(logits.shape[-3:]) != (T, B, n_out):
        raise LmrnnError(
            f"logits of shape {tuple(logits.shape)} do not fit the batch: expected (..., {T}, "
            f"{B}, {n_out})."
        )
    pred = logits.argmax(-1)  # (..., T, B)
    correct = pred == batch.targets
    if criterion == "last_step":
        last = (batch.length - 1).expand(*pred.shape[:-2], 1, B)
        return correct.gather(-2, last).squeeze(-2)
    t = torch.arange(T, device=pred.device).unsqueeze(1)
    in_decision = (t >= batch.decision_start) & batch.mask
    ok = (correct | ~in_decision).all(-2)
    if criterion == "strict":
        before = t < batch.decision_start
        ok &= ((pred == 0) | ~before).all(-2)
    return ok


def per_task(correct: torch.Tensor, batch: TrialBatch) -> dict[str, float]:
    """Mean of per-trial ``correct`` (..., B) by task name (averaged over leading dims too)."""
    flat = correct.float().reshape(-1, correct.shape[-1]).mean(0)
    out = {}
    for i in batch.task.unique().tolist():
        out[batch.collection.names[i]] = float(flat[batch.task == i].mean())
    return out
