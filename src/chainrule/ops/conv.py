"""Convolution as im2col + one matrix product: ``Conv2d``, ``Unfold`` (im2col), ``Fold`` (col2im).

A 2-D convolution slides each (C, kH, kW) filter over the input. Lay every window out as a
column (im2col) and the whole layer becomes one matrix product::

    x (N, C, H, W) --pad--> (N, C, Hp, Wp) --windows--> cols (N, C*kH*kW, Ho*Wo)
    y[n] = W (O, C*kH*kW) @ cols[n] + b                    -> (N, O, Ho, Wo)

    Ho = (H + pad_top + pad_bottom - dilation * (kH - 1) - 1) // stride + 1

The windows are a strided *view* of the padded input (``as_strided``: no copy); the one copy
is the reshape into ``cols``, the only large temporary of a layer. Backward, for
dy (N, O, Ho, Wo)::

    dW = sum_n dy[n] @ cols[n]^T     one batched GEMM on the columns: kept from forward
                                     when they take at most KEEP_COLUMNS bytes, else made
                                     again from x (a kH*kW-times-the-input buffer per
                                     layer is then not held between the passes)
    dcols = W^T @ dy                 one GEMM per kernel position, each piece added
    dx = col2im(dcols)               (col2im) back onto the pixels that position read
                                     while it is in the cache: kH*kW strided slice-adds,
                                     no loop over pixels or the batch

``groups`` split the channels into independent convolutions: the GEMMs get a leading
group axis. Each op works on raw arrays of either backend (``xp`` is NumPy or CuPy).

>>> import chainrule as cr
>>> x = cr.arange(16.0).reshape(1, 1, 4, 4)
>>> cr.nn.functional.unfold(x, 2, stride=2)[0, :, 0]
tensor([0., 1., 4., 5.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.autograd.function import Function
from chainrule.backend import array_module, blas
from chainrule.backend.device import NAMESPACES

Pair = tuple[int, int]
Pads = tuple[Pair, Pair]  # ((top, bottom), (left, right))

# Columns up to this size are kept from forward for the weight gradient instead of being
# made again in backward (as PyTorch's slow_conv2d keeps its `finput`). On LeNet at batch 64
# (columns of 4.8 and 3.7 MiB) the weight gradients took 0.31 and 0.89 ms this way against
# 0.74 and 1.57 ms rebuilding them: about a tenth of a training step.
KEEP_COLUMNS = 32 << 20
# Layers whose output is narrower than this compute batch-last (see ``columns``).
BATCH_LAST_BELOW = 16


def out_size(size: int, pad_lo: int, pad_hi: int, kernel: int, stride: int,
             dilation: int) -> int:
    """Output length along one axis: ``(size + pads - dilation*(kernel-1) - 1) // stride + 1``.

    >>> out_size(28, 2, 2, 5, 1, 1), out_size(14, 0, 0, 5, 1, 1), out_size(7, 1, 1, 3, 2, 1)
    (28, 10, 4)
    """
    return (size + pad_lo + pad_hi - dilation * (kernel - 1) - 1) // stride + 1


def pad_constant(x: Any, pads: Pads, value: float = 0.0) -> Any:
    """``x`` (N, C, H, W) with ``value`` around the last two dims (``x`` itself if no pads)."""
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right):
        return x
    xp = array_module(x)
    n, c, h, w = x.shape
    shape = (n, c, h + top + bottom, w + left + right)
    out = xp.zeros(shape, x.dtype) if value == 0 else xp.full(shape, value, x.dtype)
    out[:, :, top:top + h, left:left + w] = x
    return out


def windows(xpad: Any, kernel: Pair, stride: Pair, dilation: Pair) -> Any:
    """A strided view (N, C, kH, kW, Ho, Wo) of the padded input, no copy:
    ``view[n, c, i, j, ho, wo] = xpad[n, c, ho*sH + i*dH, wo*sW + j*dW]``.

    Works for any strides of ``xpad`` (a transposed array gives a transposed view).

    >>> v = windows(np.arange(16.0).reshape(1, 1, 4, 4), (2, 2), (2, 2), (1, 1))
    >>> v.shape, v[0, 0, :, :, 1, 1].tolist()
    ((1, 1, 2, 2, 2, 2), [[10.0, 11.0], [14.0, 15.0]])
    """
    n, c, hp, wp = xpad.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    ho = out_size(hp, 0, 0, kh, sh, dh)
    wo = out_size(wp, 0, 0, kw, sw, dw)
    if type(xpad) in NAMESPACES:  # a recorded backward's array: one slice per kernel offset
        xp = NAMESPACES[type(xpad)]
        pieces = [xpad[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh,
                       j * dw:j * dw + sw * (wo - 1) + 1:sw]
                  for i in range(kh) for j in range(kw)]
        return xp.stack(pieces, axis=2).reshape(n, c, kh, kw, ho, wo)
    st_n, st_c, st_h, st_w = xpad.strides
    shape = (n, c, kh, kw, ho, wo)
    strides = (st_n, st_c, st_h * dh, st_w * dw, st_h * sh, st_w * sw)
    xp = array_module(xpad)
    if xp is np:
        return np.lib.stride_tricks.as_strided(xpad, shape, strides, writeable=False)
    return xp.lib.stride_tricks.as_strided(xpad, shape, strides)


def col2im(cols: Any, target: Any, stride: Pair, dilation: Pair) -> Any:
    """Add the columns back onto the pixels they were read from (the adjoint of ``windows``).

    ``cols`` is (N, C, kH, kW, Ho, Wo), ``target`` the padded (N, C, Hp, Wp) array to add
    into, in place. One strided slice-add per kernel position: kH*kW array operations,
    each over the whole batch. On LeNet's second layer (64 x 6x14x14, 16 filters 5x5, one
    thread) dx took 1.2-1.6 ms this way (batch-last, see :func:`input_grad`), 1.7-1.8 ms with
    ``np.add.at`` on an index array (which itself takes 7.7 MB) and 2.5 ms with
    ``np.bincount``; it also runs unchanged on CuPy.
    """
    kh, kw, ho, wo = cols.shape[2:]
    (sh, sw), (dh, dw) = stride, dilation
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
        for j in range(kw):
            target[:, :, rows, j * dw:j * dw + sw * (wo - 1) + 1:sw] += cols[:, :, i, j]
    return target


def crop(xpad: Any, pads: Pads, shape: tuple[int, ...]) -> Any:
    """The inverse of padding: the (H, W) interior of a padded (N, C, Hp, Wp) array."""
    (top, _), (left, _) = pads
    if xpad.shape == tuple(shape):
        return xpad
    return xpad[:, :, top:top + shape[2], left:left + shape[3]]


class Conv2d(Function):
    """y = conv2d(x, W) + b, with W (O, C/groups, kH, kW) and b (O,) or None (module docstring).

    ``pads`` is ((top, bottom), (left, right)) in zeros; other padding modes pad with their
    own op before. ``geometry`` is (stride, pads, dilation, groups, batch-last or not), validated by
    :func:`chainrule.nn.conv_functional.conv2d`.
    """

    @staticmethod
    def forward(ctx: Any, x: Any, weight: Any, bias: Any, stride: Pair, pads: Pads,
                dilation: Pair, groups: int) -> Any:
        xp = array_module(x)
        n = x.shape[0]
        out_c, group_c, kh, kw = weight.shape
        ho = out_size(x.shape[2], *pads[0], kh, stride[0], dilation[0])
        wo = out_size(x.shape[3], *pads[1], kw, stride[1], dilation[1])
        last = wo < BATCH_LAST_BELOW and type(x) not in NAMESPACES
        ctx.geometry = (stride, pads, dilation, groups, last)
        cols = columns(x, (kh, kw), stride, pads, dilation, groups, last)
        if ctx.needs_input_grad[1] and cols.nbytes <= KEEP_COLUMNS:
            ctx.save_for_backward(x, weight, cols)
        else:
            ctx.save_for_backward(x, weight)
        w3 = weight.reshape(groups, out_c // groups, -1)
        if last:  # one product per group: (G, O/G, Ho*Wo*N), then back to (N, O, Ho, Wo)
            with blas.serial(xp, out_c // groups, cols.shape[1], cols.shape[2]):
                y = xp.matmul(w3, cols)
            y = xp.ascontiguousarray(y.reshape(out_c, ho, wo, n).transpose(3, 0, 1, 2))
        else:  # one product per image: (N, G, O/G, Ho*Wo)
            with blas.serial(xp, out_c // groups, cols.shape[2], ho * wo):
                y = xp.matmul(w3, cols).reshape(n, out_c, ho, wo)
        if bias is not None:
            y += bias.reshape(out_c, 1, 1)
        return y

    @staticmethod
    def recompute(ctx: Any, saved: tuple[Any, ...]) -> tuple[Any, ...]:
        """A recorded backward (create_graph=True) makes the columns again from the recorded
        input (``weight_grad`` does, when none are kept), so they carry the graph."""
        return saved[:2]

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        x, weight, *kept = ctx.saved_tensors
        stride, pads, dilation, groups, last = ctx.geometry
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gx = gw = gb = None
        if need_b:  # over the batch first: contiguous adds (LeNet's conv1: 56 us, not 350)
            gb = gy.sum(axis=0).sum(axis=(1, 2))
        if need_w:
            gw = weight_grad(gy, x, weight.shape, stride, pads, dilation, groups,
                             kept[0] if kept else None, last)
        if need_x:
            gx = input_grad(gy, weight, x.shape, stride, pads, dilation, groups)
        return gx, gw, gb


def columns(x: Any, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair, groups: int,
            last: bool) -> Any:
    """im2col: the copy of every window, per image (N, G, C/G*kH*kW, Ho*Wo) or, ``last``,
    batch-last (G, C/G*kH*kW, Ho*Wo*N).

    Batch-last, the padded input is first laid out (C, Hp, Wp, N), so the copy runs over
    Wo*N contiguous numbers at a time instead of Wo, and each group is one product instead
    of one per image. It pays for the layout changes of the input and the output (and of
    their gradients), so it is used for layers whose output rows are short (Wo below
    ``BATCH_LAST_BELOW``): on LeNet's conv2 (Wo = 10) the forward pass and weight gradient
    took 0.83x the time per image, on conv1 (Wo = 28) 2.5x.
    """
    xp = array_module(x)
    n, c, h, w = x.shape
    kh, kw = kernel
    if not last:
        view = windows(pad_constant(x, pads), kernel, stride, dilation)
        ho, wo = view.shape[4:]
        return view.reshape(n, groups, c // groups * kh * kw, ho * wo)
    (top, bottom), (left, right) = pads
    padded = xp.zeros((c, h + top + bottom, w + left + right, n), dtype=x.dtype)
    padded[:, top:top + h, left:left + w] = x.transpose(1, 2, 3, 0)
    view = windows(padded.transpose(3, 0, 1, 2), kernel, stride, dilation)
    ho, wo = view.shape[4:]
    return view.transpose(1, 2, 3, 4, 5, 0).reshape(groups, c // groups * kh * kw,
                                                      ho * wo * n)


def weight_grad(gy: Any, x: Any, weight_shape: tuple[int, ...], stride: Pair, pads: Pads,
                dilation: Pair, groups: int, cols: Any = None, last: bool = False) -> Any:
    """dW = sum over the batch of dy[n] @ cols[n]^T.

    ``cols``: the forward pass's columns, or None to make them again (batch-last if
    ``last``, as forward made them, unless ``x`` is a recorded array). Per image
    (N, G, C/G*kH*kW, L): one batched GEMM, summed over n; batch-last (G, C/G*kH*kW, L*N):
    one GEMM per group, whose inner dimension runs over the batch too.
    """
    xp = array_module(gy)
    n, out_c, ho, wo = gy.shape
    _, group_c, kh, kw = weight_shape
    if cols is None:
        last = last and type(x) not in NAMESPACES
        cols = columns(x, (kh, kw), stride, pads, dilation, groups, last)
    if cols.ndim == 3:  # batch-last
        gy_t = gy.transpose(1, 2, 3, 0).reshape(groups, out_c // groups, ho * wo * n)
        with blas.serial(xp, out_c // groups, cols.shape[2], cols.shape[1]):
            return xp.matmul(gy_t, cols.swapaxes(-1, -2)).reshape(weight_shape)
    gy4 = gy.reshape(n, groups, out_c // groups, ho * wo)
    with blas.serial(xp, out_c // groups, ho * wo, cols.shape[2]):
        products = xp.matmul(gy4, cols.swapaxes(-1, -2))
    return products.sum(axis=0).reshape(weight_shape)


def input_grad(gy: Any, weight: Any, x_shape: tuple[int, ...], stride: Pair, pads: Pads,
               dilation: Pair, groups: int) -> Any:
    """dx = col2im(W^T @ dy), computed batch-last, one kernel position at a time.

    The output gradient is laid out (O, Ho, Wo, N) and summed into a (C, Hp, Wp, N) buffer:
    each slice-add of col2im then runs over Wo*N contiguous numbers instead of Wo (2x faster
    on LeNet's second layer). The product W^T @ dy is split by kernel position (i, j): each
    (C, Ho*Wo*N) piece is added while it is still in the cache, instead of writing all
    kH*kW pieces (3.8 MB on LeNet's conv2, more than a core's L2) and reading them again
    (the whole input gradient 0.82x the time, while other processes ran). Each output is
    the same sum in the same order either way. A recorded backward (``create_graph``) makes
    the columns in one product and adds them with :func:`col2im`.
    """
    xp = array_module(gy)
    n, out_c, ho, wo = gy.shape
    _, group_c, kh, kw = weight.shape
    c = x_shape[1]
    gy_t = gy.transpose(1, 2, 3, 0).reshape(groups, out_c // groups, ho * wo * n)
    (top, bottom), (left, right) = pads
    hp, wp = x_shape[2] + top + bottom, x_shape[3] + left + right
    gxpad = xp.zeros((c, hp, wp, n), dtype=gy.dtype)
    if type(gy) in NAMESPACES or type(weight) in NAMESPACES:  # no out= on recorded arrays
        w_t = weight.reshape(groups, out_c // groups, -1).swapaxes(1, 2)  # (G, C/G*k*k, O/G)
        cols = xp.matmul(w_t, gy_t).reshape(c, kh, kw, ho, wo, n)
        target = gxpad.transpose(3, 0, 1, 2)  # (a recorded transpose is a new array, no view)
        col2im(cols.transpose(5, 0, 1, 2, 3, 4), target, stride, dilation)
        return xp.ascontiguousarray(crop(target, pads, x_shape))
    # (kH, kW, G, C/G, O/G): the transposed filters of each kernel position, contiguous
    w_k = xp.ascontiguousarray(
        weight.reshape(groups, out_c // groups, group_c, kh, kw).transpose(3, 4, 0, 2, 1))
    piece = xp.empty((groups, group_c, ho * wo * n), dtype=gy.dtype)
    (sh, sw), (dh, dw) = stride, dilation
    with blas.serial(xp, group_c, out_c // groups, ho * wo * n):
        for i in range(kh):
            rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
            for j in range(kw):
                xp.matmul(w_k[i, j], gy_t, out=piece)
                gxpad[:, rows, j * dw:j * dw + sw * (wo - 1) + 1:sw] += piece.reshape(
                    c, ho, wo, n)
    return xp.ascontiguousarray(crop(gxpad.transpose(3, 0, 1, 2), pads, x_shape))


class Unfold(Function):
    """im2col as an op: (N, C, H, W) -> (N, C*kH*kW, L), like ``torch.nn.functional.unfold``
    (zero padding); backward is col2im."""

    @staticmethod
    def forward(ctx: Any, x: Any, kernel: Pair, stride: Pair, pads: Pads,
                dilation: Pair) -> Any:
        ctx.shape, ctx.geometry = x.shape, (kernel, stride, pads, dilation)
        view = windows(pad_constant(x, pads), kernel, stride, dilation)
        n, c, kh, kw, ho, wo = view.shape
        return view.reshape(n, c * kh * kw, ho * wo)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        kernel, stride, pads, dilation = ctx.geometry
        return fold_columns(gy, ctx.shape, kernel, stride, pads, dilation)


class Fold(Function):
    """col2im as an op: (N, C*kH*kW, L) -> (N, C, H, W), summing overlapping values like
    ``torch.nn.functional.fold``; backward is im2col."""

    @staticmethod
    def forward(ctx: Any, cols: Any, shape: tuple[int, ...], kernel: Pair, stride: Pair,
                pads: Pads, dilation: Pair) -> Any:
        ctx.shape, ctx.geometry = shape, (kernel, stride, pads, dilation)
        return fold_columns(cols, shape, kernel, stride, pads, dilation)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        kernel, stride, pads, dilation = ctx.geometry
        view = windows(pad_constant(gy, pads), kernel, stride, dilation)
        n, c, kh, kw, ho, wo = view.shape
        return view.reshape(n, c * kh * kw, ho * wo)


def fold_columns(cols: Any, shape: tuple[int, ...], kernel: Pair, stride: Pair, pads: Pads,
                 dilation: Pair) -> Any:
    """Sum (N, C*kH*kW, L) columns into an (N, C, H, W) array of ``shape`` (col2im)."""
    xp = array_module(cols)
    n, c, h, w = shape
    (top, bottom), (left, right) = pads
    target = xp.zeros((n, c, h + top + bottom, w + left + right), dtype=cols.dtype)
    ho = out_size(h, top, bottom, kernel[0], stride[0], dilation[0])
    wo = out_size(w, left, right, kernel[1], stride[1], dilation[1])
    col2im(cols.reshape(n, c, kernel[0], kernel[1], ho, wo), target, stride, dilation)
    return crop(target, pads, shape)
