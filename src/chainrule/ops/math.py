"""Logarithms and exponentials, powers and erf (rounding and integer division: ops/rounding.py).

Each op is one class, forward and backward side by side. Integer inputs compute in the
default float dtype, as in PyTorch.

>>> import chainrule as cr
>>> x = cr.tensor([0.5], requires_grad=True)
>>> cr.log1p(x).sum().backward()
>>> x.grad
tensor([0.6667])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.autograd.function import Function
from chainrule.backend import array_module
from chainrule.ops.promotion import floating

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def special(name: str, x: Any) -> Any:
    """``erf`` or ``erfc`` of an array: CuPy's or SciPy's when there, else the math module's."""
    xp = array_module(x)
    if xp is not np:  # pragma: no cover - GPU only
        import cupyx.scipy.special as cupy_special

        return getattr(cupy_special, name)(x)
    try:
        from scipy import special as scipy_special
    except ImportError:
        return np.asarray(np.frompyfunc(getattr(math, name), 1, 1)(x), dtype=x.dtype)
    return getattr(scipy_special, name)(x)


class Log1p(Function):
    """log(1 + x), exact for small x; d/dx = 1 / (1 + x)."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        x = floating(x)
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return array_module(x).log1p(x)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (x,) = ctx.saved_tensors
        with np.errstate(divide="ignore"):
            return gy / (1 + x)


class Expm1(Function):
    """e^x - 1, exact for small x; d/dx = e^x = y + 1."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        with np.errstate(over="ignore"):
            y = array_module(x).expm1(floating(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (y,) = ctx.saved_tensors
        return gy * (y + 1)


class LogBase(Function):
    """log2 or log10: d/dx = 1 / (x ln(base))."""

    @staticmethod
    def forward(ctx: Any, x: Any, base: int) -> Any:
        x = floating(x)
        xp = array_module(x)
        ctx.save_for_backward(x)
        ctx.ln_base = _LN2 if base == 2 else _LN10
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp.log2(x) if base == 2 else xp.log10(x)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (x,) = ctx.saved_tensors
        with np.errstate(divide="ignore"):
            return gy / (x * ctx.ln_base)


class Square(Function):
    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        if x.dtype.kind == "b":
            x = x.astype(np.int64)  # PyTorch squares bools as integers
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (x,) = ctx.saved_tensors
        return gy * 2 * x


class Rsqrt(Function):
    """1 / sqrt(x); d/dx = -y^3 / 2."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        with np.errstate(divide="ignore", invalid="ignore"):
            y = 1 / array_module(x).sqrt(floating(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (y,) = ctx.saved_tensors
        return gy * (-0.5 * y * y * y)


class Reciprocal(Function):
    """1 / x; d/dx = -y^2."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        with np.errstate(divide="ignore"):
            y = 1 / floating(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (y,) = ctx.saved_tensors
        return -gy * y * y


class Erf(Function):
    """The error function (``complement=True``: erfc = 1 - erf, exact in the tail);
    d erf/dx = 2 / sqrt(pi) * exp(-x^2)."""

    @staticmethod
    def forward(ctx: Any, x: Any, complement: bool) -> Any:
        x = floating(x)
        ctx.save_for_backward(x)
        ctx.sign = -1.0 if complement else 1.0
        return special("erfc" if complement else "erf", x)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (x,) = ctx.saved_tensors
        return gy * (ctx.sign * _TWO_OVER_SQRT_PI) * array_module(x).exp(-x * x)


# ---- functions ----------------------------------------------------------------------


def log1p(input: Any) -> Any:  # noqa: A002 - PyTorch's argument name
    """log(1 + x), accurate for tiny x.

    >>> import chainrule as cr
    >>> cr.log1p(cr.tensor([1e-10], dtype=cr.float64)).item()
    9.999999999500001e-11
    """
    return Log1p.apply(input)


def expm1(input: Any) -> Any:  # noqa: A002
    """e^x - 1, accurate for tiny x.

    >>> import chainrule as cr
    >>> cr.expm1(cr.tensor([1e-10], dtype=cr.float64)).item()
    1.00000000005e-10
    """
    return Expm1.apply(input)


def log2(input: Any) -> Any:  # noqa: A002
    """Base-2 logarithm.

    >>> import chainrule as cr
    >>> cr.log2(cr.tensor([8.0]))
    tensor([3.])
    """
    return LogBase.apply(input, 2)


def log10(input: Any) -> Any:  # noqa: A002
    """Base-10 logarithm.

    >>> import chainrule as cr
    >>> cr.log10(cr.tensor([10.0, 0.1]))
    tensor([ 1., -1.])
    """
    return LogBase.apply(input, 10)


def square(input: Any) -> Any:  # noqa: A002
    """x * x.

    >>> import chainrule as cr
    >>> cr.square(cr.tensor([3, -2]))
    tensor([9, 4])
    """
    return Square.apply(input)


def rsqrt(input: Any) -> Any:  # noqa: A002
    """1 / sqrt(x).

    >>> import chainrule as cr
    >>> cr.rsqrt(cr.tensor([4.0])).tolist()
    [0.5]
    """
    return Rsqrt.apply(input)


def reciprocal(input: Any) -> Any:  # noqa: A002
    """1 / x (integers give floats).

    >>> import chainrule as cr
    >>> cr.reciprocal(cr.tensor([4])).tolist()
    [0.25]
    """
    return Reciprocal.apply(input)


def erf(input: Any) -> Any:  # noqa: A002
    """The error function 2 / sqrt(pi) * integral_0^x exp(-t^2) dt.

    >>> import chainrule as cr
    >>> cr.erf(cr.tensor([0.5]))
    tensor([0.5205])
    """
    return Erf.apply(input, False)


def erfc(input: Any) -> Any:  # noqa: A002
    """1 - erf(x), without the cancellation for large x.

    >>> import chainrule as cr
    >>> cr.erfc(cr.tensor([10.0], dtype=cr.float64)).item() > 0
    True
    """
    return Erf.apply(input, True)
