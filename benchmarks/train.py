"""Training speed: steps per second of a config, and the data pipeline's share of a step.

    python benchmarks/train.py                       # the demo config on this machine
    python benchmarks/train.py --preset paper-lm --device cuda --seeds 15

Times, in one run: the whole training step (stream batch + forward + backward + Adam + mask)
and the stream batch alone, over the same number of steps, and prints their ratio.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

from lmrnn.models import EnsembleRNN
from lmrnn.tasks import StreamLoader
from lmrnn.train import from_dict
from lmrnn.train.loop import cross_entropy_per_seed

PRESETS = {
    "demo": {"collection": "yang20", "n": 16, "d": 2.0, "batch_size": 4, "seq_len": 350},
    "paper-lm": {"collection": "modcog82", "n": 50, "d": 6.0, "batch_size": 4, "seq_len": 350},
}


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="demo", choices=sorted(PRESETS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--backend", default="auto")
    args = parser.parse_args()
    config = from_dict({**PRESETS[args.preset], "seeds": list(range(args.seeds)),
                        "device": args.device, "backend": args.backend})  # fmt: skip
    coll, dev = config.tasks(), args.device
    model = EnsembleRNN(config.model_config(), config.seeds).to(dev)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)

    loader = StreamLoader(coll, config.batch_size, config.seq_len, 0, dev, config.data_chunk)

    def batch(step: int):
        return loader.batch(step)

    def train_step(step: int) -> None:
        b = batch(step)
        logits, _ = model(b.inputs)
        loss = cross_entropy_per_seed(logits, b.targets).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        model.apply_mask_()

    for step in range(3):  # warm-up
        train_step(step)
    sync(dev)
    start = time.perf_counter()
    for step in range(args.steps):
        train_step(step)
    sync(dev)
    per_step = (time.perf_counter() - start) / args.steps
    start = time.perf_counter()
    for step in range(args.steps, 2 * args.steps):  # batches not drawn yet
        batch(step)
    sync(dev)
    per_batch = (time.perf_counter() - start) / args.steps
    name = torch.cuda.get_device_name() if dev.startswith("cuda") else platform.machine() + " CPU"
    print(f"{args.preset}: {config.graph} n={config.n} d={config.d} on {config.collection}, "
          f"batch {config.batch_size}x{config.seq_len}, {args.seeds} seeds, backend "
          f"{model.backend_for(dev)}, {name}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")  # fmt: skip
    print(f"  {1 / per_step:8.2f} steps/s   {per_step * 1e3:9.2f} ms/step   "
          f"{per_step * 1e3 / args.seeds:8.2f} ms per network per step")  # fmt: skip
    print(f"  data pipeline {per_batch * 1e3:.2f} ms/batch = {100 * per_batch / per_step:.1f}% "
          "of a step")  # fmt: skip


if __name__ == "__main__":
    main()
