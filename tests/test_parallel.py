"""backend.parallel: elementwise work split over threads gives the serial call's bits."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.backend import parallel
from chainrule.optim.adam import adam_update
from chainrule.optim.sgd import sgd_update


@pytest.fixture(autouse=True)
def _two_threads() -> Iterator[None]:
    """Two threads whatever the machine has, and the default back afterwards."""
    parallel.set_threads(2)
    yield
    parallel.set_threads(None)


T = parallel.THRESHOLD
SHAPES = [(T - 1,), (T + 1,), (T + 3 * parallel.BLOCK + 7,), (517, 1031, 1)]
# Fortran order only where it differs from C order
LAYOUTS = [(shape, layout) for shape in SHAPES for layout in ("contiguous", "strided")] \
    + [(SHAPES[-1], "transposed")]
SGD_SETTINGS = [
    {"momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False},
    {"momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01, "nesterov": False},
    {"momentum": 0.9, "dampening": 0.0, "weight_decay": 0.01, "nesterov": True},
    {"momentum": 0.0, "dampening": 0.0, "weight_decay": 0.1, "nesterov": False},
]
ADAM_SETTINGS = [
    {"weight_decay": 0.0, "decoupled": False},
    {"weight_decay": 0.1, "decoupled": False},
    {"weight_decay": 0.1, "decoupled": True},
]


def relu_backward(gy: Any, y: Any, out: Any) -> None:
    np.multiply(gy, y > 0, out=out)


def _sgd(settings: dict[str, Any], maximize: bool) -> Callable[..., None]:
    return partial(sgd_update, lr=0.01, maximize=maximize, **settings)


def _adam(settings: dict[str, Any], amsgrad: bool) -> tuple[Callable[..., None], int]:
    fn = partial(adam_update, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, maximize=False,
                 bias1=1 - 0.9**3, bias2_sqrt=(1 - 0.999**3) ** 0.5, **settings)
    return fn, 5 if amsgrad else 4


# (name, the elementwise function, how many arrays it takes)
FUNCTIONS: list[tuple[str, Callable[..., None], int]] = [
    *[(f"sgd{i}{'-max' if m else ''}", _sgd(s, m), 3 if s["momentum"] else 2)
      for i, s in enumerate(SGD_SETTINGS) for m in (False, True) if i % 2 == 0 or not m],
    *[(f"adam{i}{'-ams' if a else ''}", *_adam(s, a))
      for i, s in enumerate(ADAM_SETTINGS) for a in (False, True)],
    ("relu_backward", relu_backward, 3),
]


def _arrays(shape: tuple[int, ...], count: int, dtype: Any, layout: str) -> list[np.ndarray]:
    rng = np.random.default_rng(sum(shape))
    arrays = []
    for i in range(count):
        a = rng.standard_normal(shape).astype(dtype)
        if i in (3, 4):  # Adam's second moments are >= 0
            a = np.abs(a)
        if layout == "transposed":  # the same shape, Fortran order
            a = np.asfortranarray(a)
        elif layout == "strided":  # every other element of a larger array
            a = np.repeat(a, 2, axis=-1)[..., ::2]
        arrays.append(a)
    return arrays


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.uint8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("shape", "layout"), LAYOUTS, ids=str)
@pytest.mark.parametrize(("name", "fn", "count"), FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_threaded_is_bit_identical(name: str, fn: Callable[..., None], count: int,
                                   shape: tuple[int, ...], dtype: Any, layout: str) -> None:
    serial = _arrays(shape, count, dtype, layout)
    threaded = [a.copy(order="K") for a in serial]
    for _ in range(2):
        fn(*serial)
        parallel.elementwise(fn, *threaded)
    for s, t in zip(serial, threaded, strict=True):
        assert np.array_equal(_bits(s), _bits(t))


def _model_steps(make_opt: Callable[..., Any], threads: int, steps: int = 3) -> list[np.ndarray]:
    parallel.set_threads(threads)
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(1100, 513), nn.ReLU(), nn.Linear(513, 7))  # 564,300 weights
    opt = make_opt(model.parameters())
    x, y = cr.randn(16, 1100), cr.randint(0, 7, (16,))
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return [p.detach().numpy().copy() for p in model.parameters()] + \
        [v.copy() for s in opt.state.values() for v in s.values() if isinstance(v, np.ndarray)]


OPTIMIZERS = {
    "sgd_momentum": partial(optim.SGD, lr=0.05, momentum=0.9),
    "sgd_dampening_wd": partial(optim.SGD, lr=0.05, momentum=0.8, dampening=0.3,
                                weight_decay=0.01),
    "sgd_nesterov_maximize": partial(optim.SGD, lr=0.05, momentum=0.9, nesterov=True,
                                     maximize=True),
    "sgd_wd": partial(optim.SGD, lr=0.05, weight_decay=0.01),
    "adam": partial(optim.Adam, lr=0.01),
    "adam_wd_amsgrad": partial(optim.Adam, lr=0.01, weight_decay=0.1, amsgrad=True),
    "adamw": partial(optim.AdamW, lr=0.01),
    "adamw_amsgrad_maximize": partial(optim.AdamW, lr=0.02, amsgrad=True, maximize=True),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_steps_are_bit_identical(name: str) -> None:
    serial = _model_steps(OPTIMIZERS[name], 1)
    threaded = _model_steps(OPTIMIZERS[name], 2)
    assert len(serial) == len(threaded) >= 4
    for s, t in zip(serial, threaded, strict=True):
        assert np.array_equal(_bits(s), _bits(t))


def _calls(arrays: list[np.ndarray]) -> list[tuple[int, int]]:
    """(thread, elements) of each call elementwise makes on ``arrays``."""
    seen: list[tuple[int, int]] = []

    def record(*parts: Any) -> None:
        seen.append((threading.get_ident(), parts[0].size))
        relu_backward(*parts)

    parallel.elementwise(record, *arrays)
    return seen


def test_large_arrays_are_split_over_threads_in_blocks() -> None:
    calls = _calls(_arrays((4 * T + 5,), 3, np.float32, "contiguous"))
    assert len({thread for thread, _ in calls}) == 2
    assert max(size for _, size in calls) <= parallel.BLOCK
    assert sum(size for _, size in calls) == 4 * T + 5


@pytest.mark.parametrize("threads", [1, 2])
def test_small_arrays_take_the_plain_path_without_a_pool(
        threads: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "_pool", [])
    parallel.set_threads(threads)
    arrays = _arrays((T - 1,), 3, np.float32, "contiguous")
    assert _calls(arrays) == [(threading.get_ident(), T - 1)]
    assert parallel._pool == []


def test_set_threads_one_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "_pool", [])
    parallel.set_threads(1)
    assert _calls(_arrays((4 * T,), 3, np.float32, "contiguous")) == \
        [(threading.get_ident(), 4 * T)]
    assert parallel._pool == []


@pytest.mark.parametrize(("value", "threads"), [("1", 1), ("3", 3), ("0", 1), ("", None),
                                                ("many", None)])
def test_the_environment_variable_sets_the_default(
        value: str, threads: int | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(parallel.ENV, value)
    parallel.set_threads(None)
    assert parallel.get_threads() == (threads or parallel.usable_cores())


def test_arrays_that_are_not_numpys_take_the_plain_path() -> None:
    class Other(np.ndarray):  # stands for CuPy's arrays: not type np.ndarray
        pass

    arrays = [a.view(Other) for a in _arrays((4 * T,), 3, np.float32, "contiguous")]
    assert _calls(arrays) == [(threading.get_ident(), 4 * T)]


def test_arrays_of_other_shapes_take_the_plain_path() -> None:
    gy, out = _arrays((4 * T,), 2, np.float32, "contiguous")
    assert _calls([gy, np.ones(1, np.float32), out]) == [(threading.get_ident(), 4 * T)]


def test_a_failure_in_a_worker_is_raised() -> None:
    def fail(a: Any) -> None:
        if threading.current_thread() is not threading.main_thread():
            raise FloatingPointError("in a worker")

    with pytest.raises(FloatingPointError, match="in a worker"):
        parallel.elementwise(fail, np.ones(4 * T))


def test_a_call_inside_a_worker_runs_plainly() -> None:
    inner: list[list[tuple[int, int]]] = []
    large = _arrays((4 * T,), 3, np.float32, "contiguous")

    def nested(a: Any) -> None:
        if threading.current_thread() is not threading.main_thread():
            inner.append(_calls(large))

    parallel.elementwise(nested, np.ones((4 * T, 2))[:, 0])  # one row per block: 4T rows
    assert inner and all(len(calls) == 1 for calls in inner)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_forked_child_makes_its_own_pool() -> None:
    parallel.pool()
    assert parallel._pool
    pid = os.fork()
    if pid == 0:  # the child: no pool of its parent's, and a new one works
        ok = not parallel._pool
        arrays = _arrays((4 * T,), 3, np.float32, "contiguous")
        ok = ok and len({thread for thread, _ in _calls(arrays)}) == 2
        os._exit(0 if ok else 1)
    assert os.waitpid(pid, 0)[1] == 0


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_set_threads_checks_its_argument(bad: Any) -> None:
    with pytest.raises(ValueError, match="set_threads"):
        parallel.set_threads(bad)
