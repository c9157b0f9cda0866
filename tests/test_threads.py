"""Threads of a run (train/threads.py): the thread-pool limit, the busy-machine hint."""

from __future__ import annotations

import pytest

from chainrule.train import threads


@pytest.mark.parametrize(("load", "cores", "count", "hint"), [
    (3.9, 2, 2, True),     # the machine: load 4, 2 cores, 2 BLAS threads
    (1.0, 2, 2, True),     # one other busy process: 3 runnable on 2 cores
    (0.4, 2, 2, False),    # quiet enough
    (0.1, 2, 2, False),
    (8.0, 2, 1, False),    # one thread already
    (8.0, 16, 4, False),   # many cores to spare
    (13.0, 16, 4, True),
    (None, 2, 2, False),   # no load average (Windows)
    (5.0, 2, None, False),  # no BLAS found
])
def test_busy_hint(load: float | None, cores: int, count: int | None, hint: bool) -> None:
    text = threads.busy_hint(load, cores, count)
    assert (text is not None) == hint
    if text:
        assert "--threads 1" in text and f"on {cores} cores" in text and "\n" not in text


def test_limit_threads_caps_blas_inside_and_restores_after() -> None:
    before, library = threads.blas_threads()
    if before is None:
        pytest.skip("no BLAS thread pool found by threadpoolctl")
    with threads.limit_threads(1):
        assert threads.blas_threads() == (1, library)
    assert threads.blas_threads() == (before, library)
    with threads.limit_threads(None):
        assert threads.blas_threads() == (before, library)


def test_thread_report_names_the_count_and_the_setting() -> None:
    with threads.limit_threads(1):
        line, facts = threads.thread_report(1)
    assert line.startswith("threads: 1 ") and "set by --threads" in line
    assert facts["blas_threads"] == 1 and facts["cores_usable"] >= 1
    line, _ = threads.thread_report(None)
    assert "the library's default" in line
