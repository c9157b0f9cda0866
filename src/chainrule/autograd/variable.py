"""``Variable``: PyTorch's pre-0.4 wrapper, kept as PyTorch keeps it.

Old programs write ``x = Variable(torch.randn(n, d))``. As in PyTorch, the call returns a
Tensor sharing the given tensor's storage (not recording history, ``requires_grad`` as
asked), and ``isinstance(t, Variable)`` holds for every Tensor.

>>> import chainrule as cr
>>> from chainrule.autograd import Variable
>>> t = cr.ones(2)
>>> v = Variable(t, requires_grad=True)
>>> v.requires_grad, t.requires_grad, isinstance(t, Variable)
(True, False, True)
"""

from __future__ import annotations

from typing import Any


class _VariableMeta(type):
    def __instancecheck__(cls, other: Any) -> bool:
        from chainrule.tensor import Tensor

        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(data, requires_grad=False)``: ``data`` as a Tensor of its own sharing the
    storage (``volatile`` is accepted and ignored, as PyTorch does since 0.4)."""

    def __new__(cls, data: Any, requires_grad: bool = False,
                volatile: bool = False) -> Any:
        from chainrule.tensor import Tensor

        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        out = data.detach()
        if requires_grad:
            out.requires_grad_(True)
        return out
