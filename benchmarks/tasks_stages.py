"""Where a stream batch's time goes: mean ms per call of each stage of `stream_batch`.

Wraps the internal stages of `lmrnn.tasks.stream` with timers (nested stages are counted in
their parents too) and draws `modcog82` stream batches of 64 x 350 steps.

    python benchmarks/tasks_stages.py [--calls 400] [--threads 1]
"""

from __future__ import annotations

import argparse
import collections
import platform
import time

import torch

from lmrnn.tasks import families, get_collection, render_cpu, stream

STAGES = {  # patched where stream_batch looks them up
    stream: ("_stream_trials_cpu", "_durations", "_draw_trials", "_locate", "_render",
            "InputNoise"),
    families: ("draw", "show"),
    render_cpu: ("locate", "noise_layout", "render"),
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    spent: collections.Counter[str] = collections.Counter()
    for module, names in STAGES.items():
        for name in names:
            setattr(module, name, _timed(getattr(module, name), name, spent))
    coll = get_collection("modcog82")
    for seed in range(20):
        stream.stream_batch(coll, 64, 350, seed)
    spent.clear()
    start = time.perf_counter()
    for seed in range(args.calls):
        stream.stream_batch(coll, 64, 350, seed)
    total = (time.perf_counter() - start) / args.calls
    cpu = platform.processor() or platform.machine()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thr, {cpu}")
    print(f"{'stream_batch (with timers)':28s} {total * 1e3:7.3f} ms")
    for name in (n for names in STAGES.values() for n in names):
        print(f"  {name:26s} {spent[name] / args.calls * 1e3:7.3f} ms")


def _timed(fn, name: str, spent: collections.Counter):
    def timed(*args, **kwargs):
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        spent[name] += time.perf_counter() - start
        return out

    return timed


if __name__ == "__main__":
    main()
