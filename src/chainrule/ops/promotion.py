"""PyTorch's type promotion for the raw operands of an op.

NumPy and PyTorch agree on most result dtypes but not all: NumPy computes
``int64 * 2.5`` and ``float32 ** int64`` in float64, PyTorch in float32. PyTorch's rules:

* categories: bool < integer < floating < complex. Operands of a lower category never
  widen the result: ``float32 tensor * int64 tensor`` is float32 (``promote_types``).
* priority: tensors with dimensions, then 0-d tensors, then Python numbers. A lower
  priority operand changes the dtype only when its category is higher, and then a Python
  float gives the default float dtype (``int64 tensor * 2.5`` is float32).
* true division of integers gives the default float dtype (``tensor([1, 2]) / 2``).

Ops call :func:`promote` in ``forward`` on raw arrays, so a captured step replays the same
casts. Operands of one dtype (the hot path) pass through after two attribute reads.

>>> import chainrule as cr
>>> (cr.tensor([1, 2]) / 2).dtype, (cr.tensor([1, 2]) * 2.5).dtype
(dtype('float32'), dtype('float32'))
>>> (cr.ones(2) ** cr.tensor([2, 3])).dtype, (cr.tensor([1, 2]) + cr.tensor(1.0)).dtype
(dtype('float32'), dtype('float32'))
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from chainrule import dtypes

_CATEGORY = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}
_PYTHON = (bool, int, float, complex)
_NDARRAY = np.ndarray
# array kinds with which NumPy's weak Python scalars give PyTorch's dtype: any number keeps a
# float array's dtype; an int keeps an integer array's (a float would make it float64)
_WEAK_KINDS = {float: "f", int: "fiu"}


def promote_types(a: Any, b: Any) -> np.dtype:
    """``torch.promote_types``: the higher category's dtype, the wider one within a category.

    >>> promote_types(np.float32, np.int64), promote_types(np.int32, np.int64)
    (dtype('float32'), dtype('int64'))
    """
    a, b = np.dtype(a), np.dtype(b)
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca == cb or max(ca, cb) == 3:  # complex keeps a float operand's precision
        return np.promote_types(a, b)
    return a if ca > cb else b


def _scalar_dtype(value: Any) -> np.dtype:
    """The dtype a Python number takes part in promotion with."""
    if type(value) is bool:
        return dtypes.bool_
    if type(value) is int:
        return dtypes.int64
    if type(value) is float:
        return dtypes.STATE.default
    return np.promote_types(dtypes.STATE.default, np.complex64)


def _join(a: np.dtype | None, b: np.dtype) -> np.dtype:
    return b if a is None else promote_types(a, b)


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """PyTorch's ``combine_categories``: a lower-priority dtype counts only for its category."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    ch, cl = _CATEGORY[higher.kind], _CATEGORY[lower.kind]
    if ch >= 2 and ch >= cl:
        return higher
    if ch == 0 or cl >= 2:
        return promote_types(higher, lower)
    return higher


def result_type(*operands: Any) -> np.dtype:
    """The dtype PyTorch computes ``op(*operands)`` in (arrays and Python numbers).

    >>> result_type(np.ones(2, np.int64), 2.5), result_type(np.ones(2, np.float32), np.ones(()))
    (dtype('float32'), dtype('float32'))
    """
    dim = zero = wrapped = None
    for x in operands:
        if type(x) in _PYTHON:  # (a NumPy number counts as a 0-d array: it is what a
            wrapped = _join(wrapped, _scalar_dtype(x))  # reduction gives in a replay)
        elif x.ndim:
            dim = _join(dim, x.dtype)
        else:
            zero = _join(zero, x.dtype)
    out = _combine(dim, _combine(zero, wrapped))
    if out is None:
        raise TypeError(f"result_type: no operands with a dtype in {operands!r}")
    return out


def _cast(x: Any, dtype: np.dtype) -> Any:
    if type(x) in _PYTHON or x.dtype == dtype:
        return x  # Python numbers stay weak: NumPy then keeps the arrays' dtype
    return x.astype(dtype)


