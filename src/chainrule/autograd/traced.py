"""Arrays that record: how one backward formula serves both first and higher derivatives.

Every op's ``backward`` is written once, against NumPy's names (``gy * b``,
``xp.where(mask, gy, 0)``, ``g.sum(axis=0)``, ``g.reshape(shape)``). On the fast path it
gets raw arrays and ``xp`` is NumPy. With ``create_graph=True`` the engine hands it
:class:`Traced` values instead: each wraps a chainrule Tensor and answers NumPy's methods
and operators by calling chainrule's ops, and ``array_module`` of a Traced value is
:data:`NAMESPACE`, NumPy's functions done the same way. The same lines of backward then
build a graph, which can be differentiated again, to any order.

A formula that needs something this facade does not offer (an in-place update, a NumPy
function not listed here) fails on a Traced value, and the engine turns that into one
error naming the op (see :func:`double_backward_error`): no op is differentiated wrongly
in silence. Comparisons give plain boolean arrays (masks are constants, as in PyTorch).

>>> import chainrule as cr
>>> x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
>>> t = Traced(x * 1)
>>> (t * t + 1).tensor.sum().backward()
>>> x.grad
tensor([2., 4.], dtype=chainrule.float64)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.autograd.function import tensor_class as _tensor_class


def as_tensor(value: Any) -> Any:
    """The chainrule Tensor behind ``value`` (a constant one for arrays and numbers)."""
    if isinstance(value, Traced):
        return value.tensor
    tensor_class = _tensor_class()
    if isinstance(value, tensor_class):
        return value
    if isinstance(value, np.ndarray | np.generic):
        return tensor_class._wrap(np.asarray(value))
    return value  # a Python number: chainrule's ops take those as they are


def traced(value: Any) -> Any:
    """``value`` as a Traced array (None stays None)."""
    if value is None or isinstance(value, Traced):
        return value
    return Traced(as_tensor(value) if not isinstance(value, int | float) else
                  _tensor_class()._wrap(np.asarray(value)))


def _axes(axis: Any) -> Any:
    return tuple(axis) if isinstance(axis, list) else axis


class Traced:
    """A NumPy-shaped view of a chainrule Tensor whose operations are recorded."""

    __slots__ = ("tensor",)
    __array_ufunc__ = None  # ndarray (op) Traced defers to Traced's reflected operator

    def __init__(self, tensor: Any) -> None:
        self.tensor = tensor

    # ---- what NumPy code reads --------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.tensor._data.shape)

    @property
    def ndim(self) -> int:
        return int(self.tensor._data.ndim)

    @property
    def size(self) -> int:
        return int(self.tensor._data.size)

    @property
    def dtype(self) -> Any:
        return self.tensor._data.dtype

    @property
    def data_array(self) -> Any:
        return self.tensor._data

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a recorded gradient cannot become a plain array: this backward "
                        "formula leaves chainrule's ops")

    def __len__(self) -> int:
        return int(self.tensor._data.shape[0])

    def __repr__(self) -> str:
        return f"Traced({self.tensor!r})"

    # ---- arithmetic -------------------------------------------------------------------
    def __add__(self, other: Any) -> Traced:
        return Traced(self.tensor + as_tensor(other))

    def __radd__(self, other: Any) -> Traced:
        return Traced(as_tensor(other) + self.tensor)

    def __sub__(self, other: Any) -> Traced:
        return Traced(self.tensor - as_tensor(other))

    def __rsub__(self, other: Any) -> Traced:
        return Traced(as_tensor(other) - self.tensor)

    def __mul__(self, other: Any) -> Traced:
        return Traced(self.tensor * as_tensor(other))

    def __rmul__(self, other: Any) -> Traced:
        return Traced(as_tensor(other) * self.tensor)

    def __truediv__(self, other: Any) -> Traced:
        return Traced(self.tensor / as_tensor(other))

    def __rtruediv__(self, other: Any) -> Traced:
        return Traced(as_tensor(other) / self.tensor)

    def __pow__(self, other: Any) -> Traced:
        return Traced(self.tensor ** as_tensor(other))

    def __rpow__(self, other: Any) -> Traced:
        return Traced(as_tensor(other) ** self.tensor)

    def __neg__(self) -> Traced:
        return Traced(-self.tensor)

    def __matmul__(self, other: Any) -> Traced:
        return Traced(self.tensor @ as_tensor(other))

    def __rmatmul__(self, other: Any) -> Traced:
        return Traced(as_tensor(other) @ self.tensor)

    # comparisons are constants: masks carry no gradient
    def __gt__(self, other: Any) -> Any:
        return self.tensor._data > _plain(other)

    def __ge__(self, other: Any) -> Any:
        return self.tensor._data >= _plain(other)

    def __lt__(self, other: Any) -> Any:
        return self.tensor._data < _plain(other)

    def __le__(self, other: Any) -> Any:
        return self.tensor._data <= _plain(other)

    def __eq__(self, other: Any) -> Any:
        return self.tensor._data == _plain(other)

    def __ne__(self, other: Any) -> Any:
        return self.tensor._data != _plain(other)

    __hash__ = None  # type: ignore[assignment]

    # ---- NumPy's methods ----------------------------------------------------------------
    def reshape(self, *shape: Any) -> Traced:
        if len(shape) == 1 and isinstance(shape[0], tuple | list):
            shape = tuple(shape[0])
        return Traced(self.tensor.reshape(*shape))

    def ravel(self) -> Traced:
        return Traced(self.tensor.reshape(-1))

    def sum(self, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> Traced:
        out = self.tensor.sum(dim=_axes(axis), keepdim=keepdims)
        return Traced(out if dtype is None else out.to(dtype))

    def mean(self, axis: Any = None, keepdims: bool = False) -> Traced:
        return Traced(self.tensor.mean(dim=_axes(axis), keepdim=keepdims))

    def astype(self, dtype: Any, copy: bool = True) -> Traced:
        return Traced(self.tensor.to(np.dtype(dtype)))

    def copy(self) -> Traced:
        return Traced(self.tensor.clone())

    def swapaxes(self, a: int, b: int) -> Traced:
        return Traced(self.tensor.transpose(a, b))

    def transpose(self, *axes: Any) -> Traced:
        if len(axes) == 1 and isinstance(axes[0], tuple | list):
            axes = tuple(axes[0])
        if not axes:
            axes = tuple(reversed(range(self.ndim)))
        return Traced(self.tensor.permute(*axes))

    @property
    def T(self) -> Traced:  # noqa: N802 - NumPy's name
        return self.transpose()

    def dot(self, other: Any) -> Traced:
        return Traced(self.tensor @ as_tensor(other))

    def __getitem__(self, index: Any) -> Traced:
        return Traced(self.tensor[_plain_index(index)])

    def __setitem__(self, index: Any, value: Any) -> None:
        """NumPy's in-place assignment, recorded out of place: the Traced array now holds
        a new Tensor (a copy with ``value`` written in; both stay differentiable)."""
        updated = self.tensor.clone()
        updated[_plain_index(index)] = as_tensor(traced(value))
        self.tensor = updated


def _plain_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(_plain(i) for i in index)
    return _plain(index)


def _plain(value: Any) -> Any:
    return value.tensor._data if isinstance(value, Traced) else value


# NumPy's functions for Traced arrays live in chainrule.autograd.traced_numpy, which
# registers them as ``array_module(traced)`` when this module is first imported (the end of
# this file)


class DoubleBackwardError(RuntimeError):
    """An op's backward cannot be recorded (create_graph=True)."""


