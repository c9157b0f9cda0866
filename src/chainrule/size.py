"""``Size``: a tensor's shape, a tuple of ints that prints as PyTorch's ``torch.Size`` does.

>>> import chainrule as cr
>>> s = cr.zeros(3, 4).shape
>>> s
chainrule.Size([3, 4])
>>> s == (3, 4), s[0], s.numel()
(True, 3, 12)
"""

from __future__ import annotations

import math


class Size(tuple[int, ...]):
    """The sizes of a tensor's dims (a plain tuple in every other respect)."""

    __slots__ = ()

    def numel(self) -> int:
        """The number of elements of a tensor of this size."""
        return math.prod(self)

    def __repr__(self) -> str:
        return f"chainrule.Size({list(self)})"

    __str__ = __repr__
