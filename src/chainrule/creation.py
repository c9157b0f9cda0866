"""Ways to make tensors: from data, filled, ranges, identity, and seeded random.

>>> import chainrule as cr
>>> cr.tensor([[1, 2], [3, 4]]).dtype
dtype('int64')
>>> cr.zeros(2, 3).shape
chainrule.Size([2, 3])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import dtypes
from chainrule.backend import Device, to_device
from chainrule.backend.device import _CPU, DEFAULT
from chainrule.random import Generator, numpy_generator
from chainrule.random_draws import draw_dtype
from chainrule.tensor import Tensor


def _finish(data: Any, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    dt = dtypes.resolve(dtype)
    if dt is not None and data.dtype != dt:
        data = data.astype(dt)
    if device is None:
        device = DEFAULT.device  # set_default_device
    if device is not _CPU and Device(device).type != "cpu":
        data = to_device(data, device)
    t = Tensor._wrap(data)
    if requires_grad:
        t.requires_grad = True
    return t


def _size(size: tuple[Any, ...]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"size must be non-negative integers, got {size}")
    return tuple(int(s) for s in size)


def tensor(data: Any, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """A new tensor (a copy) from a number, nested list, NumPy array or Tensor.

    Python floats become the default dtype (float32), ints int64, bools bool;
    NumPy arrays and NumPy scalars keep their dtype.

    >>> tensor([0.5, 1.5], requires_grad=True)
    tensor([0.5000, 1.5000], requires_grad=True)
    """
    if isinstance(data, Tensor):
        array = data._data.copy()
    elif isinstance(data, (np.ndarray, np.generic)):
        array = np.array(data)
    else:
        try:
            array = np.array(data)
        except ValueError as exc:
            raise ValueError(f"tensor(): cannot build a tensor from ragged data: {exc}") from None
        if array.dtype == object:
            raise TypeError(f"tensor(): unsupported data of type {type(data).__name__}")
        if dtype is not None:
            pass  # cast once, straight to the requested dtype (below)
        elif array.dtype.kind == "f":
            array = array.astype(dtypes.STATE.default)
        elif array.dtype.kind in "iu":
            array = array.astype(np.int64)
    return _finish(array, dtype, device, requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """Wrap a NumPy array without copying (changes show in both)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._wrap(array)


def _float_dtype(dtype: Any) -> np.dtype:
    return dtypes.resolve(dtype) or dtypes.STATE.default


def full(size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``."""
    if dtype is None and isinstance(fill_value, bool):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, int):
        dtype = np.int64
    data = np.full(_size((size,) if isinstance(size, int) else tuple(size)), fill_value,
                   dtype=_float_dtype(dtype))
    return _finish(data, None, device, requires_grad)


def zeros(*size: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _finish(np.zeros(_size(size), _float_dtype(dtype)), None, device, requires_grad)


def ones(*size: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _finish(np.ones(_size(size), _float_dtype(dtype)), None, device, requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """An uninitialized tensor (zeros here: NumPy's empty exposes stale memory)."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def arange(start: Any, end: Any = None, step: Any = 1, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` up to (not including) ``end``; int64 unless a bound is a float.

    >>> arange(3)
    tensor([0, 1, 2])
    """
    if end is None:
        start, end = 0, start
    is_float = any(isinstance(v, float) for v in (start, end, step))
    default = dtypes.STATE.default if is_float else np.int64
    data = np.arange(start, end, step, dtype=dtypes.resolve(dtype) or default)
    return _finish(data, None, device, requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    data = np.linspace(start, end, steps, dtype=np.float64).astype(_float_dtype(dtype))
    return _finish(data, None, device, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """Identity matrix (n x m)."""
    return _finish(np.eye(n, m, dtype=_float_dtype(dtype)), None, device, requires_grad)


def rand(*size: Any, generator: Generator | None = None, dtype: Any = None,
         device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from the seeded generator."""
    float_dtype = _float_dtype(dtype)
    data = numpy_generator(generator).random(_size(size), draw_dtype(float_dtype))
    return _finish(data.astype(float_dtype, copy=False), None, device, requires_grad)


def randn(*size: Any, generator: Generator | None = None, dtype: Any = None,
          device: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the seeded generator."""
    float_dtype = _float_dtype(dtype)
    data = numpy_generator(generator).standard_normal(_size(size), draw_dtype(float_dtype))
    return _finish(data.astype(float_dtype, copy=False), None, device, requires_grad)


def randint(low: int, high: int | None = None, size: Any = (), generator: Generator | None = None,
            dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Integers in [low, high) (int64); ``randint(10, size=(3,))`` means [0, 10)."""
    if high is None:
        low, high = 0, low
    data = numpy_generator(generator).integers(low, high, _size(tuple(size)))
    return _finish(data, dtype, device, requires_grad)


def randperm(n: int, generator: Generator | None = None, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """A random permutation of 0..n-1 (int64)."""
    data = numpy_generator(generator).permutation(n).astype(np.int64)
    return _finish(data, dtype, device, requires_grad)


def _like(x: Tensor, dtype: Any, device: Any) -> dict[str, Any]:
    return {"dtype": dtype or x.dtype, "device": x.device if device is None else device}


def zeros_like(x: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """Zeros of ``x``'s shape, dtype and device (unless given)."""
    return zeros(x.shape, requires_grad=requires_grad, **_like(x, dtype, device))


def ones_like(x: Tensor, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """Ones of ``x``'s shape, dtype and device (unless given)."""
    return ones(x.shape, requires_grad=requires_grad, **_like(x, dtype, device))


def empty_like(x: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """An uninitialized tensor of ``x``'s shape (zeros here, as :func:`empty`)."""
    return zeros_like(x, dtype, device, requires_grad)


def full_like(x: Tensor, fill_value: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """``fill_value`` in ``x``'s shape, dtype and device (unless given)."""
    return full(x.shape, fill_value, requires_grad=requires_grad, **_like(x, dtype, device))


def rand_like(x: Tensor, generator: Generator | None = None, dtype: Any = None,
              device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) of ``x``'s shape."""
    return rand(x.shape, generator=generator, requires_grad=requires_grad,
                **_like(x, dtype, device))


def randn_like(x: Tensor, generator: Generator | None = None, dtype: Any = None,
               device: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples of ``x``'s shape."""
    return randn(x.shape, generator=generator, requires_grad=requires_grad,
                 **_like(x, dtype, device))
