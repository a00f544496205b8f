"""The ``sparse`` back-end's C++ loops (``_sparse_kernels.cpp``): built at first use, cached.

The first call compiles the source with the machine's C++ compiler (``$CXX``, else ``g++``;
``-O3 -march=native``, a few seconds) into ``$LMRNN_CACHE/kernels`` (default
``~/.cache/lmrnn/kernels``), under a name made from the source, the flags, the compiler and the
CPU's instruction sets, so that a cache shared between machines (a cluster's home folder) never
hands one CPU's build to another. No torch headers and no build step at install: ``pip install``
stays pure Python. Where torch runs on GNU OpenMP (its wheels bring ``libgomp.so.1``), the build
adds ``-fopenmp`` and the loops run on torch's own threads (:func:`torch_libgomp`). Where no
compiler is found or the build fails, :func:`load` returns None and says why in
:data:`REASON`; the numba loops run instead.

The functions take the numba module's arguments (NumPy views of the torch tensors, see
``_sparse_kernels``) and give the same numbers on any number of threads; the arrays of the
time-major interface (drive, out, grad_h, dx) may have any strides whose unit axis is
contiguous.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from lmrnn.models.backends._sparse_kernels import UNIT_BLOCK, split

SOURCE = Path(__file__).with_name("_sparse_kernels.cpp")
FLAGS = ("-O3", "-march=native", "-ffp-contract=fast", "-std=c++20", "-shared", "-fPIC",
         "-pthread")  # fmt: skip
OPENMP = "-fopenmp"
"""Added to :data:`FLAGS` where torch runs on GNU OpenMP (:func:`torch_libgomp`)."""
REASON: str | None = None
"""Why the C++ loops are not in use (None while they are, or before the first :func:`load`)."""

_MODES = {"serial": 0, "rows": 1, "steps": 2}
_p = ctypes.c_void_p
_i = ctypes.c_int
_l = ctypes.c_int64
_f = ctypes.c_float


def cache_dir() -> Path:
    """Where built kernels are kept: ``$LMRNN_CACHE/kernels``, else the user's cache folder."""
    root = os.environ.get("LMRNN_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "lmrnn"
    )
    return Path(root) / "kernels"


