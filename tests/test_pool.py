"""Pooling ops, padding modes and channel dropout: a table checked by float64 gradcheck and
against torch's forward and gradient within 1e-10, plus PyTorch's tie and NaN rules for
max pooling.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

from optable import OpCase, check_case, params, torch

TF: Any = None if torch is None else torch.nn.functional


def _case(name: str, fn: str, shape: tuple[int, ...], *args: Any, **kwargs: Any) -> OpCase:
    """One row: ``F.<fn>(x, *args, **kwargs)`` against ``torch.nn.functional.<fn>``."""
    return OpCase(name, lambda x: getattr(F, fn)(x, *args, **kwargs),
                  lambda x: getattr(TF, fn)(x, *args, **kwargs), [(shape,)], "pool")


CASES = [
    _case("max_2x2", "max_pool2d", (2, 3, 6, 6), 2),
    _case("max_odd_size_floor", "max_pool2d", (2, 3, 7, 5), 2),
    _case("max_3_stride_2_pad_1", "max_pool2d", (2, 2, 7, 8), 3, 2, 1),
    _case("max_overlapping_stride_1", "max_pool2d", (2, 2, 5, 5), 3, 1),
    _case("max_nonsquare", "max_pool2d", (2, 2, 7, 8), (2, 3), (1, 2)),
    _case("max_dilation", "max_pool2d", (2, 2, 8, 9), 2, 1, 0, 2),
    _case("max_ceil_mode", "max_pool2d", (2, 2, 7, 7), 2, ceil_mode=True),
    _case("max_ceil_pad_dilation", "max_pool2d", (2, 3, 8, 9), (2, 3), 2, 1, (2, 1),
          ceil_mode=True),
    _case("max_ceil_last_window_dropped", "max_pool2d", (1, 2, 4, 4), 2, 2, 1, ceil_mode=True),
    _case("max_stride_gt_kernel", "max_pool2d", (2, 2, 9, 9), 2, 3),
    _case("max_batch_of_1", "max_pool2d", (1, 4, 5, 5), 3, 2, 1),
    _case("avg_2x2", "avg_pool2d", (2, 3, 6, 6), 2),
    _case("avg_3_stride_2_pad_1", "avg_pool2d", (2, 2, 7, 8), 3, 2, 1),
    _case("avg_exclude_pad", "avg_pool2d", (2, 2, 7, 8), 3, 2, 1, count_include_pad=False),
    _case("avg_ceil_include_pad", "avg_pool2d", (2, 2, 8, 8), 2, 3, 1, ceil_mode=True),
    _case("avg_ceil_exclude_pad", "avg_pool2d", (2, 3, 8, 8), 3, 2, 1, ceil_mode=True,
          count_include_pad=False),
    _case("avg_overlapping", "avg_pool2d", (2, 2, 5, 6), (3, 2), 1),
    _case("avg_divisor_override", "avg_pool2d", (2, 3, 5, 5), 2, divisor_override=3),
    _case("avg_batch_of_1", "avg_pool2d", (1, 2, 5, 5), 2, 1),
    _case("adaptive_divisible", "adaptive_avg_pool2d", (2, 3, 8, 6), (4, 3)),
    _case("adaptive_uneven", "adaptive_avg_pool2d", (2, 3, 7, 9), (3, 4)),
    _case("adaptive_global", "adaptive_avg_pool2d", (2, 3, 5, 4), 1),
    _case("adaptive_upsample", "adaptive_avg_pool2d", (1, 2, 3, 2), (5, 4)),
    _case("adaptive_keep_width", "adaptive_avg_pool2d", (2, 2, 6, 5), (2, None)),
    _case("pad_zeros_4d", "pad", (2, 2, 3, 4), (1, 2, 0, 1)),
    _case("pad_reflect_4d", "pad", (2, 2, 4, 5), (1, 2, 2, 1), mode="reflect"),
    _case("pad_replicate_4d", "pad", (2, 2, 3, 4), (2, 1, 1, 2), mode="replicate"),
    _case("pad_circular_4d", "pad", (2, 2, 3, 4), (1, 2, 2, 1), mode="circular"),
]


@pytest.mark.parametrize(("case", "shapes"), params(CASES))
def test_pool_matches_finite_differences_and_torch(case: OpCase, shapes: tuple) -> None:
    check_case(case, shapes)


@pytest.mark.skipif(torch is None, reason="torch oracle not installed")
@pytest.mark.parametrize(("kernel", "stride", "padding"), [(2, 2, 0), (3, 1, 1), (3, 2, 1)])
def test_max_pool_ties_route_the_gradient_like_torch(kernel: int, stride: int,
                                                     padding: int) -> None:
    """Many equal values: each window's gradient goes to its first maximum in scan order."""
    x = np.random.default_rng(0).integers(0, 3, size=(2, 3, 7, 7)).astype(np.float64)
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = F.max_pool2d(xc, kernel, stride, padding)
    yt = TF.max_pool2d(xt, kernel, stride, padding)
    gy = np.random.default_rng(1).normal(size=tuple(yt.shape))
    y.backward(cr.tensor(gy))
    yt.backward(torch.tensor(gy))
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=0, atol=1e-12)


