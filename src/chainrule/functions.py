"""PyTorch's top-level functions: ``out=``, comparisons, logic and aliases, in one thin layer.

The ops modules define each function once (``ops.elementwise.add``, ``ops.trig.sin``, ...).
This module gives them the shape ``torch.X`` has: an ``out=`` keyword on the common ones,
``alpha=`` on add and sub, ``rounding_mode=`` on div, and the logic functions
(``all``, ``any``, ``isclose``, ``allclose``, ``equal``). ``chainrule`` exports them all.

``out=`` writes the result into an existing tensor, outside the graph, as PyTorch does: it
is refused while an input (or ``out``) requires grad and grad mode is on, a result that
would lose its kind (float into an integer tensor) is refused, and an ``out`` of another
shape is resized (with PyTorch's warning when it held elements).

>>> import chainrule as cr
>>> out = cr.zeros(2)
>>> cr.add(cr.tensor([1.0, 2.0]), 1, out=out) is out, out
(True, tensor([2., 3.]))
"""

from __future__ import annotations

import builtins
import functools
import warnings
from typing import Any

from chainrule.autograd.grad_mode import STATE as GRAD_MODE
from chainrule.backend import array_module
from chainrule.ops import elementwise as ew
from chainrule.ops import linalg, math, norms, products, promotion, reduce, rounding, sorting, trig
from chainrule.tensor import Tensor

_CATEGORY = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}


