"""Argument and shape checks for convolution and pooling, shared by the functions and layers.

Each check returns the geometry the op needs or raises a ``ValueError`` whose message names
the caller (``conv2d`` or ``Conv2d 'features.0'``), the input shape, what was expected and,
for sizes, the output-size formula with the numbers filled in::

    Conv2d 'features.3' (kernel_size=(5, 5), stride=(1, 1), padding=(0, 0), dilation=(1, 1))
    got input (8, 16, 3, 3): output height = (3 + 0 + 0 - 1*(5-1) - 1) // 1 + 1 = -1 < 1 ...

Layers turn the error into :class:`chainrule.nn.ShapeError` naming themselves.

>>> conv_geometry("conv2d", (2, 3, 8, 8), (4, 3, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
(8, 8)
"""

from __future__ import annotations

from typing import Any

from chainrule.ops.conv import out_size
from chainrule.ops.linalg import DtypeError, dtype_fix

_AXES = {1: ("length",), 2: ("height", "width")}
_LETTERS = {1: "L", 2: "H, W"}


def tuple_of(who: str, name: str, value: Any, dims: int) -> tuple[int, ...]:
    """``value`` (an int or a sequence of ``dims`` ints) as a tuple of ``dims`` ints.

    >>> tuple_of("conv2d", "stride", 2, 2), tuple_of("conv2d", "stride", (1, 3), 2)
    ((2, 2), (1, 3))
    """
    if isinstance(value, int):
        return (int(value),) * dims
    try:
        items = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        items = ()
    if len(items) != dims:
        raise ValueError(f"{who}: {name} must be an int or {dims} ints, got {value!r}")
    return items


def check_positive(who: str, shape: tuple[int, ...] | None, **values: tuple[int, ...]) -> None:
    """Raise when a kernel size, stride or dilation has a value below 1."""
    for name, value in values.items():
        if any(v < 1 for v in value):
            got = f" (input {shape})" if shape is not None else ""
            why = {"stride": "a stride of 0 never moves the window (the output size formula "
                             "divides by it)",
                   "dilation": "a dilation of 0 would read one pixel kernel_size times",
                   "kernel_size": "a window needs at least one pixel"}.get(name, "")
            raise ValueError(f"{who}: {name} must be >= 1 in every dim, got {value}{got}: "
                             f"{why}. Fix: pass {name}=1 or larger")


def check_input_dims(who: str, shape: tuple[int, ...], dims: int, channels: int | None) -> None:
    """Raise unless the input is (N, C, H, W) (``dims`` = 2) or (N, C, L) (``dims`` = 1)."""
    if len(shape) == dims + 2:
        return
    c = "C" if channels is None else str(channels)
    expected = f"(N, {c}, {_LETTERS[dims]})"
    if len(shape) == dims + 1:
        fix = ("a single sample has no batch dim: add one with x.unsqueeze(0), "
               f"giving {(1, *shape)}")
    elif len(shape) < dims + 1:
        fix = (f"flat rows of features? reshape them, e.g. x.reshape(-1, {c}, "
               f"{_LETTERS[dims]}) with the sizes of your data")
    else:
        fix = "merge the extra leading dims into the batch dim with x.flatten(0, 1)"
    raise ValueError(f"{who} expected a {dims + 2}-D input {expected}, got {shape} "
                     f"({len(shape)}-D). Fix: {fix}")


def check_dtypes(who: str, x_dtype: Any, w_dtype: Any, b_dtype: Any = None) -> None:
    """Raise :class:`DtypeError` when the input's (or the bias's) dtype differs from the
    weight's: NumPy would silently promote a float32 model to float64 (PyTorch raises).

    >>> import numpy as np
    >>> check_dtypes("conv2d", np.dtype("float64"), np.dtype("float32"))
    Traceback (most recent call last):
    ...
    chainrule.ops.linalg.DtypeError: conv2d got input of dtype float64, but the weight is float32. Fix: convert the input with x.float(), or the model with model.double()
    """  # noqa: E501
    if x_dtype == w_dtype and (b_dtype is None or b_dtype == w_dtype):
        return
    if x_dtype != w_dtype:
        raise DtypeError(f"{who} got input of dtype {x_dtype}, but the weight is {w_dtype}. "
                         f"Fix: {dtype_fix(x_dtype, w_dtype)}")
    raise DtypeError(f"{who}: the bias is {b_dtype} but the weight is {w_dtype}. Fix: "
                     "bias.to(weight.dtype)")


def show_pads(pads: tuple[tuple[int, int], ...]) -> Any:
    """Padding as the user wrote it: one number per dim when both sides agree.

    >>> show_pads(((1, 1), (2, 2))), show_pads(((1, 2), (0, 0)))
    ((1, 2), ((1, 2), (0, 0)))
    """
    if all(lo == hi for lo, hi in pads):
        return tuple(lo for lo, _ in pads)
    return tuple(pads)


def empty_output_error(who: str, settings: str, shape: tuple[int, ...], axis: str, size: int,
                       pads: tuple[int, int], kernel: int, stride: int, dilation: int,
                       result: int) -> ValueError:
    span = dilation * (kernel - 1) + 1
    padded = size + pads[0] + pads[1]
    return ValueError(
        f"{who} ({settings}) got input {shape}: output {axis} = ({size} + {pads[0]} + "
        f"{pads[1]} - {dilation}*({kernel}-1) - 1) // {stride} + 1 = {result} < 1, so the "
        f"output would be empty: the window spans {span} pixels but the padded input has "
        f"{padded}. Fix: use a smaller kernel_size or dilation, pad more, or shrink the input "
        "less before this layer (fewer or smaller poolings/strides)")


