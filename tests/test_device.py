"""Backend helpers: the fast reductions agree with NumPy's, including NaN, ints and views."""

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule.backend import Device, column_sums, largest, row_sums, smallest

RNG = np.random.default_rng(7)
ARRAYS = {
    "float32 2-D": RNG.normal(size=(32, 10)).astype(np.float32),
    "float64 2-D": RNG.normal(size=(5, 3)),
    "float16": RNG.normal(size=(4, 6)).astype(np.float16),
    "int64 labels": RNG.integers(-3, 10, 40),
    "transposed view": RNG.normal(size=(6, 9)).astype(np.float32).T,
    "strided view": RNG.normal(size=(8, 12))[::2, ::3],
    "one row": RNG.normal(size=(1, 7)),
    "0-d": np.array(2.5),
}


@pytest.mark.parametrize("name", ARRAYS)
@pytest.mark.parametrize("helper, reference", [(smallest, np.min), (largest, np.max)])
def test_smallest_and_largest_match_numpy(name: str, helper: Callable[[Any], Any],
                                          reference: Callable[[Any], Any]) -> None:
    a = ARRAYS[name]
    assert helper(a) == reference(a)
    assert type(helper(a)) in (int, float)


@pytest.mark.parametrize("helper", [smallest, largest])
def test_smallest_and_largest_see_nan(helper: Callable[[Any], Any]) -> None:
    a = np.array([[1.0, 2.0], [np.nan, -4.0]], dtype=np.float32)
    assert np.isnan(helper(a))


@pytest.mark.parametrize("name", [n for n in ARRAYS if ARRAYS[n].ndim == 2])
def test_column_and_row_sums_match_numpy(name: str) -> None:
    a = ARRAYS[name]
    tol = 1e-2 if a.dtype == np.float16 else 1e-5
    for helper, axis in ((column_sums, 0), (row_sums, 1)):
        got = helper(a)
        want = a.sum(axis=axis)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_sums_of_empty_and_one_dimensional_arrays() -> None:
    empty = np.zeros((0, 4), np.float32)
    assert column_sums(empty).tolist() == [0.0] * 4
    assert row_sums(empty).shape == (0,)
    assert column_sums(np.arange(5.0)) == 10.0


def test_the_ones_used_by_the_sums_cannot_be_changed() -> None:
    from chainrule.backend.device import _ones

    with pytest.raises(ValueError, match="read-only"):
        _ones(3, np.dtype(np.float32))[0] = 2


def test_device_names_and_cpu() -> None:
    assert Device("cpu").type == "cpu"
    assert str(cr.ones(2).device) == "cpu"
