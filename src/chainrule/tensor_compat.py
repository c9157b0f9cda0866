"""Conversions and the rest of PyTorch's Tensor surface: ``to``, ``float()``, ``type()``,
``t()``, ``.data``, ``.is_cuda``, printing and ``format``.

Kept apart from ``tensor.py`` (what a tensor *is*) as the tensor's side of the
compatibility layer: these methods only translate PyTorch's spellings into chainrule's ops.

``.data`` is a Tensor sharing the storage (the raw array is the internal ``_data``): changes
through it are not recorded by autograd, as in PyTorch.

>>> import chainrule as cr
>>> w = cr.tensor([1.0, 2.0], requires_grad=True)
>>> w.data -= 0.5 * cr.tensor([2.0, 2.0])
>>> w
tensor([0., 1.], requires_grad=True)
>>> x = cr.tensor([[1, 2], [3, 4]])
>>> x.t().tolist(), x.type(), x.float().type()
([[1, 3], [2, 4]], 'chainrule.LongTensor', 'chainrule.FloatTensor')
>>> f"{cr.tensor(2.0):+.2f}"
'+2.00'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule import dtypes
from chainrule.autograd import capture
from chainrule.autograd.function import tensor_class as _tensor_class
from chainrule.backend import Device, array_module, get_device

if TYPE_CHECKING:
    from chainrule.tensor import Tensor

# PyTorch's legacy type names (t.type()) by dtype, and back
_TYPE_NAMES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
    "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
    "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor",
}
_DTYPE_OF_NAME = {name: np.dtype(dtype) for dtype, name in _TYPE_NAMES.items()}


class TensorCompat:
    """Mixin: conversions (``to``, ``float()``, ``type()``), ``t()``, ``.data``, printing."""

    __slots__ = ()
    _data: Any

    # ---- .data: the same storage, outside the graph ---------------------------------
    @property
    def data(self) -> Tensor:
        """This tensor's values as a new leaf sharing the storage, outside autograd:
        ``w.data -= lr * w.grad`` updates ``w`` in place without being recorded."""
        return _tensor_class()._wrap(self._data)

    @data.setter
    def data(self, value: Any) -> None:
        array = value._data if isinstance(value, TensorCompat) else value
        if not hasattr(array, "shape") or not hasattr(array, "dtype"):
            raise TypeError(f"tensor.data = ...: expected a Tensor, got {type(value).__name__}")
        old = self._data
        if (array.shape != old.shape or array.dtype != old.dtype
                or array_module(array) is not array_module(old)) and capture.is_held(self):
            capture.changed()  # a captured step recorded the old shape and dtype
        self._data = array

    # ---- moving and casting ---------------------------------------------------------
    def to(self, *args: Any, dtype: Any = None, device: Any = None, non_blocking: bool = False,
           copy: bool = False) -> Tensor:
        """Move and/or cast: ``t.to('cuda')``, ``t.to(float64)``, ``t.to(device, dtype)``,
        ``t.to(other)`` (other's dtype and device). ``non_blocking`` is accepted (copies
        are synchronous); ``copy=True`` always returns a new tensor."""
        for arg in args:
            if isinstance(arg, TensorCompat):
                dtype, device = arg._data.dtype, get_device(arg._data)
            elif isinstance(arg, (str, Device)) or (isinstance(arg, int)
                                                    and not isinstance(arg, bool)):
                device = arg
            elif arg is not None:
                dtype = arg
        me: Any = self
        out: Any = self
        resolved = dtypes.resolve(dtype)
        if resolved is not None and resolved != self._data.dtype:
            from chainrule.ops.convert import Cast

            out = Cast.apply(out, resolved)
        if device is not None and Device(device) != get_device(self._data):
            from chainrule.ops.convert import ToDevice

            out = ToDevice.apply(out, Device(device))
        if copy and out is self:
            out = me.clone()
        return out

    def cpu(self) -> Tensor:
        """This tensor on the CPU (itself when it is there)."""
        return self.to("cpu")

    def cuda(self, device: Any = None, non_blocking: bool = False) -> Tensor:
        """This tensor on a CUDA device (RuntimeError where there is none)."""
        index = 0 if device is None else Device(device).index or 0
        return self.to(Device("cuda", index))

    @property
    def is_cuda(self) -> bool:
        """True when the data is on a GPU."""
        return bool(get_device(self._data).type == "cuda")

    def get_device(self) -> int:
        """The CUDA device index, or -1 on the CPU (as PyTorch)."""
        device = get_device(self._data)
        return -1 if device.type == "cpu" else int(device.index or 0)

    def type_as(self, other: Any) -> Tensor:
        return self.to(other.dtype)

    def type(self, dtype: Any = None, non_blocking: bool = False) -> Any:
        """With no argument, PyTorch's type name (``'chainrule.FloatTensor'``, with ``cuda.``
        on a GPU); with a dtype or such a name (``'torch.DoubleTensor'`` too), a cast."""
        if dtype is None:
            cuda = "cuda." if get_device(self._data).type == "cuda" else ""
            name = _TYPE_NAMES.get(np.dtype(self._data.dtype).name, f"{self._data.dtype}Tensor")
            return f"chainrule.{cuda}{name}"
        if isinstance(dtype, str):
            parts = dtype.split(".")
            if parts[-1] not in _DTYPE_OF_NAME or parts[0] not in ("torch", "chainrule"):
                raise ValueError(f"type(): unknown type name {dtype!r}; use a dtype "
                                 "(chainrule.float64) or a name such as 'torch.DoubleTensor'")
            device = "cuda" if "cuda" in parts else "cpu"
            return self.to(device, _DTYPE_OF_NAME[parts[-1]])
        return self.to(dtype)

    # ---- shape ----------------------------------------------------------------------
    def t(self) -> Tensor:
        """The transpose of a matrix (dims 0 and 1); a 0-D or 1-D tensor as it is."""
        if self._data.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but this one has "
                               f"{self._data.ndim}; use .transpose(dim0, dim1) or .mT")
        from chainrule.ops import shape as shp

        return shp.permute(self, tuple(reversed(range(self._data.ndim))))

    # ---- printing -------------------------------------------------------------------
    def __repr__(self) -> str:
        from chainrule.tensor import _values_read
        from chainrule.tensor_str import tensor_repr

        _values_read()
        return tensor_repr(self)  # type: ignore[arg-type]

    def __format__(self, format_spec: str) -> str:
        """A 0-d tensor formats as its number (``f"{loss:.4f}"``), as in PyTorch."""
        if self._data.ndim == 0 and type(self) is _tensor_class():
            return format(self.item(), format_spec)  # type: ignore[attr-defined]
        return object.__format__(self, format_spec)

    # ---- casts by name (last: their names would shadow the builtins in annotations) --
    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def half(self) -> Tensor:
        return self.to(dtypes.float16)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtypes.int32)

    def short(self) -> Tensor:
        return self.to(dtypes.int16)

    def byte(self) -> Tensor:
        return self.to(dtypes.uint8)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool_)
