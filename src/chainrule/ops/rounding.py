"""Rounding and integer division: floor, ceil, round, trunc, sign, frac, //, % and fmod.

The rounding ops are flat almost everywhere: their gradient is zero, as in PyTorch
(``floor_divide`` has none at all). They keep integer inputs as they are; integer division
by zero raises ``ZeroDivisionError`` like PyTorch instead of giving NumPy's 0.

>>> import chainrule as cr
>>> x = cr.tensor([-1.5, 2.5], requires_grad=True)
>>> y = cr.floor(x) + cr.frac(x)
>>> y.sum().backward()
>>> y.detach(), x.grad
(tensor([-2.5000,  2.5000]), tensor([1., 1.]))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.autograd.function import Function
from chainrule.backend import array_module
from chainrule.ops.promotion import describe, promote, refuse_bools


class Rounding(Function):
    """floor, ceil, trunc, round (to ``decimals``, halves to even) or sign: zero gradient.

    ``round`` with decimals scales by 10^decimals, rounds and scales back, as PyTorch does.
    """

    @staticmethod
    def forward(ctx: Any, x: Any, how: str, decimals: int = 0) -> Any:
        xp = array_module(x)
        if how == "sign":
            return x.copy() if x.dtype.kind == "b" else xp.sign(x)
        if x.dtype.kind in "biu":
            return x.copy()  # integers are already whole
        if how != "round" or decimals == 0:
            return getattr(xp, "rint" if how == "round" else how)(x)
        scale = x.dtype.type(10.0 ** abs(decimals))
        with np.errstate(over="ignore", invalid="ignore"):
            if decimals > 0:
                return xp.rint(x * scale) / scale
            return xp.rint(x / scale) * scale

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        return array_module(gy).zeros_like(gy)


class Frac(Function):
    """x - trunc(x) (keeps the sign of x); d/dx = 1."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return x - array_module(x).trunc(x)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        return gy


def _check_integer_divisor(op: str, a: Any, b: Any) -> None:
    """Integer division by zero raises ``ZeroDivisionError`` (PyTorch's), not NumPy's 0.
    (``a`` and ``b`` are promoted: an integer array and a number are integers.)"""
    dtype = getattr(a, "dtype", None) if not hasattr(b, "dtype") else b.dtype
    if dtype is None or dtype.kind not in "iub":
        return
    if bool((b == 0).any()) if hasattr(b, "dtype") else b == 0:
        raise ZeroDivisionError(f"{op}: integer division by zero (operands {describe(a, b)})")


class FloorDivide(Function):
    """``a // b`` rounded toward -infinity. No derivative, as in PyTorch."""

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        a, b = promote(a, b)
        refuse_bools("floor_divide", a, b)
        _check_integer_divisor("floor_divide", a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return array_module(a if hasattr(a, "dtype") else b).floor_divide(a, b)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        raise RuntimeError("floor_divide: its derivative is not implemented (as in PyTorch); "
                           "use torch.div(a, b, rounding_mode='floor') on floats or detach")


class Remainder(Function):
    """Python's ``a % b`` (``fmod=False``: the sign of b) or C's fmod (the sign of a).

    d/da = 1, d/db = -floor(a / b) (remainder) or -trunc(a / b) (fmod).
    """

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, fmod: bool) -> Any:
        a, b = promote(a, b)
        refuse_bools("fmod" if fmod else "remainder", a, b)
        _check_integer_divisor("fmod" if fmod else "remainder", a, b)
        xp = array_module(a if hasattr(a, "dtype") else b)
        ctx.save_for_backward(a, b)
        ctx.fmod = fmod
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp.fmod(a, b) if fmod else xp.remainder(a, b)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        a, b = ctx.saved_tensors
        xp = array_module(gy)
        gb = None
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                whole = xp.trunc(a / b) if ctx.fmod else xp.floor(a / b)
            gb = -gy * whole
        return gy, gb, None


# ---- functions ----------------------------------------------------------------------


def floor(input: Any) -> Any:  # noqa: A002
    """Largest whole number <= x (gradient 0).

    >>> import chainrule as cr
    >>> cr.floor(cr.tensor([-1.5, 1.5]))
    tensor([-2.,  1.])
    """
    return Rounding.apply(input, "floor")


def ceil(input: Any) -> Any:  # noqa: A002
    """Smallest whole number >= x (gradient 0).

    >>> import chainrule as cr
    >>> cr.ceil(cr.tensor([-1.5, 1.5]))
    tensor([-1.,  2.])
    """
    return Rounding.apply(input, "ceil")


def round(input: Any, decimals: int = 0) -> Any:  # noqa: A001, A002 - torch.round
    """Round half to even, to ``decimals`` places (gradient 0).

    >>> import chainrule as cr
    >>> cr.round(cr.tensor([0.5, 1.5, 2.5]))
    tensor([0., 2., 2.])
    >>> cr.round(cr.tensor([1234.5]), decimals=-2)
    tensor([1200.])
    """
    return Rounding.apply(input, "round", int(decimals))


def trunc(input: Any) -> Any:  # noqa: A002
    """Round toward zero (gradient 0).

    >>> import chainrule as cr
    >>> cr.trunc(cr.tensor([-1.5, 1.5]))
    tensor([-1.,  1.])
    """
    return Rounding.apply(input, "trunc")


def sign(input: Any) -> Any:  # noqa: A002
    """-1, 0 or 1 by the sign of x (gradient 0).

    >>> import chainrule as cr
    >>> cr.sign(cr.tensor([-2.0, 0.0, 3.0]))
    tensor([-1.,  0.,  1.])
    """
    return Rounding.apply(input, "sign")


def frac(input: Any) -> Any:  # noqa: A002
    """The fractional part x - trunc(x).

    >>> import chainrule as cr
    >>> cr.frac(cr.tensor([-1.5, 2.25])).tolist()
    [-0.5, 0.25]
    """
    return Frac.apply(input)


def floor_divide(input: Any, other: Any) -> Any:  # noqa: A002
    """``input // other`` rounded toward -infinity (no gradient, as in PyTorch).

    >>> import chainrule as cr
    >>> cr.floor_divide(cr.tensor([7, -7]), 2)
    tensor([ 3, -4])
    """
    return FloorDivide.apply(input, other)


def remainder(input: Any, other: Any) -> Any:  # noqa: A002
    """Python's ``input % other``: the result has the sign of ``other``.

    >>> import chainrule as cr
    >>> cr.remainder(cr.tensor([7, -7]), 3)
    tensor([1, 2])
    """
    return Remainder.apply(input, other, False)


def fmod(input: Any, other: Any) -> Any:  # noqa: A002
    """C's fmod: the remainder has the sign of ``input``.

    >>> import chainrule as cr
    >>> cr.fmod(cr.tensor([7, -7]), 3)
    tensor([ 1, -1])
    """
    return Remainder.apply(input, other, True)


fix, sgn = trunc, sign
