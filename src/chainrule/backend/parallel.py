"""Elementwise NumPy work on large arrays, split over the cores and cache-blocked.

NumPy's ufuncs run on one core (its BLAS uses them all); PyTorch runs the elementwise ops
of large tensors on every core. A ufunc releases the GIL while it loops, so a few Python
threads, each running the same ufuncs on its own range of the arrays, use the other cores.
:func:`elementwise` does that for a function ``fn(*arrays)`` made of elementwise
operations only: each thread calls ``fn`` on slices of the arrays (element ranges of
contiguous arrays, else ranges of rows), one block of about ``BLOCK`` elements at a time,
so the arrays a chain of ufuncs reads and writes (and its temporaries) stay in the cache
between the ufuncs instead of going to memory and back once per ufunc.

Every element is computed by the same operations as in ``fn(*arrays)``, so the results are
the same bits (no reduction is split: ``fn`` must be elementwise). Small arrays
(below ``THRESHOLD`` elements), a single usable core, ``set_threads(1)`` or the environment
variable ``CHAINRULE_THREADS=1``, and arrays that are not NumPy's (CuPy's) take the plain
call ``fn(*arrays)``; no thread pool is created until an array is large enough.

>>> import numpy as np
>>> p, g = np.ones(1 << 20, np.float32), np.full(1 << 20, 2, np.float32)
>>> def sgd(p, g):
...     p -= np.float32(0.5) * g
>>> elementwise(sgd, p, g)
>>> float(p[0]), float(p[-1])
(0.0, 0.0)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

ENV = "CHAINRULE_THREADS"
# Elements from which the work is split over the threads. Handing a range to a worker and
# waiting for it costs 30-60 us here (a no-op's round trip through the pool is 30 us), so
# a momentum-SGD update (buf *= m; buf += g; p -= lr * buf) of float32 gains nothing below
# about 2^19 elements. Two threads / plain, 2-core machine, median of 9 interleaved rounds:
# 2^17: 118 / 83 us, 2^18: 217 / 224 us, 2^19: 405 / 565 us, 2^20: 697 / 1127 us; with
# one core kept busy by another process: 2^18: 1.03x plain, 2^19: 0.83x, 2^20: 0.95x.
THRESHOLD = 1 << 19
# Elements per block: 2^16 float32 are 256 KiB an array, so the three to five arrays of an
# optimizer update and their temporaries stay in a core's 2 MiB L2 cache. Smaller blocks
# cost more in Python calls and in waits for the GIL between the ufuncs: the (c) network's
# momentum-SGD step (1.86M parameters, 21 interleaved rounds on a loaded machine) took
# 4.32 / 4.10 / 4.32 / 4.63 / 5.17 ms with blocks of 2^15 / 2^16 / 2^17 / 2^18 / no blocks.
BLOCK = 1 << 16

_threads: list[int] = []  # the thread count once known (set_threads or the first large call)
_pool: list[ThreadPoolExecutor] = []  # created lazily, with threads - 1 workers
NAME = "chainrule-elementwise"  # the workers' thread names
if hasattr(os, "register_at_fork"):  # a forked child has none of its parent's threads
    os.register_at_fork(after_in_child=_pool.clear)


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def get_threads() -> int:
    """The threads :func:`elementwise` uses: :func:`set_threads`'s, else ``CHAINRULE_THREADS``,
    else the usable cores.

    >>> get_threads() >= 1
    True
    """
    if not _threads:
        value = os.environ.get(ENV, "").strip()
        _threads.append(max(1, int(value)) if value.isdigit() else usable_cores())
    return _threads[0]


def set_threads(threads: int | None) -> None:
    """Use ``threads`` threads from now on (1: every call runs plainly on the calling thread;
    None: back to the default, ``CHAINRULE_THREADS`` or the usable cores).

    >>> set_threads(1); get_threads()
    1
    >>> set_threads(None)
    """
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        raise ValueError(f"set_threads: expected a whole number >= 1 or None, got {threads!r}")
    _threads.clear()
    if threads is not None:
        _threads.append(threads)
    if _pool and _pool[0]._max_workers != get_threads() - 1:
        _pool.pop().shutdown(wait=False)


def pool() -> ThreadPoolExecutor:
    """The worker threads (the calling thread is the last of ``get_threads()``)."""
    if not _pool:
        _pool.append(ThreadPoolExecutor(max(1, get_threads() - 1), thread_name_prefix=NAME))
    return _pool[0]


def elementwise(fn: Callable[..., Any], *arrays: Any) -> None:
    """Call ``fn(*arrays)``, which works elementwise and in place on arrays of one shape,
    over the usable cores and in cache-sized blocks when the arrays are large (see the
    module docstring); the same results as ``fn(*arrays)``. Arrays may share memory only
    element for element (the same array passed twice), as each block sees its own slice."""
    first = arrays[0]
    if first.size < THRESHOLD or get_threads() < 2 or not _plain_numpy(arrays) \
            or threading.current_thread().name.startswith(NAME):  # fn calling elementwise
        fn(*arrays)
        return
    if all(a.flags.c_contiguous for a in arrays):
        parts: tuple[Any, ...] = tuple(a.reshape(-1) for a in arrays)  # views
        per_block = BLOCK
    else:  # any layout: ranges of the first axis are views too
        parts, per_block = arrays, max(1, BLOCK * first.shape[0] // first.size)
    threads = get_threads()
    bounds = [parts[0].shape[0] * i // threads for i in range(threads + 1)]

    def run(start: int, stop: int) -> None:
        for lo in range(start, stop, per_block):
            fn(*(a[lo:min(lo + per_block, stop)] for a in parts))

    waiting = [pool().submit(run, bounds[i], bounds[i + 1]) for i in range(1, threads)]
    try:
        run(bounds[0], bounds[1])
    finally:  # the other ranges are done (or failed) before the arrays are used again
        for future in waiting:
            future.result()


def _plain_numpy(arrays: tuple[Any, ...]) -> bool:
    shape = arrays[0].shape
    return all(type(a) is np.ndarray and a.shape == shape for a in arrays)
