"""Operators and math methods of :class:`~chainrule.tensor.Tensor`, all delegating to ops.

Kept apart from ``tensor.py`` so that file stays about what a tensor *is*
(data, grad, graph links); this one is about what you can *do* with it.
Comparisons return boolean tensors outside the graph.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule.backend import array_module
from chainrule.tensor_functions import TensorFunctions

if TYPE_CHECKING:
    from chainrule.tensor import Tensor


def _raw(x: Any) -> Any:
    from chainrule.tensor import Tensor

    return x._data if isinstance(x, Tensor) else x


def _logical(fn: Any, *operands: Any) -> Tensor:
    """A result without gradient (comparison, logic) as the ``Logical`` op on raw arrays."""
    return ew.Logical.apply(fn, *[_raw(x) for x in operands])


def _constant(data: Any) -> Tensor:
    from chainrule.tensor import Tensor

    return Tensor._wrap(data)


class TensorMath(TensorFunctions):
    """Mixin: Python operators with broadcasting, reductions, activations and shape methods."""

    __slots__ = ()
    _data: Any

    # ---- arithmetic operators (call Function.apply directly: these are the hot path) -
    def __add__(self, other: Any) -> Any:
        return ew.Add.apply(self, other)

    def __radd__(self, other: Any) -> Any:
        return ew.Add.apply(other, self)

    def __sub__(self, other: Any) -> Any:
        return ew.Sub.apply(self, other)

    def __rsub__(self, other: Any) -> Any:
        return ew.Sub.apply(other, self)

    def __mul__(self, other: Any) -> Any:
        return ew.Mul.apply(self, other)

    def __rmul__(self, other: Any) -> Any:
        return ew.Mul.apply(other, self)

    def __truediv__(self, other: Any) -> Any:
        return ew.Div.apply(self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return self.reciprocal() * other  # PyTorch's rounding: 1.5 / t is (1 / t) * 1.5

    def __pow__(self, other: Any) -> Any:
        return ew.pow(self, other)

    def __rpow__(self, other: Any) -> Any:
        return ew.pow(other, self)

    def __matmul__(self, other: Any) -> Any:
        return linalg.MatMul.apply(self, other)

    def __rmatmul__(self, other: Any) -> Any:
        return linalg.matmul(other, self)

    def __neg__(self) -> Any:
        return ew.neg(self)

    def __pos__(self) -> Any:
        return self

    def __abs__(self) -> Any:
        return ew.abs(self)

    # ---- comparisons and logic (no gradient) ----------------------------------------
    def __eq__(self, other: Any) -> Any:
        return _logical(promotion.eq, self, other)

    def __ne__(self, other: Any) -> Any:
        return _logical(promotion.ne, self, other)

    def __lt__(self, other: Any) -> Any:
        return _logical(promotion.lt, self, other)

    def __le__(self, other: Any) -> Any:
        return _logical(promotion.le, self, other)

    def __gt__(self, other: Any) -> Any:
        return _logical(promotion.gt, self, other)

    def __ge__(self, other: Any) -> Any:
        return _logical(promotion.ge, self, other)

    def __and__(self, other: Any) -> Any:
        return _logical(operator.and_, self, other)

    def __or__(self, other: Any) -> Any:
        return _logical(operator.or_, self, other)

    def __invert__(self) -> Any:
        return _logical(operator.invert, self)

    def eq(self, other: Any) -> Any:
        return self == other

    def isnan(self) -> Any:
        return _logical(array_module(self._data).isnan, self)

    def isfinite(self) -> Any:
        return _logical(array_module(self._data).isfinite, self)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """Index of the largest value (flattened when ``dim`` is None)."""
        out = self._data.argmax(axis=dim, keepdims=keepdim if dim is not None else False)
        return _constant(array_module(self._data).asarray(out, dtype=np.int64))

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Any:
        out = self._data.argmin(axis=dim, keepdims=keepdim if dim is not None else False)
        return _constant(array_module(self._data).asarray(out, dtype=np.int64))

    def allclose(self, other: Any, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
        return bool(array_module(self._data).allclose(self._data, _raw(other), rtol, atol))

    # ---- elementwise math -----------------------------------------------------------
    def add(self, other: Any) -> Any:
        return ew.add(self, other)

    def sub(self, other: Any) -> Any:
        return ew.sub(self, other)

    def mul(self, other: Any) -> Any:
        return ew.mul(self, other)

    def div(self, other: Any) -> Any:
        return ew.div(self, other)

    def pow(self, exponent: Any) -> Any:
        return ew.pow(self, exponent)

    def exp(self) -> Any:
        return ew.exp(self)

    def log(self) -> Any:
        return ew.log(self)

    def sqrt(self) -> Any:
        return ew.sqrt(self)

    def abs(self) -> Any:
        return ew.abs(self)

    def neg(self) -> Any:
        return ew.neg(self)

    def clamp(self, min: Any = None, max: Any = None) -> Any:  # noqa: A002
        return ew.clamp(self, min, max)

    clip = clamp

    def maximum(self, other: Any) -> Any:
        return ew.maximum(self, other)

    def minimum(self, other: Any) -> Any:
        return ew.minimum(self, other)

    def sigmoid(self) -> Any:
        return act.sigmoid(self)

    def tanh(self) -> Any:
        return act.tanh(self)

    def relu(self) -> Any:
        return act.relu(self)

    # ---- reductions -----------------------------------------------------------------
    def sum(self, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Any:
        return red.sum(self, dim, keepdim, **kwargs)

    def mean(self, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Any:
        return red.mean(self, dim, keepdim, **kwargs)

    def max(self, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Any:
        return red.max(self, dim, keepdim, **kwargs)

    def min(self, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Any:
        return red.min(self, dim, keepdim, **kwargs)

    def amax(self, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Any:
        return red.amax(self, dim, keepdim, **kwargs)

    def amin(self, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Any:
        return red.amin(self, dim, keepdim, **kwargs)

    def var(self, dim: Any = None, correction: int = 1, keepdim: bool = False,
            unbiased: bool | None = None, **kwargs: Any) -> Any:
        return red.var(self, dim, correction, keepdim, unbiased, **kwargs)

    def std(self, dim: Any = None, correction: int = 1, keepdim: bool = False,
            unbiased: bool | None = None, **kwargs: Any) -> Any:
        return red.std(self, dim, correction, keepdim, unbiased, **kwargs)

    def logsumexp(self, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Any:
        return red.logsumexp(self, dim, keepdim, **kwargs)

    def softmax(self, dim: int = -1) -> Any:
        return red.softmax(self, dim)

    def log_softmax(self, dim: int = -1) -> Any:
        return red.log_softmax(self, dim)

    # ---- matrix and shape -----------------------------------------------------------
    def matmul(self, other: Any) -> Any:
        return linalg.matmul(self, other)

    @property
    def T(self) -> Any:  # noqa: N802 - PyTorch's name
        """Reverse all dims (the transpose of a matrix)."""
        return shp.permute(self, tuple(reversed(range(self._data.ndim))))

    def reshape(self, *shape: Any) -> Any:
        return shp.reshape(self, *shape)

    view = reshape

    def view_as(self, other: Any) -> Any:
        return shp.reshape(self, other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Any:
        return shp.flatten(self, start_dim, end_dim)

    def transpose(self, dim0: int, dim1: int) -> Any:
        return shp.transpose(self, dim0, dim1)

    def permute(self, *dims: Any) -> Any:
        return shp.permute(self, *dims)

    def expand(self, *shape: Any) -> Any:
        return shp.expand(self, *shape)

    def expand_as(self, other: Any) -> Any:
        return shp.expand(self, other.shape)

    def squeeze(self, dim: Any = None) -> Any:
        return shp.squeeze(self, dim)

    def unsqueeze(self, dim: int) -> Any:
        return shp.unsqueeze(self, dim)

    def split(self, split_size: Any, dim: int = 0) -> Any:
        return shp.split(self, split_size, dim)

    def chunk(self, chunks: int, dim: int = 0) -> Any:
        return shp.chunk(self, chunks, dim)

    def __getitem__(self, index: Any) -> Any:
        return shp.getitem(self, index)


from chainrule.ops import activation as act  # noqa: E402
from chainrule.ops import elementwise as ew  # noqa: E402
from chainrule.ops import linalg, promotion  # noqa: E402
from chainrule.ops import reduce as red  # noqa: E402
from chainrule.ops import shape as shp  # noqa: E402
