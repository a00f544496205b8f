"""The whole training step on the CPU, as the training loop runs it, against the step as it was.

A step is what ``lmrnn train`` does per batch: one Mod-Cog (modcog82) stream batch of 4 x 350
per seed, forward, cross-entropy, backward, per-seed clipping, Adam, the mask (or Dale's
projection) and the divergence guard. Two ways to run it, timed in interleaved rounds (each
round runs every variant once, in a rotating order; medians over the rounds):

* **before**: the step before the CPU-speed issue's work, rebuilt here from the library's
  parts: the full input product (every input channel, zero or not), the bias and the readout
  as separate passes, the masked dense W, Adam, clipping and the guard on the dense N x N W,
  then the mask multiplied in; on the back-ends that existed (dense, batched, banded);
* **now**: the training loop's step (``lmrnn.train.loop``): input channels that are zero in
  the batch left out, the bias and readout fused into their products, the recurrent weight
  trained through its non-zeros (``lmrnn.train.trainable``); on every CPU back-end, ``sparse``
  on its C++ loops and on numba's (``sparse numba``).

The ratios: the best ``before`` back-end (what ``auto`` could have picked) over ``sparse``
now, and the best other back-end now over ``sparse`` now.

    python benchmarks/step.py                       # the three sizes, 1 and 2 threads
    python benchmarks/step.py --threads 1 --sides 20
    python benchmarks/step.py --quick               # smoke run: 1 round
    python benchmarks/step.py --crossover           # where sparse stops paying: denser graphs
    python benchmarks/step.py --default-malloc      # freed memory returned to the kernel

Both steps run with freed memory kept in the process (``lmrnn.train.memory``, as the training
loop does), unless ``--default-malloc``: the ratio then leaves out what that saves both.

``--crossover`` times the step now on ``batched``, ``dense``, ``banded`` and ``sparse`` for
denser locality masks and autapse pools (3 seeds), the measurement behind ``auto``'s rule
(``SPARSE_MAX_DENSITY`` in ``lmrnn.models.backends``).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from lmrnn.models import EnsembleRNN, clip_grad_norm_per_seed_
from lmrnn.models.backends import _sparse_cpp, run_recurrence, sparse
from lmrnn.tasks import StreamLoader
from lmrnn.train import from_dict
from lmrnn.train.loop import DivergenceGuard, cross_entropy_per_seed, training_batch
from lmrnn.train.memory import keep_freed_memory
from lmrnn.train.trainable import Trainable

CASES = ((20, 2, 3), (30, 3, 3), (50, 6, 1))  # (n, d, seeds)
CROSSOVER = ((16, 4), (16, 6), (20, 5), (20, 7), (20, 9), (30, 8), (20, 0), (40, 0))  # (n, d)
BEFORE = ("dense", "batched", "banded")
NOW = ("dense", "batched", "banded", "sparse", "sparse numba")
CLIP = 1.0


def legacy_forward(model: EnsembleRNN, u: torch.Tensor) -> torch.Tensor:
    """The ensemble's forward pass before the CPU-speed work: u (S, T, B, n_in) or (T, B,
    n_in) -> logits (S, T, B, n_out)."""
    spec = "tbi,sni->tsbn" if u.dim() == 3 else "stbi,sni->tsbn"  # one seed: one stream
    drive = torch.einsum(spec, u, model.weight_ih) + model.bias_h[:, None, :]
    h = model.h0[:, None, :].expand(model.n_seeds, u.shape[-2], model.n_units).contiguous()
    backend = model.backend_for("cpu")
    states = run_recurrence(backend, drive.contiguous(), h, model.recurrent_weight(),
                            model.activation, model.shape.layout(), model.mask,
                            model.config.alpha)  # fmt: skip
    hidden = states.transpose(0, 1)
    logits = torch.einsum("stbn,son->stbo", hidden, model.weight_ho)
    return logits + model.bias_o[:, None, None, :]


def make_step(config, backend: str, now: bool):
    """One training step of ``config`` on ``backend``, as it is now or as it was (``sparse
    numba``: the sparse back-end on numba's loops instead of the C++ ones)."""
    backend, _, loops = backend.partition(" ")
    model = EnsembleRNN(config.model_config().replace(backend=backend), config.seeds)
    if now:
        trainable = Trainable(model)
        tensors = trainable.tensors
    else:
        tensors = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(tensors, lr=1e-3)
    guard = DivergenceGuard(config.seeds, tensors)
    coll = config.tasks()
    streams = [StreamLoader(coll, config.batch_size, config.seq_len, seed, "cpu",
                            chunk=config.data_chunk) for seed in config.stream_seeds()]  # fmt: skip
    counter = iter(range(10**9))

    def step() -> None:
        sparse.LOOPS = loops or None
        k = next(counter)
        inputs, targets = training_batch(streams, k)
        logits = model(inputs)[0] if now else legacy_forward(model, inputs)
        loss_per_seed = cross_entropy_per_seed(logits, targets)
        guard.before_step()
        optimizer.zero_grad(set_to_none=True)
        loss_per_seed.sum().backward()
        if now:
            trainable.take_grads()
        clip_grad_norm_per_seed_(tensors, CLIP)
        optimizer.step()
        if now:
            trainable.constrain_()
            guard.after_step(loss_per_seed.detach(), k + 1)
            trainable.write_back_()
        else:
            model.apply_mask_()
            guard.after_step(loss_per_seed.detach(), k + 1)

    return step


def bench_case(n: int, d: int, seeds: int, args: argparse.Namespace) -> None:
    config = from_dict({"collection": "modcog82", "n": n, "d": float(d), "batch_size": 4,
                        "seq_len": 350, "seeds": list(range(seeds)), "clip": CLIP})  # fmt: skip
    variants = {f"{b} before": make_step(config, b, False) for b in BEFORE}
    variants |= {f"{b} now": make_step(config, b, True) for b in NOW}
    for step in variants.values():  # warm-up: compiles sparse's loops, fills the caches
        step()
    names = list(variants)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(args.rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            t0 = time.perf_counter()
            variants[name]()
            times[name].append(1000 * (time.perf_counter() - t0))
    ms = {name: statistics.median(t) for name, t in times.items()}
    best_before = min((f"{b} before" for b in BEFORE), key=ms.__getitem__)
    best_other = min((f"{b} now" for b in NOW if "sparse" not in b), key=ms.__getitem__)
    print(f"\nLM({n}x{n}, d={d}) x {seeds} seeds, modcog82, batch 4 x 350, "
          f"{torch.get_num_threads()} thread(s): ms per training step (per network)")  # fmt: skip
    for name in names:
        spread = f"{min(times[name]):8.1f} .. {max(times[name]):8.1f}"
        print(f"  {name:>18} {ms[name]:9.1f} ({ms[name] / seeds:7.1f})   rounds {spread}")
    fastest = ms["sparse now"]
    print(
        f"  sparse now vs the best before ({best_before}): {ms[best_before] / fastest:.2f}x; "
        f"vs the best other now ({best_other}): {ms[best_other] / fastest:.2f}x; C++ loops vs "
        f"numba's: {ms['sparse numba now'] / fastest:.2f}x"
    )


def crossover(args: argparse.Namespace) -> None:
    """The step on each back-end for denser graphs (d = 0: the autapse pool)."""
    from lmrnn.graphs import locality_degree

    for n, d in CROSSOVER:
        graph = {"graph": "autapse"} if d == 0 else {"d": float(d)}
        config = from_dict({"collection": "modcog82", "n": n, **graph, "batch_size": 4,
                            "seq_len": 350, "seeds": [0, 1, 2], "clip": CLIP})  # fmt: skip
        names = ("batched", "dense", "sparse") + (("banded",) if d == 0 else ())
        variants = {b: make_step(config, b, True) for b in names}
        for step in variants.values():
            step()
        times: dict[str, list[float]] = {b: [] for b in names}
        for _ in range(args.rounds):
            for b, step in variants.items():
                t0 = time.perf_counter()
                step()
                times[b].append(1000 * (time.perf_counter() - t0))
        ms = {b: statistics.median(t) for b, t in times.items()}
        k = locality_degree(d, n)
        best = min((b for b in names if b != "sparse"), key=ms.__getitem__)
        print(f"LM({n}x{n}, d={d}) K = {k} = {k / n**2:.2f} N, {torch.get_num_threads()} "
              f"thread(s): " + ", ".join(f"{b} {v:.0f}" for b, v in ms.items())
              + f" ms; sparse vs {best}: {ms[best] / ms['sparse']:.2f}x")  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--sides", type=int, nargs="+", default=[n for n, _, _ in CASES],
                   help="only the sizes of these lattice sides (20, 30, 50)")  # fmt: skip
    p.add_argument("--quick", action="store_true", help="1 round: a smoke run")
    p.add_argument("--crossover", action="store_true", help="denser graphs, the auto rule")
    p.add_argument("--default-malloc", action="store_true",
                   help="glibc's malloc as it is (the loop keeps freed memory)")  # fmt: skip
    args = p.parse_args()
    if args.quick:
        args.rounds = 1
    kept = not args.default_malloc and keep_freed_memory()
    loops = "torch's OpenMP threads" if _sparse_cpp.torch_libgomp() else "their own threads"
    memory = "kept (both steps)" if kept else "returned (glibc's default)"
    print(f"torch {torch.__version__}, CPU, float32, C++ loops on {loops}, freed memory {memory}")
    for threads in args.threads:
        torch.set_num_threads(threads)
        if args.crossover:
            crossover(args)
            continue
        for n, d, seeds in CASES:
            if n in args.sides:
                bench_case(n, d, seeds, args)


if __name__ == "__main__":
    main()
