"""Sorting, top-k and cumulative sums and products along one dim.

``sort`` and ``topk`` return ``(values, indices)`` pairs like PyTorch's; the gradient of
the values goes back to the positions the indices name.

>>> import chainrule as cr
>>> x = cr.tensor([3.0, 1.0, 2.0], requires_grad=True)
>>> values, indices = cr.sort(x, descending=True)
>>> indices
tensor([0, 2, 1])
>>> (values * cr.tensor([1.0, 10.0, 100.0])).sum().backward()
>>> x.grad
tensor([  1., 100.,  10.])
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from chainrule.autograd.function import Function
from chainrule.backend import array_module
from chainrule.ops.reduce import normalize_dims

SortResult = namedtuple("SortResult", ["values", "indices"])
TopKResult = namedtuple("TopKResult", ["values", "indices"])


def _order(x: Any, axis: int, descending: bool) -> Any:
    """Stable sorting indices along ``axis`` (ties keep their order, either direction)."""
    xp = array_module(x)
    if descending:
        key = x.astype(np.int64) if x.dtype.kind in "bu" else x
        return xp.argsort(-key, axis=axis, kind="stable")
    return xp.argsort(x, axis=axis, kind="stable")


class Sort(Function):
    """Values and indices of the first ``k`` sorted entries along ``axis`` (all when k is
    None); backward puts each value's gradient back at its index."""

    @staticmethod
    def forward(ctx: Any, x: Any, axis: int, descending: bool, k: Any) -> Any:
        xp = array_module(x)
        ctx.shape, ctx.axis = x.shape, axis
        if x.ndim == 0:  # a 0-d tensor is its own sort
            idx = xp.zeros((), dtype=np.int64)
            ctx.mark_non_differentiable(idx)
            return x.copy(), idx
        idx = _order(x, axis, descending)
        if k is not None:
            idx = xp.take(idx, xp.arange(k), axis=axis)
        idx = idx.astype(np.int64, copy=False)
        ctx.save_for_backward(idx)
        ctx.mark_non_differentiable(idx)
        return xp.take_along_axis(x, idx, axis=axis), idx

    @staticmethod
    def backward(ctx: Any, g_values: Any, g_indices: Any) -> Any:
        if not ctx.shape:
            return g_values
        xp = array_module(g_values)
        (idx,) = ctx.saved_tensors
        gx = xp.zeros(ctx.shape, dtype=g_values.dtype)
        xp.put_along_axis(gx, idx, g_values, axis=ctx.axis)
        return gx


def _reverse_cumsum(g: Any, axis: int) -> Any:
    xp = array_module(g)
    return xp.flip(xp.cumsum(xp.flip(g, axis), axis=axis), axis)


class CumSum(Function):
    """Running sums; the gradient is the running sum of gy taken from the end."""

    @staticmethod
    def forward(ctx: Any, x: Any, axis: int, dtype: Any) -> Any:
        ctx.axis = axis
        if x.ndim == 0:  # a 0-d tensor is its own running sum
            return x.astype(dtype, copy=True)
        return array_module(x).cumsum(x, axis=axis, dtype=dtype)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        return _reverse_cumsum(gy, ctx.axis) if gy.ndim else gy