def write_out(name: str, result: Tensor, out: Tensor, inputs: Any) -> Tensor:
    """Copy ``result`` into ``out`` (PyTorch's ``out=``) and return ``out``."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): out= must be a Tensor, not {type(out).__name__}")
    if _CATEGORY[result.dtype.kind] > _CATEGORY[out.dtype.kind]:
        raise RuntimeError(f"{name}(): result type {result.dtype} can't be cast to the desired "
                           f"output type {out.dtype} (out= {tuple(out.shape)} {out.dtype})")
    values = result._data
    if tuple(out.shape) != tuple(values.shape):
        if out.numel():
            warnings.warn(
                f"{name}(): an output with one or more elements was resized since it had "
                f"shape {list(out.shape)}, which does not match the required output shape "
                f"{list(values.shape)}. This behavior is deprecated (as in PyTorch); resize "
                "the output with out.resize_(0) first", UserWarning, stacklevel=3)
        out._data = values.astype(out.dtype, copy=True)
    else:
        array_module(out._data).copyto(out._data, values, casting="unsafe")
    out._bump_version()
    return out


def _check_out_grad(name: str, out: Tensor, args: Any, kwargs: Any) -> None:
    tensors = [a for a in (*args, *kwargs.values(), out) if isinstance(a, Tensor)]
    if GRAD_MODE.enabled and builtins.any(t.requires_grad for t in tensors):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support "
                           "automatic differentiation, but one of the arguments requires grad.")


def with_out(fn: Any, name: str | None = None) -> Any:
    """``fn`` with PyTorch's ``out=`` keyword (see the module's docstring)."""
    op = name or fn.__name__

    @functools.wraps(fn)
    def wrapper(*args: Any, out: Tensor | None = None, **kwargs: Any) -> Any:
        if out is None:
            return fn(*args, **kwargs)
        _check_out_grad(op, out, args, kwargs)
        return write_out(op, fn(*args, **kwargs), out, args)

    summary = (fn.__doc__ or "").split("\n", 1)[0]
    wrapper.__doc__ = (f"{summary}\n\n    As :func:`{fn.__module__}.{fn.__name__}`, with "
                       f"``out=`` (see :mod:`{__name__}`).\n")
    return wrapper


# ---- arithmetic with PyTorch's extra arguments --------------------------------------------


def _add(input: Any, other: Any, *, alpha: Any = 1) -> Any:  # noqa: A002
    return ew.add(input, other if alpha == 1 else other * alpha)


def _sub(input: Any, other: Any, *, alpha: Any = 1) -> Any:  # noqa: A002
    return ew.sub(input, other if alpha == 1 else other * alpha)


def _div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Any:  # noqa: A002
    if rounding_mode is None:
        return ew.div(input, other)
    if rounding_mode == "floor":
        return rounding.floor_divide(input, other)
    if rounding_mode == "trunc":
        if promotion.result_type(_raw(input), _raw(other)).kind in "biu":  # exact on integers
            return rounding.floor_divide(ew.sub(input, rounding.fmod(input, other)), other)
        return rounding.trunc(ew.div(input, other))
    raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")


def _raw(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


_add.__name__, _sub.__name__, _div.__name__ = "add", "sub", "div"
_add.__doc__ = "``input + alpha * other`` with broadcasting.\n"
_sub.__doc__ = "``input - alpha * other`` with broadcasting.\n"
_div.__doc__ = ("``input / other`` (integers divide into floats); ``rounding_mode`` 'trunc' or "
                "'floor' rounds the quotient.\n")

add = with_out(_add)
sub = subtract = with_out(_sub)
mul = multiply = with_out(ew.mul)
div = divide = with_out(_div)
true_divide = with_out(ew.div, "true_divide")
pow = with_out(ew.pow)  # noqa: A001 - torch.pow
neg = negative = with_out(ew.neg)
abs = absolute = with_out(ew.abs)  # noqa: A001 - torch.abs
exp = with_out(ew.exp)
log = with_out(ew.log)
sqrt = with_out(ew.sqrt)
clamp = clip = with_out(ew.clamp)
maximum = with_out(ew.maximum)
minimum = with_out(ew.minimum)
floor_divide = with_out(rounding.floor_divide)
remainder = with_out(rounding.remainder)
fmod = with_out(rounding.fmod)
log1p, expm1, log2, log10 = (with_out(f) for f in (math.log1p, math.expm1, math.log2,
                                                    math.log10))
square, rsqrt, reciprocal = (with_out(f) for f in (math.square, math.rsqrt, math.reciprocal))
erf, erfc, frac = (with_out(f) for f in (math.erf, math.erfc, rounding.frac))
floor, ceil, trunc = (with_out(f) for f in (rounding.floor, rounding.ceil, rounding.trunc))
round, sign = with_out(rounding.round), with_out(rounding.sign)  # noqa: A001 - torch.round
fix, sgn = trunc, sign
sin, cos, tan = (with_out(f) for f in (trig.sin, trig.cos, trig.tan))
asin, acos, atan = (with_out(f) for f in (trig.asin, trig.acos, trig.atan))
arcsin, arccos, arctan = asin, acos, atan
sinh, cosh, atan2 = (with_out(f) for f in (trig.sinh, trig.cosh, trig.atan2))
arctan2 = atan2
matmul = with_out(linalg.matmul)
mm, bmm = with_out(products.mm), with_out(products.bmm)
dot, outer = with_out(products.dot), with_out(products.outer)
ger, einsum = outer, products.einsum
sum = with_out(reduce.sum)  # noqa: A001 - torch.sum
mean = with_out(reduce.mean)
max, min = reduce.max, reduce.min  # noqa: A001 - torch.max(a, b) and torch.max(a, dim)
cumsum, cumprod = with_out(sorting.cumsum), with_out(sorting.cumprod)
sort, argsort, topk = sorting.sort, sorting.argsort, sorting.topk
argmax, argmin = sorting.argmax, sorting.argmin
norm = norms.norm


# ---- comparisons and logic ----------------------------------------------------------------


def _comparison(name: str, raw: Any) -> Any:
    def compare(input: Any, other: Any) -> Any:  # noqa: A002
        return ew.Logical.apply(raw, _raw(input), _raw(other))

    compare.__name__ = compare.__qualname__ = name
    compare.__doc__ = f"Elementwise ``{name}`` in the promoted dtype: a bool tensor.\n"
    return with_out(compare)


eq, ne = _comparison("eq", promotion.eq), _comparison("ne", promotion.ne)
lt, le = _comparison("lt", promotion.lt), _comparison("le", promotion.le)
gt, ge = _comparison("gt", promotion.gt), _comparison("ge", promotion.ge)
less, less_equal, greater, greater_equal, not_equal = lt, le, gt, ge, ne


def all(input: Any, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001, A002
    """True where every element (along ``dim``) is nonzero: a bool tensor.

    >>> import chainrule as cr
    >>> cr.all(cr.tensor([[True, False], [True, True]]), dim=1)
    tensor([False,  True])
    """
    return input.all(dim, keepdim)


def any(input: Any, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001, A002
    """True where some element (along ``dim``) is nonzero: a bool tensor.

    >>> import chainrule as cr
    >>> cr.any(cr.tensor([0.0, 0.5]))
    tensor(True)
    """
    return input.any(dim, keepdim)


def isclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
            equal_nan: bool = False) -> Tensor:
    """``|input - other| <= atol + rtol * |other|`` elementwise: a bool tensor.

    >>> import chainrule as cr
    >>> cr.isclose(cr.tensor([1.0, 2.0]), cr.tensor([1.0 + 1e-9, 2.1]))
    tensor([ True, False])
    """
    return input.isclose(other, rtol, atol, equal_nan)


def allclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
             equal_nan: bool = False) -> bool:
    """True when :func:`isclose` holds everywhere (a Python bool).

    >>> import chainrule as cr
    >>> cr.allclose(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 2.0 + 1e-7]))
    True
    """
    return builtins.bool(input.isclose(other, rtol, atol, equal_nan)._data.all())


def equal(input: Any, other: Any) -> bool:  # noqa: A002
    """True when both have the same shape and the same values (a Python bool).

    >>> import chainrule as cr
    >>> cr.equal(cr.tensor([1, 2]), cr.tensor([1.0, 2.0])), cr.equal(cr.ones(2), cr.ones(3))
    (True, False)
    """
    return input.equal(other)


def numel(input: Any) -> int:  # noqa: A002
    """The number of elements.

    >>> import chainrule as cr
    >>> cr.numel(cr.zeros(2, 3))
    6
    """
    return input.numel()


__all__ = [
    "abs", "absolute", "acos", "add", "all", "allclose", "any", "arccos", "arcsin", "arctan",
    "arctan2", "argmax", "argmin", "argsort", "asin", "atan", "atan2", "bmm", "ceil", "clamp",
    "clip", "cos", "cosh", "cumprod", "cumsum", "div", "divide", "dot", "einsum", "eq",
    "equal", "erf", "erfc", "exp", "expm1", "fix", "floor", "floor_divide", "fmod", "frac",
    "ge", "ger", "greater", "greater_equal", "gt", "isclose", "le", "less", "less_equal",
    "log", "log10", "log1p", "log2", "lt", "matmul", "max", "maximum", "mean", "min",
    "minimum", "mm", "mul", "multiply", "ne", "neg", "negative", "norm", "not_equal", "numel",
    "outer", "pow", "reciprocal", "remainder", "round", "rsqrt", "sgn", "sign", "sin", "sinh",
    "sort", "sqrt", "square", "sub", "subtract", "sum", "tan", "topk", "true_divide",
    "trunc",
]
