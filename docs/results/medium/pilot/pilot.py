"""The medium scale's pilot: Mod-Cog, 10^4 steps of 4 x 350, one seed each, fair recipe."""
import sys
import time

from lmrnn.errors import DeadlineReached
from lmrnn.train import from_dict, train

deadline = time.time() + float(sys.argv[2])
nets = {"lm20d2": {"graph": "locality", "n": 20, "d": 2.0, "backend": "sparse"},
        "lm20d5": {"graph": "locality", "n": 20, "d": 5.0, "backend": "sparse"},
        "rnn400": {"graph": "dense", "n": None, "n_units": 400}}
for name in sys.argv[1].split(","):
    out = f"runs/pilot/{name}"
    config = from_dict({"collection": "modcog82", "steps": 10_000, "eval_every": 500,
                        "checkpoint_every": 500, "eval_trials": 32, "seeds": [0],
                        "device": "cpu", "out": out, **nets[name]})
    from pathlib import Path
    try:
        train(config, resume=(Path(out) / "checkpoint.pt").exists(), progress=False,
              deadline=deadline)
        print(name, "done", flush=True)
    except DeadlineReached as exc:
        print(name, exc, flush=True)
