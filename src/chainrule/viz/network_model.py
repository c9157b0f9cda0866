"""The layer model behind ``draw_network``: a fully connected net read as columns of neurons.

:func:`layers_of` reads a model's ``Linear`` layers (and the activation after each) into
:class:`Layer` columns, :func:`record` runs one example through it and keeps every
layer's net input, output and delta, :func:`count_parameters` counts what is drawn.
:mod:`chainrule.viz.network` draws these columns.

>>> from chainrule import nn
>>> columns = layers_of(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)))
>>> shape_name(columns), count_parameters(columns)
('3-4-2', (20, 6))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule import creation
from chainrule.nn.layers import Dropout, Flatten, Identity, Linear
from chainrule.nn.module import Module
from chainrule.tensor import Tensor


@dataclass
class Layer:
    """One column of the drawing: its width, the weights into it and what it computed."""

    size: int
    name: str
    weight: np.ndarray | None = None  # (size, previous size); None for the inputs
    bias: np.ndarray | None = None
    activation: str = ""
    net: np.ndarray | None = None
    out: np.ndarray | None = None
    delta: np.ndarray | None = None
    shown: list[int] = field(default_factory=list)  # the neuron indices drawn


def layers_of(model: Module) -> list[Layer]:
    """The columns of ``model``: its inputs, then one per ``Linear`` with the activation that
    follows it. Only Linear layers, elementwise activations, Flatten, Dropout and Identity
    can be drawn this way.

    >>> from chainrule import nn
    >>> [(c.size, c.activation) for c in layers_of(
    ...     nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)))]
    [(3, ''), (4, 'tanh'), (1, '')]
    """
    leaves = [m for m in model.modules() if not m._modules]
    columns: list[Layer] = []
    for module in leaves:
        if isinstance(module, Linear):
            if columns and columns[-1].size != module.in_features:
                raise ValueError(f"draw_network: a Linear layer takes {module.in_features} "
                                 f"inputs but the layer before it has {columns[-1].size} "
                                 "outputs")
            if not columns:
                columns.append(Layer(module.in_features, "input"))
            columns.append(Layer(
                module.out_features, "", module.weight.detach().numpy().astype(np.float64),
                None if module.bias is None else module.bias.detach().numpy().astype(np.float64)))
        elif isinstance(module, Flatten | Dropout | Identity):
            continue
        elif columns and not _has_parameters(module):
            columns[-1].activation = type(module).__name__.lower()
        else:
            raise TypeError(f"draw_network draws fully connected networks (Linear layers and "
                            f"activations); {type(module).__name__} cannot be drawn neuron by "
                            "neuron (use chainrule.viz.draw_graph for any model)")
    if not columns:
        raise ValueError("draw_network: the model has no Linear layer to draw")
    for depth, column in enumerate(columns[1:], start=1):
        column.name = "output" if depth == len(columns) - 1 else f"hidden {depth}"
    return columns


def _has_parameters(module: Module) -> bool:
    return any(True for _ in module.parameters())


def shape_name(columns: Sequence[Layer]) -> str:
    """'784-16-16-10': the widths of the layers, inputs first."""
    return "-".join(str(c.size) for c in columns)


def count_parameters(columns: Sequence[Layer]) -> tuple[int, int]:
    """(weights, biases) of the drawn network: 3-4-2 has (20, 6), 26 in all."""
    weights = sum(c.weight.size for c in columns if c.weight is not None)
    biases = sum(c.bias.size for c in columns if c.bias is not None)
    return weights, biases


def one_example(x: Any, dtype: Any) -> Tensor:
    """One example (an array, list or Tensor) as a detached (1, features) Tensor of
    ``dtype``, the way the drawings feed a model."""
    x = x if isinstance(x, Tensor) else creation.tensor(np.asarray(x, dtype=np.float64))
    return x.detach().reshape(1, -1).to(dtype)


def backward_error(model: Module, out: Tensor, target: Any,
                   loss: Callable[[Tensor, Tensor], Tensor] | None) -> Tensor:
    """The error of ``out`` against ``target`` (``loss``, default the sum of
    1/2 (t - o)^2), backpropagated into freshly zeroed gradients of ``model``."""
    t = target if isinstance(target, Tensor) else creation.tensor(
        np.asarray(target, dtype=np.float64))
    t = t.detach().to(out.dtype).reshape(out.shape)
    error = loss(out, t) if loss is not None else (0.5 * (t - out) ** 2).sum()
    model.zero_grad()
    error.backward()
    return error


def record(model: Module, columns: list[Layer], x: Any, target: Any = None,
           loss: Callable[[Tensor, Tensor], Tensor] | None = None) -> float | None:
    """Run ``model`` on one example and keep every layer's net input and output in
    ``columns``; with ``target``, also backward the loss (default: sum of 1/2 (t - o)^2)
    and keep each layer's delta dE/dnet. Returns the loss (None without a target)."""
    a = one_example(x, next(model.parameters()).dtype)
    columns[0].out = a.numpy().reshape(-1).astype(np.float64)
    nets: list[Tensor] = []
    depth = 0
    for module in (m for m in model.modules() if not m._modules):
        a = module(a)
        if isinstance(module, Linear):
            depth += 1
            a.retain_grad()
            nets.append(a)
            columns[depth].net = a.detach().numpy().reshape(-1).astype(np.float64)
        columns[depth].out = a.detach().numpy().reshape(-1).astype(np.float64)
    if target is None:
        return None
    error = backward_error(model, a, target, loss)
    for column, net in zip(columns[1:], nets, strict=True):
        if net.grad is not None:
            column.delta = net.grad.numpy().reshape(-1).astype(np.float64)
    model.zero_grad()
    return float(error.item())



def cs231n_nets(seed: int = 0) -> dict[str, Module]:
    """The two nets drawn in the CS231n notes: 3-4-2 (26 parameters) and 3-4-4-1 (41),
    with a seeded initialisation.

    >>> {name: net.num_parameters() for name, net in cs231n_nets().items()}
    {'3-4-2': 26, '3-4-4-1': 41}
    """
    from chainrule import random
    from chainrule.nn.activations import Sigmoid
    from chainrule.nn.layers import Sequential

    random.manual_seed(seed)
    return {"3-4-2": Sequential(Linear(3, 4), Sigmoid(), Linear(4, 2)),
            "3-4-4-1": Sequential(Linear(3, 4), Sigmoid(), Linear(4, 4), Sigmoid(),
                                  Linear(4, 1))}
