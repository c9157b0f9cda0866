"""Decision boundaries of 2-input models, and what each hidden neuron computes.

>>> import chainrule as cr
>>> from chainrule import nn
>>> X, y = cr.data.make_xor(100)
>>> fig = decision_boundary(nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2)), X, y)
>>> len(fig.axes) >= 1
True
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
from chainrule.viz.weights import is_output_layer


def _grid(X: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo, hi = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
    xs = np.linspace(lo[0], hi[0], resolution)
    ys = np.linspace(lo[1], hi[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return gx, gy, np.c_[gx.ravel(), gy.ravel()].astype(np.float32)


def _np(a: Any) -> np.ndarray:
    return np.asarray(a.detach().numpy() if isinstance(a, Tensor) else a)


def _draw(ax: Any, model: Module, X: np.ndarray, y: np.ndarray, resolution: int,
          title: str, words: Messages | None = None) -> float:
    """One decision boundary on ``ax``, labelled in ``words`` (default English); returns
    the accuracy on (X, y)."""
    say = words if words is not None else messages("en")
    gx, gy, points = _grid(X, resolution)
    dtype = next(iter(model.parameters())).dtype
    with no_grad():
        scores = _np(model(Tensor._wrap(points.astype(dtype))))
        train_scores = _np(model(Tensor._wrap(X.astype(dtype))))
    classes = scores.argmax(axis=1) if scores.ndim == 2 and scores.shape[1] > 1 else \
        (scores.ravel() > 0).astype(int)
    k = int(max(classes.max(), y.max())) + 1
    ax.contourf(gx, gy, classes.reshape(gx.shape), alpha=0.3, cmap="viridis",
                levels=np.arange(k + 1) - 0.5, vmin=0, vmax=max(k - 1, 1))
    points = ax.scatter(X[:, 0], X[:, 1], c=y, s=12, cmap="viridis", edgecolors="k",
                        linewidths=0.3, vmin=0, vmax=max(k - 1, 1))
    handles, _ = points.legend_elements()
    ax.legend(handles, [say("viz.class", label=c) for c in np.unique(y)], fontsize=7,
              loc="upper right", title=say("viz.boundary.true_class"), title_fontsize=7)
    predicted = (train_scores.argmax(axis=1) if train_scores.ndim == 2
                 and train_scores.shape[1] > 1 else (train_scores.ravel() > 0).astype(int))
    accuracy = float((predicted == y).mean())
    ax.set_title(say("viz.boundary.title", title=title, accuracy=f"{accuracy:.1%}"), fontsize=9)
    ax.set_xlabel(say("viz.boundary.x1"))
    ax.set_ylabel(say("viz.boundary.x2"))
    return accuracy


def decision_boundary(model: Module | list[tuple[str, Module]], X: Any, y: Any,
                      resolution: int = 200, save: str | os.PathLike[str] | None = None,
                      lang: str | None = None) -> Any:
    """Colour the plane by predicted class; pass ``[(title, model), ...]`` for a row of them.
    ``lang``: the language of the labels ("en", "zh"; default ``$CHAINRULE_LANG`` or the
    locale; Chinese needs a CJK font, see :mod:`chainrule.viz.fonts`).

    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> X, y = cr.data.make_xor(20)
    >>> fig = decision_boundary(nn.Sequential(nn.Linear(2, 2)), X, y, resolution=10, lang="en")
    >>> fig.axes[0].get_xlabel()
    'x1 (first input)'
    """
    X, y = _np(X), _np(y)
    language = figure_language(lang)
    with language.fonts():
        words = language.words
        models = model if isinstance(model, list) else [(words("viz.boundary.default"), model)]
        fig = new_figure(4.0 * len(models), 4)
        axes = np.atleast_1d(fig.subplots(1, len(models))).ravel()
        for ax, (title, m) in zip(axes, models, strict=True):
            _draw(ax, m, X, y, resolution, title, words)
        return finish(fig, save)


def neuron_boundaries(model: Module, X: Any, y: Any, resolution: int = 120,
                      save: str | os.PathLike[str] | None = None, lang: str | None = None) -> Any:
    """One map per first-layer hidden neuron: its activation over the plane, its line
    w.x+b=0; ``lang`` as in :func:`decision_boundary`.

    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> X, y = cr.data.make_xor(20)
    >>> fig = neuron_boundaries(nn.Sequential(nn.Linear(2, 2)), X, y, resolution=10, lang="en")
    >>> fig.axes[0].get_title().split(":")[0]
    'class 0'
    """
    X, y = _np(X), _np(y)
    first = next((m for m in model.modules() if isinstance(m, Linear)), None)
    if first is None or first.in_features != 2:
        raise ValueError("neuron_boundaries: needs a model whose first Linear layer takes 2 "
                         "inputs")
    language = figure_language(lang)
    with language.fonts():
        return _neuron_boundaries(model, first, X, y, resolution, save, language.words)


def _neuron_boundaries(model: Module, first: Linear, X: np.ndarray, y: np.ndarray,
                       resolution: int, save: str | os.PathLike[str] | None,
                       words: Messages) -> Any:
    layers = list(model.children()) if hasattr(model, "__iter__") else []
    index = layers.index(first) if first in layers else 0
    act = layers[index + 1] if index + 1 < len(layers) else None
    gx, gy, points = _grid(X, resolution)
    with no_grad():
        z = first(Tensor._wrap(points.astype(first.weight.dtype)))
        values = _np(act(z) if act is not None and not isinstance(act, Linear) else z)
    n = values.shape[1]
    cols = min(n, 4)
    rows = -(-n // cols)
    fig = new_figure(3.0 * cols, 3.0 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    W = first.weight.detach().numpy()
    bias = (first.bias.detach().numpy() if first.bias is not None
            else np.zeros(len(W), W.dtype))
    output = is_output_layer(model, first)  # a linear classifier: its units are the classes
    for j, ax in enumerate(axes):
        if j >= n:
            ax.axis("off")
            continue
        ax.set_xlabel("x1", fontsize=8)
        ax.set_ylabel("x2", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.contourf(gx, gy, values[:, j].reshape(gx.shape), levels=20, cmap="coolwarm")
        ax.contour(gx, gy, _np(z)[:, j].reshape(gx.shape), levels=[0.0], colors="k")
        ax.scatter(X[:, 0], X[:, 1], c=y, s=5, cmap="viridis", alpha=0.6)
        sign = "-" if W[j, 1] < 0 else "+"
        unit = words("viz.class", label=j) if output else f"h{j + 1}"
        ax.set_title(f"{unit}: {W[j, 0]:.2f} x1 {sign} {abs(W[j, 1]):.2f} x2 {bias[j]:+.2f}",
                     fontsize=8)
    activated = act is not None and not isinstance(act, Linear)
    what = words("viz.neurons.activation" if activated else "viz.neurons.net")
    suptitle(fig, words("viz.neurons.title", what=what), 10)
    return finish(fig, save)
