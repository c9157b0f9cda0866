"""Functional forms of the convolutional layers (``chainrule.nn.functional`` re-exports them).

``conv2d``, ``conv1d``, ``max_pool2d``, ``avg_pool2d``, ``adaptive_avg_pool2d``, ``unfold``,
``fold``, ``dropout2d`` and ``pad``, with PyTorch's signatures. Each validates its arguments
(:mod:`chainrule.nn.conv_checks`: the error names the function, the input shape, what was
expected and the output-size formula's result) and applies one op of
:mod:`chainrule.ops.conv` or :mod:`chainrule.ops.pool`.

>>> import chainrule as cr
>>> import chainrule.nn.functional as F
>>> x = cr.randn(2, 1, 28, 28)
>>> y = F.max_pool2d(F.relu(F.conv2d(x, cr.randn(32, 1, 3, 3))), 2)
>>> y.shape, cr.flatten(y, 1).shape
(chainrule.Size([2, 32, 13, 13]), chainrule.Size([2, 5408]))
"""

from __future__ import annotations

from typing import Any

from chainrule.nn.conv_checks import (
    check_dtypes,
    check_input_dims,
    check_positive,
    conv_geometry,
    pool_geometry,
    tuple_of,
)
from chainrule.ops import conv as conv_ops
from chainrule.ops import pool as pool_ops
from chainrule.ops import shape as shp
from chainrule.ops.nn_ops import Dropout
from chainrule.ops.shape import pad
from chainrule.random import Generator, numpy_generator
from chainrule.random_draws import bernoulli
from chainrule.tensor import Tensor

__all__ = ["adaptive_avg_pool2d", "avg_pool2d", "conv1d", "conv2d", "dropout2d", "fold",
           "max_pool2d", "pad", "unfold"]

Pads = tuple[tuple[int, int], ...]


