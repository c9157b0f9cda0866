"""More of PyTorch's Tensor methods: math functions, their in-place forms, sorting, logic.

Each method calls the function of the same name in ``ops`` (one definition per op); the
in-place forms (``x.sin_()``) follow :mod:`chainrule.tensor_inplace`'s rules: written
straight into the array outside the graph, recorded as the out-of-place op inside it.

>>> import chainrule as cr
>>> x = cr.tensor([0.25, 2.75])
>>> _ = x.floor_()
>>> x
tensor([0., 2.])
>>> cr.tensor([3.0, 1.0, 2.0]).sort(descending=True).values
tensor([3., 2., 1.])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule.backend import array_module

if TYPE_CHECKING:
    from chainrule.tensor import Tensor

_CATEGORY = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}


def _copy_into(op: str, data: Any, result: Any) -> None:
    """Write ``result`` into ``data`` (an in-place op outside the graph), refusing a result
    of a higher kind as PyTorch does (``int_tensor.sin_()``)."""
    if _CATEGORY[result.dtype.kind] > _CATEGORY[data.dtype.kind]:
        raise RuntimeError(f"{op}: result type {result.dtype} can't be cast to the desired "
                           f"output type {data.dtype} (tensor {tuple(data.shape)})")
    if isinstance(data, np.ndarray):
        np.copyto(data, result, casting="unsafe")
    else:
        data[...] = result


def _inplace(name: str) -> Any:
    """The in-place form ``name_`` of the method ``name``."""

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        def result() -> Any:
            return getattr(self, name)(*args, **kwargs)

        return self._inplace(f"{name}_", result,
                             lambda data, _: _copy_into(f"{name}_", data, result()._data))

    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = f"In-place :meth:`{name}`; returns self."
    return method


class TensorFunctions:
    """Mixin of :class:`~chainrule.tensor.Tensor` (through ``TensorMath``)."""

    __slots__ = ()
    _data: Any

    # ---- trigonometry -----------------------------------------------------------------
    def sin(self) -> Tensor:
        return trig.sin(self)

    def cos(self) -> Tensor:
        return trig.cos(self)

    def tan(self) -> Tensor:
        return trig.tan(self)

    def asin(self) -> Tensor:
        return trig.asin(self)

    def acos(self) -> Tensor:
        return trig.acos(self)

    def atan(self) -> Tensor:
        return trig.atan(self)

    def sinh(self) -> Tensor:
        return trig.sinh(self)

    def cosh(self) -> Tensor:
        return trig.cosh(self)

    def atan2(self, other: Any) -> Tensor:
        return trig.atan2(self, other)

    arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2

    # ---- exponentials, powers, rounding -------------------------------------------
    def log1p(self) -> Tensor:
        return math.log1p(self)

    def expm1(self) -> Tensor:
        return math.expm1(self)

    def log2(self) -> Tensor:
        return math.log2(self)

    def log10(self) -> Tensor:
        return math.log10(self)

    def square(self) -> Tensor:
        return math.square(self)

    def rsqrt(self) -> Tensor:
        return math.rsqrt(self)

    def reciprocal(self) -> Tensor:
        return math.reciprocal(self)

    def erf(self) -> Tensor:
        return math.erf(self)

    def erfc(self) -> Tensor:
        return math.erfc(self)

    def floor(self) -> Tensor:
        return rounding.floor(self)

    def ceil(self) -> Tensor:
        return rounding.ceil(self)

    def round(self, decimals: int = 0) -> Tensor:
        return rounding.round(self, decimals)

    def trunc(self) -> Tensor:
        return rounding.trunc(self)

    def frac(self) -> Tensor:
        return rounding.frac(self)

    def sign(self) -> Tensor:
        return rounding.sign(self)

    fix, sgn = trunc, sign

    def floor_divide(self, other: Any) -> Tensor:
        return rounding.floor_divide(self, other)

    def remainder(self, other: Any) -> Tensor:
        return rounding.remainder(self, other)

    def fmod(self, other: Any) -> Tensor:
        return rounding.fmod(self, other)

    def true_divide(self, other: Any) -> Tensor:
        return ew.div(self, other)

    def __floordiv__(self, other: Any) -> Tensor:
        return rounding.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return rounding.floor_divide(other, self)

    def __mod__(self, other: Any) -> Tensor:
        return rounding.remainder(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return rounding.remainder(other, self)

    def clamp_min(self, min: Any) -> Tensor:  # noqa: A002 - PyTorch's argument name
        return ew.clamp(self, min, None)

    def clamp_max(self, max: Any) -> Tensor:  # noqa: A002
        return ew.clamp(self, None, max)

    # ---- in place -----------------------------------------------------------------------
    sin_, cos_, tan_ = _inplace("sin"), _inplace("cos"), _inplace("tan")
    asin_, acos_, atan_ = _inplace("asin"), _inplace("acos"), _inplace("atan")
    sinh_, cosh_, atan2_ = _inplace("sinh"), _inplace("cosh"), _inplace("atan2")
    exp_, log_, sqrt_ = _inplace("exp"), _inplace("log"), _inplace("sqrt")
    log1p_, expm1_ = _inplace("log1p"), _inplace("expm1")
    log2_, log10_ = _inplace("log2"), _inplace("log10")
    square_, rsqrt_ = _inplace("square"), _inplace("rsqrt")
    reciprocal_, pow_ = _inplace("reciprocal"), _inplace("pow")
    erf_, erfc_ = _inplace("erf"), _inplace("erfc")
    floor_, ceil_, round_ = _inplace("floor"), _inplace("ceil"), _inplace("round")
    trunc_, frac_, sign_ = _inplace("trunc"), _inplace("frac"), _inplace("sign")
    fix_ = trunc_
    abs_, neg_ = _inplace("abs"), _inplace("neg")
    sigmoid_, tanh_, relu_ = _inplace("sigmoid"), _inplace("tanh"), _inplace("relu")
    floor_divide_, remainder_ = _inplace("floor_divide"), _inplace("remainder")
    fmod_ = _inplace("fmod")
    clamp_min_, clamp_max_ = _inplace("clamp_min"), _inplace("clamp_max")
    clip_ = _inplace("clamp")

    # ---- comparisons and logic (no gradient) --------------------------------------------
    def ne(self, other: Any) -> Tensor:
        return self != other

    def lt(self, other: Any) -> Tensor:
        return self < other

    def le(self, other: Any) -> Tensor:
        return self <= other

    def gt(self, other: Any) -> Tensor:
        return self > other

    def ge(self, other: Any) -> Tensor:
        return self >= other

    def all(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        """True where all elements (along ``dim``) are nonzero."""
        return ew.Logical.apply(_Reduce("all", dim, keepdim), self._data)

    def any(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        """True where any element (along ``dim``) is nonzero."""
        return ew.Logical.apply(_Reduce("any", dim, keepdim), self._data)

    def isclose(self, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
                equal_nan: bool = False) -> Tensor:
        """``|self - other| <= atol + rtol * |other|`` elementwise (a bool tensor)."""
        other_data = other._data if hasattr(other, "_data") else other
        return ew.Logical.apply(_IsClose(rtol, atol, equal_nan), self._data, other_data)

    def equal(self, other: Any) -> bool:
        """True when ``other`` has the same shape and values (a Python bool)."""
        if tuple(self._data.shape) != tuple(other.shape):
            return False
        return bool((self == other)._data.all())

    def nelement(self) -> int:
        """The number of elements (``numel``)."""
        return int(self._data.size)

    # ---- sorting, cumulative ops, products ----------------------------------------------
    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        return sorting.sort(self, dim, descending, stable)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
        return sorting.argsort(self, dim, descending, stable)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
        return sorting.topk(self, k, dim, largest, sorted)

    def cumsum(self, dim: int, dtype: Any = None) -> Tensor:
        return sorting.cumsum(self, dim, dtype)

    def cumprod(self, dim: int, dtype: Any = None) -> Tensor:
        return sorting.cumprod(self, dim, dtype)

    def dot(self, other: Any) -> Tensor:
        return products.dot(self, other)

    def outer(self, other: Any) -> Tensor:
        return products.outer(self, other)

    def bmm(self, other: Any) -> Tensor:
        return products.bmm(self, other)

    def mm(self, other: Any) -> Tensor:
        return products.mm(self, other)

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False,
             dtype: Any = None) -> Tensor:
        """The p-norm over ``dim`` (all elements when None); see :func:`chainrule.norm`."""
        return norms.norm(self, p, dim, keepdim, dtype)

    def multinomial(self, num_samples: int, replacement: bool = False, *,
                    generator: Any = None) -> Tensor:
        """Draw category indices with these (unnormalized) probabilities."""
        from chainrule.sampling import multinomial

        me: Any = self
        return multinomial(me, num_samples, replacement, generator=generator)

    def bernoulli(self, p: float | None = None, *, generator: Any = None) -> Tensor:
        """1 with probability ``self`` (or the number ``p``) else 0; see
        :func:`chainrule.bernoulli`."""
        from chainrule.sampling import bernoulli

        me: Any = self
        return bernoulli(me, p, generator=generator)


class _Reduce:
    """``all``/``any`` over dims as a function of one array (what ``Logical`` records)."""

    def __init__(self, how: str, dim: Any, keepdim: bool) -> None:
        self.how, self.dim, self.keepdim = how, dim, keepdim

    def __call__(self, data: Any) -> Any:
        xp = array_module(data)
        axes = None if self.dim is None else reduce.normalize_dims(self.how, self.dim, data.ndim)
        out = getattr(data, self.how)(axis=axes, keepdims=self.keepdim and axes is not None)
        return xp.asarray(out) if data.dtype != np.uint8 else xp.asarray(out, dtype=np.uint8)


class _IsClose:
    def __init__(self, rtol: float, atol: float, equal_nan: bool) -> None:
        self.rtol, self.atol, self.equal_nan = rtol, atol, equal_nan

    def __call__(self, a: Any, b: Any) -> Any:
        a, b = promotion.promote(a, b)
        return array_module(a).isclose(a, b, self.rtol, self.atol, self.equal_nan)


from chainrule.ops import elementwise as ew  # noqa: E402
from chainrule.ops import (  # noqa: E402
    math,
    norms,
    products,
    promotion,
    reduce,
    rounding,
    sorting,
    trig,
)
