"""How many threads a run computes with (``chainrule train --threads N``), and a warning when
the machine is too busy for them.

NumPy's matrix products run in its BLAS library (OpenBLAS, MKL, ...), which starts one
thread per core; everything else NumPy does runs on one. When other processes already keep
the cores busy, those threads wait for each other: on a loaded 2-core machine an epoch of an
800-hidden-unit network took 73 s with 2 BLAS threads and was 3.9x faster with 1.
``--threads N`` caps the BLAS (and any OpenMP) thread pools with threadpoolctl for the
run; :func:`busy_hint` compares the load average with the cores and threads at the start.

>>> busy_hint(load=3.9, cores=2, threads=2)  # doctest: +ELLIPSIS
'hint: this machine is busy (load average 3.9 on 2 cores), so 2 BLAS threads ... --threads 1 ...'
>>> busy_hint(load=0.1, cores=2, threads=2) is None
True
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

MAX_THREADS = 4096


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def blas_threads() -> tuple[int | None, str]:
    """(threads, library) of the BLAS NumPy computes with now: ``(2, 'openblas')``;
    ``(None, 'unknown')`` when threadpoolctl finds none."""
    import numpy  # noqa: F401  (threadpoolctl sees only libraries already loaded)
    from threadpoolctl import threadpool_info

    pools = [pool for pool in threadpool_info() if pool.get("user_api") == "blas"]
    if not pools:
        return None, "unknown"
    return int(pools[0]["num_threads"]), str(pools[0].get("internal_api", "blas"))


@contextlib.contextmanager
def limit_threads(threads: int | None) -> Iterator[None]:
    """Cap the BLAS and OpenMP thread pools at ``threads`` inside the block (None: leave
    them as they are); the previous limits come back after it."""
    if threads is None:
        yield
        return
    import numpy  # noqa: F401
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads):
        yield


def load_average() -> float | None:
    """The 1-minute load average (None where the OS has none, as on Windows)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def busy_hint(load: float | None, cores: int, threads: int | None) -> str | None:
    """A one-line notice when ``threads`` BLAS threads would share the cores with other
    busy processes (the load average plus the threads exceed the cores by more than half
    a core), suggesting ``--threads 1``; None when one thread is used or the machine is
    quiet enough."""
    if load is None or threads is None or threads <= 1 or load + threads <= cores + 0.5:
        return None
    return (f"hint: this machine is busy (load average {load:.1f} on {cores} cores), so "
            f"{threads} BLAS threads would wait on each other and on the other processes; "
            "--threads 1 is often several times faster then")


def thread_report(threads_setting: int | None) -> tuple[str, dict[str, Any]]:
    """The run header's line about threads, and the same facts for the run's saved
    environment (``chainrule info`` shows them)."""
    threads, library = blas_threads()
    cores, load = usable_cores(), load_average()
    how = "set by --threads" if threads_setting is not None else "the library's default"
    shown = "unknown" if threads is None else str(threads)
    line = f"threads: {shown} {library} BLAS thread(s) ({how}), {cores} cores"
    if load is not None:
        line += f", load average {load:.2f}"
    facts = {"blas_threads": threads, "blas": library, "cores_usable": cores,
             "load_average_at_start": None if load is None else round(load, 2)}
    return line, facts
