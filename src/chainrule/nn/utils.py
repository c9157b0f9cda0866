"""Gradient clipping, flat parameter vectors and the model summary.

>>> import chainrule as cr
>>> from chainrule import nn
>>> print(nn.summary(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)), (3,)))
Layer (type)              Output shape         Params
=====================================================
0 (Linear)                (N, 4)                   16
1 (Tanh)                  (N, 4)                    0
2 (Linear)                (N, 2)                   10
=====================================================
Total params: 26
Trainable params: 26

In another language (``chainrule train --lang zh`` prints it so), the same numbers:

>>> from chainrule.i18n import messages
>>> print(nn.summary(nn.Sequential(nn.Linear(3, 4)), (3,), say=messages("zh")))
层（类型）                输出形状               参数
=====================================================
0 (Linear)                (N, 4)                   16
=====================================================
参数总数：16
可训练参数：16
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from chainrule import creation
from chainrule.autograd.grad_mode import no_grad
from chainrule.i18n import Messages, pad
from chainrule.nn.module import Module
from chainrule.tensor import Tensor


def _grads(parameters: Any) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters: Any, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so their joint norm is at most ``max_norm``.

    Returns the norm before clipping (useful to log exploding gradients).
    """
    grads = _grads(parameters)
    if not grads:
        return creation.tensor(0.0)
    if norm_type == math.inf:
        total = max(float(np.abs(g._data).max()) for g in grads)
    else:
        total = float(sum(float((np.abs(g._data) ** norm_type).sum()) for g in grads)
                      ** (1.0 / norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total gradient norm is {total}; "
                           "set error_if_nonfinite=False to clip anyway")
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for g in grads:
            g._data *= coef
    return creation.tensor(total, dtype=grads[0].dtype)


def clip_grad_value_(parameters: Any, clip_value: float) -> None:
    """Clip every gradient element to [-clip_value, clip_value]."""
    for g in _grads(parameters):
        np.clip(g._data, -clip_value, clip_value, out=g._data)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one vector (a copy)."""
    arrays = [p._data.reshape(-1) for p in parameters]
    return Tensor._wrap(np.concatenate(arrays) if arrays else np.zeros(0))


def vector_to_parameters(vector: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vector`` back into the parameters (in place)."""
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vector.numel() != total:
        raise ValueError(f"vector_to_parameters: vector has {vector.numel()} elements, the "
                         f"parameters need {total}")
    offset = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p._data[...] = vector._data[offset:offset + n].reshape(p.shape)
            p._bump_version()
            offset += n


def summary(model: Module, input_shape: tuple[int, ...], dtype: Any = None,
            say: Messages | None = None) -> str:
    """A table of each layer's output shape and parameter count (like Keras' summary).

    ``input_shape`` is the shape of one sample; the batch dim is shown as N. ``say``: the
    catalogue of the header and the totals (:func:`chainrule.i18n.messages`; None:
    English); the columns stay aligned in terminal columns (a Chinese character is two).
    """
    say = say or Messages("en")
    rows: list[tuple[str, str, int]] = []
    handles = []
    leaves = [(name, m) for name, m in model.named_modules() if not m._modules]

    def record(name: str) -> Any:
        def hook(module: Module, args: Any, out: Any) -> None:
            shape = tuple(out.shape) if isinstance(out, Tensor) else ()
            params = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append((f"{name} ({type(module).__name__})",
                         "(N, " + ", ".join(str(s) for s in shape[1:]) + ")", params))
        return hook

    for name, module in leaves:
        handles.append(module.register_forward_hook(record(name or type(module).__name__)))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            first = next(iter(model.parameters()), None)
            x = creation.zeros((2, *input_shape), dtype=dtype or (first.dtype if first is not None
                                                                  else None))
            if first is not None and first.device.type != "cpu":
                x = x.to(first.device)
            model(x)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    width = 53
    lines = [pad(say("summary.layer"), 26) + pad(say("summary.shape"), 19)
             + pad(say("summary.params"), 8, ">"), "=" * width]
    lines += [f"{name:<26}{shape:<19}{params:>8,}" for name, shape, params in rows]
    lines.append("=" * width)
    lines.append(say("summary.total", count=f"{model.num_parameters():,}"))
    lines.append(say("summary.trainable",
                     count=f"{model.num_parameters(trainable_only=True):,}"))
    return "\n".join(lines)


def num_parameters(model: Module, trainable_only: bool = False) -> int:
    """Number of scalar parameters in ``model``."""
    return model.num_parameters(trainable_only)
