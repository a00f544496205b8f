"""The task battery: Yang et al. 2019's 20 cognitive tasks and the Mod-Cog extensions.

Public API::

    coll = get_collection("modcog82")          # or yang20, modcog126, or a list of names
    batch = trial_batch(coll, "dlygo_intl", batch_size=64, seed=0)   # one trial per row
    stream = stream_batch(coll, batch_size=4, seq_len=350, seed=0)   # back-to-back trials
    correct = performance(logits, batch, criterion="decision")       # (B,) bool

Everything is time-major: inputs (T, B, n_inputs) float32, targets (T, B) int64.
"""

from lmrnn.tasks.batch import PERIODS, TrialBatch, trial_batch
from lmrnn.tasks.collection import N_OUTPUTS, RING, Collection, get_collection
from lmrnn.tasks.gym import TaskEnv, register_all
from lmrnn.tasks.performance import CRITERIA, per_task, performance
from lmrnn.tasks.registry import (
    BASE_TASKS,
    COLLECTIONS,
    DELAY_TASKS,
    BaseTask,
    TaskSpec,
    canonical_name,
    parse_task,
    register_task,
)
from lmrnn.tasks.stream import StreamBatch, StreamLoader, stream_batch

__all__ = [
    "BASE_TASKS",
    "COLLECTIONS",
    "CRITERIA",
    "DELAY_TASKS",
    "N_OUTPUTS",
    "PERIODS",
    "RING",
    "BaseTask",
    "Collection",
    "StreamBatch",
    "StreamLoader",
    "TaskEnv",
    "TaskSpec",
    "TrialBatch",
    "canonical_name",
    "get_collection",
    "parse_task",
    "per_task",
    "performance",
    "register_all",
    "register_task",
    "stream_batch",
    "trial_batch",
]

register_all()  # gymnasium.make("lmrnn/<task>-v0") works once lmrnn.tasks is imported
