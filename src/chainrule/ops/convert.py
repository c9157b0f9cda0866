"""Conversions that keep values: clone, dtype casts and device moves (all differentiable).

>>> import chainrule as cr
>>> x = cr.ones(2, requires_grad=True)
>>> x.double().sum().backward()
>>> x.grad.dtype
dtype('float32')
"""

from __future__ import annotations

from typing import Any

from chainrule.autograd.function import Function
from chainrule.backend import Device, get_device, to_device


class Clone(Function):
    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return x.copy()

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        return gy


class Cast(Function):
    """Change dtype; the gradient is cast back by the engine."""

    @staticmethod
    def forward(ctx: Any, x: Any, dtype: Any) -> Any:
        return x.astype(dtype)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        return gy


class ToDevice(Function):
    """Copy between CPU and GPU; the gradient travels back to the source device."""

    @staticmethod
    def forward(ctx: Any, x: Any, device: Device) -> Any:
        ctx.source = get_device(x)
        return to_device(x, device)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        return to_device(gy, ctx.source)
