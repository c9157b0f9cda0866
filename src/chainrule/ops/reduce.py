"""Reductions (sum, mean, max, min, var, logsumexp) and softmax / log_softmax.

Every reduction takes ``dim`` (an int, a tuple of ints, or None for all) and
``keepdim``. Backward re-inserts the reduced axes and broadcasts the gradient
back over them.

>>> import chainrule as cr
>>> x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> x.sum(dim=1)
tensor([3., 7.], grad_fn=<SumBackward1>)
"""

from __future__ import annotations

import builtins as _bi
from collections import namedtuple
from typing import Any

import numpy as np

from chainrule.autograd.function import Function
from chainrule.backend import array_module

MaxResult = namedtuple("MaxResult", ["values", "indices"])


def normalize_dims(op: str, dim: Any, ndim: int) -> tuple[int, ...]:
    """Turn ``dim`` (None, int or tuple; negatives allowed) into sorted positive axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = []
    for d in dims:
        if not -_bi.max(ndim, 1) <= d < _bi.max(ndim, 1):
            raise IndexError(
                f"{op}: dim {d} is out of range for a tensor with {ndim} dims "
                f"(valid: {-_bi.max(ndim, 1)} .. {_bi.max(ndim, 1) - 1})"
            )
        out.append(d % ndim if ndim else 0)
    return tuple(sorted(set(out)))


def keep_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` reduced over ``axes`` with keepdim (each reduced axis of length 1)."""
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def drop_axes(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` reduced over ``axes`` without keepdim (the reduced axes removed)."""
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _expand_grad(gy: Any, shape: tuple[int, ...], axes: tuple[int, ...]) -> Any:
    """Reshape a reduced gradient to keepdim form and broadcast it over ``shape``."""
    xp = array_module(gy)
    return xp.broadcast_to(gy.reshape(keep_shape(shape, axes)), shape)


class Sum(Function):
    @staticmethod
    def forward(ctx: Any, x: Any, axes: tuple[int, ...], keepdim: bool) -> Any:
        ctx.shape, ctx.axes = x.shape, axes
        return x.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        return _expand_grad(gy, ctx.shape, ctx.axes)


class Mean(Function):
    @staticmethod
    def forward(ctx: Any, x: Any, axes: tuple[int, ...], keepdim: bool) -> Any:
        ctx.shape, ctx.axes = x.shape, axes
        ctx.count = int(np.prod([x.shape[a] for a in axes]))
        with np.errstate(invalid="ignore", divide="ignore"):
            return x.sum(axis=axes, keepdims=keepdim) / x.dtype.type(ctx.count)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        return _expand_grad(gy / gy.dtype.type(_bi.max(ctx.count, 1)), ctx.shape, ctx.axes)


def _check_nonempty(op: str, x: Any, axes: tuple[int, ...]) -> None:
    if any(x.shape[a] == 0 for a in axes) or (not axes and x.size == 0):
        raise ValueError(
            f"{op}: cannot reduce over an empty dimension (input shape {tuple(x.shape)}); "
            "max/min have no value for zero elements"
        )


class Amax(Function):
    """Max over ``axes``; tied maxima share the gradient evenly (torch.amax / torch.max(x))."""

    @staticmethod
    def forward(ctx: Any, x: Any, axes: tuple[int, ...], keepdim: bool, largest: bool) -> Any:
        _check_nonempty("max" if largest else "min", x, axes)
        y = x.max(axis=axes, keepdims=True) if largest else x.min(axis=axes, keepdims=True)
        ctx.axes = axes
        if not keepdim:
            y = y.reshape(drop_axes(y.shape, axes))
        ctx.save_for_backward(x, y)  # the output itself (what a recorded backward needs)
        return y

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        x, y = ctx.saved_tensors
        y = y.reshape(keep_shape(x.shape, ctx.axes))
        mask = x == y
        count = mask.sum(axis=ctx.axes, keepdims=True)
        return mask * (gy.reshape(y.shape) / count).astype(gy.dtype, copy=False)


class MaxDim(Function):
    """Max (or min) along one dim, returning (values, indices); the gradient goes to the index."""

    @staticmethod
    def forward(ctx: Any, x: Any, axis: int, keepdim: bool, largest: bool) -> Any:
        xp = array_module(x)
        _check_nonempty("max" if largest else "min", x, (axis,))
        idx = xp.expand_dims(x.argmax(axis=axis) if largest else x.argmin(axis=axis), axis)
        values = xp.take_along_axis(x, idx, axis=axis)
        ctx.shape, ctx.axis = x.shape, axis
        ctx.save_for_backward(idx)
        if not keepdim:
            values, idx = values.squeeze(axis), idx.squeeze(axis)
        idx = idx.astype(np.int64, copy=False)
        ctx.mark_non_differentiable(idx)
        return values, idx

    @staticmethod
    def backward(ctx: Any, g_values: Any, g_indices: Any) -> Any:
        xp = array_module(g_values)
        (idx,) = ctx.saved_tensors
        gx = xp.zeros(ctx.shape, dtype=g_values.dtype)
        xp.put_along_axis(gx, idx, g_values.reshape(idx.shape), axis=ctx.axis)
        return gx


class Var(Function):
    """Variance with Bessel's ``correction`` (1 = unbiased, PyTorch's default)."""

    @staticmethod
    def forward(ctx: Any, x: Any, axes: tuple[int, ...], correction: int, keepdim: bool) -> Any:
        n = int(np.prod([x.shape[a] for a in axes]))
        diff = x - x.mean(axis=axes, keepdims=True) if n else x
        ctx.save_for_backward(x)  # (the input: backward recomputes diff, one pass)
        ctx.axes, ctx.denom = axes, x.dtype.type(_bi.max(n - correction, 0))
        with np.errstate(invalid="ignore", divide="ignore"):
            return (diff * diff).sum(axis=axes, keepdims=keepdim) / ctx.denom

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (x,) = ctx.saved_tensors
        diff = x - x.mean(axis=ctx.axes, keepdims=True) if x.size else x
        with np.errstate(invalid="ignore", divide="ignore"):
            return gy.reshape(keep_shape(diff.shape, ctx.axes)) * 2 * diff / ctx.denom


def _logsumexp_keep(x: Any, axes: tuple[int, ...]) -> Any:
    xp = array_module(x)
    if all(x.shape[a] for a in axes):
        m = x.max(axis=axes, keepdims=True)
    else:  # an empty sum: log(0) = -inf (CuPy's max has no ``initial``)
        m = xp.full(keep_shape(x.shape, axes), -xp.inf, dtype=x.dtype)
    m = xp.where(xp.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        return m + xp.log(xp.exp(x - m).sum(axis=axes, keepdims=True))


class LogSumExp(Function):
    """log(sum(exp(x))) computed as m + log(sum(exp(x - m))) with m = max(x)."""

    @staticmethod
    def forward(ctx: Any, x: Any, axes: tuple[int, ...], keepdim: bool) -> Any:
        out = _logsumexp_keep(x, axes)
        ctx.axes = axes
        if not keepdim:
            out = out.reshape(drop_axes(out.shape, axes))
        ctx.save_for_backward(x, out)  # the output itself (what a recorded backward needs)
        return out

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        x, out = ctx.saved_tensors
        keep = keep_shape(x.shape, ctx.axes)
        return gy.reshape(keep) * array_module(x).exp(x - out.reshape(keep))


class Softmax(Function):
    """y = exp(x - max) / sum(exp(x - max));  dx = y * (gy - sum(gy * y))."""

    @staticmethod
    def forward(ctx: Any, x: Any, axis: int) -> Any:
        xp = array_module(x)
        e = xp.exp(x - x.max(axis=axis, keepdims=True))
        y = e / e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (y,) = ctx.saved_tensors
        return y * (gy - (gy * y).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    """y = x - logsumexp(x);  dx = gy - exp(y) * sum(gy)."""

    @staticmethod
    def forward(ctx: Any, x: Any, axis: int) -> Any:
        y = x - _logsumexp_keep(x, (axis,))
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (y,) = ctx.saved_tensors
        return gy - array_module(y).exp(y) * gy.sum(axis=ctx.axis, keepdims=True)


# ---- functions ----------------------------------------------------------------------


def _keep(keepdim: bool, keepdims: bool | None) -> bool:
    """``keepdims`` is NumPy's spelling of ``keepdim``; PyTorch accepts both."""
    return keepdim if keepdims is None else bool(keepdims)


def _as_dtype(x: Any, dtype: Any) -> Any:
    """``dtype=``: cast the input first, as PyTorch does (``sum(x, dtype=cr.float64)``)."""
    return x if dtype is None or np.dtype(dtype) == x.dtype else x.to(np.dtype(dtype))


def sum(x: Any, dim: Any = None, keepdim: bool = False, *,  # noqa: A001
        keepdims: bool | None = None, dtype: Any = None) -> Any:
    """Sum over ``dim`` (all dims when None); bools and integers sum as int64.

    >>> import chainrule as cr
    >>> cr.sum(cr.ones(2, 3), dim=0)
    tensor([2., 2., 2.])
    >>> cr.sum(cr.tensor([True, True, False]))
    tensor(2)
    """
    x = _as_dtype(x, dtype)  # (NumPy, too, sums bools and small integers as int64)
    return Sum.apply(x, normalize_dims("sum", dim, x.ndim), _keep(keepdim, keepdims))


def mean(x: Any, dim: Any = None, keepdim: bool = False, *,
         keepdims: bool | None = None, dtype: Any = None) -> Any:
    """Arithmetic mean over ``dim`` (all dims when None)."""
    x = _as_dtype(x, dtype)
    keepdim = _keep(keepdim, keepdims)
    if x.dtype.kind not in "fc":
        raise TypeError(
            f"mean: input dtype {x.dtype} is not floating point; convert with .float() first"
        )
    return Mean.apply(x, normalize_dims("mean", dim, x.ndim), keepdim)


def _extreme(x: Any, dim: Any, keepdim: bool, largest: bool) -> Any:
    name = "max" if largest else "min"
    if hasattr(dim, "grad_fn"):  # max(a, b) with a tensor b: elementwise, as torch.max
        from chainrule.ops.elementwise import maximum, minimum

        return maximum(x, dim) if largest else minimum(x, dim)
    if dim is None:
        return Amax.apply(x, normalize_dims(name, None, x.ndim), False, largest)
    if not isinstance(dim, int):
        raise TypeError(f"{name}: dim must be an int for (values, indices); use amax for tuples")
    (axis,) = normalize_dims(name, dim, x.ndim)
    values, indices = MaxDim.apply(x, axis, keepdim, largest)
    return MaxResult(values, indices)


def max(x: Any, dim: Any = None, keepdim: bool = False, *,  # noqa: A001
        keepdims: bool | None = None) -> Any:
    """Largest value; with ``dim``, a ``(values, indices)`` pair like ``torch.max``; with a
    tensor in place of ``dim``, the elementwise maximum (``torch.max(a, b)``).

    Without ``dim``, tied maxima share the gradient evenly; with ``dim`` the
    gradient goes to the returned index.

    >>> import chainrule as cr
    >>> cr.max(cr.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1).indices
    tensor([1, 0])
    >>> cr.max(cr.tensor([1.0, 5.0]), cr.tensor([3.0, 2.0]))
    tensor([3., 5.])
    """
    return _extreme(x, dim, _keep(keepdim, keepdims), largest=True)


def min(x: Any, dim: Any = None, keepdim: bool = False, *,  # noqa: A001
        keepdims: bool | None = None) -> Any:
    """Smallest value; with ``dim``, a ``(values, indices)`` pair like ``torch.min``; with a
    tensor in place of ``dim``, the elementwise minimum."""
    return _extreme(x, dim, _keep(keepdim, keepdims), largest=False)


def amax(x: Any, dim: Any = None, keepdim: bool = False, *,
         keepdims: bool | None = None) -> Any:
    """Max over one or more dims; ties share the gradient evenly."""
    return Amax.apply(x, normalize_dims("amax", dim, x.ndim), _keep(keepdim, keepdims), True)


def amin(x: Any, dim: Any = None, keepdim: bool = False, *,
         keepdims: bool | None = None) -> Any:
    """Min over one or more dims; ties share the gradient evenly."""
    return Amax.apply(x, normalize_dims("amin", dim, x.ndim), _keep(keepdim, keepdims), False)


def var(x: Any, dim: Any = None, correction: int = 1, keepdim: bool = False,
        unbiased: bool | None = None, *, keepdims: bool | None = None) -> Any:
    """Variance; ``correction=1`` (or ``unbiased=True``) divides by n - 1.

    >>> import chainrule as cr
    >>> cr.var(cr.tensor([1.0, 2.0, 3.0, 4.0]))
    tensor(1.6667)
    """
    if unbiased is not None:
        correction = 1 if unbiased else 0
    return Var.apply(x, normalize_dims("var", dim, x.ndim), correction, _keep(keepdim, keepdims))


def std(x: Any, dim: Any = None, correction: int = 1, keepdim: bool = False,
        unbiased: bool | None = None, *, keepdims: bool | None = None) -> Any:
    """Standard deviation: sqrt of :func:`var`."""
    from chainrule.ops.elementwise import sqrt

    return sqrt(var(x, dim, correction, _keep(keepdim, keepdims), unbiased))


def logsumexp(x: Any, dim: Any = None, keepdim: bool = False, *,
              keepdims: bool | None = None) -> Any:
    """log(sum(exp(x))) over ``dim``, stable for large inputs.

    >>> import chainrule as cr
    >>> cr.logsumexp(cr.tensor([1000.0, 1000.0]), dim=0)
    tensor(1000.6932)
    """
    return LogSumExp.apply(x, normalize_dims("logsumexp", dim, x.ndim), _keep(keepdim, keepdims))


def softmax(x: Any, dim: int = -1) -> Any:
    """Softmax along ``dim``: exponentiate and normalize to sum 1.

    >>> import chainrule as cr
    >>> cr.softmax(cr.tensor([0.0, 0.0]), dim=0)
    tensor([0.5000, 0.5000])
    """
    (axis,) = normalize_dims("softmax", dim, x.ndim)
    return Softmax.apply(x, axis)


def log_softmax(x: Any, dim: int = -1) -> Any:
    """log(softmax(x)) along ``dim``, computed stably as x - logsumexp(x)."""
    (axis,) = normalize_dims("log_softmax", dim, x.ndim)
    return LogSoftmax.apply(x, axis)
