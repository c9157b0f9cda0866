"""Ops used by layers: dropout and embedding lookup.

>>> import chainrule as cr
>>> _ = cr.manual_seed(0)
>>> y = cr.nn.functional.dropout(cr.ones(8), p=0.5)
>>> sorted(set(y.tolist()))
[0.0, 2.0]
"""

from __future__ import annotations

from typing import Any

from chainrule.autograd.function import Function
from chainrule.backend import array_module


class Dropout(Function):
    """Inverted dropout: zero each unit with probability p and scale the rest by 1 / (1 - p),
    so the expected activation is unchanged and evaluation needs no rescaling."""

    constant_saves = True  # the scaled mask: drawn, not computed from x (a constant)

    @staticmethod
    def forward(ctx: Any, x: Any, keep_mask: Any, p: float) -> Any:
        scale = x.dtype.type(1.0 / (1.0 - p)) if p < 1 else x.dtype.type(0)
        mask = keep_mask.astype(x.dtype) * scale
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (mask,) = ctx.saved_tensors
        return gy * mask


class EmbeddingLookup(Function):
    """Rows of ``weight`` picked by integer ids; backward scatter-adds into the picked rows
    (repeated ids accumulate) and leaves ``padding_idx``'s row without gradient."""

    @staticmethod
    def forward(ctx: Any, weight: Any, ids: Any, padding_idx: int | None) -> Any:
        ctx.save_for_backward(ids)
        ctx.shape, ctx.padding_idx = weight.shape, padding_idx
        return weight[ids]

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (ids,) = ctx.saved_tensors
        xp = array_module(gy)
        gw = xp.zeros(ctx.shape, dtype=gy.dtype)
        xp.add.at(gw, ids.reshape(-1), gy.reshape(-1, ctx.shape[1]))
        if ctx.padding_idx is not None:
            gw[ctx.padding_idx] = 0
        return gw
