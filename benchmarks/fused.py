"""The fused sparse kernel against the other back-ends on CUDA, in one run.

ms per training step (forward + backward of the recurrence with input and read-out layers,
cross-entropy at every step) per network, for LM-RNN(50x50, d=6) with 15 seeds, one network,
and dense RNN(676); plus the kernel's largest relative error against the dense reference.
``fused+graphs``: the fused back-end with LMRNN_FUSED_GRAPHS=1 (each pass replayed from a CUDA
graph); ``fused-bf16``: the weights read as bfloat16 (its accuracy cost printed first), also
for dense RNN(2500), the issue's memory-floor case. ``--sweep`` instead times ``fused+graphs``
at both shapes for each tile setting of :data:`SWEEP` (units and neighbours per tile, warps).

    python3 benchmarks/fused.py [--reps 3] [--seeds 15] [--sweep]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time

import torch
import torch.nn.functional as F

from lmrnn.models import EnsembleRNN, ModelConfig
from lmrnn.models.backends import fused

# the tile settings of --sweep: (BN, BK, num_warps)
SWEEP = [(32, 32, 4), (32, 32, 8), (32, 16, 4), (16, 32, 4), (64, 32, 8), (32, 64, 8),
         (64, 16, 4), (16, 16, 2)]  # fmt: skip
SHAPES = ((4, 350, 115), (64, 100, 53))  # batch, steps, inputs


def time_step(model, batch: int, steps: int, reps: int) -> float:
    gen = torch.Generator(device="cuda").manual_seed(0)
    u = torch.randn(steps, batch, model.config.n_in, device="cuda", generator=gen)
    y = torch.randint(0, 17, (steps, batch), device="cuda", generator=gen)

    def step() -> None:
        model.zero_grad(set_to_none=True)
        logits, _ = model(u)
        loss = F.cross_entropy(logits.reshape(-1, 17), y.repeat(logits.shape[0], 1, 1).reshape(-1))
        loss.backward()

    step()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2] * 1e3


@contextlib.contextmanager
def backend_of(name: str):
    """The back-end name to build with, and LMRNN_FUSED_GRAPHS set for ``fused+graphs``."""
    if name == "fused+graphs":
        os.environ["LMRNN_FUSED_GRAPHS"] = "1"
    try:
        yield name.split("+")[0]
    finally:
        os.environ.pop("LMRNN_FUSED_GRAPHS", None)


def max_rel_error(
    cfg: ModelConfig, seeds: list[int], batch: int, steps: int, backend: str = "fused"
) -> float:
    a = EnsembleRNN(cfg.replace(backend=backend), seeds).cuda()
    b = EnsembleRNN(cfg.replace(backend="dense"), seeds).cuda()
    u = torch.randn(steps, batch, cfg.n_in, device="cuda")
    worst = 0.0
    outs = []
    for m in (a, b):
        logits, _ = m(u)
        logits.square().mean().backward()
        outs.append([logits.detach()] + [p.grad for p in m.parameters()])
    for x, y in zip(*outs, strict=True):
        worst = max(worst, float((x - y).abs().max() / y.abs().max().clamp_min(1e-12)))
    return worst


def sweep(lm: ModelConfig, seeds: list[int], reps: int) -> None:
    """ms per network per step of ``fused+graphs`` for each tile setting, at both shapes."""
    print(f"## tile sweep, LM(50x50, d=6), {len(seeds)} seeds, fused+graphs; ms per network per "
          "step at " + " and ".join(f"{b} x {t}" for b, t, _ in SHAPES))  # fmt: skip
    with backend_of("fused+graphs") as backend:
        for bn, bk, warps in SWEEP:
            fused.TILES.update(BN=bn, BK=bk, num_warps=warps)
            per = []
            for batch, steps, n_in in SHAPES:
                model = EnsembleRNN(lm.replace(n_in=n_in, backend=backend), seeds).cuda()
                per.append(time_step(model, batch, steps, reps) / len(seeds))
            print(f"BN={bn:3d} BK={bk:3d} warps={warps}: " + "  ".join(f"{x:8.3f}" for x in per),
                  flush=True)  # fmt: skip
    fused.TILES.clear()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--seeds", type=int, default=15)
    p.add_argument("--sweep", action="store_true", help="time fused+graphs per tile setting")
    args = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}, float32")
    lm = ModelConfig(n=50, d=6, n_in=115, n_out=17)
    seeds = list(range(args.seeds))
    if args.sweep:
        sweep(lm, seeds, args.reps)
        return
    for name in ("fused", "fused-bf16"):
        err = max_rel_error(lm.replace(n_in=53), [0, 1], 4, 30, name)
        print(f"{name} vs dense, LM(50x50, d=6), 2 seeds, 4 x 30: max relative error {err:.2e}")
    dense2500 = ModelConfig(graph="dense", n_units=2500, n_in=53, n_out=17)
    err = max_rel_error(dense2500, [0], 4, 30, "fused-bf16")
    print(f"fused-bf16 vs dense, RNN(2500), 4 x 30: max relative error {err:.2e}")
    for batch, steps, n_in in SHAPES:
        print(f"\n## batch {batch} x {steps} steps, {n_in} inputs; ms per network per step")
        cfg = lm.replace(n_in=n_in)
        for name in ("fused", "fused+graphs", "fused-bf16", "banded", "batched"):
            with backend_of(name) as backend:
                model = EnsembleRNN(cfg.replace(backend=backend), seeds).cuda()
                ms = time_step(model, batch, steps, args.reps)
            per = ms / len(seeds)
            print(f"LM(50x50, d=6), {len(seeds)} seeds, {name:>12}: {per:8.3f}", flush=True)
        for name in ("fused", "fused+graphs", "dense", "cudnn"):
            with backend_of(name) as backend:
                model = EnsembleRNN(cfg.replace(backend=backend), [0]).cuda()
                ms = time_step(model, batch, steps, args.reps)
            print(f"LM(50x50, d=6), one network, {name:>12}: {ms:8.3f}", flush=True)
        dense676 = ModelConfig(graph="dense", n_units=676, n_in=n_in, n_out=17)
        for name in ("fused", "batched"):
            ms = time_step(EnsembleRNN(dense676.replace(backend=name), seeds).cuda(), batch,
                           steps, args.reps)  # fmt: skip
            print(
                f"RNN(676) dense, {len(seeds)} seeds, {name:>7}: {ms / len(seeds):8.3f}", flush=True
            )
        if batch == 4:
            dense2500 = ModelConfig(graph="dense", n_units=2500, n_in=n_in, n_out=17)
            for name in ("fused-bf16", "fused", "batched"):
                model = EnsembleRNN(dense2500.replace(backend=name), seeds).cuda()
                per = time_step(model, batch, steps, args.reps) / len(seeds)
                print(f"RNN(2500) dense, {len(seeds)} seeds, {name:>10}: {per:8.3f}", flush=True)


if __name__ == "__main__":
    main()
