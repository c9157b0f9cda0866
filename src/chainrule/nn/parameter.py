"""``Parameter``: a Tensor that a Module registers as learnable when you assign it.

>>> import chainrule as cr
>>> p = cr.nn.Parameter(cr.zeros(2))
>>> p.requires_grad, p.is_leaf
(True, True)
"""

from __future__ import annotations

from typing import Any

from chainrule.tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor with ``requires_grad=True`` that Modules collect in ``parameters()``."""

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            from chainrule.creation import empty

            data = empty(0)
        if isinstance(data, Tensor):
            data = data._data
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