def promote(a: Any, b: Any) -> tuple[Any, Any]:
    """Cast two raw operands so that NumPy computes in PyTorch's result dtype.

    The common cases return at once: two NumPy arrays of one dtype, or an array and a
    Python number NumPy treats as PyTorch does (a float array with any number, an integer
    array with an int).

    >>> a, b = promote(np.array([1, 2]), 0.5)
    >>> a.dtype, b
    (dtype('float32'), 0.5)
    """
    ta, tb = type(a), type(b)
    if ta is _NDARRAY:
        if tb is _NDARRAY:
            if a.dtype is b.dtype:
                return a, b
        elif tb is float:  # any Python number keeps a float array's dtype
            if a.dtype.kind == "f":
                return a, b
        elif tb is int and a.dtype.kind in "fiu":  # an int keeps an integer array's too
            return a, b
    elif tb is _NDARRAY and (ta is float or ta is int) and b.dtype.kind in _WEAK_KINDS[ta]:
        return a, b
    dtype = result_type(a, b)
    return _cast(a, dtype), _cast(b, dtype)


def _is_bool(x: Any) -> bool:
    return type(x) is bool or getattr(x, "dtype", None) == np.bool_


def describe(*operands: Any) -> str:
    """Operands for an error message: ``(3,) int64 and 2.5``."""
    return " and ".join(f"{tuple(x.shape)} {x.dtype}" if hasattr(x, "shape") else repr(x)
                        for x in operands)


def promote_sub(a: Any, b: Any) -> tuple[Any, Any]:
    """:func:`promote` for subtraction, which PyTorch refuses for bools (``mask - 1``)."""
    ta, tb = type(a), type(b)
    if ta is _NDARRAY and a.dtype.kind == "f":
        if (tb is _NDARRAY and a.dtype is b.dtype) or tb is float or tb is int:
            return a, b
    elif tb is _NDARRAY and b.dtype.kind == "f" and (ta is float or ta is int):
        return a, b
    if _is_bool(a) or _is_bool(b):
        raise RuntimeError(
            f"sub: subtraction, the `-` operator, with a bool tensor is not supported (as in "
            f"PyTorch; operands {describe(a, b)}). To invert a mask use ~mask or "
            "mask.logical_not(); to count, convert first: mask.long()")
    return promote(a, b)


def refuse_bools(op: str, a: Any, b: Any) -> None:
    """PyTorch has no ``pow``, ``floor_divide`` or ``remainder`` of two bools."""
    if _is_bool(a) and _is_bool(b):
        raise NotImplementedError(f"{op}: not implemented for bool operands ({describe(a, b)}), "
                                  "as in PyTorch; convert one first (x.long() or x.float())")


def promote_float(a: Any, b: Any) -> tuple[Any, Any]:
    """:func:`promote` for true division and other float-only ops: integers and bools
    compute in the default float dtype."""
    ta, tb = type(a), type(b)
    if ta is _NDARRAY and a.dtype.kind == "f":
        if (tb is _NDARRAY and a.dtype is b.dtype) or tb is float or tb is int:
            return a, b
    elif tb is _NDARRAY and b.dtype.kind == "f" and (ta is float or ta is int):
        return a, b
    dtype = result_type(a, b)
    if dtype.kind not in "fc":
        dtype = dtypes.STATE.default
    return _cast(a, dtype), _cast(b, dtype)


def floating(x: Any) -> Any:
    """An integer or bool array as the default float dtype (``torch.sin(int_tensor)``)."""
    if x.dtype.kind in "fc":
        return x
    return x.astype(dtypes.STATE.default)


# ---- comparisons computed in the promoted dtype (ops.elementwise.Logical calls them) ----


def _comparison(op: Any) -> Any:
    def compare(a: Any, b: Any) -> Any:
        if type(a) is not _NDARRAY or type(b) is not _NDARRAY or a.dtype is not b.dtype:
            a, b = promote(a, b)
        return op(a, b)

    compare.__name__ = compare.__qualname__ = op.__name__
    return compare


eq = _comparison(operator.eq)
ne = _comparison(operator.ne)
lt = _comparison(operator.lt)
le = _comparison(operator.le)
gt = _comparison(operator.gt)
ge = _comparison(operator.ge)
