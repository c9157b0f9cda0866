"""In-place operations of :class:`~chainrule.tensor.Tensor`, with PyTorch's safety rules.

* Outside the graph (no grad needed) they write into the array directly.
* On a leaf that requires grad they raise, unless grad mode is off (as in optimizers).
* On a tensor in the graph they are recorded: the out-of-place op runs, its result is
  written into this tensor's memory, and the tensor takes the new ``grad_fn``.
* Every in-place write bumps the version counter, so a tensor that an op saved for
  backward and that was changed afterwards is caught at backward time.

>>> import chainrule as cr
>>> x = cr.zeros(3)
>>> x.add_(1); x[0] = 5.0
tensor([1., 1., 1.])
>>> x
tensor([5., 1., 1.])
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from chainrule.autograd.grad_mode import STATE as GRAD_MODE


class TensorInplace:
    """Mixin: ``add_``, ``sub_``, ``mul_``, ``div_``, ``zero_``, ``fill_``, ``copy_``,
    ``clamp_``, the augmented assignments and ``__setitem__``."""

    __slots__ = ()
    _data: Any
    grad_fn: Any
    _requires_grad: bool
    _out_index: int
    _version: list[int]
    _counter: list[int] | None
    shape: Any
    dtype: Any

    # ---- in-place ops ---------------------------------------------------------------
    def _check_inplace(self, op: str) -> bool:
        """Validate an in-place op; return True when it must be recorded in the graph."""
        if not GRAD_MODE.enabled:
            return False
        if self._requires_grad and self.grad_fn is None:
            raise RuntimeError(
                f"{op}: a leaf tensor that requires grad ({tuple(self.shape)} {self.dtype}) is "
                "being used in an in-place operation. Wrap the update in "
                "`with chainrule.no_grad():` (as optimizers do) or use the out-of-place op"
            )
        return self._requires_grad

    def _inplace(self, op: str, result_fn: Any, raw_fn: Any, other: Any = None) -> Any:
        """Record ``result_fn()`` into this tensor when the graph needs it, else write
        ``raw_fn(data, other)`` (None for callers that come here only to record)."""
        record = self._check_inplace(op)
        if not record and isinstance(other, TensorInplace) and other._requires_grad \
                and GRAD_MODE.enabled:
            record = True
        if record:
            if self._data.base is not None:
                raise RuntimeError(
                    f"{op}: in-place op on a view of another tensor while recording the "
                    "graph; use .clone() first"
                )
            result = result_fn()
            np.copyto(self._data, result._data) if isinstance(self._data, np.ndarray) \
                else self._data.__setitem__(Ellipsis, result._data)
            me: Any = self  # the Tensor this mixin is part of
            me.grad_fn, me._out_index = result.grad_fn, result._out_index
            me._requires_grad = True
        else:
            raw_fn(self._data, other._data if isinstance(other, TensorInplace) else other)
        self._bump_version()
        return self

    def _bump_version(self) -> None:
        """Count one in-place write (the counter is made here if nothing made it yet)."""
        counter = self._counter
        if counter is None:
            me: Any = self  # (the slot is the Tensor's)
            me._counter = [1]
        else:
            counter[0] += 1

    def _inplace_arithmetic(self, op: str, forward: Any, ufunc: Any, other: Any) -> Any:
        """``add_``, ``sub_``, ``mul_``, ``div_``: recorded as ``forward(self, other)`` when
        the graph needs it (see ``_inplace``), else ``ufunc`` straight into this array."""
        if GRAD_MODE.enabled and (self._requires_grad or (
                isinstance(other, TensorInplace) and other._requires_grad)):
            return self._inplace(op, lambda: forward(self, other), None, other)
        data = self._data  # the manual loops' path (``dC[ix] += g``): no closures, no checks
        ufunc(data, other._data if isinstance(other, TensorInplace) else other, out=data,
              casting="unsafe")
        self._bump_version()
        return self

    def add_(self, other: Any, alpha: float = 1) -> Any:
        """In-place ``self += alpha * other``."""
        scaled = other if alpha == 1 else other * alpha
        return self._inplace_arithmetic("add_", operator.add, np.add, scaled)

    def sub_(self, other: Any, alpha: float = 1) -> Any:
        """In-place ``self -= alpha * other``."""
        scaled = other if alpha == 1 else other * alpha
        return self._inplace_arithmetic("sub_", operator.sub, np.subtract, scaled)

    def mul_(self, other: Any) -> Any:
        """In-place ``self *= other``."""
        return self._inplace_arithmetic("mul_", operator.mul, np.multiply, other)

    def div_(self, other: Any) -> Any:
        """In-place ``self /= other``."""
        return self._inplace_arithmetic("div_", operator.truediv, np.divide, other)

    def zero_(self) -> Any:
        """Fill with zeros in place."""
        return self.fill_(0)

    def fill_(self, value: Any) -> Any:
        """Fill with ``value`` in place."""
        me: Any = self
        return self._inplace("fill_", lambda: me * 0 + value,
                             lambda d, o: d.fill(o), value)

    def copy_(self, src: Any) -> Any:
        """Copy ``src`` (broadcast) into this tensor's memory."""
        me: Any = self
        return self._inplace("copy_", lambda: me * 0 + src,
                             lambda d, o: np.copyto(d, o, casting="unsafe"), src)

    def bernoulli_(self, p: Any = 0.5, *, generator: Any = None) -> Any:
        """Fill with 1 (probability ``p``: a number or a tensor of them) or 0, drawn as
        PyTorch's CPU ``bernoulli_`` draws them."""
        from chainrule.sampling import bernoulli_values

        me: Any = self
        return self.copy_(bernoulli_values(me, p, generator))

    def exponential_(self, lambd: float = 1.0, *, generator: Any = None) -> Any:
        """Fill with exponential samples of rate ``lambd``, PyTorch's CPU draws."""
        from chainrule.sampling import exponential_values

        me: Any = self
        return self.copy_(exponential_values(me, lambd, generator))

    def clamp_(self, min: Any = None, max: Any = None) -> Any:  # noqa: A002
        """Clip in place."""
        me: Any = self
        return self._inplace("clamp_", lambda: me.clamp(min, max),
                             lambda d, o: np.clip(d, min, max, out=d))

    def __iadd__(self, other: Any) -> Any:
        return self.add_(other)

    def __isub__(self, other: Any) -> Any:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Any:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Any:
        return self.div_(other)

    def __setitem__(self, index: Any, value: Any) -> None:
        from chainrule.ops import shape  # (a module import here: the op imports Tensor)

        if not (GRAD_MODE.enabled and (self._requires_grad or (
                isinstance(value, TensorInplace) and value._requires_grad))):
            # nothing to record (the scalar loops of manual backprop): write and count
            kind = type(index)
            if isinstance(index, TensorInplace):
                index = index._data
            elif kind is not int and kind is not slice:
                index = shape.normalize_index(index)
            self._data[index] = value._data if isinstance(value, TensorInplace) else value
            self._bump_version()
            return
        index = shape.normalize_index(index)  # recorded: _inplace's raw write is not reached
        self._inplace("__setitem__", lambda: shape.SetItem.apply(self, value, index), None,
                      value)
