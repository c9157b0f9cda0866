"""Convolutional layers: Conv1d, Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm2d,
Dropout2d, Unflatten, Unfold, Fold.

They hold the settings (and for Conv the weight and bias, initialized as in PyTorch) and
call :mod:`chainrule.nn.conv_functional`. A bad input raises :class:`ShapeError` naming the
layer by its path in the model, the input shape, what was expected and the output-size
formula's result.

>>> import chainrule as cr
>>> from chainrule import nn
>>> model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
...                       nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
...                       nn.Linear(16 * 5 * 5, 10))
>>> model(cr.zeros(8, 1, 28, 28)).shape
chainrule.Size([8, 10])
>>> model.num_parameters()
6582
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from chainrule import creation
from chainrule.nn import conv_functional as CF
from chainrule.nn import init
from chainrule.nn.conv_checks import check_dtypes, check_positive, tuple_of
from chainrule.nn.layers import ShapeError, _BatchNorm
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.ops import conv as conv_ops
from chainrule.ops import pool as pool_ops
from chainrule.ops import shape as shp
from chainrule.tensor import Tensor

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _fail(module: Module, err: ValueError) -> ShapeError:
    return ShapeError(str(err), module)


def _layer(module: Module) -> str:
    """``Conv2d 'features.0'`` inside a model; the layer's repr when called on its own."""
    path = module._path
    return f"{type(module).__name__} '{path}'" if path else repr(module)


class _ConvNd(Module):
    """Shared by Conv1d and Conv2d: settings, weight (O, C/groups, *kernel), PyTorch's init."""

    dims: ClassVar[int] = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        who = f"{type(self).__name__}({in_channels}, {out_channels}, kernel_size={kernel_size})"
        kernel = tuple_of(who, "kernel_size", kernel_size, self.dims)
        strides = tuple_of(who, "stride", stride, self.dims)
        dilations = tuple_of(who, "dilation", dilation, self.dims)
        check_positive(who, None, kernel_size=kernel, stride=strides, dilation=dilations)
        if in_channels < 1 or out_channels < 1:
            raise ValueError(f"{who}: in_channels and out_channels must be >= 1")
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{who}: groups={groups} must divide both in_channels="
                             f"{in_channels} and out_channels={out_channels} (each group "
                             "convolves in_channels/groups channels into out_channels/groups)")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{who}: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        if not isinstance(padding, str):
            padding = tuple_of(who, "padding", padding, self.dims)
            if min(padding) < 0:
                raise ValueError(f"{who}: padding must be >= 0, got {padding}")
        CF.conv_pads(who, padding, kernel, strides, dilations)  # rejects 'same' with stride > 1
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.stride, self.padding = kernel, strides, padding
        self.dilation, self.groups, self.padding_mode = dilations, int(groups), padding_mode
        factory = {"dtype": dtype, "device": device}
        self.weight = Parameter(creation.empty(out_channels, in_channels // groups, *kernel,
                                               **factory))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform(a=sqrt(5)) for W, U(+-1/sqrt(fan_in)) for b."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in else 0.0
            init.uniform_(self.bias, -bound, bound)

    def _plan(self, x: Tensor) -> tuple[Tensor, Any, Any, Any]:
        """Check the input (errors name this layer) and pad it for non-zero padding modes;
        return (input, stride, zero pads, dilation) for the op."""
        who = _layer(self)
        try:
            stride, pads, dilation = CF.conv_plan(who, x.shape, self.weight.shape, self.stride,
                                                  self.padding, self.dilation, self.groups)
        except ValueError as err:
            raise _fail(self, err) from None
        check_dtypes(who, x.dtype, self.weight.dtype)
        if self.padding_mode != "zeros" and any(p for pair in pads for p in pair):
            widths = [p for pair in reversed(pads) for p in pair]  # last dim first, like F.pad
            x = shp.pad(x, widths, mode=self.padding_mode)
            pads = tuple((0, 0) for _ in pads)
        return x, stride, pads, dilation

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * self.dims:  # PyTorch's repr: padding=same, no quotes
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W): weight (out, in/groups, kH, kW), PyTorch's options
    (stride, padding as int/pair/'same'/'valid', dilation, groups, bias, padding_mode)."""

    dims = 2

    def forward(self, x: Tensor) -> Tensor:
        x, stride, pads, dilation = self._plan(x)
        return conv_ops.Conv2d.apply(x, self.weight, self.bias, stride, pads, dilation,
                                     self.groups)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L): weight (out, in/groups, k)."""

    dims = 1

    def forward(self, x: Tensor) -> Tensor:
        x, stride, pads, dilation = self._plan(x)
        return CF.conv1d_apply(x, self.weight, self.bias, stride, pads, dilation, self.groups)


