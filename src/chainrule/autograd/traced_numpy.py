"""NumPy's functions for recorded arrays: what ``array_module`` returns for a
:class:`~chainrule.autograd.traced.Traced` array.

Each function takes Traced arrays (and plain arrays or numbers, which are constants) and
answers with chainrule ops, so a backward formula written with ``xp.where``, ``xp.exp``,
``xp.zeros`` ... records its graph when ``create_graph=True``. NumPy's in-place scatters
(``xp.add.at``, ``xp.put_along_axis``, ``xp.bincount`` with weights) are recorded as
products with constant 0/1 matrices. A function that is not here raises AttributeError,
which the engine reports as a DoubleBackwardError naming the op.

>>> import numpy as np
>>> import chainrule as cr
>>> x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
>>> t = Traced(x * 1)
>>> u = NAMESPACE.where(np.array([True, False]), t * t, -t)
>>> u.tensor.sum().backward()
>>> x.grad
tensor([ 2., -1.], dtype=chainrule.float64)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import chainrule as cr
from chainrule.autograd.traced import (
    Traced,
    _plain,
    _plain_index,
    _tensor_class,
    as_tensor,
    traced,
)
from chainrule.backend.device import NAMESPACES


def _unary(name: str) -> Any:
    def function(x: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(x, Traced):
            return getattr(np, name)(x, *args, **kwargs)
        return Traced(getattr(cr, name)(x.tensor))
    function.__name__ = name
    return function


class Namespace:
    """NumPy's functions for Traced values (``array_module`` of a Traced array)."""

    errstate = staticmethod(np.errstate)
    newaxis = None
    pi, e, inf, nan = math.pi, math.e, math.inf, math.nan
    float16, float32, float64 = np.float16, np.float32, np.float64
    int32, int64, bool_, intp = np.int32, np.int64, np.bool_, np.intp
    exp, log, log1p, sqrt, tanh, sign, erf, sigmoid = (
        staticmethod(_unary(n)) for n in ("exp", "log", "log1p", "sqrt", "tanh", "sign", "erf",
                                          "sigmoid"))
    cos, sin, cosh, sinh, abs, expm1 = (
        staticmethod(_unary(n)) for n in ("cos", "sin", "cosh", "sinh", "abs", "expm1"))
    absolute = abs

    @staticmethod
    def where(condition: Any, a: Any, b: Any) -> Traced:
        return Traced(cr.where(cr.tensor(np.asarray(_plain(condition)), dtype=cr.bool),
                               as_tensor(a), as_tensor(b)))

    @staticmethod
    def maximum(a: Any, b: Any) -> Traced:
        return Traced(cr.maximum(as_tensor(a), as_tensor(b)))

    @staticmethod
    def minimum(a: Any, b: Any) -> Traced:
        return Traced(cr.minimum(as_tensor(a), as_tensor(b)))

    @staticmethod
    def multiply(a: Any, b: Any) -> Traced:
        return traced(a) * b

    @staticmethod
    def matmul(a: Any, b: Any) -> Traced:
        return traced(a) @ b

    dot = matmul

    @staticmethod
    def zeros(shape: Any, dtype: Any = float) -> Traced:
        return traced(np.zeros(shape, dtype))

    @staticmethod
    def zeros_like(x: Any, dtype: Any = None) -> Traced:
        return traced(np.zeros(x.shape, dtype or x.dtype))

    @staticmethod
    def ones_like(x: Any, dtype: Any = None) -> Traced:
        return traced(np.ones(x.shape, dtype or x.dtype))

    @staticmethod
    def full(shape: Any, value: Any, dtype: Any = None) -> Traced:
        if isinstance(value, Traced):  # a recorded value, spread over the shape
            return value * np.ones(shape, dtype or value.dtype)
        return traced(np.full(shape, value, dtype))

    @staticmethod
    def ascontiguousarray(x: Any) -> Any:
        return x

    @staticmethod
    def broadcast_to(x: Any, shape: Any) -> Traced:
        return Traced(as_tensor(traced(x)).expand(*shape))

    @staticmethod
    def moveaxis(x: Any, source: int, destination: int) -> Traced:
        order = [n for n in range(x.ndim) if n != source % x.ndim]
        order.insert(destination % x.ndim, source % x.ndim)
        return traced(x).transpose(tuple(order))

    @staticmethod
    def expand_dims(x: Any, axis: int) -> Traced:
        return Traced(as_tensor(traced(x)).unsqueeze(axis))

    @staticmethod
    def concatenate(arrays: Any, axis: int = 0) -> Traced:
        return Traced(cr.cat([as_tensor(traced(a)) for a in arrays], dim=axis))

    @staticmethod
    def stack(arrays: Any, axis: int = 0) -> Traced:
        return Traced(cr.stack([as_tensor(traced(a)) for a in arrays], dim=axis))

    @staticmethod
    def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Traced:
        return traced(x).sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def split(x: Any, bounds: Any, axis: int = 0) -> list[Traced]:
        """Pieces of ``x`` cut before each index in ``bounds`` (NumPy's split)."""
        edges = [0, *bounds, x.shape[axis]]
        lead = (slice(None),) * (axis % x.ndim)
        return [traced(x)[(*lead, slice(a, b))] for a, b in zip(edges, edges[1:], strict=False)]

    @staticmethod
    def take(x: Any, index: int, axis: int = 0) -> Traced:
        return traced(x)[(slice(None),) * (axis % x.ndim) + (index,)]

    @staticmethod
    def put_along_axis(target: Any, indices: Any, values: Any, axis: int) -> None:
        """In place, as NumPy's: ``target`` (a Traced array) takes ``values`` at
        ``indices`` along ``axis``; recorded as a product with a constant 0/1 matrix from
        each value to its place (distinct places, as the arg-max and sort use it)."""
        shape = target.shape
        places = np.take_along_axis(np.arange(int(np.prod(shape))).reshape(shape),
                                    np.asarray(indices), axis)
        spread = as_tensor(traced(values))
        if tuple(spread.shape) != places.shape:
            spread = spread.expand(*places.shape)
        written = np.zeros(int(np.prod(shape)), dtype=bool)
        written[places.reshape(-1)] = True
        scattered = _scatter_add(places.reshape(-1), spread.reshape(-1), shape, target.dtype)
        target.tensor = cr.where(cr.tensor(written.reshape(shape)), scattered,
                                 as_tensor(traced(target)))

    @staticmethod
    def bincount(x: Any, weights: Any = None, minlength: int = 0) -> Any:
        """Sums of ``weights`` per value of the integer array ``x`` (recorded weights)."""
        if not isinstance(weights, Traced):
            return np.bincount(x, weights=weights, minlength=minlength)
        size = max(int(minlength), int(np.max(x)) + 1 if np.size(x) else 0)
        return Traced(_scatter_add(np.asarray(x).reshape(-1), weights.tensor.reshape(-1),
                                   (size,), weights.dtype))

    @staticmethod
    def pad(x: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(x, Traced):
            raise TypeError("xp.pad of a recorded array")
        return np.pad(x, *args, **kwargs)  # an index array: a constant

    @staticmethod
    def cumsum(x: Any, axis: int) -> Traced:
        return Traced(cr.cumsum(as_tensor(traced(x)), dim=axis))

    @staticmethod
    def flip(x: Any, axis: int) -> Traced:
        return traced(x)[(slice(None),) * (axis % x.ndim) + (slice(None, None, -1),)]

    @staticmethod
    def einsum(subscripts: str, *operands: Any, **kwargs: Any) -> Traced:
        return Traced(cr.einsum(subscripts, *(as_tensor(traced(o)) for o in operands)))

    # piecewise-constant functions: their values are constants (zero derivative)
    @staticmethod
    def floor(x: Any) -> Any:
        return np.floor(_plain(x))

    @staticmethod
    def trunc(x: Any) -> Any:
        return np.trunc(_plain(x))

    @staticmethod
    def ceil(x: Any) -> Any:
        return np.ceil(_plain(x))

    eye = staticmethod(np.eye)

    @staticmethod
    def arange(*args: Any, **kwargs: Any) -> Any:
        return np.arange(*args, **kwargs)  # indices: constants

    @staticmethod
    def asarray(x: Any, dtype: Any = None) -> Any:
        return x if isinstance(x, Traced) else np.asarray(x, dtype)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"xp.{name} is not available to a recorded backward (a "
                             "backward formula with create_graph=True may use "
                             "chainrule.autograd.traced.Namespace's functions only)")


