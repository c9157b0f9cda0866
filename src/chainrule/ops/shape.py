"""Shape and indexing ops: reshape, transpose, permute, expand, squeeze, unsqueeze,
concat, stack, split, pad, getitem and index assignment.

These move values around without changing them, so each backward moves the
gradient back: reshape reshapes it back, transpose transposes it back,
getitem scatter-adds it (repeated indices accumulate).

>>> import chainrule as cr
>>> x = cr.arange(6.0, requires_grad=True)
>>> x[[0, 0, 5]].sum().backward()
>>> x.grad
tensor([2., 0., 0., 0., 0., 1.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.autograd import anomaly
from chainrule.autograd.capture import STATE as CAPTURE
from chainrule.autograd.function import Function
from chainrule.autograd.function import tensor_class as _tensor_class
from chainrule.autograd.grad_mode import STATE as GRAD_MODE
from chainrule.backend import array_module
from chainrule.wording import plural


class Reshape(Function):
    @staticmethod
    def forward(ctx: Any, x: Any, shape: tuple[int, ...]) -> Any:
        ctx.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot view {tuple(x.shape)} ({plural(x.size, 'element')}) as "
                f"{tuple(shape)}; "
                "the new shape must hold the same number of elements (use -1 for one dim)"
            ) from None

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        return gy.reshape(ctx.shape)


class Permute(Function):
    """General axis permutation (transpose swaps two axes)."""

    @staticmethod
    def forward(ctx: Any, x: Any, axes: tuple[int, ...]) -> Any:
        ctx.inverse = tuple(np.argsort(axes))
        return x.transpose(axes)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        return gy.transpose(ctx.inverse)


class Expand(Function):
    """Broadcast to a larger shape without copying; the engine sums the gradient back."""

    @staticmethod
    def forward(ctx: Any, x: Any, shape: tuple[int, ...]) -> Any:
        try:
            return array_module(x).broadcast_to(x, shape)
        except ValueError:
            raise ValueError(
                f"expand: cannot expand {tuple(x.shape)} to {tuple(shape)}; only size-1 dims "
                "can grow (use -1 to keep a dim)"
            ) from None

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        return gy


class Concat(Function):
    @staticmethod
    def forward(ctx: Any, axis: int, *xs: Any) -> Any:
        ctx.axis = axis
        ctx.bounds = np.cumsum([x.shape[axis] for x in xs])[:-1]
        try:
            return array_module(xs[0]).concatenate(xs, axis=axis)
        except ValueError:
            shapes = ", ".join(str(tuple(x.shape)) for x in xs)
            raise ValueError(
                f"concat: shapes {shapes} do not match outside dim {axis}; every tensor must "
                "have the same size in all other dims"
            ) from None

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        return (None, *array_module(gy).split(gy, ctx.bounds, axis=ctx.axis))


class Stack(Function):
    @staticmethod
    def forward(ctx: Any, axis: int, *xs: Any) -> Any:
        ctx.axis = axis
        try:
            return array_module(xs[0]).stack(xs, axis=axis)
        except ValueError:
            shapes = ", ".join(str(tuple(x.shape)) for x in xs)
            raise ValueError(f"stack: all tensors must have the same shape, got {shapes}") from None

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        xp = array_module(gy)
        return (None, *(xp.take(gy, i, axis=ctx.axis) for i in range(gy.shape[ctx.axis])))


class Split(Function):
    """Cut along ``axis`` at ``bounds``; several outputs, gradients concatenated back."""

    @staticmethod
    def forward(ctx: Any, x: Any, bounds: tuple[int, ...], axis: int) -> Any:
        ctx.axis = axis
        return tuple(array_module(x).split(x, bounds, axis=axis))

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        return array_module(grads[0]).concatenate(grads, axis=ctx.axis)


class Pad(Function):
    """Pad with numpy modes ('constant', 'reflect', 'edge', 'wrap').

    Backward uses the padding's index map: each output cell came from one input
    cell (or from the constant), so the gradient is a scatter-add of gy onto them.
    """

    @staticmethod
    def forward(ctx: Any, x: Any, widths: tuple[tuple[int, int], ...], mode: str,
                value: float) -> Any:
        xp = array_module(x)
        ctx.shape, ctx.widths, ctx.mode = x.shape, widths, mode
        if mode == "constant":
            return xp.pad(x, widths, mode="constant", constant_values=value)
        return xp.pad(x, widths, mode=mode)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        xp = array_module(gy)
        if ctx.mode == "constant":
            inner = tuple(slice(lo, gy.shape[i] - hi) for i, (lo, hi) in enumerate(ctx.widths))
            return gy[inner]
        size = int(np.prod(ctx.shape))
        index = xp.pad(xp.arange(size).reshape(ctx.shape), ctx.widths, mode=ctx.mode)
        gx = xp.bincount(index.ravel(), weights=gy.ravel(), minlength=size)
        return gx.reshape(ctx.shape).astype(gy.dtype, copy=False)


def is_basic_index(index: Any) -> bool:
    """True for indices made only of ints, slices, None and Ellipsis (no repeats possible)."""
    items = index if isinstance(index, tuple) else (index,)
    return all(
        isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items
    )


class GetItem(Function):
    """``x[index]``. The index comes as a template (``ARRAY`` where an array goes) and the
    arrays as inputs of their own, so a captured step replays with the current step's
    labels in ``logp[range(n), y]`` instead of the recorded ones."""

    # A boolean mask picks a different number of items each step: a replay checks the shape.
    replay_checks_shape = True

    @staticmethod
    def forward(ctx: Any, x: Any, template: Any, *arrays: Any) -> Any:
        index = fill_index(template, arrays)
        ctx.shape, ctx.dtype, ctx.index = x.shape, x.dtype, index
        try:
            return x[index]
        except IndexError as exc:
            if x.ndim == 0:  # old programs' loss.data[0]: PyTorch's words
                raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` to "
                                 "convert a 0-dim tensor to a number") from None
            raise IndexError(f"getitem: index {index!r} on shape {tuple(x.shape)}: {exc}") from None

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        xp = array_module(gy)
        gx = xp.zeros(ctx.shape, dtype=gy.dtype)
        if is_basic_index(ctx.index):
            gx[ctx.index] = gy
        else:
            xp.add.at(gx, ctx.index, gy)  # repeated indices accumulate
        return gx


class SetItem(Function):
    """``x[index] = v`` as a graph op: x's gradient is zeroed where v was written."""

    @staticmethod
    def forward(ctx: Any, x: Any, v: Any, index: Any) -> Any:
        ctx.index = index
        out = x.copy()
        out[index] = v
        return out

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        gx = None
        if ctx.needs_input_grad[0]:
            gx = gy.copy()
            gx[ctx.index] = 0
        gv = gy[ctx.index] if ctx.needs_input_grad[1] else None
        return gx, gv


