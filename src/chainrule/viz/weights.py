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
from chainrule.i18n import Messages, messages
from chainrule.nn.layers import Linear
from chainrule.nn.module import Module
from chainrule.tensor import Tensor
from chainrule.viz._mpl import finish, new_figure, suptitle
from chainrule.viz.fonts import figure_language

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
                        labels: list[str] | None = None, lang: str | None = None) -> Any:
    """Each first-layer unit's incoming weights drawn as an image, all on one colour scale
    (red +, blue -, the colour bar gives the values).

    Units are titled h1, h2, ... (hidden units) or, when the first layer is also the
    output layer (a linear classifier), by the class each output scores (``labels``, by
    default the class index: the digit, for MNIST). ``lang``: the language of the labels
    ("en", "zh"; default ``$CHAINRULE_LANG`` or the locale; Chinese needs a CJK font, see
    :mod:`chainrule.viz.fonts`).

    >>> from chainrule import nn
    >>> fig = first_layer_weights(nn.Linear(784, 3), lang="en")
    >>> [ax.get_title() for ax in fig.axes if ax.images]
    ['h1', 'h2', 'h3']
    """
    layer = model if isinstance(model, Linear) else _first_linear(model)
    W = layer.weight.detach().numpy()
    if W.shape[1] != shape[0] * shape[1]:
        raise ValueError(f"first_layer_weights: the first layer takes {W.shape[1]} inputs, "
                         f"not a {shape[0]}x{shape[1]} image")
    outputs = labels is not None or is_output_layer(model, layer)
    language = figure_language(lang)
    with language.fonts():
        words = language.words
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
                ax.set_title(words("viz.class", label=labels[i]) if outputs else labels[i],
                             fontsize=8)
        fig.colorbar(image, ax=axes.tolist(), shrink=0.8, label=words("viz.weights.value"))
        what = words("viz.weights.outputs" if outputs else "viz.weights.hidden")
        suptitle(fig, words("viz.weights.title", height=shape[0], width=shape[1], what=what))
        return finish(fig, save)


def saturation(kind: str, values: np.ndarray, module: Module | None = None,
               words: Messages | None = None) -> str:
    """What fraction of an activation layer's outputs sits where its slope is (near) zero,
    in words fitting the activation ``kind`` (its class name); ``values`` is (samples,
    units) or, after a conv, (samples, channels, height, width); ``words``: the catalogue
    to say it in (default English).

    Sigmoid: below 0.01 or above 0.99 (slope under 0.01); tanh: beyond +-0.99 (slope under
    0.02); ReLU: exactly 0, and the units (channels) that are 0 for every sample (dead);
    leaky ReLU / PReLU: on the negative, small-slope side; ELU: below -0.99; others: ''.

    >>> import numpy as np
    >>> saturation("ReLU", np.array([[0.0, 1.0], [0.0, 0.0]]))
    '75% exactly 0; dead units: 1 of 2'
    >>> saturation("Sigmoid", np.array([[0.001, 0.5], [0.5, 0.999]]))
    '50% saturated (< 0.01 or > 0.99)'
    >>> saturation("Sigmoid", np.array([[0.001, 0.5]]), words=messages("zh"))
    '50% 饱和（< 0.01 或 > 0.99）'
    """
    say = words if words is not None else messages("en")
    flat = values.ravel()
    if not flat.size:
        return ""
    if kind == "Sigmoid":
        return say("viz.saturation.sigmoid", share=f"{np.mean((flat < 0.01) | (flat > 0.99)):.0%}")
    if kind == "Tanh":
        return say("viz.saturation.tanh", share=f"{np.mean(np.abs(flat) > 0.99):.0%}")
    if kind == "ReLU":  # a unit (a channel, after a conv) that is 0 for every sample
        channels = values.ndim == 4
        per_unit = (np.moveaxis(values, 1, 0).reshape(values.shape[1], -1) if channels
                    else values.reshape(len(values), -1).T)
        dead = int(np.all(per_unit == 0, axis=1).sum())
        return say("viz.saturation.relu_channels" if channels else "viz.saturation.relu_units",
                   share=f"{np.mean(flat == 0):.0%}", dead=dead, count=len(per_unit))
    if kind in ("LeakyReLU", "PReLU"):
        slope = getattr(module, "negative_slope", None)
        where = (say("viz.saturation.slope", slope=f"{slope:g}")
                 if isinstance(slope, float | int) else say("viz.saturation.small_slope"))
        return say("viz.saturation.leaky", share=f"{np.mean(flat < 0):.0%}", where=where)
    if kind == "ELU":
        return say("viz.saturation.elu", share=f"{np.mean(flat < -0.99):.0%}")
    return ""


def activation_histograms(model: Module, x: Tensor, bins: int = 40,
                          save: str | os.PathLike[str] | None = None,
                          lang: str | None = None) -> Any:
    """Histogram of every activation layer's outputs for the batch ``x``, each captioned
    with how much of it is saturated or dead (see :func:`saturation`); ``lang`` as in
    :func:`first_layer_weights`.

    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> fig = activation_histograms(nn.Sequential(nn.Linear(2, 3), nn.Tanh()), cr.ones(4, 2),
    ...                             lang="en")
    >>> fig.axes[0].get_xlabel(), fig.get_suptitle()
    ('output value', 'activation values per layer, 4 samples')
    """
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
    language = figure_language(lang)
    with language.fonts():
        return _histograms(captured, bins, save, language.words)


def _histograms(captured: list[tuple[str, Module, np.ndarray]], bins: int,
                save: str | os.PathLike[str] | None, words: Messages) -> Any:
    fig = new_figure(max(3.4 * len(captured), 4.5), 3.4)
    axes = np.atleast_1d(fig.subplots(1, len(captured))).ravel()
    for ax, (name, module, values) in zip(axes, captured, strict=True):
        kind = type(module).__name__
        ax.hist(values.ravel(), bins=bins, color="tab:blue")
        caption = saturation(kind, values, module, words)
        ax.set_title(words("viz.histograms.layer", name=name, kind=kind)
                     + (f"\n{caption}" if caption else ""), fontsize=8)
        ax.set_xlabel(words("viz.histograms.value"))
        ax.set_ylabel(words("viz.histograms.count"))
    suptitle(fig, words("viz.histograms.title", count=f"{len(captured[0][2]):,}"))
    return finish(fig, save)