def conv_geometry(who: str, x_shape: tuple[int, ...], w_shape: tuple[int, ...],
                  stride: tuple[int, ...], pads: tuple[tuple[int, int], ...],
                  dilation: tuple[int, ...], groups: int) -> tuple[int, ...]:
    """Check a convolution's input against its weight; return the output's spatial size.

    >>> conv_geometry("conv2d", (1, 3, 4, 4), (2, 3, 5, 5), (1, 1), ((0, 0), (0, 0)), (1, 1), 1)
    Traceback (most recent call last):
    ...
    ValueError: conv2d (kernel_size=(5, 5), stride=(1, 1), padding=(0, 0), dilation=(1, 1)) got input (1, 3, 4, 4): output height = (4 + 0 + 0 - 1*(5-1) - 1) // 1 + 1 = 0 < 1, so the output would be empty: the window spans 5 pixels but the padded input has 4. Fix: use a smaller kernel_size or dilation, pad more, or shrink the input less before this layer (fewer or smaller poolings/strides)
    """  # noqa: E501
    dims = len(stride)
    x_shape, w_shape = tuple(x_shape), tuple(w_shape)
    if len(w_shape) != dims + 2:
        raise ValueError(f"{who}: weight must be (out_channels, in_channels/groups, "
                         f"{', '.join('k' + a[0].upper() for a in _AXES[dims])}), got "
                         f"{w_shape}")
    if groups < 1:
        raise ValueError(f"{who}: groups must be >= 1, got {groups} (input {x_shape})")
    in_channels = w_shape[1] * groups
    check_input_dims(who, x_shape, dims, in_channels)
    check_positive(who, x_shape, stride=stride, dilation=dilation)
    if any(p < 0 for pair in pads for p in pair):
        raise ValueError(f"{who}: padding must be >= 0, got {pads} (input {x_shape})")
    if w_shape[0] % groups:
        raise ValueError(f"{who}: groups={groups} must divide out_channels={w_shape[0]} "
                         f"(weight {w_shape}, input {x_shape}): each group makes "
                         "out_channels/groups channels. Fix: pick groups dividing both "
                         "channel counts")
    if x_shape[1] != in_channels:
        split = f" ({w_shape[1]} per group x groups={groups})" if groups > 1 else ""
        divides = "" if x_shape[1] % groups == 0 else (
            f"; groups={groups} does not even divide the input's {x_shape[1]} channels")
        raise ValueError(
            f"{who} expected input (N, {in_channels}, {_LETTERS[dims]}) with {in_channels} "
            f"channels{split}, got {x_shape}: it has {x_shape[1]} channels{divides}. Fix: set "
            f"in_channels={x_shape[1]} here, or make the previous layer output {in_channels} "
            "channels")
    kernel = w_shape[2:]
    out = []
    for axis, size, (lo, hi), k, s, d in zip(_AXES[dims], x_shape[2:], pads, kernel, stride,
                                             dilation, strict=True):
        result = out_size(size, lo, hi, k, s, d)
        if result < 1:
            settings = (f"kernel_size={kernel}, stride={stride}, padding={show_pads(pads)}, "
                        f"dilation={dilation}" + (f", groups={groups}" if groups > 1 else ""))
            raise empty_output_error(who, settings, x_shape, axis, size, (lo, hi), k, s, d,
                                     result)
        out.append(result)
    return tuple(out)


def pooled_size(size: int, kernel: int, stride: int, pad: int, dilation: int,
                ceil_mode: bool) -> int:
    """PyTorch's pooling output size; with ``ceil_mode`` the last window must start inside
    the input or its left padding.

    >>> pooled_size(5, 2, 2, 0, 1, False), pooled_size(5, 2, 2, 0, 1, True)
    (2, 3)
    >>> pooled_size(4, 2, 2, 1, 1, True)      # a window would start in the right padding
    3
    """
    numerator = size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = numerator // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def pool_geometry(who: str, x_shape: tuple[int, ...], kernel: tuple[int, ...],
                  stride: tuple[int, ...], padding: tuple[int, ...],
                  dilation: tuple[int, ...], ceil_mode: bool,
                  ) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...]]:
    """Check a 2-D pooling; return the padding the op applies (more at the bottom/right
    when ``ceil_mode`` adds a last, partial window) and the output size."""
    x_shape = tuple(x_shape)
    check_input_dims(who, x_shape, 2, None)
    check_positive(who, x_shape, kernel_size=kernel, stride=stride, dilation=dilation)
    for p, k, d in zip(padding, kernel, dilation, strict=True):
        if p < 0 or 2 * p > d * (k - 1) + 1:
            raise ValueError(
                f"{who}: padding must be between 0 and half the window (kernel_size={kernel}, "
                f"dilation={dilation}), got padding={padding} (input {x_shape}): a window "
                "would then hold padding only. Fix: use less padding or a larger kernel")
    pads, out = [], []
    for axis, size, k, s, p, d in zip(_AXES[2], x_shape[2:], kernel, stride, padding, dilation,
                                      strict=True):
        result = pooled_size(size, k, s, p, d, ceil_mode)
        if result < 1:
            settings = (f"kernel_size={kernel}, stride={stride}, padding={padding}, "
                        f"dilation={dilation}, ceil_mode={ceil_mode}")
            raise empty_output_error(who, settings, x_shape, axis, size, (p, p), k, s, d, result)
        needed = (result - 1) * s + d * (k - 1) + 1  # rows the last window reaches
        pads.append((p, max(p, needed - size - p)))
        out.append(result)
    return tuple(pads), tuple(out)
