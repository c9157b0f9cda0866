"""What the units look at: first-layer weights as images; activation histograms.

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
from chainrule.viz._mpl import finish, new_figure, suptitle

ACTIVATION_TYPES = ("Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU", "ELU", "GELU", "Softplus",
                    "Maxout")


def _first_linear(model: Module) -> Linear:
    for module in model.modules():
        if isinstance(module, Linear):
            return module
    raise ValueError("first_layer_weights: the model has no Linear layer")


def is_output_layer(model: Module, layer: Linear) -> bool:
    """Whether ``layer`` is the last Linear layer of ``model`` (its units are the outputs)."""
    if model is layer:
        return False  # a lone layer: nothing says it is the last
    linears = [m for m in model.modules() if isinstance(m, Linear)]
    return bool(linears) and linears[-1] is layer


def first_layer_weights(model: Module, shape: tuple[int, int] = (28, 28), max_neurons: int = 64,
                        save: str | os.PathLike[str] | None = None,
                        labels: list[str] | None = None) -> Any:
    """Each first-layer unit's incoming weights drawn as an image, all on one colour scale
    (red +, blue -, the colour bar gives the values).

    Units are titled h1, h2, ... (hidden units) or, when the first layer is also the
    output layer (a linear classifier), by the class each output scores (``labels``, by
    default the class index: the digit, for MNIST).
    """
    layer = model if isinstance(model, Linear) else _first_linear(model)
    W = layer.weight.detach().numpy()
    if W.shape[1] != shape[0] * shape[1]:
        raise ValueError(f"first_layer_weights: the first layer takes {W.shape[1]} inputs, "
                         f"not a {shape[0]}x{shape[1]} image")
    outputs = labels is not None or is_output_layer(model, layer)
    if labels is None:
        labels = ([str(k) for k in range(W.shape[0])] if outputs
                  else [f"h{k + 1}" for k in range(W.shape[0])])
    n = min(W.shape[0], max_neurons)
    cols = int(np.ceil(np.sqrt(n)))
    rows = -(-n // cols)
    fig = new_figure(1.6 * cols + 1.2, 1.7 * rows + 0.5)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    bound = float(np.abs(W[:n]).max()) or 1.0
    image = None
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i < n:
            image = ax.imshow(W[i].reshape(shape), cmap="seismic", vmin=-bound, vmax=bound)
            ax.set_title(f"{'class ' if outputs else ''}{labels[i]}", fontsize=8)
    fig.colorbar(image, ax=axes.tolist(), shrink=0.8, label="weight value")
    what = ("what each output (class) looks for" if outputs
            else "what each hidden unit looks for")
    suptitle(fig, f"first-layer weights, one {shape[0]}x{shape[1]} image per unit: {what}")
    return finish(fig, save)


def saturation(kind: str, values: np.ndarray, module: Module | None = None) -> str:
    """What fraction of an activation layer's outputs sits where its slope is (near) zero,
    in words fitting the activation ``kind`` (its class name); ``values`` is (samples,
    units) or, after a conv, (samples, channels, height, width).

    Sigmoid: below 0.01 or above 0.99 (slope under 0.01); tanh: beyond +-0.99 (slope under
    0.02); ReLU: exactly 0, and the units (channels) that are 0 for every sample (dead);
    leaky ReLU / PReLU: on the negative, small-slope side; ELU: below -0.99; others: ''.

    >>> import numpy as np
    >>> saturation("ReLU", np.array([[0.0, 1.0], [0.0, 0.0]]))
    '75% exactly 0; dead units: 1 of 2'
    >>> saturation("Sigmoid", np.array([[0.001, 0.5], [0.5, 0.999]]))
    '50% saturated (< 0.01 or > 0.99)'
    """
    flat = values.ravel()
    if not flat.size:
        return ""
    if kind == "Sigmoid":
        return f"{np.mean((flat < 0.01) | (flat > 0.99)):.0%} saturated (< 0.01 or > 0.99)"
    if kind == "Tanh":
        return f"{np.mean(np.abs(flat) > 0.99):.0%} saturated (|out| > 0.99)"
    if kind == "ReLU":  # a unit (a channel, after a conv) that is 0 for every sample
        channels = values.ndim == 4
        per_unit = (np.moveaxis(values, 1, 0).reshape(values.shape[1], -1) if channels
                    else values.reshape(len(values), -1).T)
        dead = int(np.all(per_unit == 0, axis=1).sum())
        return (f"{np.mean(flat == 0):.0%} exactly 0; dead {'channels' if channels else 'units'}"
                f": {dead} of {len(per_unit)}")
    if kind in ("LeakyReLU", "PReLU"):
        slope = getattr(module, "negative_slope", None)
        where = f"slope {slope:g}" if isinstance(slope, float | int) else "the small slope"
        return f"{np.mean(flat < 0):.0%} negative ({where})"
    if kind == "ELU":
        return f"{np.mean(flat < -0.99):.0%} saturated (< -0.99)"
    return ""


def activation_histograms(model: Module, x: Tensor, bins: int = 40,
                          save: str | os.PathLike[str] | None = None) -> Any:
    """Histogram of every activation layer's outputs for the batch ``x``, each captioned
    with how much of it is saturated or dead (see :func:`saturation`)."""
    captured: list[tuple[str, Module, np.ndarray]] = []
    handles = []
    for name, module in model.named_modules():
        if type(module).__name__ in ACTIVATION_TYPES:
            def hook(mod: Module, args: Any, out: Any, name: str = name) -> None:
                captured.append((name, mod, np.asarray(out.detach().numpy())))
            handles.append(module.register_forward_hook(hook))
    try:
        with no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    if not captured:
        raise ValueError("activation_histograms: no activation layers found in the model")
    fig = new_figure(max(3.4 * len(captured), 4.5), 3.4)
    axes = np.atleast_1d(fig.subplots(1, len(captured))).ravel()
    for ax, (name, module, values) in zip(axes, captured, strict=True):
        kind = type(module).__name__
        ax.hist(values.ravel(), bins=bins, color="tab:blue")
        caption = saturation(kind, values, module)
        ax.set_title(f"layer {name} ({kind})" + (f"\n{caption}" if caption else ""),
                     fontsize=8)
        ax.set_xlabel("output value")
        ax.set_ylabel("count (samples x units)")
    suptitle(fig, f"activation values per layer, {len(captured[0][2]):,} samples")
    return finish(fig, save)
