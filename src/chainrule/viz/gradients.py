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
from chainrule.nn import functional as F
from chainrule.nn.activations import LeakyReLU
from chainrule.nn.layers import Linear
from chainrule.nn.module import Module
from chainrule.viz._mpl import finish, new_figure, suptitle

# leaky ReLU as nn.LeakyReLU() computes it, with its own default slope (0.01)
CURVES: dict[str, Callable[[Any], Any]] = {
    "sigmoid": F.sigmoid, "tanh": F.tanh, "relu": F.relu, "leaky_relu": LeakyReLU(),
    "elu": F.elu, "gelu": F.gelu, "softplus": F.softplus,
}
LABELS = {"leaky_relu": f"leaky_relu (slope {LeakyReLU().negative_slope:g}, as nn.LeakyReLU)"}


def activation_derivatives(x: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{name: (f(x), f'(x))}, the slope taken by autograd, not written by hand."""
    out = {}
    for name, fn in CURVES.items():
        t = creation.tensor(x, dtype="float64", requires_grad=True)
        y = fn(t)
        y.sum().backward()
        out[name] = (y.detach().numpy(), t.grad.numpy())  # type: ignore[union-attr]
    return out


def activation_functions(save: str | os.PathLike[str] | None = None) -> Any:
    """Each activation and its derivative; the sigmoid's slope never exceeds 1/4."""
    x = np.linspace(-5, 5, 401)
    curves = activation_derivatives(x)
    fig = new_figure(11, 4)
    left, right = fig.subplots(1, 2)
    for name, (y, dy) in curves.items():
        left.plot(x, y, label=LABELS.get(name, name))
        right.plot(x, dy, label=LABELS.get(name, name))
    right.axhline(0.25, color="k", ls=":", lw=1)
    right.annotate("max sigmoid' = 0.25", (1.2, 0.27), fontsize=8)
    left.set_title("activation f(x)")
    right.set_title("derivative f'(x) (from autograd)")
    left.set_ylabel("f(x)")
    right.set_ylabel("f'(x)")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.set_xlabel("x (net input)")
        ax.legend(fontsize=8)
    left.set_ylim(-1.5, 3)
    suptitle(fig, "activation functions and their slopes")
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


def gradient_flow(flows: dict[str, np.ndarray], save: str | os.PathLike[str] | None = None
                  ) -> Any:
    """Mean |gradient| per layer (log scale) for each labelled run, and over training steps."""
    fig = new_figure(11, 4)
    left, right = fig.subplots(1, 2)
    for label, flow in flows.items():
        flow = np.asarray(flow)
        layers = np.arange(1, flow.shape[1] + 1)
        left.semilogy(layers, flow.mean(axis=0), "o-", label=label)
        for j in (0, flow.shape[1] - 1):
            right.semilogy(flow[:, j], label=f"{label}, layer {j + 1}")
    left.set_xlabel("layer (1 = next to the input)")
    left.set_ylabel("mean |dE/dW|")
    left.set_title("gradient reaching each layer")
    right.set_xlabel("training step")
    right.set_ylabel("mean |dE/dW|")
    right.set_title("first and last layer over training")
    for ax in (left, right):
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    return finish(fig, save)
