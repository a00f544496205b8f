"""The fused back-end's kernels built for a GPU without one: registers, spills and occupancy.

Compiles every kernel variant the ``fused`` back-end can launch (activation, dense or not,
fp32 or bf16 weights, each batch-row tile, the tile sizes of ``fused.step_tiles``) with Triton's
own compiler for an NVIDIA architecture (default sm_90, the H100), reads each cubin's resource
usage with the ``cuobjdump`` that ships with Triton, and prints registers per thread, shared
memory, local memory (spills and stack) and the resident blocks and warps per SM that the
registers allow. Needs Triton (its NVIDIA back-end and tools come in the Linux x86_64 wheel), not
a GPU. ``--check`` exits 1 if a variant spills or cannot be resident at all.

    python benchmarks/fused_static.py [--arch 90] [--check]
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import subprocess
import sys
import tempfile

# the kernels are compiled, not run: Triton's interpreter must be off before it is imported
os.environ.pop("TRITON_INTERPRET", None)
os.environ.setdefault("TRITON_DEFAULT_FP_FUSION", "1")

import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource

from lmrnn.models.backends import _fused_kernels as kernels
from lmrnn.models.backends import fused

REGISTERS_PER_SM = 65536
MAX_WARPS_PER_SM = 64
MAX_BLOCKS_PER_SM = 32

SIGNATURES = {
    "forward_step_kernel": {
        "X": "*fp32", "HP": "*fp32", "HN": "*fp32", "RN": "*fp32", "W": "*W", "IDX": "*i32",
        "B": "i32", "N": "i32", "K": "i32", "IDX_STRIDE": "i32", "ALPHA": "fp32",
    },
    "backward_step_kernel": {
        "DN": "*fp32", "G": "*fp32", "H": "*fp32", "OUT": "*fp32", "GN": "*fp32",
        "GO": "*fp32", "WREV": "*W", "RSRC": "*i32", "B": "i32", "N": "i32", "R": "i32",
        "IDX_STRIDE": "i32", "ALPHA": "fp32",
    },
    "weight_grad_kernel": {
        "DX": "*fp32", "HX": "*fp32", "IDX": "*i32", "VALID": "*i8", "DW": "*fp32",
        "T": "i32", "S": "i32", "B": "i32", "N": "i32", "K": "i32", "IDX_STRIDE": "i32",
    },
}  # fmt: skip


def variants():
    """(kernel name, constexprs, weight dtype, num_warps) of every launch the back-end makes."""
    row_tiles = sorted({fused.step_tiles(b)["BB"] for b in range(1, 65)})
    for bb, act, dense, wdtype, leaky in itertools.product(
        row_tiles, (0, 1), (False, True), ("fp32", "bf16"), (False, True)
    ):
        tiles = fused.step_tiles(1 << (bb.bit_length() - 1))
        warps = tiles.pop("num_warps")
        common = {"ACT": act, "LEAKY": leaky, "DENSE": dense, **tiles}
        yield "forward_step_kernel", common, wdtype, warps
        for first in (False, True):
            yield "backward_step_kernel", {**common, "FIRST": first}, wdtype, warps
    for bb in row_tiles:
        tiles = fused.weight_grad_tiles(bb)
        warps = tiles.pop("num_warps")
        yield "weight_grad_kernel", tiles, "fp32", warps


def compile_variant(name: str, consts: dict, wdtype: str, warps: int, arch: int) -> dict:
    """Resource usage of one variant compiled for ``sm_<arch>``."""
    fn = getattr(kernels, name)
    sig = {k: v.replace("W", wdtype) for k, v in SIGNATURES[name].items()}
    pointers = [i for i, v in enumerate(sig.values()) if v.startswith("*")]
    sig.update({k: "constexpr" for k in consts})
    src = ASTSource(fn=fn, signature=sig, constexprs=consts,
                    attrs={(i,): [["tt.divisibility", 16]] for i in pointers})  # fmt: skip
    compiled = triton.compile(src, target=GPUTarget("cuda", arch, 32),
                              options={"num_warps": warps})  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "kernel.cubin")
        with open(path, "wb") as f:
            f.write(compiled.asm["cubin"])
        tool = os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin",
                            "cuobjdump")  # fmt: skip
        usage = subprocess.run([tool, "--dump-resource-usage", path], capture_output=True,
                               text=True, check=True).stdout  # fmt: skip
    fields = dict(re.findall(r"(REG|SHARED|LOCAL|STACK):(\d+)", usage))
    regs, local = int(fields["REG"]), int(fields["LOCAL"]) + int(fields["STACK"])
    per_warp = -(-regs * 32 // 256) * 256  # registers are allocated per warp, 256 at a time
    blocks = min(REGISTERS_PER_SM // (per_warp * warps), MAX_WARPS_PER_SM // warps,
                 MAX_BLOCKS_PER_SM)  # fmt: skip
    return {"regs": regs, "shared": int(fields["SHARED"]), "local": local, "blocks": blocks,
            "warps": blocks * warps}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", type=int, default=90, help="compute capability, e.g. 90")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a variant spills or cannot be resident")  # fmt: skip
    args = parser.parse_args()
    print(f"triton {triton.__version__}, target sm_{args.arch}")
    print(f"{'kernel':22s} {'variant':48s} {'regs':>5s} {'smem':>6s} {'local':>5s} "
          f"{'blocks/SM':>9s} {'warps/SM':>8s}")  # fmt: skip
    bad = []
    for name, consts, wdtype, warps in variants():
        use = compile_variant(name, consts, wdtype, warps, args.arch)
        label = " ".join(f"{k}={int(v)}" for k, v in consts.items()) + f" W={wdtype} w={warps}"
        print(
            f"{name.removesuffix('_kernel'):22s} {label:48s} {use['regs']:5d} "
            f"{use['shared']:6d} {use['local']:5d} {use['blocks']:9d} {use['warps']:8d}"
        )
        if use["local"] or use["blocks"] < 1:
            bad.append(f"{name} {label}")
    if bad:
        print("spills or not resident:", *bad, sep="\n  ")
        if args.check:
            sys.exit(1)


if __name__ == "__main__":
    main()