# ---- functions ----------------------------------------------------------------------


def _share_version(out: Any, x: Any) -> Any:
    """Views share their base's version counter, so in-place writes through either count."""
    if array_module(out._data).may_share_memory(out._data, x._data):
        out._version = x._version
    return out


def _normalize_axis(op: str, dim: int, ndim: int) -> int:
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"{op}: dim {dim} is out of range for a tensor with {ndim} dims "
            f"(valid: {-ndim} .. {ndim - 1})"
        )
    return dim % ndim


def _shape_args(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def reshape(x: Any, *shape: Any) -> Any:
    """Same values, new shape (a view when possible); one dim may be -1.

    >>> import chainrule as cr
    >>> cr.arange(6.0).reshape(2, 3).shape
    chainrule.Size([2, 3])
    """
    return _share_version(Reshape.apply(x, _shape_args(shape)), x)


def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Any:
    """Merge dims ``start_dim..end_dim`` into one.

    >>> import chainrule as cr
    >>> cr.flatten(cr.ones(2, 3, 4), 1).shape
    chainrule.Size([2, 12])
    """
    if x.ndim == 0:
        return reshape(x, 1)
    start = _normalize_axis("flatten", start_dim, x.ndim)
    end = _normalize_axis("flatten", end_dim, x.ndim)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape[:start] + (-1 if x.numel() == 0 and end > start else
                               int(np.prod(x.shape[start:end + 1])),) + x.shape[end + 1:]
    return reshape(x, shape)


def permute(x: Any, *dims: Any) -> Any:
    """Reorder dims: ``permute(x, 2, 0, 1)``."""
    axes = tuple(_normalize_axis("permute", d, x.ndim) for d in _shape_args(dims))
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(
            f"permute: dims {tuple(_shape_args(dims))} are not a permutation of "
            f"0..{x.ndim - 1} for shape {tuple(x.shape)}"
        )
    return _share_version(Permute.apply(x, axes), x)


def transpose(x: Any, dim0: int, dim1: int) -> Any:
    """Swap two dims."""
    axes = list(range(x.ndim))
    d0 = _normalize_axis("transpose", dim0, x.ndim)
    d1 = _normalize_axis("transpose", dim1, x.ndim)
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return _share_version(Permute.apply(x, tuple(axes)), x)


def expand(x: Any, *shape: Any) -> Any:
    """Broadcast size-1 dims to ``shape`` without copying (-1 keeps a dim)."""
    target = list(_shape_args(shape))
    offset = len(target) - x.ndim
    for i, s in enumerate(target):
        if s == -1:
            target[i] = x.shape[i - offset]
    return _share_version(Expand.apply(x, tuple(target)), x)


def squeeze(x: Any, dim: Any = None) -> Any:
    """Remove size-1 dims (all of them, or only ``dim``)."""
    if dim is None:
        shape = tuple(s for s in x.shape if s != 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        axes = {_normalize_axis("squeeze", d, x.ndim) for d in dims}
        shape = tuple(s for i, s in enumerate(x.shape) if not (i in axes and s == 1))
    return reshape(x, shape)


def unsqueeze(x: Any, dim: int) -> Any:
    """Insert a size-1 dim at ``dim``."""
    axis = _normalize_axis("unsqueeze", dim, x.ndim + 1)
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


def cat(tensors: Any, dim: int = 0) -> Any:
    """Join tensors along an existing dim.

    >>> import chainrule as cr
    >>> cr.cat([cr.ones(2, 3), cr.zeros(1, 3)]).shape
    chainrule.Size([3, 3])
    """
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    return Concat.apply(_normalize_axis("cat", dim, tensors[0].ndim), *tensors)


concat = cat


def stack(tensors: Any, dim: int = 0) -> Any:
    """Join same-shape tensors along a new dim."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    return Stack.apply(_normalize_axis("stack", dim, tensors[0].ndim + 1), *tensors)


def split(x: Any, split_size_or_sections: Any, dim: int = 0) -> Any:
    """Cut into pieces of ``split_size`` (last may be smaller) or of the listed sizes.

    >>> import chainrule as cr
    >>> [t.shape for t in cr.split(cr.ones(5, 2), 2)]
    [chainrule.Size([2, 2]), chainrule.Size([2, 2]), chainrule.Size([1, 2])]
    """
    axis = _normalize_axis("split", dim, x.ndim)
    n = x.shape[axis]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = [step] * (n // step) + ([n % step] if n % step else [])
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} sum to {sum(sizes)}, but dim {dim} has {n}")
    bounds = tuple(int(b) for b in np.cumsum(sizes)[:-1])
    outs = Split.apply(x, bounds, axis)
    return tuple(_share_version(o, x) for o in outs)


def chunk(x: Any, chunks: int, dim: int = 0) -> Any:
    """Split into ``chunks`` nearly equal pieces."""
    n = x.shape[_normalize_axis("chunk", dim, x.ndim)]
    return split(x, max(-(-n // chunks), 1), dim)


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
              "circular": "wrap"}


def pad(x: Any, pad: Any, mode: str = "constant", value: float = 0.0) -> Any:
    """Pad like ``torch.nn.functional.pad``: ``pad`` lists (left, right) of the last dim first.

    >>> import chainrule as cr
    >>> cr.pad(cr.ones(2, 2), (1, 1)).shape
    chainrule.Size([2, 4])
    """
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(
            f"pad: expected pairs (left, right) for at most {x.ndim} dims, got {tuple(pad)}"
        )
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {sorted(_PAD_MODES)}, got {mode!r}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return Pad.apply(x, tuple(widths), _PAD_MODES[mode], value)


def _plain_getitem(x: Any, index: Any) -> Any:
    """The same result as the op, without the op's bookkeeping, for the indices of
    scalar loops (``Xb[k, j]``, ``dC[ix]``) when nothing is recorded: no graph, no
    capture, no anomaly check. None: take the op's path (other indices, and errors,
    which the op words)."""
    tensor = _tensor_class()
    data = x._data
    kind = type(index)
    if kind is tuple:
        for item in index:
            if type(item) is not int:
                return None
    elif kind is not int:
        if kind is not tensor or index._requires_grad or type(index._data) is not np.ndarray \
                or index._data.dtype.kind not in "iub":
            return None
        try:
            return tensor._wrap(data[index._data])  # advanced indexing: a copy
        except IndexError:
            return None
    try:
        raw = data[index]
    except IndexError:
        return None
    out = tensor._wrap(raw)
    if type(raw) is np.ndarray:  # fewer ints than dims: a view of x, one version counter
        counter = x._counter  # (out._version = x._version, without the property's calls)
        if counter is None:
            counter = x._counter = [0]
        out._counter = counter
    return out


def normalize_index(index: Any) -> Any:
    """Replace Tensors and lists inside an index by arrays."""
    from chainrule.tensor import Tensor

    def convert(item: Any) -> Any:
        if isinstance(item, Tensor):
            return item._data
        if isinstance(item, list):
            return np.asarray(item)
        return item

    if isinstance(index, tuple):
        return tuple(convert(i) for i in index)
    return convert(index)


class _ArraySlot:
    """Where an index template holds an array (passed to the op as an input of its own)."""

    def __repr__(self) -> str:
        return "ARRAY"


ARRAY = _ArraySlot()


def split_index(index: Any) -> tuple[Any, list[Any]]:
    """``(template, arrays)``: the index with each array, Tensor or list replaced by
    ``ARRAY``, and those items in order (lists as arrays, Tensors kept as Tensors).

    >>> import numpy as np
    >>> split_index((slice(None), np.array([2, 0])))
    ((slice(None, None, None), ARRAY), [array([2, 0])])
    """
    from chainrule.tensor import Tensor

    items = index if isinstance(index, tuple) else (index,)
    template, arrays = [], []
    for item in items:
        if isinstance(item, list):
            item = np.asarray(item)
        if isinstance(item, (Tensor, np.ndarray)) or hasattr(item, "__cuda_array_interface__"):
            arrays.append(item)
            template.append(ARRAY)
        else:
            template.append(item)
    return (tuple(template) if isinstance(index, tuple) else template[0]), arrays


def fill_index(template: Any, arrays: tuple[Any, ...]) -> Any:
    """The inverse of :func:`split_index` (on raw arrays)."""
    if not arrays:
        return template
    if template is ARRAY:
        return arrays[0]
    values = iter(arrays)
    return tuple(next(values) if item is ARRAY else item for item in template)


def getitem(x: Any, index: Any) -> Any:
    """``x[index]`` with ints, slices, None, Ellipsis, integer arrays and boolean masks."""
    if (not (x._requires_grad and GRAD_MODE.enabled) and CAPTURE.tape is None
            and not anomaly.STATE.enabled and type(x._data) is np.ndarray):
        out = _plain_getitem(x, index)
        if out is not None:
            return out
    template, arrays = split_index(index)
    out = GetItem.apply(x, template, *arrays)
    return _share_version(out, x) if not arrays and is_basic_index(template) else out
