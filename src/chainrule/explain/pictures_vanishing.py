"""Vanishing gradients, measured: how the gradient reaching each layer shrinks with depth.

Fully connected nets of width 32 on the 3-class spiral (300 points), ``depth`` Linear
layers with sigmoid, tanh or ReLU between them, PyTorch's default initialisation, seeded.
For every depth of the sweep the gradient norm ||dL/dW|| of the first layer is divided by
that of the last: sigmoid's slope is at most 1/4, so every sigmoid layer between them can
shrink the gradient by 4 or more. The deepest net is then trained with plain SGD and the
per-layer norms are measured again.

>>> norms = layer_gradient_norms(build("sigmoid", depth=6), *spiral())
>>> len(norms), bool(norms[0] < norms[-1])
(6, True)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule import random
from chainrule.data.toy import make_spiral
from chainrule.i18n import Messages, messages, pad
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.activations import ReLU, Sigmoid, Tanh
from chainrule.nn.layers import Linear, Sequential
from chainrule.nn.module import Module
from chainrule.optim.sgd import SGD
from chainrule.tensor import Tensor
from chainrule.viz.fonts import draw_in

ACTIVATIONS: dict[str, type[Module]] = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU,
                                        "relu+He": ReLU}  # He's init: kaiming_normal_
WIDTH = 32


def spiral() -> tuple[Tensor, Tensor]:
    """The data: 300 points of the 3-class spiral (seed 0)."""
    return make_spiral(300, classes=3, seed=0)


def build(activation: str, depth: int, seed: int = 0) -> Sequential:
    """``depth`` Linear layers (2 -> 32 -> ... -> 32 -> 3), ``activation`` between them;
    ``relu+He``: ReLU with He's initialisation (weights N(0, 2 / fan_in), zero biases)
    instead of PyTorch's default U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    random.manual_seed(seed)
    sizes = [2] + [WIDTH] * (depth - 1) + [3]
    modules: list[Module] = []
    for i in range(depth):
        modules.append(Linear(sizes[i], sizes[i + 1]))
        if i < depth - 1:
            modules.append(ACTIVATIONS[activation]())
    model = Sequential(*modules)
    if activation == "relu+He":
        for module in modules:
            if isinstance(module, Linear):
                init.kaiming_normal_(module.weight, nonlinearity="relu")
                init.zeros_(module.bias)
    return model


def layer_gradient_norms(model: Sequential, x: Tensor, y: Tensor) -> list[float]:
    """||dL/dW|| of every Linear layer, first layer first, for the cross-entropy on (x, y)."""
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    norms = []
    for module in model:
        if isinstance(module, Linear):
            grad = module.weight.grad
            assert grad is not None
            norms.append(float(np.linalg.norm(grad.numpy())))
    return norms


def accuracy(model: Sequential, x: Tensor, y: Tensor) -> float:
    return float((model(x).detach().numpy().argmax(axis=1) == y.numpy()).mean())


@dataclass
class Sweep:
    depths: list[int]
    ratio: dict[str, list[float]] = field(default_factory=dict)  # first / last, per depth
    at_init: dict[str, list[float]] = field(default_factory=dict)  # deepest net, per layer
    trained: dict[str, list[float]] = field(default_factory=dict)
    accuracy: dict[str, float] = field(default_factory=dict)
    steps: int = 0
    trained_depth: int = 10


def vanishing_gradients(quick: bool = False, save: str | os.PathLike[str] | None = None,
                        file: Any = "stdout", lang: str | None = None) -> Sweep:
    """Measure, print (``lang``: see :func:`chainrule.i18n.resolve`) and (with ``save``)
    draw (in ``lang`` too when a font with Chinese characters is found) the depth sweep and
    the deepest net's per-layer gradient norms at initialisation and after training."""
    depths = [2, 6, 10] if quick else list(range(2, 21, 2))
    sweep = Sweep(depths, steps=40 if quick else 400, trained_depth=6 if quick else 10)
    x, y = spiral()
    for name in ACTIVATIONS:
        sweep.ratio[name] = []
        for depth in depths:
            norms = layer_gradient_norms(build(name, depth), x, y)
            sweep.ratio[name].append(norms[0] / norms[-1])
        model = build(name, sweep.trained_depth)
        sweep.at_init[name] = layer_gradient_norms(model, x, y)
        optimizer = SGD(model.parameters(), lr=0.1)
        for _ in range(sweep.steps):
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
        sweep.trained[name] = layer_gradient_norms(model, x, y)
        sweep.accuracy[name] = accuracy(model, x, y)
    if file is not None:
        print("\n".join(_report(sweep, messages(lang))),
              file=None if file == "stdout" else file)
    if save is not None:
        draw_vanishing(sweep, save, lang)
    return sweep


