"""Printing tensors as PyTorch does: ``tensor([0.0600, 0.0000])``.

The rules are PyTorch's (``torch/_tensor_str.py``), so a program prints the same text under
either library: one format for every element of a tensor, chosen from its nonzero finite
values. All integers (floats with no fraction): ``1.``; a spread over 1000x, a value over
1e8 or under 1e-4: scientific ``1.0000e-05``; otherwise 4 decimals. Elements are padded
to one width and wrapped at 80 columns; over 1000 elements only the first and last 3 of
each dim are shown. The dtype is printed when it is not the default float, int64 or bool;
the graph link as ``grad_fn=<MulBackward0>`` (PyTorch's name for the op).

>>> import chainrule as cr
>>> cr.tensor([0.06, 0.0])
tensor([0.0600, 0.0000])
>>> cr.tensor([1.0, 2.0, 1e-5])
tensor([1.0000e+00, 2.0000e+00, 1.0000e-05])
>>> cr.tensor([3.0, -10.0], dtype=cr.float64)
tensor([  3., -10.], dtype=chainrule.float64)
>>> cr.tensor(2.5, requires_grad=True) * 2
tensor(5., grad_fn=<MulBackward0>)
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule import dtypes

if TYPE_CHECKING:
    from chainrule.tensor import Tensor


class _PrintOptions:
    precision = 4
    threshold: float = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrintOptions()
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80),
             "full": (4, math.inf, 3, 80)}


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Set how tensors print, as ``torch.set_printoptions`` (``profile``: 'default',
    'short' or 'full'; ``sci_mode`` None lets each tensor choose).

    >>> import chainrule as cr
    >>> cr.set_printoptions(precision=2); cr.tensor([1.12345])
    tensor([1.12])
    >>> cr.set_printoptions(profile="default"); cr.tensor([1.12345])
    tensor([1.1235])
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, "
                             f"got {profile!r}")
        (PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems,
         PRINT_OPTS.linewidth) = _PROFILES[profile]
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


class _Formatter:
    """One format for all elements, chosen from the (summarized) values."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind in "fc"
        self.int_mode, self.sci_mode, self.max_width = True, False, 1
        flat = values.reshape(-1)
        if not self.floating:
            for value in flat.tolist():
                self.max_width = max(self.max_width, len(f"{value}"))
            return
        flat = flat.astype(np.float64)
        finite = flat[np.isfinite(flat) & (flat != 0)]
        if finite.size == 0:
            return
        magnitude = np.abs(finite)
        low, high = magnitude.min(), magnitude.max()
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        self.sci_mode = (high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4) \
            if PRINT_OPTS.sci_mode is None else PRINT_OPTS.sci_mode
        precision = PRINT_OPTS.precision
        for value in finite.tolist():
            if self.sci_mode:
                width = len(f"{value:.{precision}e}")
            elif self.int_mode:
                width = len(f"{value:.0f}") + 1  # the point that marks a float
            else:
                width = len(f"{value:.{precision}f}")
            self.max_width = max(self.max_width, width)

    def format(self, value: Any) -> str:
        precision = PRINT_OPTS.precision
        if not self.floating:
            text = f"{value}"
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if math.isfinite(value):
                text += "."
        else:
            text = f"{value:.{precision}f}"
        return (self.max_width - len(text)) * " " + text


def _summarized(values: np.ndarray) -> np.ndarray:
    """Only the elements that will be shown (the first and last ``edgeitems`` per dim)."""
    edge = PRINT_OPTS.edgeitems
    for axis, size in enumerate(values.shape):
        if size > 2 * edge:
            keep = np.r_[0:edge, size - edge:size]
            values = np.take(values, keep, axis=axis)
    return values