def _scatter_add(places: np.ndarray, values: Any, shape: tuple[int, ...], dtype: Any) -> Any:
    """A Tensor of ``shape`` with ``values[k]`` added at flat position ``places[k]``: the
    product with a constant (size x k) 0/1 matrix, so the values stay differentiable."""
    size = int(np.prod(shape))
    if size * places.size > _ScatterAdd.LIMIT:
        raise TypeError("scatter: too large to record as a matrix product")
    onehot = np.zeros((size, places.size), dtype=dtype)
    onehot[places, np.arange(places.size)] = 1
    return (_tensor_class()._wrap(onehot) @ values).reshape(*shape)


class _ScatterAdd:
    """``xp.add.at(target, index, values)``: NumPy's unbuffered in-place add, recorded as a
    product with a constant 0/1 matrix (each gathered element's source position), so any
    index NumPy takes works; the matrix is (target size) x (values size)."""

    LIMIT = 20_000_000  # matrix entries; larger scatters are refused, not attempted

    @staticmethod
    def at(target: Any, index: Any, values: Any) -> None:
        shape = target.shape
        sources = np.arange(int(np.prod(shape))).reshape(shape)[_plain_index(index)]
        spread = as_tensor(traced(values))
        if tuple(spread.shape) != sources.shape:  # one value broadcast over the entries
            spread = spread.expand(*sources.shape)
        added = _scatter_add(sources.reshape(-1), spread.reshape(-1), shape, target.dtype)
        target.tensor = as_tensor(traced(target)) + added


Namespace.add = _ScatterAdd()  # type: ignore[attr-defined]
NAMESPACE = Namespace()
Traced._xp = NAMESPACE  # type: ignore[attr-defined]  # what array_module(traced) returns
NAMESPACES[Traced] = NAMESPACE