class MaxPool2d(Module):
    """Max over kernel_size windows (stride defaults to the kernel), with padding (-inf),
    dilation and ceil_mode as in PyTorch."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        if return_indices:
            raise NotImplementedError("MaxPool2d: return_indices=True is not supported (there "
                                      "is no MaxUnpool2d to use them)")
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.ceil_mode = dilation, ceil_mode
        CF.pool_args("MaxPool2d", kernel_size, stride, padding, dilation)  # checks the types

    def forward(self, x: Tensor) -> Tensor:
        try:
            args = CF.max_pool_plan(_layer(self), x.shape,
                                    self.kernel_size, self.stride, self.padding, self.dilation,
                                    self.ceil_mode)
        except ValueError as err:
            raise _fail(self, err) from None
        return pool_ops.MaxPool2d.apply(x, *args)

    def extra_repr(self) -> str:
        stride = self.kernel_size if self.stride is None else self.stride
        return (f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Mean over kernel_size windows, with padding, ceil_mode, count_include_pad and
    divisor_override as in PyTorch."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override
        CF.pool_args("AvgPool2d", kernel_size, stride, padding)

    def forward(self, x: Tensor) -> Tensor:
        try:
            args = CF.avg_pool_plan(_layer(self), x, self.kernel_size,
                                    self.stride, self.padding, self.ceil_mode,
                                    self.count_include_pad, self.divisor_override)
        except ValueError as err:
            raise _fail(self, err) from None
        return pool_ops.AvgPool2d.apply(x, *args)

    def extra_repr(self) -> str:
        stride = self.kernel_size if self.stride is None else self.stride
        return f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (None keeps that input size)."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        try:
            args = CF.adaptive_plan(_layer(self), x,
                                    self.output_size)
        except ValueError as err:
            raise _fail(self, err) from None
        return pool_ops.AdaptiveAvgPool2d.apply(x, *args)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class BatchNorm2d(_BatchNorm):
    """Normalize each channel of (N, C, H, W) over the batch and the pixels; running
    statistics (unbiased variance, ``momentum``; None: a cumulative average) for eval.

    Shares BatchNorm1d's base (parameters, buffers, running statistics) and
    :func:`chainrule.nn.functional.batch_norm` (which reduces over every dim but the
    channels); only the input check differs.
    """

    def _check_input(self, x: Tensor) -> None:
        if x.ndim != 4 or x.shape[1] != self.num_features:
            got = f"{x.shape[1]} channels" if x.ndim == 4 else f"a {x.ndim}-D input"
            raise ShapeError(
                f"{_layer(self)} expected input (N, {self.num_features}, H, "
                f"W), got {tuple(x.shape)} ({got}). Fix: set num_features to the channel count "
                "of the layer before (its out_channels)", self)


class Dropout2d(Module):
    """Zero whole channels with probability ``p`` in training (identity in eval mode)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout2d: p must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace  # inplace: accepted, the output is a new tensor

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in (3, 4):
            raise ShapeError(f"{_layer(self)} expected (N, C, H, W) or "
                             f"(N, C, L), got {tuple(x.shape)}", self)
        return CF.dropout2d(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size`` (the inverse of Flatten).

    >>> import chainrule as cr
    >>> Unflatten(1, (2, 3))(cr.zeros(4, 6)).shape
    chainrule.Size([4, 2, 3])
    """

    def __init__(self, dim: int, unflattened_size: Any) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(int(s) for s in unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        dim = self.dim % x.ndim if x.ndim else 0
        known = math.prod(s for s in self.unflattened_size if s != -1)
        if not x.ndim or (-1 not in self.unflattened_size and known != x.shape[dim]) or (
                -1 in self.unflattened_size and (known == 0 or x.shape[dim] % known)):
            raise ShapeError(f"{_layer(self)} cannot split dim {self.dim} of "
                             f"{tuple(x.shape)} into {self.unflattened_size}: the sizes must "
                             f"multiply to {x.shape[dim] if x.ndim else 0}", self)
        return shp.reshape(x, (*x.shape[:dim], *self.unflattened_size, *x.shape[dim + 1:]))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Unfold(Module):
    """im2col as a layer: :func:`chainrule.nn.functional.unfold`."""

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
                 stride: Any = 1) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = (kernel_size, dilation,
                                                                      padding, stride)

    def forward(self, x: Tensor) -> Tensor:
        return CF.unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)


class Fold(Module):
    """col2im as a layer: :func:`chainrule.nn.functional.fold`."""

    def __init__(self, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
                 stride: Any = 1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, x: Tensor) -> Tensor:
        return CF.fold(x, self.output_size, self.kernel_size, self.dilation, self.padding,
                       self.stride)
