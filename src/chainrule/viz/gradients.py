"""Vanishing gradients, made visible: gradient flow per layer, activations and their slopes.

>>> fig = activation_functions()
>>> len(fig.axes)
2
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from chainrule import creation
from chainrule.i18n import Messages
from chainrule.nn import functional as F
from chainrule.nn.activations import LeakyReLU
from chainrule.nn.layers import Linear
from chainrule.nn.module import Module
from chainrule.viz._mpl import finish, new_figure, suptitle
from chainrule.viz.fonts import figure_language

# leaky ReLU as nn.LeakyReLU() computes it, with its own default slope (0.01)
CURVES: dict[str, Callable[[Any], Any]] = {
    "sigmoid": F.sigmoid, "tanh": F.tanh, "relu": F.relu, "leaky_relu": LeakyReLU(),
    "elu": F.elu, "gelu": F.gelu, "softplus": F.softplus,
}


def curve_label(name: str, words: Messages) -> str:
    """The legend's name of an activation: leaky ReLU's says its slope (nn.LeakyReLU's)."""
    if name == "leaky_relu":
        return words("viz.activations.leaky", slope=f"{LeakyReLU().negative_slope:g}")
    return name


def activation_derivatives(x: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{name: (f(x), f'(x))}, the slope taken by autograd, not written by hand."""
    out = {}
    for name, fn in CURVES.items():
        t = creation.tensor(x, dtype="float64", requires_grad=True)
        y = fn(t)
        y.sum().backward()
        out[name] = (y.detach().numpy(), t.grad.numpy())  # type: ignore[union-attr]
    return out


def activation_functions(save: str | os.PathLike[str] | None = None,
                         lang: str | None = None) -> Any:
    """Each activation and its derivative; the sigmoid's slope never exceeds 1/4.
    ``lang``: the language of the labels ("en", "zh"; default ``$CHAINRULE_LANG`` or the
    locale; Chinese needs a CJK font, see :mod:`chainrule.viz.fonts`).

    >>> [ax.get_title() for ax in activation_functions(lang="en").axes]
    ['activation f(x)', "derivative f'(x) (from autograd)"]
    """
    x = np.linspace(-5, 5, 401)
    curves = activation_derivatives(x)
    language = figure_language(lang)
    with language.fonts():
        words = language.words
        fig = new_figure(11, 4)
        left, right = fig.subplots(1, 2)
        for name, (y, dy) in curves.items():
            left.plot(x, y, label=curve_label(name, words))
            right.plot(x, dy, label=curve_label(name, words))
        right.axhline(0.25, color="k", ls=":", lw=1)
        right.annotate(words("viz.activations.max_slope"), (1.2, 0.27), fontsize=8)
        left.set_title(words("viz.activations.function"))
        right.set_title(words("viz.activations.derivative"))
        left.set_ylabel("f(x)")
        right.set_ylabel("f'(x)")
        for ax in (left, right):
            ax.grid(alpha=0.3)
            ax.set_xlabel(words("viz.activations.x"))
            ax.legend(fontsize=8)
        left.set_ylim(-1.5, 3)
        suptitle(fig, words("viz.activations.title"))
        return finish(fig, save)


def linear_layers(model: Module) -> list[tuple[str, Linear]]:
    return [(name, m) for name, m in model.named_modules() if isinstance(m, Linear)]


def record_gradient_flow(model: Module, loss_fn: Callable[[Any, Any], Any], optimizer: Any,
                         batches: Iterable[tuple[Any, Any]]) -> np.ndarray:
    """Train on ``batches`` and return mean |dE/dW| per Linear layer per step (steps, layers)."""
    layers = linear_layers(model)
    rows = []
    for x, y in batches:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        rows.append([float(np.abs(m.weight.grad.numpy()).mean())  # type: ignore[union-attr]
                     for _, m in layers])
        optimizer.step()
    return np.asarray(rows)


def gradient_flow(flows: dict[str, np.ndarray], save: str | os.PathLike[str] | None = None,
                  lang: str | None = None) -> Any:
    """Mean |gradient| per layer (log scale) for each labelled run, and over training steps;
    ``lang`` as in :func:`activation_functions`.

    >>> fig = gradient_flow({"relu": np.ones((3, 2))}, lang="en")
    >>> [ax.get_title() for ax in fig.axes]
    ['gradient reaching each layer', 'first and last layer over training']
    """
    language = figure_language(lang)
    with language.fonts():
        words = language.words
        fig = new_figure(11, 4)
        left, right = fig.subplots(1, 2)
        for label, flow in flows.items():
            flow = np.asarray(flow)
            layers = np.arange(1, flow.shape[1] + 1)
            left.semilogy(layers, flow.mean(axis=0), "o-", label=label)
            for j in (0, flow.shape[1] - 1):
                right.semilogy(flow[:, j], label=words("viz.flow.run_layer", label=label,
                                                       layer=j + 1))
        left.set_xlabel(words("viz.flow.layer"))
        left.set_ylabel(words("viz.flow.mean"))
        left.set_title(words("viz.flow.per_layer"))
        right.set_xlabel(words("viz.flow.step"))
        right.set_ylabel(words("viz.flow.mean"))
        right.set_title(words("viz.flow.over_training"))
        for ax in (left, right):
            ax.grid(alpha=0.3, which="both")
            ax.legend(fontsize=8)
        return finish(fig, save)