def _report(sweep: Sweep, say: Messages) -> list[str]:
    deepest, trained_depth = sweep.depths[-1], sweep.trained_depth
    lines = [say("vanish.title", width=WIDTH), "", say("vanish.ratio"),
             "  " + pad(say("vanish.depth"), 5) + " "
             + "".join(f"{name:>11}" for name in ACTIVATIONS)]
    for i, depth in enumerate(sweep.depths):
        lines.append(f"  {depth:>5} " + "".join(f"{sweep.ratio[name][i]:>11.3g}"
                                              for name in ACTIVATIONS))
    lines += ["", say("vanish.per_layer", depth=trained_depth, steps=sweep.steps)]
    for name in ACTIVATIONS:
        init, trained = sweep.at_init[name], sweep.trained[name]
        lines.append(f"  {name:<8} " + say("vanish.init", first=f"{init[0]:.3g}",
                                           last=f"{init[-1]:.3g}",
                                           ratio=f"{init[0] / init[-1]:.3g}"))
        lines.append(f"  {'':<8} " + say("vanish.trained", first=f"{trained[0]:.3g}",
                                         last=f"{trained[-1]:.3g}",
                                         ratio=f"{trained[0] / trained[-1]:.3g}",
                                         accuracy=f"{sweep.accuracy[name]:.1%}"))
    worst = min(ACTIVATIONS, key=lambda n: sweep.ratio[n][-1])
    lines += ["", say("vanish.worst", depth=deepest, name=worst,
                      ratio=f"{sweep.ratio[worst][-1]:.2g}"),
              say("vanish.he", depth=deepest, he=f"{sweep.ratio['relu+He'][-1]:.2g}",
                  relu=f"{sweep.ratio['relu'][-1]:.2g}")]
    return lines


def draw_vanishing(sweep: Sweep, save: str | os.PathLike[str] | None = None,
                   lang: str | None = None) -> Any:
    """Three panels: the first/last ratio against depth, and the deepest net's per-layer
    gradient norms at initialisation and after training (log scales); the words in ``lang``
    (see :func:`chainrule.viz.fonts.figure_language`).

    >>> sweep = Sweep([2], {"relu": [0.5]}, {"relu": [0.1, 0.2]}, {"relu": [0.3, 0.2]},
    ...               {"relu": 0.9}, steps=5, trained_depth=2)
    >>> draw_vanishing(sweep, lang="en").axes[1].get_title()
    '2 layers: ||dL/dW|| per layer at init'
    """
    return draw_in(lang, _draw_vanishing, sweep, save)


def _draw_vanishing(sweep: Sweep, save: str | os.PathLike[str] | None, words: Messages
                    ) -> Any:
    from chainrule.viz._mpl import finish, new_figure

    fig = new_figure(15, 4.6)
    ratio_ax, init_ax, trained_ax = fig.subplots(1, 3)
    for name in sweep.ratio:
        ratio_ax.plot(sweep.depths, sweep.ratio[name], "o-", label=name)
        layers = range(1, len(sweep.at_init[name]) + 1)
        init_ax.plot(layers, sweep.at_init[name], "o-", markersize=3, label=name)
        trained_ax.plot(layers, sweep.trained[name], "o-", markersize=3,
                        label=words("fig.vanish.accuracy", name=name,
                                    accuracy=f"{sweep.accuracy[name]:.0%}"))
    ratio_ax.axhline(1.0, color="#888888", linestyle=":", linewidth=1)
    ratio_ax.set_title(words("fig.vanish.ratio"), fontsize=10)
    ratio_ax.set_xlabel(words("fig.vanish.depth"))
    deepest = sweep.trained_depth
    init_ax.set_title(words("fig.vanish.at_init", depth=deepest), fontsize=10)
    trained_ax.set_title(words("fig.vanish.trained", depth=deepest, steps=sweep.steps),
                         fontsize=10)
    for ax in (ratio_ax, init_ax, trained_ax):
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7.5)
    for ax in (init_ax, trained_ax):
        ax.set_xlabel(words("fig.vanish.layer"))
        ax.set_ylabel("||dL/dW||")
    fig.suptitle(words("fig.vanish.title"), fontsize=11)
    return finish(fig, save)
