"""Trigonometric and hyperbolic functions, forward and backward side by side.

Integer and bool inputs compute in the default float dtype, as in PyTorch.

>>> import chainrule as cr
>>> x = cr.tensor([1.0], requires_grad=True)
>>> cr.sin(x).sum().backward()
>>> x.grad
tensor([0.5403])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.autograd.function import Function
from chainrule.backend import array_module
from chainrule.ops.promotion import floating, promote


class Sin(Function):
    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        x = floating(x)
        ctx.save_for_backward(x)
        return array_module(x).sin(x)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (x,) = ctx.saved_tensors
        return gy * array_module(x).cos(x)


class Cos(Function):
    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        x = floating(x)
        ctx.save_for_backward(x)
        return array_module(x).cos(x)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (x,) = ctx.saved_tensors
        return -gy * array_module(x).sin(x)


class Tan(Function):
    """d tan(x) = 1 + tan(x)^2 (from the output, as PyTorch)."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        y = array_module(x).tan(floating(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (y,) = ctx.saved_tensors
        return gy * (1 + y * y)


class Asin(Function):
    """d asin(x) = 1 / sqrt(1 - x^2)."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        x = floating(x)
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):
            return array_module(x).arcsin(x)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (x,) = ctx.saved_tensors
        with np.errstate(invalid="ignore", divide="ignore"):
            return gy / array_module(x).sqrt(1 - x * x)


class Acos(Function):
    """d acos(x) = -1 / sqrt(1 - x^2)."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        x = floating(x)
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):
            return array_module(x).arccos(x)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (x,) = ctx.saved_tensors
        with np.errstate(invalid="ignore", divide="ignore"):
            return -gy / array_module(x).sqrt(1 - x * x)


class Atan(Function):
    """d atan(x) = 1 / (1 + x^2)."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        x = floating(x)
        ctx.save_for_backward(x)
        return array_module(x).arctan(x)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (x,) = ctx.saved_tensors
        return gy / (1 + x * x)


class Sinh(Function):
    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        x = floating(x)
        ctx.save_for_backward(x)
        with np.errstate(over="ignore"):
            return array_module(x).sinh(x)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (x,) = ctx.saved_tensors
        with np.errstate(over="ignore"):
            return gy * array_module(x).cosh(x)


class Cosh(Function):
    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        x = floating(x)
        ctx.save_for_backward(x)
        with np.errstate(over="ignore"):
            return array_module(x).cosh(x)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (x,) = ctx.saved_tensors
        with np.errstate(over="ignore"):
            return gy * array_module(x).sinh(x)


class Atan2(Function):
    """atan2(a, b), the angle of the point (b, a): d/da = b / r^2, d/db = -a / r^2."""

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        a, b = promote(a, b)
        a, b = floating(a), floating(b)
        ctx.save_for_backward(a, b)
        return array_module(a).arctan2(a, b)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        a, b = ctx.saved_tensors
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = gy / (a * a + b * b)
        ga = scale * b if ctx.needs_input_grad[0] else None
        gb = -scale * a if ctx.needs_input_grad[1] else None
        return ga, gb


# ---- functions ----------------------------------------------------------------------


def sin(input: Any) -> Any:  # noqa: A002 - PyTorch's argument name
    """Elementwise sine (radians).

    >>> import chainrule as cr
    >>> cr.sin(cr.tensor([0.0, 1.5708]))
    tensor([0., 1.])
    """
    return Sin.apply(input)


def cos(input: Any) -> Any:  # noqa: A002
    """Elementwise cosine (radians).

    >>> import chainrule as cr
    >>> cr.cos(cr.tensor([0.0]))
    tensor([1.])
    """
    return Cos.apply(input)


def tan(input: Any) -> Any:  # noqa: A002
    """Elementwise tangent (radians).

    >>> import chainrule as cr
    >>> cr.tan(cr.tensor([0.7854]))
    tensor([1.0000])
    """
    return Tan.apply(input)


def asin(input: Any) -> Any:  # noqa: A002
    """Elementwise arcsine (``nan`` outside [-1, 1]).

    >>> import chainrule as cr
    >>> cr.asin(cr.tensor([1.0]))
    tensor([1.5708])
    """
    return Asin.apply(input)


def acos(input: Any) -> Any:  # noqa: A002
    """Elementwise arccosine (``nan`` outside [-1, 1]).

    >>> import chainrule as cr
    >>> cr.acos(cr.tensor([1.0]))
    tensor([0.])
    """
    return Acos.apply(input)


def atan(input: Any) -> Any:  # noqa: A002
    """Elementwise arctangent.

    >>> import chainrule as cr
    >>> cr.atan(cr.tensor([1.0]))
    tensor([0.7854])
    """
    return Atan.apply(input)


def sinh(input: Any) -> Any:  # noqa: A002
    """Elementwise hyperbolic sine.

    >>> import chainrule as cr
    >>> cr.sinh(cr.tensor([0.0]))
    tensor([0.])
    """
    return Sinh.apply(input)


def cosh(input: Any) -> Any:  # noqa: A002
    """Elementwise hyperbolic cosine.

    >>> import chainrule as cr
    >>> cr.cosh(cr.tensor([0.0]))
    tensor([1.])
    """
    return Cosh.apply(input)


def atan2(input: Any, other: Any) -> Any:  # noqa: A002
    """Angle of the point (other, input) in radians, in (-pi, pi].

    >>> import chainrule as cr
    >>> cr.atan2(cr.tensor([1.0]), cr.tensor([-1.0]))
    tensor([2.3562])
    """
    return Atan2.apply(input, other)


arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