def double_backward_error(node: Any, exc: BaseException) -> DoubleBackwardError:
    """The one error of a backward formula that failed on Traced values."""
    from chainrule.tensor_str import grad_fn_name

    return DoubleBackwardError(
        f"create_graph=True: {grad_fn_name(node)} cannot record its backward, so its "
        f"gradient cannot be differentiated again ({type(exc).__name__}: {exc}). "
        "Compute this part without create_graph, or see the README's list of ops with "
        "higher-order gradients")


def _is_input(node: Any, saved: Any) -> bool:
    """Whether ``saved`` is one of the op's inputs (one that needs no gradient: a constant)."""
    versions = node.saved_versions
    return any(versions[k + 2] == id(saved) and versions[k + 3] >= 0
               for k in range(0, len(versions), 4))


def recorded_saves(node: Any) -> tuple[Any, ...]:
    """``node``'s saved arrays for a recorded backward: a saved input becomes that input's
    Tensor (a leaf itself, or the same array tied to the node that made it), a saved output
    this node's output Tensor, both as Traced arrays; boolean and integer arrays (masks,
    indices) and inputs that need no gradient stay constants. A saved floating array that is
    neither an input nor an output (an intermediate of forward) cannot carry the graph: that
    op's backward cannot be recorded, and this says so instead of differentiating wrongly."""
    from chainrule.autograd.function import Node

    tensor_class = _tensor_class()
    # the ids of the inputs that need a gradient (in their edges), then of the saved outputs
    # (version records at a negative position -1 - k: output k)
    positions = {item[4]: k for k, item in enumerate(node.inputs) if item is not None}
    versions = node.saved_versions
    for k in range(0, len(versions), 4):
        if versions[k + 3] < 0:
            positions.setdefault(versions[k + 2], versions[k + 3])
    recompute = getattr(node.function, "recompute", None)
    out: list[Any] = []
    for saved in node.to_save:
        kind = getattr(getattr(saved, "dtype", None), "kind", None)
        position = positions.get(id(saved)) if kind in ("f", "c") else None
        if position is None:  # a constant: an input needing no gradient, a mask, indices
            if (kind in ("f", "c") and recompute is None and not _is_input(node, saved)
                    and not getattr(node.function, "constant_saves", False)):
                raise DoubleBackwardError(
                    f"create_graph=True: {node.name()} saves an intermediate result of its "
                    "forward for backward, so its gradient cannot be differentiated again "
                    "(yet); compute this part without create_graph")
            out.append(saved)
        elif position >= 0:
            target, index = node.inputs[position][0], node.inputs[position][1]
            if isinstance(target, Node):
                out.append(Traced(tensor_class._wrap(saved, target, index)))
            else:
                out.append(Traced(target))  # a leaf
        else:
            out.append(Traced(tensor_class._wrap(saved, node, -1 - position)))
    if recompute is not None:  # the op rebuilds its intermediates from recorded inputs
        return tuple(recompute(node, tuple(out)))
    return tuple(out)


from chainrule.autograd import traced_numpy as _traced_numpy  # noqa: E402,F401  (registers)
