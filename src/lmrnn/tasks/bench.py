"""How fast stream batches are made: batches per second of :func:`stream_batch` and of
:class:`StreamLoader` (``lmrnn tasks bench``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import torch

from lmrnn.tasks.collection import Collection
from lmrnn.tasks.stream import StreamLoader, stream_batch


def time_stream_batches(
    collection: Collection | str | list[str],
    batch_size: int,
    seq_len: int,
    device: torch.device | str = "cpu",
    seconds: float = 3.0,
) -> Iterator[tuple[str, float]]:
    """Time the two ways of drawing stream batches of ``batch_size`` rows x ``seq_len`` steps:
    a :func:`stream_batch` per batch, and :meth:`StreamLoader.batch` (a chunk drawn at once).

    Each is called once to warm up, then timed over whole chunks of the loader, at least one,
    for about ``seconds / 2`` s (wall clock, CUDA synchronised). The loader is made before this
    returns, so bad arguments fail before anything is timed; each way is timed when the
    returned iterator reaches it.

    Yields ``(name, seconds per batch)``: ``"stream_batch"``, then ``"StreamLoader(chunk=C)"``.
    """
    loader = StreamLoader(collection, batch_size, seq_len, 0, device)
    calls: dict[str, Callable[[int], object]] = {
        "stream_batch": lambda n: stream_batch(collection, batch_size, seq_len, n, device),
        f"StreamLoader(chunk={loader.chunk})": loader.batch,
    }
    sync = torch.cuda.synchronize if loader.device.type == "cuda" else (lambda: None)
    return _time_calls(calls, loader.chunk, seconds, sync)


def _time_calls(
    calls: dict[str, Callable[[int], object]],
    chunk: int,
    seconds: float,
    sync: Callable[[], None],
) -> Iterator[tuple[str, float]]:
    for name, call in calls.items():
        call(0)  # warm-up; timed from the next chunk on, whole chunks
        sync()
        n, start = chunk, time.perf_counter()
        while time.perf_counter() - start < seconds / 2 or n % chunk or n == chunk:
            call(n)
            n += 1
        sync()
        yield name, (time.perf_counter() - start) / (n - chunk)
