"""Training: multitask training of many seeds at once, evaluation, checkpoints, run folders.

from lmrnn.train import load_config, train
result = train(load_config("my.yaml", ["d=2", "seeds=[0,1,2]"]))
"""

from lmrnn.train.config import DEFAULTS, TrainConfig, from_dict, load_config, parse_overrides
from lmrnn.train.evaluate import Evaluation, evaluate
from lmrnn.train.loop import RunResult, TrainingDiverged, nonzero_counts, train
from lmrnn.train.runs import RunFolder, load_run, outputs_for_batch, seed_position

__all__ = [
    "DEFAULTS",
    "Evaluation",
    "RunFolder",
    "RunResult",
    "TrainConfig",
    "TrainingDiverged",
    "evaluate",
    "from_dict",
    "load_config",
    "load_run",
    "nonzero_counts",
    "outputs_for_batch",
    "parse_overrides",
    "seed_position",
    "train",
]
