"""Fixed points of a 256-unit network under the 20 rule inputs: how long the search takes.

    python benchmarks/fixed_points.py                    # a random 16x16 LM-RNN (d = 2), yang20
    python benchmarks/fixed_points.py --run runs/demo    # a trained run (seed index 0)
    python benchmarks/fixed_points.py --threads 1 --starts 32 --repeats 3

The random network's recurrent weights are scaled to spectral radius ``--radius`` (default 1.5,
so that it has more than one fixed point per input; a trained one is the better test). Times,
separately: recording the trials the starts come from (``lmrnn.analysis.record``) and the search
itself (``find_fixed_points``: Adam over every start of every rule at once, Newton polish,
merge, Jacobian eigenvalues). Prints the median over ``--repeats`` and what was found.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import torch

from lmrnn.analysis import fixed_points, record
from lmrnn.models import MaskedRNN, ModelConfig
from lmrnn.tasks import get_collection


def random_network(radius: float, seed: int) -> MaskedRNN:
    coll = get_collection("yang20")
    net = MaskedRNN(ModelConfig(graph="locality", n=16, d=2.0, n_in=coll.n_inputs, seed=seed))
    with torch.no_grad():
        weight = net.recurrent_weight()
        current = float(torch.linalg.eigvals(weight).abs().max())
        net.weight_hh.mul_(radius / current)
    return net.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default=None, help="a run folder (default: a random network)")
    parser.add_argument("--seed-index", type=int, default=0)
    parser.add_argument("--radius", type=float, default=1.5, help="random network's W radius")
    parser.add_argument("--trials", type=int, default=32, help="recorded trials per task")
    parser.add_argument("--starts", type=int, default=64, help="starting states per rule")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.run is not None:
        source, coll = args.run, None
    else:
        source, coll = random_network(args.radius, 0), "yang20"
    record_s, search_s = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        activity = record(source, None, args.trials, seed_index=args.seed_index, collection=coll)
        record_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        result = fixed_points(source, starts=args.starts, seed_index=args.seed_index,
                              collection=coll, activity=activity)  # fmt: skip
        search_s.append(time.perf_counter() - start)
    found = result.found
    converged = int((found.candidate_q <= found.tol_q).sum())
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; {'run ' + args.run if args.run else 'random'} "
          f"network, {activity.n_units} units, {len(result.names)} rules x {args.starts} "
          "starts")  # fmt: skip
    print(f"record {args.trials} trials per task: {statistics.median(record_s):.2f} s (median of "
          f"{args.repeats})")  # fmt: skip
    print(
        f"fixed points: {statistics.median(search_s):.2f} s (median of {args.repeats}; "
        f"runs {', '.join(f'{s:.2f}' for s in search_s)}), {found.iterations} Adam iterations"
    )
    kinds = ", ".join(f"{n} {k}" for k, n in found.counts().items() if n)
    per_rule = np.bincount(found.group, minlength=len(result.names))
    print(
        f"found {len(found)} ({kinds}); {converged} of {found.candidate_q.size} starts "
        f"converged; per rule {per_rule.min()}..{per_rule.max()}"
    )


if __name__ == "__main__":
    main()
