"""Small matrix products on one BLAS thread.

NumPy's BLAS (OpenBLAS here) splits every product above about 2^18 multiply-adds over all
its threads, and the caller waits for the slowest. For the products of small networks
(LeNet's are 0.1-15 million multiply-adds, 0.05-2 ms) the hand-over costs more than the
second thread gives, and on a machine whose cores other processes keep busy the wait for a
descheduled BLAS thread costs milliseconds per product. Measured on the 2-core machine
while other processes ran (load average 3.3; median of 7 interleaved repeats, one thread /
two threads): 64x400x120 (LeNet's first linear layer) 197 / 496 us, 16x150x6400 (conv2's
input gradient) 1764 / 3092 us, 32x800x800 1403 / 2614 us, 64x800x800 2773 / 2644 us,
128x1024x1024 7574 / 6438 us. So a product of fewer than ``SERIAL_BELOW`` = 2^24
multiply-adds runs on one thread; larger ones keep the threads the user set.

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
# m*n*k below which OpenBLAS itself uses one thread (65536 x GEMM_MULTITHREAD_THRESHOLD 4):
# no need to ask. Only a shortcut; a BLAS with a lower threshold is merely not capped there.
ALREADY_SERIAL = 1 << 18


def blas_pools() -> list[Any]:
    """threadpoolctl's controllers of the BLAS libraries loaded now, found once and kept
    (a library loaded later is not capped; NumPy's own BLAS is loaded with NumPy)."""
    if not POOLS:
        from threadpoolctl import ThreadpoolController  # NumPy (imported above) is loaded

        POOLS.append(list(ThreadpoolController().select(user_api="blas").lib_controllers))
    pools: list[Any] = POOLS[0]
    return pools


POOLS: list[list[Any]] = []  # the cache of blas_pools: empty until first asked


class OneThread:
    """Caps NumPy's BLAS thread pools at one thread inside ``with``, then gives each back
    the count it had (a pool already at one thread is left alone, so nesting is free).

    One cap and restore costs about 7 us (threadpoolctl's public calls), 2-5% of a product
    it serialises.
    """

    def __init__(self) -> None:
        self.restore: list[tuple[Any, int]] = []

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


def serial(xp: Any, m: int, k: int, n: int) -> Any:
    """A context for products (m, k) @ (k, n) with NumPy (``xp``): one BLAS thread when
    they are small (``m*k*n`` from ``ALREADY_SERIAL`` up to ``SERIAL_BELOW``), else (and
    for CuPy, whose products have no BLAS threads) a context that does nothing.
    """
    if xp is np and ALREADY_SERIAL <= m * k * n < SERIAL_BELOW:
        return OneThread()
    return NOTHING
