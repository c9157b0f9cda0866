"""Dtypes (NumPy's) and the default floating dtype (float32 unless changed).

>>> import chainrule as cr
>>> cr.get_default_dtype()
dtype('float32')
"""

from __future__ import annotations

from typing import Any

import numpy as np

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)
half, double, long = float16, float64, int64


class _State:
    default = float32


STATE = _State()


def get_default_dtype() -> np.dtype:
    """The dtype new floating tensors get (float32 unless changed)."""
    return STATE.default


def set_default_dtype(dtype: Any) -> None:
    """Set the floating dtype used by ``tensor([0.5])``, ``zeros``, ``randn``, ...

    >>> import chainrule as cr
    >>> cr.set_default_dtype(cr.float64); cr.zeros(1).dtype
    dtype('float64')
    >>> cr.set_default_dtype(cr.float32)
    """
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dt}")
    STATE.default = dt


def resolve(dtype: Any) -> np.dtype | None:
    """Normalize a dtype argument (None stays None; Python float means the default)."""
    if dtype is None:
        return None
    if dtype is float:
        return STATE.default
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}: use e.g. chainrule.float32") from None
