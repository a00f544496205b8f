"""Speed on a busy machine: a stream batch and a training step with another process keeping a
core busy, against the same on a quiet machine, in one run.

    python benchmarks/busy.py                      # LM(20x20, d=2) x 3 seeds, modcog82, 4 x 350
    python benchmarks/busy.py --quick              # smoke run: fewer steps
    python benchmarks/busy.py --network dense      # RNN(N=400) x 3 seeds (BLAS, OpenMP)
    python benchmarks/busy.py --env OMP_WAIT_POLICY=ACTIVE   # how it was before lmrnn set it

Each case runs in a fresh Python process (OpenMP reads its settings when torch loads), which
times ``--steps`` stream batches and training steps (batch, forward, backward, Adam, mask)
after warm-up, median over rounds, with the training loop's thread governor
(:mod:`lmrnn.train.threads`) or, "fixed", without it (as before it existed). The busy process
is a Python loop that this script starts and stops itself. The goal: busy at most 1.5x quiet
with one thread (one free core is all there is to have), and the quiet two-thread case no
slower than fixed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

CHILD = r"""
import json, statistics, sys, time
import lmrnn  # first, as `lmrnn train` does: its thread settings apply before torch loads
import torch
from lmrnn.models import EnsembleRNN
from lmrnn.tasks import StreamLoader
from lmrnn.train import from_dict
from lmrnn.train.loop import cross_entropy_per_seed, training_batch

from lmrnn.train.threads import ThreadGovernor

threads, steps, rounds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
governor = ThreadGovernor() if sys.argv[5] == "governed" else ThreadGovernor(most=1)
config = from_dict({"collection": "modcog82", "batch_size": 4, "seq_len": 350,
                    "device": "cpu", **json.loads(sys.argv[4])})
model = EnsembleRNN(config.model_config(), config.seeds)
params = [p for p in model.parameters() if p.requires_grad]
optimizer = torch.optim.Adam(params, lr=1e-3)
coll = config.tasks()
streams = [StreamLoader(coll, 4, 350, s, "cpu") for s in config.stream_seeds()]
step = 0

def train_step():
    global step
    governor.before_step()
    began = time.perf_counter()
    inputs, targets = training_batch(streams, step)
    logits, _ = model(inputs)
    loss = cross_entropy_per_seed(logits, targets).sum()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    model.apply_mask_()
    step += 1
    governor.after_step(time.perf_counter() - began)

def batch():
    global step
    streams[0].batch(step)
    step += 1

governor.start()
for _ in range(10):  # warm-up, and the governor's first probe
    train_step()
out = {"batch": [], "step": []}
for _ in range(rounds):
    for name, fn in (("batch", batch), ("step", train_step)):
        start = time.perf_counter()
        for _ in range(steps):
            fn()
        out[name].append((time.perf_counter() - start) / steps * 1e3)
print(json.dumps({k: statistics.median(v) for k, v in out.items()} | {
    "backend": model.backend_for("cpu"), "threads": governor.history}))
"""


NETWORKS = {
    "lm": ("LM(20x20, d=2) x 3 seeds", {"n": 20, "d": 2.0, "seeds": [0, 1, 2]}),
    "dense": ("RNN(N=400) x 3 seeds", {"graph": "dense", "n": None, "n_units": 400,
                                        "seeds": [0, 1, 2]}),
}  # fmt: skip


def measure(network: str, threads: int, steps: int, rounds: int, env: dict[str, str],
            governed: bool = True) -> dict:  # fmt: skip
    argv = [sys.executable, "-c", CHILD, str(threads), str(steps), str(rounds),
            json.dumps(NETWORKS[network][1]), "governed" if governed else "fixed"]  # fmt: skip
    result = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **env},
                            check=True)  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--network", choices=sorted(NETWORKS), default="lm")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment of the measured processes (repeatable)",
    )
    args = parser.parse_args()
    if args.quick:
        args.steps, args.rounds = 3, 1
    env = dict(item.split("=", 1) for item in args.env)
    for key in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT"):
        if key not in env:
            os.environ.pop(key, None)
    print(f"{platform.machine()} CPU, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}; "
          f"{NETWORKS[args.network][0]}, modcog82, batch 4 x 350; env "
          f"{env or 'as lmrnn sets it'}")  # fmt: skip
    run = lambda t, governed=True: measure(args.network, t, args.steps, args.rounds, env,  # noqa: E731
                                           governed)  # fmt: skip
    cases = {"quiet, 1 thread": run(1), "quiet, 2 threads, fixed": run(2, False),
             "quiet, 2 threads": run(2)}  # fmt: skip
    busy_proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        cases |= {"busy, 2 threads, fixed": run(2, False), "busy, 2 threads": run(2),
                  "busy, 1 thread": run(1)}  # fmt: skip
    finally:
        busy_proc.kill()
        busy_proc.wait()
    base = cases["quiet, 1 thread"]
    print(f"{'case':<24} {'batch ms':>9} {'step ms':>9} {'batch / quiet 1':>16} "
          f"{'step / quiet 1':>15}  threads chosen")  # fmt: skip
    for name, r in cases.items():
        print(f"{name:<24} {r['batch']:9.2f} {r['step']:9.1f} {r['batch'] / base['batch']:15.2f}x "
              f"{r['step'] / base['step']:14.2f}x  {r['threads'] or '-'}")  # fmt: skip
    print(f"back-end {base['backend']}; goal: busy at most 1.5x quiet on one thread")


if __name__ == "__main__":
    main()
