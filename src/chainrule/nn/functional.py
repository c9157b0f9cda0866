"""The functions layers and users call: activations, dropout, normalization, losses.

Thin wrappers over the ops: they validate arguments and shapes (with errors
that say what was expected and how to fix it) and pick the fused op where one
exists.

>>> import chainrule as cr
>>> import chainrule.nn.functional as F
>>> F.mse_loss(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 4.0]))
tensor(2.)
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np

from chainrule.autograd import capture
from chainrule.backend import array_module, smallest
from chainrule.nn.conv_functional import (
    adaptive_avg_pool2d,
    avg_pool2d,
    conv1d,
    conv2d,
    dropout2d,
    fold,
    max_pool2d,
    pad,
    unfold,
)
from chainrule.ops import elementwise as ew
from chainrule.ops import reduce as red
from chainrule.ops import shape as shp
from chainrule.ops.activation import elu, gelu, leaky_relu, relu, sigmoid, softplus, tanh
from chainrule.ops.linalg import linear
from chainrule.ops.loss import (
    NLL,
    BCEWithLogits,
    CrossEntropy,
    SquaredError,
    as_class_targets,
    check_reduction,
)
from chainrule.ops.nn_ops import Dropout, EmbeddingLookup
from chainrule.ops.reduce import log_softmax, softmax
from chainrule.random import Generator, numpy_generator
from chainrule.random_draws import bernoulli
from chainrule.tensor import Tensor

__all__ = [
    "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
    "dropout", "elu", "embedding", "gelu", "huber_loss", "l1_loss", "layer_norm", "leaky_relu",
    "linear", "log_softmax", "mse_loss", "multi_margin_loss", "nll_loss", "one_hot", "prelu",
    "relu", "sigmoid", "smooth_l1_loss", "softmax", "softplus", "tanh",
    # convolution and pooling (nn/conv_functional.py)
    "adaptive_avg_pool2d", "avg_pool2d", "conv1d", "conv2d", "dropout2d", "fold", "max_pool2d",
    "pad", "unfold",
]


class ProbabilitiesAsLogitsWarning(UserWarning):
    """CrossEntropyLoss got rows that already sum to 1: probably softmax outputs, not logits."""


class _Warned:
    probabilities = False


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return red.mean(loss)
    if reduction == "sum":
        return red.sum(loss)
    return loss


def _same_shape(name: str, x: Tensor, y: Any) -> None:
    if tuple(x.shape) != tuple(y.shape):
        raise ValueError(
            f"{name}: input shape {tuple(x.shape)} and target shape {tuple(y.shape)} differ. "
            "Broadcasting here silently computes the wrong loss (a classic (N, 1) vs (N,) bug); "
            "reshape the target to match, e.g. target.reshape(input.shape)"
        )


def _as_tensor(value: Any, like: Tensor) -> Tensor:
    if isinstance(value, Tensor):
        return value
    return Tensor._wrap(np.asarray(value, dtype=like.dtype))


# ---- regularization -------------------------------------------------------------------


def dropout(x: Tensor, p: float = 0.5, training: bool = True,
            generator: Generator | None = None) -> Tensor:
    """Inverted dropout: zero units with probability ``p``, scale the rest by 1 / (1 - p).

    The mask is PyTorch's CPU mask for the same seed (its ``bernoulli_(1 - p)``: one float64
    uniform per element), and the stream moves as PyTorch's does."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    capture.unsupported("dropout draws a new random mask every step")
    keep = bernoulli(numpy_generator(generator), 1.0 - p, x.shape, dtype=bool)
    if not isinstance(x._data, np.ndarray):
        from chainrule.backend import to_device

        keep = to_device(keep, x.device)
    return Dropout.apply(x, keep, p)


