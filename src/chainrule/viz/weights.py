"""What the hidden neurons look at: first-layer weights as images; activation histograms.

>>> from chainrule import nn
>>> fig = first_layer_weights(nn.Linear(784, 16))
>>> len([ax for ax in fig.axes if ax.images])
16
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from chainrule.autograd.grad_mode import no_grad
from chainrule.nn.layers import Linear
from chainrule.nn.module import Module
from chainrule.tensor import Tensor
from chainrule.viz._mpl import finish, new_figure

ACTIVATION_TYPES = ("Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU", "ELU", "GELU", "Softplus",
                    "Maxout")


def _first_linear(model: Module) -> Linear:
    for module in model.modules():
        if isinstance(module, Linear):
            return module
    raise ValueError("first_layer_weights: the model has no Linear layer")


def first_layer_weights(model: Module, shape: tuple[int, int] = (28, 28), max_neurons: int = 64,
                        save: str | os.PathLike[str] | None = None) -> Any:
    """Each hidden neuron's incoming weights drawn as an image (red +, blue -)."""
    layer = model if isinstance(model, Linear) else _first_linear(model)
    W = layer.weight.detach().numpy()
    if W.shape[1] != shape[0] * shape[1]:
        raise ValueError(f"first_layer_weights: the first layer takes {W.shape[1]} inputs, "
                         f"not a {shape[0]}x{shape[1]} image")
    n = min(W.shape[0], max_neurons)
    cols = int(np.ceil(np.sqrt(n)))
    rows = -(-n // cols)
    fig = new_figure(1.6 * cols, 1.7 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i < n:
            bound = np.abs(W[i]).max() or 1.0
            ax.imshow(W[i].reshape(shape), cmap="seismic", vmin=-bound, vmax=bound)
            ax.set_title(f"h{i + 1}", fontsize=8)
    fig.suptitle("first-layer weights: what each hidden neuron looks for")
    return finish(fig, save)


def activation_histograms(model: Module, x: Tensor, bins: int = 40,
                          save: str | os.PathLike[str] | None = None) -> Any:
    """Histogram of every activation layer's outputs for the batch ``x``."""
    captured: list[tuple[str, np.ndarray]] = []
    handles = []
    for name, module in model.named_modules():
        if type(module).__name__ in ACTIVATION_TYPES:
            def hook(mod: Module, args: Any, out: Any, name: str = name) -> None:
                captured.append((f"{name} ({type(mod).__name__})",
                                 np.asarray(out.detach().numpy()).ravel()))
            handles.append(module.register_forward_hook(hook))
    try:
        with no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    if not captured:
        raise ValueError("activation_histograms: no activation layers found in the model")
    fig = new_figure(3.2 * len(captured), 3)
    axes = np.atleast_1d(fig.subplots(1, len(captured))).ravel()
    for ax, (name, values) in zip(axes, captured, strict=True):
        ax.hist(values, bins=bins, color="tab:blue")
        ax.set_title(name, fontsize=9)
        extreme = float(np.mean((np.abs(values) > 0.99) | (np.abs(values) < 0.01)))
        ax.set_xlabel(f"{extreme:.0%} within 0.01 of 0 or of +-1")
    fig.suptitle("activation values per layer")
    return finish(fig, save)
