"""Recurrence back-ends against the dense reference: milliseconds per training step.

A training step here is forward + backward (gradients zeroed first, no optimizer step) of a
MaskedRNN with n_in = 53, n_out = 17 and cross-entropy at every step, on batch 64 x 100 steps.
Each figure is the median of --reps timed steps after one warm-up step, and every ratio is
taken against ``dense`` measured in the same run, on the same (n, d).

    python benchmarks/recurrence.py                 # CPU: n in {20, 50}, d in {0, 2, 6, 10}
    python benchmarks/recurrence.py --quick         # smoke run, seconds
    python benchmarks/recurrence.py --device cuda   # the grid on the GPU, then the GPU checks:
        one LM-RNN(50x50, d=6): per-step dense loop vs cudnn (float32, and TF32 for cudnn)
        a 15-seed ensemble of it: ms per network per step,
        both at batch 64 x 100 steps (53 inputs) and batch 4 x 350 steps (115 inputs)
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from lmrnn.errors import LmrnnError
from lmrnn.graphs import locality_degree
from lmrnn.graphs.checks import check_no_wrap
from lmrnn.models import EnsembleRNN, MaskedRNN, ModelConfig


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_step(model: torch.nn.Module, batch: int, steps: int, reps: int) -> float:
    """Median milliseconds of forward + backward over ``reps`` steps (after one warm-up)."""
    device = model.weight_ih.device
    n_in, n_out = model.config.n_in, model.config.n_out
    gen = torch.Generator(device=device).manual_seed(0)
    u = torch.randn(steps, batch, n_in, device=device, generator=gen)
    targets = torch.randint(0, n_out, (steps, batch), device=device, generator=gen)

    def step() -> None:
        model.zero_grad(set_to_none=True)
        logits, _ = model(u)
        # sum over seeds of each seed's mean loss (one network: the plain mean)
        flat = logits.reshape(-1, steps * batch, n_out)
        sum(F.cross_entropy(x, targets.reshape(-1)) for x in flat).backward()

    times = []
    for i in range(reps + 1):
        _sync(device)
        t0 = time.perf_counter()
        step()
        _sync(device)
        if i:
            times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


def grid(args: argparse.Namespace, device: torch.device, backends: list[str]) -> None:
    print(f"\n## back-ends vs dense, batch {args.batch} x {args.steps} steps, {device}")
    print(
        f"{'n':>3} {'N':>5} {'d':>3} {'K':>4} {'backend':>8} {'auto':>5} "
        f"{'ms/step':>9} {'vs dense':>9}"
    )
    for n in args.n:
        for d in args.d:
            try:
                check_no_wrap(n, d)
            except LmrnnError:  # the disc would wrap the torus onto itself: not a lattice mask
                print(f"{n:>3} {n * n:>5} {d:>3}  skipped: radius {d} wraps the {n}x{n} lattice")
                continue
            cfg = ModelConfig(n=n, d=d, n_in=53, n_out=17, backend="dense")
            auto = MaskedRNN(cfg.replace(backend="auto")).backend_for(device)
            base = None
            for name in backends:
                model = MaskedRNN(cfg.replace(backend=name)).to(device)
                ms = time_step(model, args.batch, args.steps, args.reps)
                base = ms if name == "dense" else base
                mark = "*" if name == auto else ""
                print(
                    f"{n:>3} {n * n:>5} {d:>3} {locality_degree(d, n):>4} {name:>8} "
                    f"{mark:>5} {ms:>9.1f} {base / ms:>8.2f}x",
                    flush=True,
                )


def cuda_checks(args: argparse.Namespace, device: torch.device) -> None:
    shapes = [(64, 100, 53), (4, 350, 115)] if not args.quick else [(4, 20, 115)]
    n = 50 if not args.quick else 13
    for batch, steps, n_in in shapes:
        print(f"\n## LM-RNN({n}x{n}, d=6), batch {batch} x {steps} steps, {n_in} inputs")
        cfg = ModelConfig(n=n, d=6, n_in=n_in, n_out=17)
        dense_ms = time_step(
            MaskedRNN(cfg.replace(backend="dense")).to(device), batch, steps, args.reps
        )
        print(f"one network, per-step dense loop (fp32):   {dense_ms:8.2f} ms")
        for tf32 in (False, True):
            torch.backends.cudnn.allow_tf32 = tf32
            ms = time_step(
                MaskedRNN(cfg.replace(backend="cudnn")).to(device), batch, steps, args.reps
            )
            print(
                f"one network, cudnn ({'tf32' if tf32 else 'fp32'}):               {ms:8.2f} ms  "
                f"{dense_ms / ms:5.2f}x faster than dense"
            )
        torch.backends.cudnn.allow_tf32 = False
        for name in ("batched", "banded"):
            ms = time_step(MaskedRNN(cfg.replace(backend=name)).to(device), batch, steps, args.reps)
            print(f"one network, {name:>7} (fp32):          {ms:8.2f} ms  "
                  f"{dense_ms / ms:5.2f}x faster than dense")  # fmt: skip
        seeds = list(range(args.seeds))
        for name, tf32 in (
            ("batched", False),
            ("batched", True),
            ("dense", False),
            ("banded", False),
        ):
            torch.backends.cuda.matmul.allow_tf32 = tf32
            ens = EnsembleRNN(cfg.replace(backend=name), seeds).to(device)
            ms = time_step(ens, batch, steps, args.reps)
            print(
                f"{len(seeds)}-seed ensemble, {name:>7} ({'tf32' if tf32 else 'fp32'}): "
                f"{ms:8.2f} ms per step, {ms / len(seeds):6.2f} ms per network per step",
                flush=True,
            )
            del ens
        torch.backends.cuda.matmul.allow_tf32 = False


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--n", type=int, nargs="+", default=[20, 50])
    p.add_argument("--d", type=int, nargs="+", default=[0, 2, 6, 10])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--seeds", type=int, default=15)
    p.add_argument("--quick", action="store_true", help="n = 13, 20 steps, 1 rep: a smoke run")
    p.add_argument("--no-grid", action="store_true", help="only the GPU checks (with cuda)")
    args = p.parse_args()
    if args.quick:
        args.n, args.steps, args.reps, args.seeds = [13], 20, 1, 3
    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"torch {torch.__version__}, {name}, {torch.get_num_threads()} CPU threads; float32")
    backends = ["dense", "batched", "banded"] + (["cudnn"] if device.type == "cuda" else [])
    if not args.no_grid:
        grid(args, device, backends)
    if device.type == "cuda":
        cuda_checks(args, device)


if __name__ == "__main__":
    main()
