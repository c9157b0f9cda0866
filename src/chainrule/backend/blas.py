"""Small matrix products on one BLAS thread.

NumPy's BLAS (OpenBLAS here) splits every product above about 2^18 multiply-adds over all
its threads, and the caller waits for the slowest. For the products of small networks
(LeNet's are 0.1-15 million multiply-adds, 0.05-2 ms) the hand-over costs more than the
second thread gives, and on a machine whose cores other processes keep busy the wait for a
descheduled BLAS thread costs milliseconds per product. Measured on the 2-core machine
while other processes ran (load average 3.3; median of 7 interleaved repeats, one thread /
two threads): 64x400x120 (LeNet's first linear layer) 197 / 496 us, 16x150x6400 (conv2's
input gradient) 1764 / 3092 us, 32x800x800 1403 / 2614 us, 64x800x800 2773 / 2644 us,
128x1024x1024 7574 / 6438 us. So a product of ``ALREADY_SERIAL`` = 2^20 to ``SERIAL_BELOW``
= 2^24 multiply-adds runs on one thread; smaller and larger ones keep the threads the user
set (below 2^20 the cap cost more than it saved on an idle machine: see the constants).

This changes no value: the thread count is a function of the product's shape only (not of
the machine's cores or the user's limit), and OpenBLAS splits the output, not the sums.

>>> import numpy as np
>>> a, b = np.ones((64, 400), np.float32), np.ones((400, 120), np.float32)
>>> with serial(np, 64, 400, 120):
...     c = a @ b
>>> float(c[0, 0])
400.0
"""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import Any

import numpy as np

# m*n*k below which a product runs on one thread (see the module docstring)
SERIAL_BELOW = 1 << 24
# m*n*k from which a product is capped. OpenBLAS itself runs products below 2^18 (65536 x
# GEMM_MULTITHREAD_THRESHOLD 4) on one thread; from 2^18 to 2^20 capping cost more than it
# saved: the tutorials' 784-16-16-10 step (two products of 401,408) took 201.8 us capped
# against 185.7 us uncapped on the idle machine (median of 10 interleaved rounds of 300
# steps), the cap and restore themselves being 0.7 us.
ALREADY_SERIAL = 1 << 20


def blas_pools() -> list[Pool]:
    """The thread pools of the BLAS libraries loaded now, found once and kept (a library
    loaded later is not capped; NumPy's own BLAS is loaded with NumPy)."""
    if not POOLS:
        from threadpoolctl import ThreadpoolController  # NumPy (imported above) is loaded

        controllers = ThreadpoolController().select(user_api="blas").lib_controllers
        POOLS.append([Pool.of(controller) for controller in controllers])
    return POOLS[0]


class Pool:
    """One BLAS library's thread count: read and set through OpenBLAS's own C functions
    when it runs its own pthreads pool (0.2 us a call), else through threadpoolctl's
    controller (about 1-3 us a call, whatever the library)."""

    def __init__(self, get: Any, set_: Any) -> None:
        self.get_num_threads, self.set_num_threads = get, set_

    @classmethod
    def of(cls, controller: Any) -> Pool:
        if getattr(controller, "internal_api", None) == "openblas" \
                and getattr(controller, "threading_layer", None) != "openmp":
            try:
                prefix, suffix = controller._find_affixes()
                return cls(getattr(controller.dynlib, f"{prefix}openblas_get_num_threads{suffix}"),
                           getattr(controller.dynlib, f"{prefix}openblas_set_num_threads{suffix}"))
            except (AttributeError, TypeError):  # another threadpoolctl: its public calls
                pass
        return cls(controller.get_num_threads, controller.set_num_threads)


POOLS: list[list[Pool]] = []  # the cache of blas_pools: empty until first asked


class OneThread:
    """Caps NumPy's BLAS thread pools at one thread inside ``with``, then gives each back
    the count it had (a pool already at one thread is left alone, so nesting is free).

    One cap and restore costs about 0.7 us with OpenBLAS's own calls (3-7 us through
    threadpoolctl's public API, which was 8-14% of the tutorials' 784-16-16-10 step).
    """

    def __init__(self) -> None:
        self.restore: list[tuple[Pool, int]] = []

    def __enter__(self) -> None:
        for pool in blas_pools():
            threads = pool.get_num_threads()
            if threads is not None and threads > 1:
                pool.set_num_threads(1)
                self.restore.append((pool, threads))

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        for pool, threads in self.restore:
            pool.set_num_threads(threads)
        self.restore.clear()


NOTHING = contextlib.nullcontext()


def for_work(work: int, array: Any) -> Any:
    """:func:`serial` for a product of ``work`` multiply-adds with ``array`` as an operand:
    the cheap form for the hot path of ``Linear`` (no array-module lookup, one number).

    >>> for_work(100, np.ones(3)) is NOTHING
    True
    """
    if ALREADY_SERIAL <= work < SERIAL_BELOW and type(array) is np.ndarray:
        return OneThread()
    return NOTHING


def dot(a: Any, b: Any, work: int) -> Any:
    """``a.dot(b)``, a product of ``work`` multiply-adds, on one thread where :func:`for_work`
    would cap it. For ``Linear``: most of its products are outside the capped range, and
    entering even the empty context costs 0.4 us, a third of a small layer's product.

    >>> dot(np.ones((2, 3)), np.ones((3, 1)), 6).tolist()
    [[3.0], [3.0]]
    """
    if ALREADY_SERIAL <= work < SERIAL_BELOW and type(a) is np.ndarray:
        with OneThread():
            return a.dot(b)
    return a.dot(b)


def serial(xp: Any, m: int, k: int, n: int) -> Any:
    """A context for products (m, k) @ (k, n) with NumPy (``xp``): one BLAS thread when
    they are mid-sized (``m*k*n`` from ``ALREADY_SERIAL`` up to ``SERIAL_BELOW``), else (and
    for CuPy, whose products have no BLAS threads) a context that does nothing.
    """
    if xp is np and ALREADY_SERIAL <= m * k * n < SERIAL_BELOW:
        return OneThread()
    return NOTHING
