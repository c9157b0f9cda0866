"""Elementwise arithmetic: forward and backward of each op side by side.

Binary ops broadcast like NumPy; their backward returns gradients with the
output's (broadcast) shape and the engine sums them back to each input's
shape. Either input may be a plain number.

>>> import chainrule as cr
>>> x = cr.tensor([1.0, 2.0], requires_grad=True)
>>> (x * x + 3).sum().backward()
>>> x.grad
tensor([2., 4.])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.autograd.function import Function
from chainrule.backend import array_module
from chainrule.ops.promotion import floating, promote, promote_float, promote_sub, refuse_bools

_ARRAY = np.ndarray  # two NumPy arrays of one dtype need no promotion: checked inline (hot path)
# 0-d float arrays of these dtypes (the scalars of micrograd-style programs) are added and
# multiplied as Python floats: the same IEEE result (a float32 sum or product computed in
# double and rounded once is the correctly rounded float32 one: 53 >= 2 * 24 + 2 bits), at
# a third of the cost of a ufunc on 0-d arrays and of wrapping NumPy's scalar result
_SCALAR_DTYPES = frozenset((np.dtype(np.float64), np.dtype(np.float32)))
_zero_d = np.array


class Add(Function):
    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        if type(a) is not _ARRAY or type(b) is not _ARRAY or a.dtype is not b.dtype:
            a, b = promote(a, b)  # PyTorch's result dtype (ops/promotion.py)
        elif not a.ndim and not b.ndim and a.dtype in _SCALAR_DTYPES:
            return _zero_d(a.item() + b.item(), a.dtype)
        return a + b

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        return gy, gy


class Sub(Function):
    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        if type(a) is not _ARRAY or type(b) is not _ARRAY or a.dtype is not b.dtype:
            a, b = promote_sub(a, b)  # (and bools are refused, as PyTorch does)
        elif not a.ndim and not b.ndim and a.dtype in _SCALAR_DTYPES:
            return _zero_d(a.item() - b.item(), a.dtype)
        return a - b

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        return gy, (-gy if ctx.needs_input_grad[1] else None)


class Mul(Function):
    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        if type(a) is not _ARRAY or type(b) is not _ARRAY or a.dtype is not b.dtype:
            a, b = promote(a, b)
            scalars = False
        else:
            scalars = not a.ndim and not b.ndim and a.dtype in _SCALAR_DTYPES
        need_a, need_b = ctx.needs_input_grad
        # save only what the wanted gradients read: d(ab)/da = b, d(ab)/db = a
        ctx.save_for_backward(b if need_a else None, a if need_b else None)
        if scalars:
            return _zero_d(a.item() * b.item(), a.dtype)
        return a * b

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        b, a = ctx.saved_tensors
        return (gy * b if b is not None else None), (gy * a if a is not None else None)


class Div(Function):
    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        if type(a) is not _ARRAY or type(b) is not _ARRAY or a.dtype is not b.dtype \
                or a.dtype.kind != "f":
            a, b = promote_float(a, b)  # integers divide into the default float dtype
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        a, b = ctx.saved_tensors
        ga = gy / b if ctx.needs_input_grad[0] else None
        gb = -gy * a / (b * b) if ctx.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        return -a

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        return -gy


def _is_number(value: Any) -> bool:
    """A Python or NumPy number rather than an array (a bool, so that types stay Any)."""
    return bool(np.isscalar(value))


def _small_integer(b: Any) -> bool:
    """An exponent NumPy raises to exactly (by multiplying): 2 in ``x ** 2``."""
    return isinstance(b, (int, float)) and b in (-1, 0, 1, 2, 3)


class Pow(Function):
    """``a ** b``; ``b`` may be a number or a tensor.

    d/da = b * a**(b-1); d/db = a**b * log(a), taken as 0 where a == 0 (PyTorch's choice).
    """

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        a, b = promote(a, b)
        if hasattr(b, "dtype"):  # (a bool tensor to a Python bool power is allowed)
            refuse_bools("pow", a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            if getattr(a, "dtype", None) == np.bool_:  # bool ** True is a, ** False is True
                y = array_module(a).logical_or(a, not b)
            elif getattr(a, "dtype", None) == np.float32 and not _small_integer(b):
                y = (a.astype(np.float64) ** b).astype(np.float32)  # rounded once, as PyTorch
            else:
                y = a**b
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        a, b, y = ctx.saved_tensors
        xp = array_module(gy)
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.needs_input_grad[0]:
                if isinstance(b, (int, float)) and b == 2:
                    ga = gy * 2 * a
                elif _is_number(b):  # no mask: CuPy's where takes arrays only
                    ga = xp.zeros_like(gy) if b == 0 else gy * b * a ** (b - 1)
                else:
                    ga = gy * b * a ** (b - 1)
                    ga = xp.where(b == 0, 0.0, ga).astype(ga.dtype, copy=False)
            if ctx.needs_input_grad[1] and _is_number(a):  # 2 ** t: no mask either
                log_a = math.log(a) if a > 0 else (0.0 if a == 0 else math.nan)
                gb = gy * y * log_a  # a Python float keeps gy's dtype
                if a == 0:
                    gb = xp.where(b >= 0, 0.0, gb).astype(gb.dtype, copy=False)
            elif ctx.needs_input_grad[1]:
                gb = gy * y * xp.log(xp.where(a == 0, 1.0, a))
                gb = xp.where((a == 0) & (b >= 0), 0.0, gb).astype(gb.dtype, copy=False)
        return ga, gb


class Exp(Function):
    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        y = np.exp(floating(a))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (y,) = ctx.saved_tensors
        return gy * y


class Log(Function):
    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        a = floating(a)
        ctx.save_for_backward(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(a)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (a,) = ctx.saved_tensors
        with np.errstate(divide="ignore"):
            return gy / a


class Sqrt(Function):
    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        with np.errstate(invalid="ignore"):
            y = np.sqrt(floating(a))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (y,) = ctx.saved_tensors
        with np.errstate(divide="ignore"):
            return gy / (2 * y)


class Abs(Function):
    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (a,) = ctx.saved_tensors
        return gy * array_module(a).sign(a)


class Maximum(Function):
    """Elementwise max; on ties each input gets half the gradient (as in PyTorch)."""

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        a, b = promote(a, b)
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        a, b = ctx.saved_tensors
        share = (a > b) + 0.5 * (a == b)
        return gy * share, gy * (1.0 - share)


class Minimum(Function):
    """Elementwise min; on ties each input gets half the gradient (as in PyTorch)."""

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        a, b = promote(a, b)
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        a, b = ctx.saved_tensors
        share = (a < b) + 0.5 * (a == b)
        return gy * share, gy * (1.0 - share)


class Where(Function):
    """``where(cond, a, b)``: a where cond is true, else b; cond gets no gradient."""

    @staticmethod
    def forward(ctx: Any, cond: Any, a: Any, b: Any) -> Any:
        ctx.save_for_backward(cond)
        a, b = promote(a, b)
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (cond,) = ctx.saved_tensors
        zero = gy.dtype.type(0)
        xp = array_module(gy)
        ga = xp.where(cond, gy, zero) if ctx.needs_input_grad[1] else None
        gb = xp.where(cond, zero, gy) if ctx.needs_input_grad[2] else None
        return None, ga, gb


class Clamp(Function):
    """Clip to ``[lo, hi]``; the gradient passes where lo <= x <= hi (bounds included)."""

    @staticmethod
    def forward(ctx: Any, a: Any, lo: Any, hi: Any) -> Any:
        ctx.save_for_backward(a)
        ctx.lo, ctx.hi = lo, hi
        if lo is None:
            return np.minimum(a, hi)
        if hi is None:
            return np.maximum(a, lo)
        return np.minimum(np.maximum(a, lo), hi)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (a,) = ctx.saved_tensors
        keep = np.ones(a.shape, dtype=bool) if ctx.lo is None else a >= ctx.lo
        if ctx.hi is not None:
            keep &= a <= ctx.hi
        return gy * keep


class Logical(Function):
    """``fn(*arrays)`` for functions with no gradient: comparisons, logic, ``sign``, ``isnan``.

    Called on raw arrays, so nothing is recorded for backward. It is an op all the same so
    that a captured training step (``chainrule.compile``) records it and computes the mask
    again in every replay instead of keeping the first step's as a constant.
    """

    @staticmethod
    def forward(ctx: Any, fn: Any, *arrays: Any) -> Any:
        return fn(*arrays)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:  # pragma: no cover - inputs are never tracked
        raise RuntimeError("Logical has no gradient")


# ---- functions (what Tensor operators and users call) --------------------------------


def add(a: Any, b: Any) -> Any:
    """``a + b`` with broadcasting.

    >>> import chainrule as cr
    >>> cr.add(cr.tensor([1.0, 2.0]), 1)
    tensor([2., 3.])
    """
    return Add.apply(a, b)


def sub(a: Any, b: Any) -> Any:
    """``a - b`` with broadcasting."""
    return Sub.apply(a, b)


def mul(a: Any, b: Any) -> Any:
    """``a * b`` with broadcasting."""
    return Mul.apply(a, b)


def div(a: Any, b: Any) -> Any:
    """``a / b`` with broadcasting."""
    return Div.apply(a, b)


def neg(a: Any) -> Any:
    """``-a``."""
    return Neg.apply(a)


def pow(a: Any, b: Any) -> Any:  # noqa: A001 - mirrors torch.pow
    """``a ** b``; the exponent may be a number or a tensor.

    >>> import chainrule as cr
    >>> cr.pow(cr.tensor([2.0, 3.0]), 2)
    tensor([4., 9.])
    """
    return Pow.apply(a, b)


def exp(a: Any) -> Any:
    """Elementwise ``e ** a``."""
    return Exp.apply(a)


def log(a: Any) -> Any:
    """Natural logarithm (``nan`` below 0, ``-inf`` at 0, without warnings)."""
    return Log.apply(a)


def sqrt(a: Any) -> Any:
    """Elementwise square root."""
    return Sqrt.apply(a)


def abs(a: Any) -> Any:  # noqa: A001 - mirrors torch.abs
    """Absolute value; the gradient at 0 is 0."""
    return Abs.apply(a)


def maximum(a: Any, b: Any) -> Any:
    """Elementwise maximum (ties split the gradient equally)."""
    return Maximum.apply(a, b)


def minimum(a: Any, b: Any) -> Any:
    """Elementwise minimum (ties split the gradient equally)."""
    return Minimum.apply(a, b)


def where(cond: Any, a: Any, b: Any) -> Any:
    """Pick ``a`` where ``cond`` is true, else ``b``.

    >>> import chainrule as cr
    >>> x = cr.tensor([-1.0, 2.0])
    >>> cr.where(x > 0, x, 0.0)
    tensor([0., 2.])
    """
    from chainrule.tensor import Tensor

    cond_array = cond._data if isinstance(cond, Tensor) else cond
    return Where.apply(cond_array, a, b)


def clamp(a: Any, min: Any = None, max: Any = None) -> Any:  # noqa: A002
    """Clip values to ``[min, max]`` (either bound may be None).

    >>> import chainrule as cr
    >>> cr.clamp(cr.tensor([-2.0, 0.5, 3.0]), -1, 1)
    tensor([-1.0000,  0.5000,  1.0000])
    """
    if min is None and max is None:
        raise ValueError("clamp: give at least one of min and max")
    return Clamp.apply(a, min, max)
