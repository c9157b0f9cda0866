"""User-defined Functions that see Tensors, as in PyTorch.

PyTorch hands ``forward(ctx, ...)`` and ``backward(ctx, grad)`` of an
``autograd.Function`` Tensors, and users write them with the Tensor API
(``x.clamp(min=0)``, ``grad.clone()``, ``g[x < 0] = 0``). chainrule's own ops work on raw
arrays (faster: no wrapping). A Function subclass defined outside ``chainrule.ops`` gets
Tensors unless it sets ``raw_arrays = True``.

How: such a class is given a companion op, :func:`tensor_function` of it, that works on
raw arrays like every other op, so the engine, version checks and step capture need
nothing new. The companion wraps the arrays in Tensors (fresh leaves, outside the graph),
runs the user's method with grad mode off and unwraps what it returns. Ops the user's code
runs are not recorded: in a captured step the companion op is, and its replay runs the
user's code again. Under ``create_graph=True`` the user's ``backward`` runs with grad mode
on, on the gradient and saved Tensors of the graph, so a backward written with Tensor
operations has second derivatives, as in PyTorch.

>>> import chainrule as cr
>>> class MyReLU(cr.autograd.Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x.clamp(min=0)
...     @staticmethod
...     def backward(ctx, grad_output):
...         (x,) = ctx.saved_tensors
...         grad = grad_output.clone()
...         grad[x < 0] = 0
...         return grad
>>> x = cr.tensor([-1.0, 2.0], requires_grad=True)
>>> y = MyReLU.apply(x)
>>> y.sum().backward()
>>> y.detach(), x.grad
(tensor([0., 2.]), tensor([0., 1.]))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.autograd import function as _function
from chainrule.autograd.capture import STATE as CAPTURE
from chainrule.autograd.function import Function, Node
from chainrule.autograd.grad_mode import STATE as GRAD_MODE
from chainrule.backend import array_module


def _is_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) or array_module(value) is not np


def _wrap(value: Any) -> Any:
    return _function.Tensor._wrap(value) if _is_array(value) else value


def _unwrap(value: Any) -> Any:
    return value._data if isinstance(value, _function.Tensor) else value


class TensorNode(Node):
    """The ``ctx`` of a Tensor-level Function: it saves Tensors (as their arrays, so the
    engine's in-place checks see them) and gives Tensors back."""

    saved_kinds: tuple[bool, ...] = ()

    def save_for_backward(self, *tensors: Any) -> None:
        self.saved_kinds = tuple(isinstance(t, _function.Tensor) for t in tensors)
        self.to_save = tuple(_unwrap(t) for t in tensors)

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        arrays = Node.saved_tensors.fget(self)  # type: ignore[attr-defined]  # freed check
        if _function.RECORDING.on:  # create_graph=True: the saved Tensors, tied to the graph
            from chainrule.autograd.traced import Traced

            return tuple(a.tensor if isinstance(a, Traced) else
                         _function.Tensor._wrap(a) if is_tensor else a
                         for a, is_tensor in zip(arrays, self.saved_kinds, strict=True))
        return tuple(_function.Tensor._wrap(a) if is_tensor else a
                     for a, is_tensor in zip(arrays, self.saved_kinds, strict=True))

    def mark_non_differentiable(self, *tensors: Any) -> None:
        self.non_differentiable = tuple(_unwrap(t) for t in tensors)

    def mark_dirty(self, *tensors: Any) -> None:
        """Accepted for PyTorch code; in-place changes of inputs are not tracked here."""

    def set_materialize_grads(self, value: bool) -> None:
        """Accepted for PyTorch code: missing output gradients always arrive as zeros."""


def _run_user(method: Any, ctx: Any, args: tuple[Any, ...]) -> Any:
    """Call the user's ``forward`` or ``backward`` on Tensors, outside the graph and the
    capture's tape (a throwaway tape, so what makes a capture give up still counts)."""
    tape, enabled = CAPTURE.tape, GRAD_MODE.enabled
    CAPTURE.tape = [] if tape is not None else None
    GRAD_MODE.enabled = False
    try:
        return method(ctx, *[_wrap(a) for a in args])
    finally:
        CAPTURE.tape, GRAD_MODE.enabled = tape, enabled


def tensor_function(user: type[Function]) -> type[Function]:
    """The raw-array op that runs the Tensor-level Function ``user``."""

    def forward(ctx: Any, *args: Any) -> Any:
        out = _run_user(user.forward, ctx, args)
        return tuple(_unwrap(o) for o in out) if isinstance(out, (tuple, list)) else _unwrap(out)

    def backward(ctx: Any, *grads: Any) -> Any:
        if _function.RECORDING.on:  # create_graph=True: the user's Tensor code is recorded
            from chainrule.autograd.traced import as_tensor, traced

            out = user.backward(ctx, *[None if g is None else as_tensor(g) for g in grads])
            if isinstance(out, (tuple, list)):
                return tuple(None if g is None else traced(g) for g in out)
            return None if out is None else traced(out)
        out = _run_user(user.backward, ctx, grads)
        return tuple(_unwrap(g) for g in out) if isinstance(out, (tuple, list)) else _unwrap(out)

    op: Any = type(user.__name__, (Function,), {
        "raw_arrays": True, "forward": staticmethod(forward), "backward": staticmethod(backward),
        "__module__": user.__module__, "__qualname__": user.__qualname__, "__doc__": user.__doc__,
    })
    op.node_class = type(user.node_class.__name__, (TensorNode,), {"function": op})
    return op