def _vector(values: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / (fmt.max_width + 2)))
    edge = PRINT_OPTS.edgeitems
    if summarize and not edge:
        items = ["..."]
    elif summarize and len(values) > 2 * edge:
        items = ([fmt.format(v) for v in values[:edge].tolist()] + [" ..."]
                 + [fmt.format(v) for v in values[-edge:].tolist()])
    else:
        items = [fmt.format(v) for v in values.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(values: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if values.ndim == 0:
        return fmt.format(values.item())
    if values.ndim == 1:
        return _vector(values, indent, summarize, fmt)
    edge = PRINT_OPTS.edgeitems
    if summarize and len(values) > 2 * edge:
        rows = [_nested(values[i], indent + 1, summarize, fmt) for i in range(edge)] + ["..."]
        rows += [_nested(values[i], indent + 1, summarize, fmt)
                 for i in range(len(values) - edge, len(values))]
    else:
        rows = [_nested(row, indent + 1, summarize, fmt) for row in values]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def array_str(values: np.ndarray, indent: int = 7) -> str:
    """The bracketed body of a tensor's print-out (``indent``: the prefix's width).

    >>> print(array_str(np.array([[1, 2], [30, 4]])))
    [[ 1,  2],
            [30,  4]]
    """
    if values.size == 0:
        return "[]"
    if values.dtype == np.float16:
        values = values.astype(np.float32)
    summarize = values.size > PRINT_OPTS.threshold
    fmt = _Formatter(_summarized(values) if summarize else values)
    return _nested(values, indent, summarize, fmt)


def dtype_name(dtype: Any) -> str:
    """``chainrule.float64``: how a dtype prints inside a tensor's print-out (NumPy's own
    dtype objects print as ``float64``: see the README's differences from PyTorch)."""
    name = "bool" if np.dtype(dtype) == np.bool_ else np.dtype(dtype).name
    return f"chainrule.{name}"


# PyTorch's names for the nodes of ops whose name differs from "<op>Backward0"
_GRAD_FN_NAMES = {
    "ReLU": "ReluBackward0", "LeakyReLU": "LeakyReluBackward0", "ELU": "EluBackward0",
    "GELU": "GeluBackward0", "CrossEntropy": "NllLossBackward0", "NLL": "NllLossBackward0",
    "BCEWithLogits": "BinaryCrossEntropyWithLogitsBackward0", "Clamp": "ClampBackward1",
    "SquaredError": "MseLossBackward0", "LogSumExp": "LogsumexpBackward0",
    "MaxDim": "MaxBackward0", "Concat": "CatBackward0", "Pad": "ConstantPadNdBackward0",
    "SetItem": "CopySlices", "Cast": "ToCopyBackward0", "ToDevice": "ToCopyBackward0",
    "Conv2d": "ConvolutionBackward0", "MaxPool2d": "MaxPool2DWithIndicesBackward0",
    "AvgPool2d": "AvgPool2DBackward0", "Dropout": "MulBackward0",
    "EmbeddingLookup": "EmbeddingBackward0",
}
_MATMUL_NAMES = {0: "DotBackward0", 1: "MvBackward0", 2: "MmBackward0"}


def _input_shape(node: Any, i: int) -> tuple[int, ...] | None:
    inputs = getattr(node, "inputs", None)
    if inputs is None or i >= len(inputs) or inputs[i] is None:
        return None
    return tuple(inputs[i][2])


def _reshape_name(before: tuple[int, ...], after: tuple[int, ...]) -> str:
    """unsqueeze and squeeze are reshapes here; PyTorch names them apart."""
    def drop_one(longer: tuple[int, ...], shorter: tuple[int, ...]) -> bool:
        return any(longer[i] == 1 and longer[:i] + longer[i + 1:] == shorter
                   for i in range(len(longer)))

    if len(after) == len(before) + 1 and drop_one(after, before):
        return "UnsqueezeBackward0"
    if len(after) == len(before) - 1 and drop_one(before, after):
        return "SqueezeBackward1"
    return "ViewBackward0"


def _index_name(index: Any) -> str:
    items = index if isinstance(index, tuple) else (index,)
    if any(hasattr(item, "shape") and not isinstance(item, int) for item in items):
        return "IndexBackward0"
    last = [item for item in items if item is not Ellipsis and item is not None]
    return "SliceBackward0" if last and isinstance(last[-1], slice) else "SelectBackward0"


def _out_ndim(node: Any, op: str) -> int | None:
    """The rank of a node's output where its name depends on it and no output is at hand:
    a product's from its saved operands', a reduction's 0 when it reduced every dim."""
    if op in ("Sum", "Mean") and hasattr(node, "axes") and hasattr(node, "shape"):
        return 0 if len(node.axes) == len(node.shape) else 1
    saved: tuple[Any, ...] = getattr(node, "to_save", ())  # both products save both operands
    if op not in ("Linear", "MatMul") or len(saved) != 2:
        return None
    a, b = (len(getattr(array, "shape", ())) for array in saved)
    return a if op == "Linear" else max(max(a, b) - (a == 1) - (b == 1), 0)


def grad_fn_name(node: Any, out: Any = None) -> str:
    """PyTorch's name for the node that made ``out``: ``AddBackward0`` for chainrule's
    ``AddBackward``, and for the ops PyTorch names by their inputs (a matrix product,
    reductions over a dim, an index, a reshape that is an unsqueeze) the name it uses."""
    function = getattr(node, "function", None)
    if function is None:
        return str(node.name())
    op = function.__name__
    ndim = None if out is None else len(out._data.shape)
    if ndim is None:  # the node alone (print(z.grad_fn)): the output's rank from the inputs
        ndim = _out_ndim(node, op)
    if op in ("MatMul", "Linear") and ndim is not None:
        saved: tuple[Any, ...] = getattr(node, "to_save", ())  # both products save both operands
        first = len(saved[0].shape) if len(saved) == 2 else None
        bias = op == "Linear" and len(node.inputs) == 3 and node.inputs[2] is not None
        if first == 1 and ndim == 1 and not bias:
            return "SqueezeBackward4"  # vector @ matrix
        if op == "Linear" and ndim == 2:
            return "AddmmBackward0" if bias else "MmBackward0"
        if bias:
            return "ViewBackward0"  # addmm on the flattened batch, viewed back
        return _MATMUL_NAMES.get(ndim, "UnsafeViewBackward0")
    if op in ("Sum", "Mean") and ndim is not None:
        return f"{op}Backward{0 if ndim == 0 else 1}"
    if op == "Reshape" and hasattr(node, "shape"):
        return "ViewBackward0" if out is None else \
            _reshape_name(tuple(node.shape), tuple(out._data.shape))
    if op == "GetItem" and hasattr(node, "index"):
        return _index_name(node.index)
    if op == "Sub" and _input_shape(node, 0) is None:
        return "RsubBackward1"  # 1 - x
    if op == "Pow":
        base, exponent = _input_shape(node, 0), _input_shape(node, 1)
        return "PowBackward2" if base is None else \
            "PowBackward0" if exponent is None else "PowBackward1"
    if op == "AdaptiveAvgPool2d" and ndim is not None and out._data.shape[-2:] == (1, 1):
        return "MeanBackward1"
    return _GRAD_FN_NAMES.get(op, f"{op}Backward0")


def tensor_repr(t: Tensor) -> str:
    """``tensor([...], dtype=..., device=..., grad_fn=<...>)`` as PyTorch prints it."""
    from chainrule.backend.device import default_device

    data = t._data
    values = data if isinstance(data, np.ndarray) else np.asarray(t.detach().tolist(),
                                                                   dtype=data.dtype)
    prefix = "tensor("
    suffixes = []
    device = t.device
    if device.type != default_device().type:
        suffixes.append(f"device='{device}'")
    default = dtypes.STATE.default
    if values.size == 0:
        if values.ndim != 1:
            suffixes.append(f"size={tuple(values.shape)}")
        if values.dtype != default:
            suffixes.append(f"dtype={dtype_name(values.dtype)}")
    elif values.dtype not in (default, dtypes.int64, dtypes.bool_):
        suffixes.append(f"dtype={dtype_name(values.dtype)}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name(t.grad_fn, t)}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    text = prefix + array_str(values, len(prefix))
    last_line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > PRINT_OPTS.linewidth:
            text += ",\n" + " " * len(prefix) + suffix
            last_line = len(prefix) + len(suffix)
        else:
            text += ", " + suffix
            last_line += len(suffix) + 2
    return text + ")"