class CumProd(Function):
    """Running products. With no zeros, gx = reverse_cumsum(gy * y) / x; inputs with zeros
    use the recurrence s_i = gy_i + x_(i+1) s_(i+1), gx_i = prod(x_(<i)) s_i (no division)."""

    @staticmethod
    def forward(ctx: Any, x: Any, axis: int, dtype: Any) -> Any:
        if x.ndim == 0:
            return x.astype(dtype, copy=True)
        y = array_module(x).cumprod(x, axis=axis, dtype=dtype)
        ctx.save_for_backward(x, y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        if gy.ndim == 0:
            return gy
        x, y = ctx.saved_tensors
        xp = array_module(gy)
        axis = ctx.axis
        if not bool((x == 0).any()):
            return _reverse_cumsum(gy * y, axis) / x
        xs, gs = xp.moveaxis(x, axis, 0), xp.moveaxis(gy, axis, 0)
        n = xs.shape[0]
        before = xp.ones_like(gs)  # prod(x_k for k < i)
        if n > 1:
            before[1:] = xp.cumprod(xs[:-1], axis=0)
        s = xp.empty_like(gs)
        s[n - 1] = gs[n - 1]
        for i in range(n - 2, -1, -1):
            s[i] = gs[i] + xs[i + 1] * s[i + 1]
        return xp.moveaxis(before * s, 0, axis)


# ---- functions ----------------------------------------------------------------------


def _axis(op: str, x: Any, dim: int) -> int:
    if x.ndim == 0:
        if dim not in (0, -1):
            raise IndexError(f"{op}: dim {dim} is out of range for a 0-d tensor (valid: -1, 0)")
        return 0
    (axis,) = normalize_dims(op, dim, x.ndim)
    return axis


def sort(input: Any, dim: int = -1, descending: bool = False,  # noqa: A002
         stable: bool = False) -> Any:
    """Sorted values and their indices along ``dim`` (ties keep their order).

    >>> import chainrule as cr
    >>> cr.sort(cr.tensor([2, 3, 1])).values
    tensor([1, 2, 3])
    """
    values, indices = Sort.apply(input, _axis("sort", input, dim), descending, None)
    return SortResult(values, indices)


def argsort(input: Any, dim: int = -1, descending: bool = False,  # noqa: A002
            stable: bool = False) -> Any:
    """The indices that sort ``input`` along ``dim``.

    >>> import chainrule as cr
    >>> cr.argsort(cr.tensor([2.0, 3.0, 1.0]), descending=True)
    tensor([1, 0, 2])
    """
    return sort(input, dim, descending, stable).indices


def topk(input: Any, k: int, dim: int = -1, largest: bool = True,  # noqa: A002
         sorted: bool = True) -> Any:  # noqa: A002 - PyTorch's argument name
    """The ``k`` largest (or smallest) values along ``dim`` and their indices.

    >>> import chainrule as cr
    >>> cr.topk(cr.tensor([1.0, 5.0, 3.0, 4.0]), 2)
    TopKResult(values=tensor([5., 4.]), indices=tensor([1, 3]))
    """
    axis = _axis("topk", input, dim)
    size = input.shape[axis] if input.ndim else 1
    if not 0 <= k <= size:
        raise IndexError(f"topk: k={k} is out of range for dim {dim} of size {size} "
                         f"(input {tuple(input.shape)} {input.dtype})")
    values, indices = Sort.apply(input, axis, largest, k)
    return TopKResult(values, indices)


def cumsum(input: Any, dim: int, dtype: Any = None) -> Any:  # noqa: A002
    """Running sum along ``dim`` (integers and bools sum as int64, as in PyTorch).

    >>> import chainrule as cr
    >>> cr.cumsum(cr.tensor([1, 2, 3]), dim=0)
    tensor([1, 3, 6])
    """
    return CumSum.apply(input, _axis("cumsum", input, dim), _accumulator(input, dtype))


def cumprod(input: Any, dim: int, dtype: Any = None) -> Any:  # noqa: A002
    """Running product along ``dim``.

    >>> import chainrule as cr
    >>> cr.cumprod(cr.tensor([1.0, 2.0, 3.0]), dim=0)
    tensor([1., 2., 6.])
    """
    return CumProd.apply(input, _axis("cumprod", input, dim), _accumulator(input, dtype))


def _accumulator(x: Any, dtype: Any) -> Any:
    if dtype is not None:
        return np.dtype(dtype)
    return np.dtype(np.int64) if x.dtype.kind in "biu" else x.dtype


def argmax(input: Any, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A002
    """Index of the largest value (of the flattened tensor when ``dim`` is None).

    >>> import chainrule as cr
    >>> cr.argmax(cr.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1)
    tensor([1, 0])
    """
    return input.argmax(dim, keepdim)


def argmin(input: Any, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A002
    """Index of the smallest value (of the flattened tensor when ``dim`` is None).

    >>> import chainrule as cr
    >>> cr.argmin(cr.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=0)
    tensor([0, 1])
    """
    return input.argmin(dim, keepdim)
