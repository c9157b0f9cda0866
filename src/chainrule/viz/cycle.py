"""``draw_cycle``: one training step as the four-stage cycle the tutorials describe.

forward (net inputs and outputs) -> loss (targets and errors) -> backward (deltas and
weight gradients) -> update (each weight's old and new value, the error before and after),
four drawings of the same small network placed clockwise, with the real numbers of one
gradient-descent step on one example. The step is taken: the model's weights are updated.

>>> from chainrule.explain import worked
>>> model = worked.build(); x, t = worked.data()
>>> fig = draw_cycle(model, x, t, lr=0.5)
>>> [ax.get_title(loc="left").split(":")[0] for ax in fig.axes]
['1 FORWARD', '2 LOSS', '4 UPDATE', '3 BACKWARD']
>>> round(float(model[2].weight[0, 0]), 8)  # w5 after the step, as the tutorial prints
0.35891648
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule import creation
from chainrule.autograd.grad_mode import no_grad
from chainrule.i18n import Messages
from chainrule.nn.layers import Linear
from chainrule.nn.module import Module
from chainrule.tensor import Tensor
from chainrule.viz._mpl import finish, new_figure
from chainrule.viz.fonts import figure_language
from chainrule.viz.network import draw_network, layers_of, record
from chainrule.viz.network_model import backward_error, one_example


def draw_cycle(model: Module, x: Any, target: Any, lr: float = 0.5,
               loss: Callable[[Tensor, Tensor], Tensor] | None = None,
               save: str | os.PathLike[str] | None = None, lang: str | None = None) -> Any:
    """Take one gradient-descent step of ``model`` on (``x``, ``target``) and draw it.

    Args:
        model: a small fully connected net (layers of up to 6 neurons show every number).
        x, target: one example.
        lr: the learning rate of the step w+ = w - lr * dE/dw (weights and trainable
            biases).
        loss: ``loss(out, target)``; default the sum of 1/2 (target - out)^2.
        save: write the figure as a PNG.
        lang: the language of the titles and labels (see :func:`draw_network`).

    Returns:
        the matplotlib Figure; its axes are the stages in the grid's order, forward and
        loss above, update and backward below (the cycle runs clockwise).
    """
    language = figure_language(lang)
    with language.fonts():
        return _draw_cycle(model, x, target, lr, loss, save, language.words)


def _draw_cycle(model: Module, x: Any, target: Any, lr: float,
                loss: Callable[[Tensor, Tensor], Tensor] | None,
                save: str | os.PathLike[str] | None, words: Messages) -> Any:
    lang = words.lang
    linears = [m for m in model.modules() if isinstance(m, Linear)]
    columns = layers_of(model)
    error = record(model, columns, x, target, loss)
    assert error is not None
    grads = _gradients(model, linears, x, target, loss)
    old = [layer.weight.detach().numpy().astype(np.float64).copy() for layer in linears]
    fig = new_figure(14.5, 9.6)
    axes = fig.subplots(2, 2)
    forward, loss_ax, update, backward = axes[0][0], axes[0][1], axes[1][0], axes[1][1]
    draw_network(model, x, target, loss, values=("net", "out"), ax=forward, title="",
                 legend=False, lang=lang)
    draw_network(model, x, target, loss, values=("out", "error"), weight_names=False,
                 ax=loss_ax, title="", legend=False, lang=lang)
    draw_network(model, x, target, loss, values=("delta",), ax=backward, title="",
                 legend=False, lang=lang,
                 weight_text=lambda d, k, j, name: f"dE/d{name} = {grads[d - 1][k, j]:.4g}")
    with no_grad():
        for layer, grad in zip(linears, grads, strict=True):
            layer.weight -= lr * creation.tensor(grad, dtype=layer.weight.dtype)
            if layer.bias is not None and layer.bias.requires_grad and layer.bias.grad is not None:
                layer.bias -= lr * layer.bias.grad
    after = record(model, layers_of(model), x, target, loss)
    draw_network(model, x, target, loss, values=("out",), ax=update, title="", legend=False,
                 lang=lang, weight_text=lambda d, k, j, name: (
                     f"{name}: {old[d - 1][k, j]:.4g} \u2192 "
                     f"{old[d - 1][k, j] - lr * grads[d - 1][k, j]:.4g}"))
    model.zero_grad()
    stages = [
        (forward, words("cycle.forward")),
        (loss_ax, words("cycle.loss" if loss is None else "cycle.loss_custom",
                        error=f"{error:.9g}")),
        (backward, words("cycle.backward")),
        (update, words("cycle.update", lr=f"{lr:g}", before=f"{error:.6g}",
                       after=f"{after:.6g}")),
    ]
    for ax, text in stages:
        ax.set_title(text, loc="left", fontsize=9.5, fontweight="bold")
    for (x_at, y_at), arrow in zip([(0.5, 0.74), (0.75, 0.5), (0.5, 0.26), (0.25, 0.5)],
                                   "\u27a1\u2b07\u2b05\u2b06", strict=True):
        fig.text(x_at, y_at, arrow, fontsize=26, color="#888888", ha="center", va="center")
    fig.suptitle(words("cycle.title"), fontsize=11)
    return finish(fig, save)


def _gradients(model: Module, linears: list[Linear], x: Any, target: Any,
               loss: Callable[[Tensor, Tensor], Tensor] | None) -> list[np.ndarray]:
    """dE/dW of every Linear layer for one example, from backward (left in ``.grad``)."""
    backward_error(model, model(one_example(x, linears[0].weight.dtype)), target, loss)
    grads = []
    for layer in linears:
        if layer.weight.grad is None:
            raise RuntimeError("draw_cycle: a Linear weight has no gradient (does it "
                               "require grad?)")
        grads.append(layer.weight.grad.numpy().astype(np.float64).copy())
    return grads