def conv_pads(who: str, padding: Any, kernel: tuple[int, ...], stride: tuple[int, ...],
              dilation: tuple[int, ...]) -> Pads:
    """(lo, hi) zero padding per spatial dim from an int, a tuple, 'valid' or 'same'.

    'same' keeps the input size (stride 1 only): dilation*(kernel-1) pixels in total, the
    odd one on the bottom/right, as PyTorch does.

    >>> conv_pads("conv2d", "same", (4, 3), (1, 1), (1, 1))
    ((1, 2), (1, 1))
    """
    if isinstance(padding, str):
        if padding == "valid":
            return tuple((0, 0) for _ in kernel)
        if padding != "same":
            raise ValueError(f"{who}: padding must be an int, a tuple, 'valid' or 'same', "
                             f"got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{who}: padding='same' needs stride 1, got stride={stride}: "
                             "with a larger stride the output cannot keep the input size. "
                             "Fix: give the padding as numbers")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
        return tuple((t // 2, t - t // 2) for t in totals)
    sizes = tuple_of(who, "padding", padding, len(kernel))
    return tuple((p, p) for p in sizes)


def conv_plan(who: str, x_shape: tuple[int, ...], w_shape: tuple[int, ...], stride: Any,
              padding: Any, dilation: Any, groups: int) -> tuple[Any, ...]:
    """Validate a 1-D or 2-D convolution; return the op's (stride, pads, dilation)."""
    dims = len(w_shape) - 2 if len(w_shape) in (3, 4) else 2
    stride = tuple_of(who, "stride", stride, dims)
    dilation = tuple_of(who, "dilation", dilation, dims)
    pads = conv_pads(who, padding, tuple(w_shape[2:]), stride, dilation)
    conv_geometry(who, tuple(x_shape), tuple(w_shape), stride, pads, dilation, groups)
    return stride, pads, dilation


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
           stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation, as in PyTorch) of (N, C, H, W) with weight
    (O, C/groups, kH, kW); ``padding`` is an int, a pair, 'valid' or 'same' (zeros).

    >>> import chainrule as cr
    >>> conv2d(cr.ones(1, 1, 3, 3), cr.ones(1, 1, 2, 2), padding=1).tolist()[0][0][0]
    [1.0, 2.0, 2.0, 1.0]
    """
    if weight.ndim != 4:
        raise ValueError(f"conv2d: weight must be (out_channels, in_channels/groups, kH, kW), "
                         f"got {tuple(weight.shape)}")
    stride, pads, dilation = conv_plan("conv2d", input.shape, weight.shape, stride, padding,
                                       dilation, groups)
    check_dtypes("conv2d", input.dtype, weight.dtype, None if bias is None else bias.dtype)
    return conv_ops.Conv2d.apply(input, weight, bias, stride, pads, dilation, groups)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
           stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D convolution of (N, C, L) with weight (O, C/groups, k): a 2-D one of height 1.

    >>> import chainrule as cr
    >>> conv1d(cr.ones(1, 1, 5), cr.ones(1, 1, 3)).tolist()
    [[[3.0, 3.0, 3.0]]]
    """
    if weight.ndim != 3:
        raise ValueError(f"conv1d: weight must be (out_channels, in_channels/groups, k), got "
                         f"{tuple(weight.shape)}")
    stride, pads, dilation = conv_plan("conv1d", input.shape, weight.shape, stride, padding,
                                       dilation, groups)
    check_dtypes("conv1d", input.dtype, weight.dtype, None if bias is None else bias.dtype)
    return conv1d_apply(input, weight, bias, stride, pads, dilation, groups)


def conv1d_apply(x: Tensor, weight: Tensor, bias: Tensor | None, stride: tuple[int, ...],
                 pads: Pads, dilation: tuple[int, ...], groups: int) -> Tensor:
    """A checked 1-D convolution, run as a 2-D one on (N, C, 1, L)."""
    n, c, length = x.shape
    x4 = shp.reshape(x, (n, c, 1, length))
    w4 = shp.reshape(weight, (*weight.shape[:2], 1, weight.shape[2]))
    y = conv_ops.Conv2d.apply(x4, w4, bias, (1, stride[0]), ((0, 0), pads[0]),
                              (1, dilation[0]), groups)
    return shp.reshape(y, (n, y.shape[1], y.shape[3]))


def pool_args(who: str, kernel_size: Any, stride: Any, padding: Any,
              dilation: Any = 1) -> tuple[tuple[int, ...], ...]:
    """(kernel, stride, padding, dilation) as pairs; ``stride`` defaults to the kernel."""
    kernel = tuple_of(who, "kernel_size", kernel_size, 2)
    if stride is None or (isinstance(stride, (tuple, list)) and not stride):
        strides = kernel  # PyTorch's default: windows side by side
    else:
        strides = tuple_of(who, "stride", stride, 2)
    return (kernel, strides, tuple_of(who, "padding", padding, 2),
            tuple_of(who, "dilation", dilation, 2))


def max_pool_plan(who: str, x_shape: tuple[int, ...], kernel_size: Any, stride: Any,
                  padding: Any, dilation: Any, ceil_mode: bool) -> tuple[Any, ...]:
    """Validate a max pooling; return the op's (kernel, stride, pads, dilation)."""
    kernel, strides, padding, dilation = pool_args(who, kernel_size, stride, padding, dilation)
    pads, _ = pool_geometry(who, tuple(x_shape), kernel, strides, padding, dilation, ceil_mode)
    return kernel, strides, pads, dilation


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None,  # noqa: A002
               padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor:
    """Max over each window (padding counts as -inf); the gradient goes to the first
    maximum of each window in scan order, as in PyTorch.

    >>> import chainrule as cr
    >>> max_pool2d(cr.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    if return_indices:
        raise NotImplementedError("max_pool2d: return_indices=True is not supported (there "
                                  "is no MaxUnpool2d to use them); call it without")
    args = max_pool_plan("max_pool2d", input.shape, kernel_size, stride, padding, dilation,
                         ceil_mode)
    return pool_ops.MaxPool2d.apply(input, *args)


def avg_pool_plan(who: str, x: Tensor, kernel_size: Any, stride: Any, padding: Any,
                  ceil_mode: bool, count_include_pad: bool,
                  divisor_override: int | None) -> tuple[Any, ...]:
    """Validate an average pooling; return the op's (kernel, stride, pads, divisor)."""
    kernel, strides, padding, _ = pool_args(who, kernel_size, stride, padding)
    pads, out = pool_geometry(who, tuple(x.shape), kernel, strides, padding, (1, 1), ceil_mode)
    if divisor_override is not None:
        if divisor_override < 1:
            raise ValueError(f"{who}: divisor_override must be >= 1, got {divisor_override}")
        return kernel, strides, pads, x.dtype.type(divisor_override)
    divisor = pool_ops.avg_divisor(x.device.xp, x.shape[2:], kernel, strides, padding, out,
                                   count_include_pad, x.dtype)
    return kernel, strides, pads, divisor


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None,  # noqa: A002
               padding: Any = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over each window; zero padding counts in the mean if ``count_include_pad``.

    >>> import chainrule as cr
    >>> avg_pool2d(cr.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
    [[[[2.5, 4.5], [10.5, 12.5]]]]
    """
    args = avg_pool_plan("avg_pool2d", input, kernel_size, stride, padding, ceil_mode,
                         count_include_pad, divisor_override)
    return pool_ops.AvgPool2d.apply(input, *args)


def adaptive_plan(who: str, x: Tensor, output_size: Any) -> tuple[Any, ...]:
    """Validate an adaptive average pooling; return the op's (rows, cols, area)."""
    check_input_dims(who, tuple(x.shape), 2, None)
    sizes = (output_size, output_size) if not isinstance(output_size, (tuple, list)) \
        else tuple(output_size)
    if len(sizes) != 2:
        raise ValueError(f"{who}: output_size must be an int or 2 values, got {output_size!r}")
    out = tuple(x.shape[2 + i] if s is None else int(s) for i, s in enumerate(sizes))
    check_positive(who, tuple(x.shape), output_size=out)
    if min(x.shape[2:]) < 1:
        raise ValueError(f"{who}: input {tuple(x.shape)} has no pixels to average. Fix: "
                         "check the layers before this one")
    xp, dtype = x.device.xp, x.dtype
    rows = pool_ops.adaptive_windows(xp, x.shape[2], out[0], dtype)
    cols = pool_ops.adaptive_windows(xp, x.shape[3], out[1], dtype)
    return rows, cols, rows.sum(axis=1)[:, None] * cols.sum(axis=1)[None, :]


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Average over PyTorch's adaptive windows so the output is ``output_size`` (an int,
    a pair, None keeps that input size).

    >>> import chainrule as cr
    >>> adaptive_avg_pool2d(cr.arange(16.0).reshape(1, 1, 4, 4), 1).tolist()
    [[[[7.5]]]]
    """
    args = adaptive_plan("adaptive_avg_pool2d", input, output_size)
    return pool_ops.AdaptiveAvgPool2d.apply(input, *args)


def _unfold_args(who: str, kernel_size: Any, dilation: Any, padding: Any,
                 stride: Any) -> tuple[Any, ...]:
    kernel = tuple_of(who, "kernel_size", kernel_size, 2)
    dilation = tuple_of(who, "dilation", dilation, 2)
    padding = tuple_of(who, "padding", padding, 2)
    stride = tuple_of(who, "stride", stride, 2)
    check_positive(who, None, kernel_size=kernel, stride=stride, dilation=dilation)
    return kernel, dilation, tuple((p, p) for p in padding), stride


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0,  # noqa: A002
           stride: Any = 1) -> Tensor:
    """im2col: every window of (N, C, H, W) as a column of (N, C*kH*kW, L), like
    ``torch.nn.functional.unfold``.

    >>> import chainrule as cr
    >>> unfold(cr.ones(2, 3, 4, 4), 2).shape
    chainrule.Size([2, 12, 9])
    """
    who = "unfold"
    kernel, dilation, pads, stride = _unfold_args(who, kernel_size, dilation, padding, stride)
    x = input if input.ndim != 3 else shp.unsqueeze(input, 0)
    c = x.shape[1] if x.ndim == 4 else None
    fake_weight = (1, c or 1, *kernel)
    conv_geometry(who, x.shape, fake_weight, stride, pads, dilation, 1)
    cols = conv_ops.Unfold.apply(x, kernel, stride, pads, dilation)
    return cols if input.ndim != 3 else shp.squeeze(cols, 0)


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1,  # noqa: A002
         padding: Any = 0, stride: Any = 1) -> Tensor:
    """col2im: sum the columns (N, C*kH*kW, L) back into (N, C, H, W) images, overlapping
    windows adding up, like ``torch.nn.functional.fold``.

    >>> import chainrule as cr
    >>> fold(cr.ones(1, 4, 9), (4, 4), 2)[0, 0].tolist()[1]
    [2.0, 4.0, 4.0, 2.0]
    """
    who = "fold"
    kernel, dilation, pads, stride = _unfold_args(who, kernel_size, dilation, padding, stride)
    size = tuple_of(who, "output_size", output_size, 2)
    cols = input if input.ndim != 2 else shp.unsqueeze(input, 0)
    if cols.ndim != 3 or cols.shape[1] % (kernel[0] * kernel[1]):
        raise ValueError(f"{who} expected input (N, C*kH*kW, L) with dim 1 a multiple of "
                         f"kH*kW = {kernel[0] * kernel[1]}, got {tuple(input.shape)}")
    n, c = cols.shape[0], cols.shape[1] // (kernel[0] * kernel[1])
    out = conv_geometry(who, (n, c, *size), (1, c, *kernel), stride, pads, dilation, 1)
    if out[0] * out[1] != cols.shape[2]:
        raise ValueError(f"{who}: output_size={size} with kernel_size={kernel}, "
                         f"stride={stride}, padding={padding}, dilation={dilation} gives "
                         f"{out[0]} x {out[1]} = {out[0] * out[1]} windows, but the input "
                         f"{tuple(input.shape)} has L = {cols.shape[2]} columns")
    image = conv_ops.Fold.apply(cols, (n, c, *size), kernel, stride, pads, dilation)
    return image if input.ndim != 2 else shp.squeeze(image, 0)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              generator: Generator | None = None) -> Tensor:
    """Zero whole channels of (N, C, H, W) (or (N, C, L)) with probability ``p`` and scale
    the kept ones by 1 / (1 - p): neighbouring pixels are correlated, so dropping single
    pixels barely regularizes a convolutional layer.

    >>> import chainrule as cr
    >>> _ = cr.manual_seed(0)
    >>> y = dropout2d(cr.ones(1, 6, 2, 2), 0.5)
    >>> sorted(set(y.sum(dim=(2, 3)).tolist()[0]))
    [0.0, 8.0]
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: p must be in [0, 1], got {p}")
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d expected (N, C, H, W) or (N, C, L), got "
                         f"{tuple(input.shape)}")
    if not training or p == 0.0:
        return input
    mask_shape = (*input.shape[:2], *(1,) * (input.ndim - 2))
    keep = bernoulli(numpy_generator(generator), 1.0 - p, mask_shape, dtype=bool)
    keep = input.device.xp.asarray(keep)
    return Dropout.apply(input, keep, p)
