"""Pooling ops: ``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d``.

Max and average pooling read the same strided windows as convolution
(:func:`chainrule.ops.conv.windows`, a view with no copy) and reduce them with one array
operation per kernel position (kH*kW of them, each over the whole batch)::

    y[n, c, ho, wo] = max / mean over (i, j) of xpad[n, c, ho*sH + i*dH, wo*sW + j*dW]

Backward sends each output's gradient back the same way: max pooling to the position of
the maximum only (the first one in scan order on ties, as PyTorch does), average pooling
to every position of the window, divided by the window's count.

Adaptive average pooling has windows of varying size (PyTorch's
``start = floor(i*H/Ho)``, ``end = ceil((i+1)*H/Ho)``), so it is two small matrix
products with 0/1 membership matrices instead: y = R @ x @ C^T / area.

>>> import chainrule as cr
>>> x = cr.tensor([[[[1.0, 3.0], [3.0, 2.0]]]], requires_grad=True)
>>> cr.nn.functional.max_pool2d(x, 2).backward(cr.ones(1, 1, 1, 1))
>>> x.grad.tolist()          # the tie goes to the first maximum in scan order
[[[[0.0, 1.0], [0.0, 0.0]]]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.autograd.function import Function
from chainrule.backend import array_module
from chainrule.backend.device import NAMESPACES
from chainrule.ops.conv import Pads, Pair, crop, pad_constant, windows


def _lowest(dtype: Any) -> Any:
    """The value padding must have so that it never wins a max: -inf, or the smallest int."""
    if np.dtype(dtype).kind == "f":
        return -np.inf
    return np.iinfo(dtype).min


def _overlapping(kernel: Pair, stride: Pair, dilation: Pair) -> bool:
    """Whether some input pixel lies in two windows (then gradients must be added)."""
    return any(s < d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation, strict=True))


def _slices(i: int, j: int, out_hw: Pair, stride: Pair, dilation: Pair) -> Any:
    """The pixels kernel position (i, j) reads, as slices of the padded input."""
    (ho, wo), (sh, sw), (dh, dw) = out_hw, stride, dilation
    return (slice(None), slice(None), slice(i * dh, i * dh + sh * (ho - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (wo - 1) + 1, sw))


class MaxPool2d(Function):
    """Max over each window; the arg-max (as a small int per output) is kept for backward.

    ``pads`` may be larger at the bottom/right than the padding asked for (``ceil_mode``'s
    last window): that padding holds -inf, so it never wins.
    """

    @staticmethod
    def forward(ctx: Any, x: Any, kernel: Pair, stride: Pair, pads: Pads,
                dilation: Pair) -> Any:
        xp = array_module(x)
        xpad = pad_constant(x, pads, _lowest(x.dtype))
        view = windows(xpad, kernel, stride, dilation)
        kh, kw = kernel
        y = view[:, :, 0, 0].copy()
        for p in range(1, kh * kw):
            xp.maximum(y, view[:, :, p // kw, p % kw], out=y)
        # the first position holding the maximum, in scan order (PyTorch keeps the first
        # on ties: it replaces its running maximum only when a value is strictly greater),
        # counted from the last position back: index = 0 where position p holds the
        # maximum, else 1 + the index counted from p + 1 (three in-place passes per
        # position; the forward scan with found/hit masks took six, 1.4-1.5x the time)
        index = xp.zeros(y.shape, dtype=np.uint8 if kh * kw <= 256 else np.int32)
        differs = xp.empty(y.shape, dtype=bool)
        for p in range(kh * kw - 2, -1, -1):
            xp.not_equal(view[:, :, p // kw, p % kw], y, out=differs)
            index += 1
            index *= differs
        if y.dtype.kind == "f" and bool(xp.isnan(y).any()):
            for p in range(kh * kw):  # PyTorch also replaces it with each NaN: the last wins
                index[xp.isnan(view[:, :, p // kw, p % kw])] = p
        ctx.save_for_backward(index)
        ctx.geometry = (x.shape, xpad.shape, kernel, stride, pads, dilation)
        return y

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (index,) = ctx.saved_tensors
        shape, padded, kernel, stride, pads, dilation = ctx.geometry
        xp = array_module(gy)
        # gy * mask rather than where(mask, gy, 0): 3x faster; it differs only for a NaN or
        # inf gradient, which then also reaches the window's other pixels (their weights'
        # gradients are non-finite either way)
        overlap = _overlapping(kernel, stride, dilation) or type(gy) in NAMESPACES
        (ho, wo), (kh, kw) = gy.shape[2:], kernel
        tiled = not overlap and padded[2:] == (ho * kh, wo * kw)  # every pixel written once
        gxpad = xp.empty(padded, gy.dtype) if tiled else xp.zeros(padded, dtype=gy.dtype)
        if not overlap:
            hit = xp.empty(index.shape, dtype=bool)
        for p in range(kh * kw):
            where = _slices(p // kw, p % kw, (ho, wo), stride, dilation)
            if overlap:  # (a recorded array has no out=)
                gxpad[where] += gy * (index == p)
            else:  # every pixel is in one window at most: write, no read-add-write
                xp.equal(index, p, out=hit)
                xp.multiply(gy, hit, out=gxpad[where])
        return crop(gxpad, pads, shape)


class AvgPool2d(Function):
    """Sum over each window divided by ``divisor``: an (Ho, Wo) array of window counts (with
    or without the padding, PyTorch's ``count_include_pad``) or ``divisor_override``."""

    @staticmethod
    def forward(ctx: Any, x: Any, kernel: Pair, stride: Pair, pads: Pads, divisor: Any) -> Any:
        xpad = pad_constant(x, pads)
        view = windows(xpad, kernel, stride, (1, 1))
        kh, kw = kernel
        total = view[:, :, 0, 0].copy()
        for p in range(1, kh * kw):  # row by row, as PyTorch sums a window
            total += view[:, :, p // kw, p % kw]
        ctx.geometry = (x.shape, xpad.shape, kernel, stride, pads, divisor)
        return total / divisor

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        shape, padded, kernel, stride, pads, divisor = ctx.geometry
        xp = array_module(gy)
        share = (gy / divisor).astype(gy.dtype, copy=False)
        gxpad = xp.zeros(padded, dtype=gy.dtype)
        overlap = _overlapping(kernel, stride, (1, 1))
        for p in range(kernel[0] * kernel[1]):
            where = _slices(p // kernel[1], p % kernel[1], gy.shape[2:], stride, (1, 1))
            if overlap:
                gxpad[where] += share
            else:
                gxpad[where] = share
        return crop(gxpad, pads, shape)


def avg_divisor(xp: Any, size: tuple[int, ...], kernel: tuple[int, ...],
                stride: tuple[int, ...], padding: tuple[int, ...], out_hw: tuple[int, ...],
                count_include_pad: bool, dtype: Any) -> Any:
    """PyTorch's window counts: the window clipped to the padded input (count_include_pad)
    or to the input itself, as an (Ho, Wo) array.

    >>> avg_divisor(np, (5, 5), (2, 2), (2, 2), (1, 1), (3, 3), False, np.float64).tolist()
    [[1.0, 2.0, 2.0], [2.0, 4.0, 4.0], [2.0, 4.0, 4.0]]
    """
    counts = []
    for n, k, s, p, o in zip(size, kernel, stride, padding, out_hw, strict=True):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        counts.append(end - start)
    return xp.asarray(np.outer(counts[0], counts[1]).astype(dtype))


class AdaptiveAvgPool2d(Function):
    """y = (R @ x @ C^T) / area with 0/1 window-membership matrices R (Ho, H), C (Wo, W)."""

    @staticmethod
    def forward(ctx: Any, x: Any, rows: Any, cols: Any, area: Any) -> Any:
        n, c, h, w = x.shape
        ho, wo = rows.shape[0], cols.shape[0]
        ctx.geometry = (x.shape, rows, cols, area)
        t = x.reshape(n * c * h, w).dot(cols.T).reshape(n * c, h, wo)  # sum along W
        return (array_module(x).matmul(rows, t) / area).reshape(n, c, ho, wo)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        shape, rows, cols, area = ctx.geometry
        n, c, h, w = shape
        share = (gy / area).reshape(n * c, rows.shape[0], cols.shape[0])
        t = array_module(gy).matmul(rows.T, share)  # (N*C, H, Wo)
        return t.reshape(n * c * h, -1).dot(cols).reshape(shape)


def adaptive_windows(xp: Any, size: int, out: int, dtype: Any) -> Any:
    """(out, size) 0/1 matrix: row i marks PyTorch's window floor(i*size/out) ..
    ceil((i+1)*size/out).

    >>> adaptive_windows(np, 5, 3, np.float64).tolist()
    [[1.0, 1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0, 1.0]]
    """
    i = np.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)
    pixels = np.arange(size)
    member = (pixels >= start[:, None]) & (pixels < end[:, None])
    return xp.asarray(member.astype(dtype))