@pytest.mark.skipif(torch is None, reason="torch oracle not installed")
@pytest.mark.parametrize(("kernel", "size"), [(2, 8), (3, 9), ((2, 3), 6)])
def test_max_pool_tiling_windows_route_ties_like_torch(kernel: Any, size: int) -> None:
    """Windows that tile the input (stride = kernel, no padding; LeNet's pooling): each
    gradient goes to its window's first maximum, bit for bit as PyTorch sends it."""
    x = np.random.default_rng(2).integers(0, 3, size=(2, 3, size, size)).astype(np.float64)
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = F.max_pool2d(xc, kernel)
    yt = TF.max_pool2d(xt, kernel)
    gy = np.random.default_rng(3).normal(size=tuple(yt.shape))
    y.backward(cr.tensor(gy))
    yt.backward(torch.tensor(gy))
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(xc.grad.numpy(), xt.grad.numpy())


@pytest.mark.skipif(torch is None, reason="torch oracle not installed")
def test_max_pool_nan_propagates_and_takes_the_gradient_like_torch() -> None:
    x = np.arange(32.0).reshape(1, 2, 4, 4)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan  # two NaNs in one window: torch keeps the last
    x[0, 1, 3, 3] = np.nan
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = F.max_pool2d(xc, 2), TF.max_pool2d(xt, 2)
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())  # NaN == NaN here
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_array_equal(xc.grad.numpy(), xt.grad.numpy())


def test_max_pool_float32_is_exact_and_int_inputs_work() -> None:
    x = cr.randn(2, 3, 6, 6)
    y = F.max_pool2d(x, 3, 2, 1)
    assert y.dtype == np.float32
    ints = cr.tensor(np.arange(16).reshape(1, 1, 4, 4))
    assert F.max_pool2d(ints, 2, padding=1).tolist() == [[[[0, 2, 3], [8, 10, 11],
                                                           [12, 14, 15]]]]


@pytest.mark.skipif(torch is None, reason="torch oracle not installed")
def test_avg_pool_float32_is_bit_identical_to_torch() -> None:
    """Windows summed in PyTorch's order (row by row) and divided once: the same float32."""
    x = np.random.default_rng(4).normal(size=(4, 3, 9, 9)).astype(np.float32)
    ours = F.avg_pool2d(cr.tensor(x), 3, 2, 1).numpy()
    np.testing.assert_array_equal(ours, TF.avg_pool2d(torch.tensor(x), 3, 2, 1).numpy())


def test_dropout2d_zeros_whole_channels_and_is_seeded() -> None:
    x = cr.ones(8, 16, 3, 3)
    cr.manual_seed(5)
    a = F.dropout2d(x, 0.25).numpy()
    cr.manual_seed(5)
    b = F.dropout2d(x, 0.25).numpy()
    assert np.array_equal(a, b)
    per_channel = a.reshape(8, 16, 9)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))  # all-or-nothing
    assert set(np.unique(a)) == {0.0, np.float32(1 / 0.75)}
    assert 0.1 < (per_channel[:, :, 0] == 0).mean() < 0.4
    assert F.dropout2d(x, 0.25, training=False) is x


def test_dropout2d_gradient_is_the_mask() -> None:
    x = cr.ones(2, 4, 2, 2, requires_grad=True)
    y = F.dropout2d(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
