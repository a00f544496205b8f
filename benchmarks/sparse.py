"""The ``sparse`` back-end against the others on the CPU: milliseconds per training step.

A training step here is forward + backward (gradients zeroed first, no optimizer step) of an
ensemble of S LM-RNNs with 115 inputs and 17 outputs (Mod-Cog 82) and cross-entropy at every
step, at batch 4 x 350 steps (the training batch). Back-ends are timed in interleaved rounds
(each round times every back-end once, in a rotating order, after one warm-up step each, so
that a busy machine slows them alike); each figure is the median over the rounds, and the ratio
is the best of ``dense``, ``batched`` and ``banded`` in the same run over ``sparse``.

    python benchmarks/sparse.py                    # the three sizes, 1 and 2 threads
    python benchmarks/sparse.py --threads 1        # one thread only
    python benchmarks/sparse.py --quick            # smoke run: 20 steps, 1 round
    python benchmarks/sparse.py --split steps      # force how sparse shares work among threads
    python benchmarks/sparse.py --sides 20 30      # only LM(20x20) and LM(30x30)

Sizes: LM(20x20, d=2) x 3 seeds, LM(30x30, d=3) x 3 seeds, LM(50x50, d=6) x 1 seed.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from lmrnn.graphs import locality_degree
from lmrnn.models import EnsembleRNN, ModelConfig
from lmrnn.models.backends import sparse

CASES = ((20, 2, 3), (30, 3, 3), (50, 6, 1))  # (n, d, seeds)
EXISTING = ("dense", "batched", "banded")
N_IN, N_OUT = 115, 17


def make_step(model: EnsembleRNN, u: torch.Tensor, targets: torch.Tensor):
    """One forward + backward of ``model``; the sum over seeds of each seed's mean loss."""

    def step() -> torch.Tensor:
        model.zero_grad(set_to_none=True)
        logits, _ = model(u)
        flat = logits.reshape(model.n_seeds, -1, N_OUT)
        loss = sum(F.cross_entropy(x, targets.reshape(-1)) for x in flat)
        loss.backward()
        return logits.detach()

    return step


def bench_case(n: int, d: int, seeds: int, args: argparse.Namespace) -> None:
    gen = torch.Generator().manual_seed(0)
    u = torch.randn(args.steps, args.batch, N_IN, generator=gen)
    targets = torch.randint(0, N_OUT, (args.steps, args.batch), generator=gen)
    cfg = ModelConfig(n=n, d=d, n_in=N_IN, n_out=N_OUT, backend="dense")
    names = [*EXISTING, "sparse"]
    steps = {}
    for name in names:
        model = EnsembleRNN(cfg.replace(backend=name), list(range(seeds)))
        steps[name] = make_step(model, u, targets)
    first = {name: step() for name, step in steps.items()}  # warm-up (compiles sparse's loops)
    ref = first["dense"]
    err = float((first["sparse"] - ref).abs().max() / ref.abs().max())
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(args.rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            t0 = time.perf_counter()
            steps[name]()
            times[name].append(1000 * (time.perf_counter() - t0))
    ms = {name: statistics.median(t) for name, t in times.items()}
    best = min(EXISTING, key=ms.__getitem__)
    k = locality_degree(d, n)
    split = sparse.SPLIT or "auto"
    print(f"\nLM({n}x{n}, d={d}) x {seeds}, K = {k}, batch {args.batch} x {args.steps}, "
          f"{torch.get_num_threads()} thread(s), sparse split {split}; sparse's logits vs "
          f"dense: {err:.1e} relative")  # fmt: skip
    for name in names:
        spread = f"{min(times[name]):8.1f} .. {max(times[name]):8.1f}"
        print(f"  {name:>8} {ms[name]:9.1f} ms/step   (rounds {spread})")
    print(f"  sparse vs the best existing ({best}): {ms[best] / ms['sparse']:.2f}x faster")


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--steps", type=int, default=350)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--split", choices=["serial", "rows", "steps"], default=None,
                   help="how sparse shares its work among threads (default: by size)")  # fmt: skip
    p.add_argument("--sides", type=int, nargs="+", default=[n for n, _, _ in CASES],
                   help="only the sizes of these lattice sides (20, 30, 50)")  # fmt: skip
    p.add_argument("--quick", action="store_true", help="20 steps, 1 round: a smoke run")
    args = p.parse_args()
    if args.quick:
        args.steps, args.rounds = 20, 1
    sparse.SPLIT = args.split
    print(f"torch {torch.__version__}, CPU, float32; compiled sparse loops: "
          f"{sparse.compiled_available()}")  # fmt: skip
    for threads in args.threads:
        torch.set_num_threads(threads)
        for n, d, seeds in CASES:
            if n in args.sides:
                bench_case(n, d, seeds, args)


if __name__ == "__main__":
    main()