def embedding(ids: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` (num_embeddings, dim) for integer ``ids`` of any shape."""
    if ids.dtype.kind not in "iu":
        raise TypeError(f"embedding: ids must be integers, got {ids.dtype}; use ids.long()")
    n = weight.shape[0]
    if ids.numel() and (int(ids._data.min()) < 0 or int(ids._data.max()) >= n):
        raise IndexError(f"embedding: ids must be in 0 .. {n - 1}, got range "
                         f"{int(ids._data.min())} .. {int(ids._data.max())}")
    return EmbeddingLookup.apply(weight, ids._data, padding_idx)


def prelu(x: Tensor, weight: Tensor) -> Tensor:
    """x for x > 0, a * x otherwise, with a learned per-channel (dim 1) or shared slope."""
    a = weight
    if weight.numel() > 1:
        if x.ndim < 2 or x.shape[1] != weight.numel():
            raise ValueError(f"prelu: {weight.numel()} slopes need input with that many "
                             f"channels in dim 1, got shape {tuple(x.shape)}")
        a = shp.reshape(weight, (1, weight.numel()) + (1,) * (x.ndim - 2))
    return ew.where(x > 0, x, x * a)


# ---- normalization --------------------------------------------------------------------


def batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel (dim 1) by batch statistics (training) or running ones (eval).

    Running statistics are updated in place during training with the unbiased variance,
    as PyTorch does.
    """
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if training:
        capture.unsupported("batch_norm updates its running statistics in place")
        n = x.numel() // x.shape[1]
        if n <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input shape {tuple(x.shape)}")
        mean = red.mean(x, axes, keepdim=True)
        var = red.var(x, axes, correction=0, keepdim=True)
        if running_mean is not None and running_var is not None:
            with_grad = mean.detach()._data.reshape(-1), var.detach()._data.reshape(-1)
            running_mean._data[...] = (1 - momentum) * running_mean._data + momentum * with_grad[0]
            running_var._data[...] = ((1 - momentum) * running_var._data
                                     + momentum * with_grad[1] * n / (n - 1))
            running_mean._bump_version()
            running_var._bump_version()
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: eval mode needs running statistics")
        mean = shp.reshape(running_mean, shape)
        var = shp.reshape(running_var, shape)
    y = (x - mean) / ew.sqrt(var + eps)
    if weight is not None:
        y = y * shp.reshape(weight, shape)
    if bias is not None:
        y = y + shp.reshape(bias, shape)
    return y


def layer_norm(x: Tensor, normalized_shape: tuple[int, ...], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize over the last ``len(normalized_shape)`` dims of each sample."""
    k = len(normalized_shape)
    if tuple(x.shape[-k:]) != tuple(normalized_shape):
        raise ValueError(f"layer_norm: input {tuple(x.shape)} does not end with "
                         f"normalized_shape {tuple(normalized_shape)}")
    axes = tuple(range(x.ndim - k, x.ndim))
    mean = red.mean(x, axes, keepdim=True)
    var = red.var(x, axes, correction=0, keepdim=True)
    y = (x - mean) / ew.sqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


# ---- losses ---------------------------------------------------------------------------


def _classes_last(x: Tensor, target: Tensor, name: str) -> tuple[Tensor, Tensor]:
    """(N, C, d1, ...) logits with (N, d1, ...) targets -> (N*d1*..., C) and (N*d1*...)."""
    x_shape, t_shape = x._data.shape, target._data.shape  # (plain tuples: no Size per read)
    if len(x_shape) == 1:
        return shp.reshape(x, (1, x_shape[0])), shp.reshape(target, (1,))
    if len(x_shape) == 2:
        if len(t_shape) != 1 or t_shape[0] != x_shape[0]:
            raise ValueError(f"{name}: input {tuple(x.shape)} needs a target of shape "
                             f"({x.shape[0]},) with one class index per row, got "
                             f"{tuple(target.shape)}")
        return x, target
    moved = shp.permute(x, (0, *range(2, x.ndim), 1))
    return (shp.reshape(moved, (-1, x.shape[1])), shp.reshape(target, (-1,)))


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross entropy from raw scores (logits), fused and stable.

    ``target`` holds class indices (int64), or class probabilities with the input's shape.
    """
    name = "cross_entropy"
    check_reduction(name, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing}")
    _warn_if_probabilities(input)
    if target._data.dtype.kind == "f" and target._data.shape == input._data.shape:
        return _soft_cross_entropy(input, target, weight, reduction, label_smoothing)
    x, t = _classes_last(input, target, name)
    as_class_targets(name, t._data, x._data.shape[1], ignore_index)
    w = None if weight is None else weight._data.astype(x._data.dtype, copy=False)
    loss = CrossEntropy.apply(x, t._data, w, ignore_index, reduction, label_smoothing)
    if reduction == "none" and input.ndim > 2:
        return shp.reshape(loss, target.shape)
    if reduction == "none" and input.ndim == 1:
        return shp.reshape(loss, ())
    return loss


def _soft_cross_entropy(x: Tensor, probs: Tensor, weight: Tensor | None, reduction: str,
                        smoothing: float) -> Tensor:
    _same_shape("cross_entropy", x, probs)
    c = x.shape[1] if x.ndim > 1 else x.shape[0]
    if smoothing:
        probs = probs * (1 - smoothing) + smoothing / c
    logp = log_softmax(x, dim=1 if x.ndim > 1 else 0)
    if weight is not None:
        shape = (1, c) + (1,) * (x.ndim - 2) if x.ndim > 1 else (c,)
        logp = logp * shp.reshape(weight, shape)
    per_row = -red.sum(logp * probs, dim=1 if x.ndim > 1 else 0)
    if reduction == "mean":
        return red.sum(per_row) / (x.shape[0] if x.ndim > 1 else 1)
    return _reduce(per_row, reduction)


def _warn_if_probabilities(x: Tensor) -> None:
    data = x._data
    if _Warned.probabilities or data.ndim != 2 or data.shape[0] == 0:
        return
    if smallest(data) >= 0 and bool(np.allclose(data.sum(axis=1), 1.0, atol=1e-3)):
        _Warned.probabilities = True
        warnings.warn(
            "cross_entropy got rows that already sum to 1: these look like probabilities "
            "(softmax outputs), but cross_entropy applies log_softmax itself and expects raw "
            "scores (logits). Remove the final Softmax layer.",
            ProbabilitiesAsLogitsWarning, stacklevel=3)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log likelihood of log-probabilities (pair with ``log_softmax``).

    >>> import chainrule as cr
    >>> logp = cr.tensor([[-0.1, -2.4], [-1.2, -0.4]])
    >>> round(nll_loss(logp, cr.tensor([0, 1])).item(), 4)
    0.25
    """
    name = "nll_loss"
    check_reduction(name, reduction)
    x, t = _classes_last(input, target, name)
    as_class_targets(name, t._data, x.shape[1], ignore_index)
    w = None if weight is None else weight._data.astype(x.dtype, copy=False)
    loss = NLL.apply(x, t._data, w, ignore_index, reduction)
    if reduction == "none" and input.ndim > 2:
        return shp.reshape(loss, target.shape)
    if reduction == "none" and input.ndim == 1:
        return shp.reshape(loss, ())
    return loss


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean squared error (x - y)^2 (fused)."""
    check_reduction("mse_loss", reduction)
    target = _as_tensor(target, input)
    _same_shape("mse_loss", input, target)
    return SquaredError.apply(input, target, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean absolute error |x - y|."""
    check_reduction("l1_loss", reduction)
    target = _as_tensor(target, input)
    _same_shape("l1_loss", input, target)
    return _reduce(ew.abs(input - target), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",  # noqa: A002
               delta: float = 1.0) -> Tensor:
    """Quadratic for |x - y| < delta, linear beyond: robust to outliers."""
    check_reduction("huber_loss", reduction)
    target = _as_tensor(target, input)
    _same_shape("huber_loss", input, target)
    d = input - target
    a = ew.abs(d)
    loss = ew.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    return _reduce(loss, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, reduction: str = "mean",  # noqa: A002
                   beta: float = 1.0) -> Tensor:
    """0.5 (x - y)^2 / beta for |x - y| < beta, |x - y| - 0.5 beta beyond (l1 at beta 0).

    >>> import chainrule as cr
    >>> cr.nn.functional.smooth_l1_loss(cr.tensor([0.5, 3.0]), cr.zeros(2), reduction="none")
    tensor([0.1250, 2.5000])
    """
    check_reduction("smooth_l1_loss", reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction)
    target = _as_tensor(target, input)
    _same_shape("smooth_l1_loss", input, target)
    d = input - target
    a = ew.abs(d)
    return _reduce(ew.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta), reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                         reduction: str = "mean") -> Tensor:
    """BCE on probabilities; logs are clamped at -100 like PyTorch. Prefer the logits form."""
    check_reduction("binary_cross_entropy", reduction)
    target = _as_tensor(target, input)
    _same_shape("binary_cross_entropy", input, target)
    data = input._data
    if data.size and (float(data.min()) < 0 or float(data.max()) > 1):
        raise ValueError("binary_cross_entropy: input must be probabilities in [0, 1]; for "
                         "raw scores use binary_cross_entropy_with_logits (BCEWithLogitsLoss)")
    log_p = ew.clamp(ew.log(input), min=-100.0)
    log_q = ew.clamp(ew.log(1 - input), min=-100.0)
    loss = -(target * log_p + (1 - target) * log_q)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,  # noqa: A002
                                     weight: Tensor | None = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + BCE in one stable op (never takes log of a rounded 0)."""
    check_reduction("binary_cross_entropy_with_logits", reduction)
    target = _as_tensor(target, input)
    _same_shape("binary_cross_entropy_with_logits", input, target)
    w = None if weight is None else weight._data
    pw = None if pos_weight is None else pos_weight._data
    return BCEWithLogits.apply(input, target, w, pw, reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1,  # noqa: A002
                      margin: float = 1.0, weight: Tensor | None = None,
                      reduction: str = "mean") -> Tensor:
    """Multiclass SVM hinge: sum over j != y of max(0, margin - x_y + x_j)^p, divided by C."""
    name = "multi_margin_loss"
    check_reduction(name, reduction)
    if p not in (1, 2):
        raise ValueError(f"{name}: p must be 1 or 2, got {p}")
    x, t = _classes_last(input, target, name)
    as_class_targets(name, t._data, x.shape[1], -100)
    n, c = x.shape
    # Masks from the labels by ops (one_hot), so a captured step rebuilds them per batch.
    true_class = one_hot(t, c, dtype=x.dtype)
    x_y = red.sum(x * true_class, dim=1, keepdim=True)  # each row's score for its label
    hinge = relu(margin - x_y + x)
    if p == 2:
        hinge = hinge * hinge
    others = 1 - true_class
    if weight is not None:  # each row weighted by its label's class weight
        w = Tensor._wrap(weight._data.astype(x.dtype, copy=False))
        others = others * shp.reshape(true_class @ w, (n, 1))
    loss = red.sum(hinge * others, dim=1) / c
    return _reduce(loss, reduction)


def one_hot(tensor: Tensor, num_classes: int = -1, dtype: Any = None) -> Tensor:
    """Class indices -> rows of zeros with a one at the class (int64 unless ``dtype``).

    ``num_classes=-1`` takes the largest index + 1, as PyTorch does. Computed by an op, so a
    captured training step builds the targets again from each batch's labels.

    >>> import chainrule as cr
    >>> one_hot(cr.tensor([0, 2]), 3)
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    data = tensor._data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if data.dtype.kind not in "iu":
        raise TypeError(f"one_hot: class indices must be integers (int64), got {data.dtype}; "
                        "use tensor.long()")
    if num_classes == -1:
        num_classes = int(data.max()) + 1 if data.size else 0
    rows = functools.partial(_one_hot_rows, num_classes=num_classes,
                             dtype=np.dtype(np.int64 if dtype is None else dtype))
    return ew.Logical.apply(rows, data)


def _one_hot_rows(labels: Any, num_classes: int, dtype: Any) -> Any:
    as_class_targets("one_hot", labels, num_classes, ignore_index=-1)
    if labels.size and smallest(labels) < 0:
        raise IndexError(f"one_hot: class index {smallest(labels)} is negative; class indices "
                         f"run from 0 to {num_classes - 1}")
    xp = array_module(labels)
    return (labels[..., None] == xp.arange(num_classes)).astype(dtype)

