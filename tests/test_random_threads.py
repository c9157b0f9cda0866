"""Large normal draws transformed on worker threads give the serial path's bits and torch's.

The calling thread draws the raw words slab by slab; workers transform the slabs. The table
runs sizes around the threshold, the slab and the chunk boundaries and the ragged end, both
dtypes, ``mean``/``std``, with 1, 2 and 3 threads, and compares the numbers and the generator
state left behind (the next draws and ``get_state``) with the serial path and with torch.
Small ``PARALLEL_MIN``/``SLAB_BLOCKS`` make many ragged slabs cheap to test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pytest
from tests.nnref import torch

import chainrule as cr
from chainrule import random_draws, random_normal
from chainrule.backend import parallel

pytestmark = pytest.mark.skipif(torch is None, reason="torch is not installed")

MIN, SLAB = random_draws.PARALLEL_MIN, 16 * random_draws.SLAB_BLOCKS
CHUNK = 16 * random_normal.CHUNK_BLOCKS
SIZES = [MIN - 1, MIN, MIN + 1, MIN + 15, MIN + 16, MIN + CHUNK + 3, 9 * SLAB - 1,
         9 * SLAB + 17]
SMALL_SIZES = [47, 48, 49, 80, 95, 96, 97, 160, 161, 1000, 4099]


@pytest.fixture
def threads() -> Iterator[None]:
    previous = random_draws.set_normal_threads(1)
    yield
    random_draws.set_normal_threads(previous)


def _draw(size: int, dtype: str, seed: int, threads: int, mean: float = 0.0,
          std: float = 1.0) -> tuple[np.ndarray, dict, float, np.ndarray]:
    """The draw, the generator state after it, and the next uniform and small normals."""
    random_draws.set_normal_threads(threads)
    cr.manual_seed(seed)
    tensor = cr.empty(size, dtype=getattr(cr, dtype))
    values = cr.nn.init.normal_(tensor, mean, std).numpy()
    state = cr.get_rng_state()
    return values, state, float(cr.rand(()).item()), cr.randn(3, dtype=cr.float64).numpy()


def _torch_draw(size: int, dtype: str, seed: int, mean: float = 0.0, std: float = 1.0
                ) -> tuple[np.ndarray, float, np.ndarray]:
    torch.manual_seed(seed)
    values = torch.empty(size, dtype=getattr(torch, dtype)).normal_(mean, std).numpy()
    return values, float(torch.rand(())), torch.randn(3, dtype=torch.float64).numpy()


def _assert_same(size: int, dtype: str, seed: int, mean: float, std: float) -> None:
    serial, serial_state, serial_next, serial_normals = _draw(size, dtype, seed, 1, mean, std)
    theirs, their_next, their_normals = _torch_draw(size, dtype, seed, mean, std)
    assert np.array_equal(serial, theirs), (size, dtype, seed, "serial vs torch")
    assert serial_next == their_next and np.array_equal(serial_normals, their_normals)
    for threads in (2, 3):
        values, state, following, normals = _draw(size, dtype, seed, threads, mean, std)
        assert np.array_equal(values, serial), (size, dtype, seed, threads)
        assert state == serial_state, (size, dtype, seed, threads)
        assert following == serial_next and np.array_equal(normals, serial_normals)


@pytest.mark.usefixtures("threads")
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_threaded_normals_are_the_serial_bits_and_torchs(size: int, dtype: str) -> None:
    for seed, (mean, std) in ((0, (0.0, 1.0)), (5, (0.5, 0.3))):
        _assert_same(size, dtype, seed, mean, std)


@pytest.mark.usefixtures("threads")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_many_small_ragged_slabs(monkeypatch: pytest.MonkeyPatch, dtype: str) -> None:
    monkeypatch.setattr(random_draws, "PARALLEL_MIN", 47)
    monkeypatch.setattr(random_draws, "SLAB_BLOCKS", 3)
    for size in SMALL_SIZES:
        for seed in (1, 8):
            _assert_same(size, dtype, seed, -3.0, 7.25)


@pytest.mark.usefixtures("threads")
def test_threads_setting() -> None:
    assert random_draws.set_normal_threads(4) == 1
    assert random_draws._workers.pool() is not None
    assert random_draws.set_normal_threads(0) == 4  # at least one: the calling thread
    assert random_draws._workers.pool() is None
    assert random_draws.default_normal_threads() == min(parallel.get_threads(), 4)


@pytest.mark.parametrize(("env", "expected"), [("1", 1), ("3", 3), ("16", 4), (None, None)])
def test_the_default_follows_chainrules_thread_count(env: str | None, expected: int | None
                                                     ) -> None:
    """A fresh process: CHAINRULE_THREADS (at most 4), else the usable cores (at most 4);
    1 keeps every draw in the calling thread (no pool)."""
    code = ("import os, chainrule as cr\n"
            "from chainrule import random_draws\n"
            "cr.randn(random_draws.PARALLEL_MIN)\n"
            "print(random_draws._workers.count(), random_draws._workers._pool is not None)")
    environ = {k: v for k, v in os.environ.items() if k != "CHAINRULE_THREADS"}
    if env is not None:
        environ["CHAINRULE_THREADS"] = env
    out = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True,
                         text=True, check=True, timeout=120).stdout.split()
    if expected is None:  # the usable cores
        expected = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                       else os.cpu_count() or 1, 4)
    assert out == [str(expected), str(expected > 1)]


@pytest.mark.usefixtures("threads")
@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_threaded_normals_in_a_forked_child() -> None:
    """A child forked after the pool ran has none of its threads: it makes its own."""
    random_draws.set_normal_threads(2)
    expected = cr.Generator().manual_seed(2).standard_normal(MIN + 5)
    pid = os.fork()
    if pid == 0:  # the child: exit 0 if the draw matches, killed by the alarm if it hangs
        signal.alarm(60)
        ours = cr.Generator().manual_seed(2).standard_normal(MIN + 5)
        os._exit(0 if np.array_equal(ours, expected) else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