def _cpu_flags() -> str:
    """The CPU's model and instruction sets (what ``-march=native`` compiles for)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    keep = [line for line in text.splitlines() if line.startswith(("flags", "Features",
                                                                    "model name"))]  # fmt: skip
    return "\n".join(sorted(set(keep)))


def torch_libgomp() -> bool:
    """Whether this process runs GNU OpenMP (torch's wheels bring their own ``libgomp.so.1``).
    The loops are then built with OpenMP and, by the library's soname, share that runtime:
    their threads are torch's, which between torch's operations wait for work on the cores the
    loops want (threads of the loops' own would take turns with them). Other runtimes (Intel's,
    LLVM's) or none: the loops start threads of their own."""
    import torch  # noqa: F401  (loaded first, so that its OpenMP runtime is the one mapped)

    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return False
    return any(Path(line.split()[-1]).name.startswith("libgomp") for line in maps.splitlines()
               if "/" in line)  # fmt: skip


def flags() -> tuple[str, ...]:
    """The compiler flags of this process's build: :data:`FLAGS`, with :data:`OPENMP` where
    :func:`torch_libgomp`."""
    return (*FLAGS, OPENMP) if torch_libgomp() else FLAGS


def _compiler() -> str | None:
    return shutil.which(os.environ.get("CXX", "g++"))


def library_path(compiler: str, build_flags: tuple[str, ...] | None = None) -> Path:
    """The cached build's path for this source, these flags (default :func:`flags`), this
    compiler and this CPU."""
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True).stdout
    build_flags = flags() if build_flags is None else build_flags
    key = "\n".join([SOURCE.read_text(), " ".join(build_flags), version, platform.machine(),
                     _cpu_flags()])  # fmt: skip
    return cache_dir() / f"sparse-{hashlib.sha256(key.encode()).hexdigest()[:20]}.so"


def _build(compiler: str, target: Path, build_flags: tuple[str, ...]) -> None:
    """Compile into a temporary file beside ``target`` and move it in place (atomic: two
    processes building at once both end with a whole library)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".sparse-", suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        done = subprocess.run([compiler, *build_flags, str(SOURCE), "-o", tmp],
                              capture_output=True, text=True)  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr else "failed")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@functools.lru_cache(maxsize=1)
def load() -> ctypes.CDLL | None:
    """The compiled library (built on first use), or None with :data:`REASON` set."""
    global REASON
    if os.environ.get("LMRNN_NO_CPP"):
        REASON = "switched off by LMRNN_NO_CPP"
        return None
    compiler = _compiler()
    if compiler is None:
        REASON = f"no C++ compiler ({os.environ.get('CXX', 'g++')}) on the PATH"
        return None
    wanted = flags()  # with OpenMP first, where torch has it; without, if that fails to build
    lib = None
    for build_flags in (wanted, FLAGS) if wanted != FLAGS else (FLAGS,):
        try:
            path = library_path(compiler, build_flags)
            if not path.exists():
                _build(compiler, path, build_flags)
            lib = ctypes.CDLL(str(path))
            break
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            REASON = f"the build failed: {exc}"
    if lib is None:
        return None
    lib.forward.argtypes = [_i] * 8 + [_f, _p, _l, _l, _l, _p, _p, _p, _p, _p, _l, _l, _l,
                                       _i, _i, _i]  # fmt: skip
    lib.backward.argtypes = [_i] * 8 + [_f, _p, _l, _l, _l, _p, _p, _p, _p, _p, _p, _p, _l, _l,
                                        _l, _p, _i, _i, _i]  # fmt: skip
    lib.openmp_max_threads.argtypes, lib.openmp_max_threads.restype = [], _i
    lib.weight_grad.argtypes = [_i] * 7 + [_p, _p, _p, _p, _i]
    lib.input_forward.argtypes = [_i] * 4 + [_p, _l, _p, _p, _p, _i]
    lib.input_weight_grad.argtypes = [_i] * 4 + [_p, _l, _p, _p, _i]
    for fn in (lib.forward, lib.backward, lib.weight_grad, lib.input_forward,
               lib.input_weight_grad):  # fmt: skip
        fn.restype = None
    REASON = None
    return lib


def _ptr(a: np.ndarray) -> int:
    return a.ctypes.data


def _strides(a: np.ndarray) -> tuple[int, int, int]:
    """The (T, S, B) strides of a (T, S, B, N) array in elements; its unit axis must be
    contiguous."""
    if a.strides[-1] != a.itemsize:
        raise ValueError("the unit axis of a (T, S, B, N) array must be contiguous")
    return tuple(s // a.itemsize for s in a.strides[:3])


def forward(drive, w, idx, act: int, hx, out, threads: int, mode: str | None = None,
            alpha: float = 1.0, rx=None) -> None:  # fmt: skip
    """As ``_sparse_kernels.forward``."""
    lib = load()
    steps, n_seeds, batch, n_units = drive.shape
    chunks, n_in = hx.shape[2], w.shape[2]
    mode = mode or split(n_seeds * chunks, threads, hx[0].size * n_in)
    rates = hx if rx is None else rx
    lib.forward(steps, n_seeds, chunks, n_units, n_in, batch, idx.shape[0], act, alpha,
                _ptr(drive), *_strides(drive), _ptr(w), _ptr(idx), _ptr(hx), _ptr(rates),
                _ptr(out), *_strides(out), threads, _MODES[mode], UNIT_BLOCK)  # fmt: skip


def backward(grad_h, hx, wt, toff, tsrc, act: int, dl, dx, dh0, threads: int,
             mode: str | None = None, alpha: float = 1.0, rx=None, gh=None) -> None:  # fmt: skip
    """As ``_sparse_kernels.backward``."""
    lib = load()
    steps, n_seeds, batch, n_units = grad_h.shape
    chunks, edges = hx.shape[2], tsrc.shape[1]
    mode = mode or split(n_seeds * chunks, threads, hx[0].size * (edges // n_units))
    rates = hx if rx is None else rx
    carried = dl if gh is None else gh  # read and written only when alpha < 1
    lib.backward(steps, n_seeds, chunks, n_units, batch, toff.shape[0], edges, act, alpha,
                 _ptr(grad_h), *_strides(grad_h), _ptr(rates), _ptr(wt), _ptr(toff),
                 _ptr(tsrc), _ptr(dl), _ptr(carried), _ptr(dx), *_strides(dx), _ptr(dh0),
                 threads, _MODES[mode], UNIT_BLOCK)  # fmt: skip


def weight_grad(dl, hx, idx, dw, threads: int) -> None:
    """As ``_sparse_kernels.weight_grad``."""
    steps, n_seeds, chunks, n_units, _ = dl.shape
    load().weight_grad(steps, n_seeds, chunks, n_units, dw.shape[2], idx.shape[0], UNIT_BLOCK,
                       _ptr(dl), _ptr(hx), _ptr(idx), _ptr(dw), max(1, threads))  # fmt: skip


def input_forward(u, wt, bias, out, threads: int) -> None:
    """out[s, r] = bias[s] + Σ_c u[s, r, c] wt[s, c] over the non-zeros of u: u (S or 1, R, I),
    wt (S, I, N), bias (S, N), out (S, R, N), all C-contiguous float32."""
    n_seeds, rows, n_units = out.shape
    stride = 0 if u.shape[0] == 1 else rows * u.shape[2]
    load().input_forward(n_seeds, rows, u.shape[2], n_units, _ptr(u), stride, _ptr(wt),
                         _ptr(bias), _ptr(out), max(1, threads))  # fmt: skip


def input_weight_grad(u, grad, gwt, threads: int) -> None:
    """gwt[s, c] = Σ_r u[s, r, c] grad[s, r]: grad (S, R, N), gwt (S, I, N)."""
    n_seeds, rows, n_units = grad.shape
    stride = 0 if u.shape[0] == 1 else rows * u.shape[2]
    load().input_weight_grad(n_seeds, rows, u.shape[2], n_units, _ptr(u), stride, _ptr(grad),
                             _ptr(gwt), max(1, threads))  # fmt: skip
