"""Stream-batch generation: lmrnn against neurogym's Dataset, in one run on one machine.

Prints the time per stream batch (batch 64 x 350 steps) of lmrnn's `modcog82` (one
`stream_batch` call, and `StreamLoader`, the training loop's path, also with the compiled CPU
kernels switched off: torch operations only) and of neurogym's `Dataset`
over `ScheduleEnvs` of its 20 yang19 tasks (neurogym has no Mod-Cog), and their ratios. The
CPU figures are measured in interleaved rounds (each contender timed for ~0.25 s per round),
so that a slow spell of a shared machine weighs on all of them alike: the times are medians
over rounds, the ratios medians (and ranges) of the per-round ratios. With --device cuda also
lmrnn on the GPU.

    python benchmarks/tasks.py [--seconds 10] [--device cuda] [--threads 1]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch

from lmrnn.tasks import StreamLoader, get_collection, render_cpu, stream_batch

YANG20 = get_collection("yang20").names


def time_per_call(fn, seconds: float, sync=lambda: None, multiple: int = 1) -> float:
    """Median over blocks of ~50 ms (a multiple of ``multiple`` calls each) of the mean time per
    call: a stall of the VM or of a thread pool spoils one block, not the figure."""
    fn()
    sync()
    start = time.perf_counter()
    fn()
    sync()
    per_block = max(1, int(0.05 / (time.perf_counter() - start)) // multiple) * multiple
    blocks: list[float] = []
    begin = time.perf_counter()
    while time.perf_counter() - begin < seconds or len(blocks) < 5:
        start = time.perf_counter()
        for _ in range(per_block):
            fn()
        sync()
        blocks.append((time.perf_counter() - start) / per_block)
    return statistics.median(blocks)


def interleaved(contenders: dict, seconds: float, block: float = 0.25) -> dict[str, list]:
    """Per contender ``name: (fn, multiple)``, the mean time per call in each of several
    rounds; a round times every contender in turn for ~``block`` seconds (a multiple of
    ``multiple`` calls, at least one)."""
    counts = {}
    for name, (fn, multiple) in contenders.items():
        for _ in range(multiple):
            fn()  # warm-up
        start = time.perf_counter()
        for _ in range(multiple):
            fn()
        per_call = (time.perf_counter() - start) / multiple
        counts[name] = max(1, int(block / per_call) // multiple) * multiple
    rounds: dict[str, list] = {name: [] for name in contenders}
    begin = time.perf_counter()
    while time.perf_counter() - begin < seconds or len(rounds[name]) < 5:
        for name, (fn, _) in contenders.items():
            start = time.perf_counter()
            for _ in range(counts[name]):
                fn()
            rounds[name].append((time.perf_counter() - start) / counts[name])
    return rounds


TORCH_PATH = "lmrnn    modcog82 StreamLoader, torch path (no numba)"


def _torch_path(fn):
    """``fn`` run with the compiled CPU kernels switched off: the render as before them."""

    def run():
        render_cpu.AVAILABLE = False
        try:
            return fn()
        finally:
            render_cpu.AVAILABLE = True

    return run


def neurogym_dataset(batch_size: int, seq_len: int):
    import neurogym as ngym
    from neurogym.envs.collections import yang19
    from neurogym.utils import scheduler
    from neurogym.wrappers.block import ScheduleEnvs

    envs = [getattr(yang19, name)() for name in YANG20]
    env = ScheduleEnvs(envs, scheduler.RandomSchedule(len(envs)), env_input=True)
    return ngym.Dataset(env, batch_size=batch_size, seq_len=seq_len)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seq-len", type=int, default=350)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--no-neurogym", action="store_true")
    parser.add_argument("--chunk", type=int, default=8, help="StreamLoader batches per draw")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    B, T = args.batch_size, args.seq_len
    cpu = platform.processor() or platform.machine()
    threads = torch.get_num_threads()
    print(f"python {platform.python_version()}, torch {torch.__version__}, {threads} thr, {cpu}")
    m82 = get_collection("modcog82")
    seed = iter(range(10**9))
    loader = StreamLoader(m82, B, T, 0, chunk=args.chunk)
    steps = iter(range(10**9))
    contenders = {
        f"lmrnn    modcog82 stream_batch {B}x{T}": (lambda: stream_batch(m82, B, T, next(seed)), 1),
        f"lmrnn    yang20   stream_batch {B}x{T}": (
            lambda: stream_batch("yang20", B, T, next(seed)), 1),
        f"lmrnn    modcog82 StreamLoader(chunk={args.chunk}), per batch":
            (lambda: loader.batch(next(steps)), args.chunk),
    }  # fmt: skip
    if render_cpu.AVAILABLE and not args.device.startswith("cuda"):
        torch_loader = StreamLoader(m82, B, T, 1, chunk=args.chunk)
        torch_steps = iter(range(10**9))
        contenders[TORCH_PATH] = (
            _torch_path(lambda: torch_loader.batch(next(torch_steps))), args.chunk)  # fmt: skip
    if not args.no_neurogym:
        contenders[f"neurogym yang19   Dataset {B}x{T}"] = (neurogym_dataset(B, T), 1)
    rounds = interleaved(contenders, args.seconds)
    for name, times in rounds.items():
        print(f"{name + ' (cpu):':58s} {statistics.median(times) * 1e3:8.2f} ms")
    if not args.no_neurogym:
        *ours, theirs = rounds.values()
        print(f"ratios neurogym / lmrnn over {len(theirs)} rounds: median (min-max)")
        for name, times in zip(list(rounds)[:-1], ours, strict=True):
            ratio = [t / o for t, o in zip(theirs, times, strict=True)]
            print(f"  {name.split(maxsplit=1)[1]:50s} {statistics.median(ratio):6.1f}x "
                  f"({min(ratio):.1f}-{max(ratio):.1f})")  # fmt: skip
    if TORCH_PATH in rounds:
        loader_name = next(name for name in rounds if "StreamLoader(" in name)
        ratio = [t / c for t, c in zip(rounds[TORCH_PATH], rounds[loader_name], strict=True)]
        print(f"StreamLoader, torch path / compiled: {statistics.median(ratio):.2f}x "
              f"({min(ratio):.2f}-{max(ratio):.2f})")  # fmt: skip
    if args.device.startswith("cuda"):
        sync = torch.cuda.synchronize
        gpu = time_per_call(lambda: stream_batch(m82, B, T, next(seed), args.device), 3, sync)
        name = torch.cuda.get_device_name()
        print(f"lmrnn    modcog82 stream batch {B}x{T} ({name}): {gpu * 1e3:8.3f} ms per call")
        for chunk in (8, 32):
            loader = StreamLoader(m82, B, T, 0, args.device, chunk=chunk)
            steps = iter(range(10**9))
            per = time_per_call(lambda lo=loader, st=steps: lo.batch(next(st)), 3, sync)
            print(f"lmrnn    modcog82 StreamLoader(chunk={chunk}) ({name}): {per * 1e3:8.3f} ms "
                  "per batch")  # fmt: skip


if __name__ == "__main__":
    main()
