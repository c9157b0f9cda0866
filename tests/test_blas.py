"""chainrule.backend.blas: mid-sized products run on one BLAS thread, then the pools get
their thread counts back; small and large products and CuPy are left alone."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from chainrule.backend import blas


def _counts() -> list[int]:
    return [pool.get_num_threads() for pool in blas.blas_pools()]


@pytest.fixture()
def two_threads():
    """The BLAS pools at two threads for the test (skipped where a pool cannot have two)."""
    with threadpool_limits(2, user_api="blas"):
        if not blas.blas_pools() or min(_counts()) < 2:
            pytest.skip("no BLAS pool with two threads here")
        yield


@pytest.mark.parametrize("m, k, n, capped", [
    (64, 400, 120, True),  # LeNet's first linear layer: 3,072,000 multiply-adds
    (16, 150, 6400, True),
    (32, 784, 16, False),  # the tutorials' first layer (401,408): the cap cost more
    (8, 8, 8, False),  # OpenBLAS runs it on one thread anyway
    (256, 1024, 1024, False),  # large: the user's threads
])
def test_serial_caps_only_mid_sized_products(two_threads, m: int, k: int, n: int,
                                             capped: bool) -> None:
    before = _counts()
    with blas.serial(np, m, k, n):
        inside = _counts()
    assert inside == ([1] * len(before) if capped else before)
    assert _counts() == before  # given back


def test_nested_caps_and_errors_give_the_threads_back(two_threads) -> None:
    before = _counts()
    with pytest.raises(ValueError, match="inside"):
        with blas.serial(np, 16, 150, 6400):
            with blas.serial(np, 64, 400, 120):  # already one thread: nothing to do
                assert _counts() == [1] * len(before)
            assert _counts() == [1] * len(before)
            raise ValueError("inside")
    assert _counts() == before


def test_other_array_modules_get_no_context() -> None:
    class FakeCupy:
        pass

    assert blas.serial(FakeCupy, 64, 400, 120) is blas.NOTHING


def test_dot_caps_only_mid_sized_products(monkeypatch) -> None:
    """``blas.dot`` (Linear's products) enters the cap where ``for_work`` would, and
    gives ``a.dot(b)``'s values."""
    entered: list[int] = []

    class Recording:
        def __enter__(self) -> None:
            entered.append(1)

        def __exit__(self, *error: object) -> None:
            return None

    monkeypatch.setattr(blas, "OneThread", Recording)
    a, b = np.ones((64, 400), np.float32), np.ones((400, 120), np.float32)
    assert np.array_equal(blas.dot(a, b, 64 * 400 * 120), a.dot(b))
    assert entered == [1]
    small = np.arange(9.0).reshape(3, 3)
    assert np.array_equal(blas.dot(small, small.T, 27), small.dot(small.T))
    assert entered == [1]  # below the capped range: no context at all
