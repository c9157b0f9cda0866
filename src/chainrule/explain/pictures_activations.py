"""What the activation function does, by taking it away or pushing it too far.

* :func:`linear_collapse`: without a non-linearity, Linear(2, 16) then Linear(16, 2) is one
  2x2 matrix W2 W1 and one bias W2 b1 + b2: the outputs agree to float rounding, and on the
  circles data the best such model draws a straight boundary, where the same layers with
  tanh between them separate the rings.
* :func:`saturation`: sigmoid units with large initial weights (N(0, 1)) sit at 0 or 1,
  where the slope is nearly 0; the share of saturated units (output below 0.01 or above
  0.99) and the test accuracy after one epoch, against Xavier's initialisation.
* :func:`dead_relus`: ReLU units that output 0 for every test image after one epoch of
  SGD, counted per layer, across a sweep of learning rates.
* :func:`zigzag`: sigmoid's outputs are all positive, so the gradient of the next layer's
  weights has one sign per example and their path to the optimum zig-zags.

Each prints in ``lang`` (see :func:`chainrule.i18n.resolve`) and, with ``save``, draws its
figure in ``lang`` too when a font with Chinese characters is found (else in English).

>>> collapse = linear_collapse(quick=True, file=None)
>>> collapse["max_difference"] < 1e-5, collapse["rank"] <= 2
(True, True)
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from chainrule import creation, random
from chainrule.autograd.grad_mode import no_grad
from chainrule.data.datasets import MiniMNIST
from chainrule.data.toy import make_circles
from chainrule.i18n import Messages, messages, pad, say_lines
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.activations import ReLU, Sigmoid, Tanh
from chainrule.nn.layers import Linear, Sequential
from chainrule.nn.module import Module
from chainrule.optim.adam import Adam
from chainrule.optim.sgd import SGD
from chainrule.tensor import Tensor
from chainrule.viz.fonts import draw_in, figure_language

SATURATED = 0.01  # a sigmoid output below 0.01 or above 0.99 counts as saturated


def _fit_full_batch(model: Module, x: Tensor, y: Tensor, steps: int) -> float:
    """Adam (lr 0.01) on the whole set; returns the training accuracy."""
    optimizer = Adam(model.parameters(), lr=0.01)
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    with no_grad():
        return float((model(x).numpy().argmax(axis=1) == y.numpy()).mean())


def linear_collapse(quick: bool = False, save: str | os.PathLike[str] | None = None,
                    file: Any = "stdout", lang: str | None = None) -> dict[str, Any]:
    """Two Linear layers without and with tanh between them, on the circles data."""
    x, y = make_circles(400, noise=0.05, factor=0.5, seed=0)
    steps = 150 if quick else 600
    random.manual_seed(0)
    linear = Sequential(Linear(2, 16), Linear(16, 2))
    random.manual_seed(0)
    bent = Sequential(Linear(2, 16), Tanh(), Linear(16, 2))
    accuracy = {"linear": _fit_full_batch(linear, x, y, steps),
                "tanh": _fit_full_batch(bent, x, y, steps)}
    first, second = linear[0], linear[1]
    W = (second.weight @ first.weight).detach()
    b = (second.weight @ first.bias + second.bias).detach()
    single = Linear(2, 2)
    with no_grad():
        single.weight.copy_(W)
        single.bias.copy_(b)
        difference = float((linear(x) - single(x)).abs().max().item())
    rank = int(np.linalg.matrix_rank(W.numpy().astype(np.float64)))
    result = {"W": W.numpy(), "b": b.numpy(), "max_difference": difference, "rank": rank,
              "accuracy": accuracy, "steps": steps}
    say = messages(lang)
    lines = [say("act.collapse_title"), say("act.collapse_trained", steps=steps),
             say("act.collapse_matrix", W=_flat(W.numpy()), rank=rank, b=_flat(b.numpy())),
             say("act.collapse_difference", difference=f"{difference:.2g}"),
             say("act.collapse_accuracy", linear=f"{accuracy['linear']:.1%}",
                 tanh=f"{accuracy['tanh']:.1%}")]
    say_lines(lines, file)
    if save is not None:
        _draw_collapse(linear, bent, x, y, save, lang)
    return result


def _draw_collapse(linear: Module, bent: Module, x: Tensor, y: Tensor,
                   save: str | os.PathLike[str], lang: str | None) -> Any:
    from chainrule.viz._mpl import finish
    from chainrule.viz.boundary import decision_boundary

    language = figure_language(lang)
    with language.fonts():
        words = language.words
        fig = decision_boundary([(words("fig.collapse.linear"), linear),
                                 ("Linear-tanh-Linear", bent)], x, y, lang=lang)
        fig.suptitle(words("fig.collapse.title"), fontsize=11)
        return finish(fig, save)


def _flat(values: np.ndarray) -> str:
    """An array on one line, 4 decimals: [[0.0961, 0.1506], [-0.0838, 0.2528]]."""
    return " ".join(np.array2string(values, precision=4, separator=", ").split())


def _mnist(images: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    train_set, test_set = MiniMNIST(train=True), MiniMNIST(train=False)
    x = train_set.arrays[0].reshape(len(train_set), -1)[:images]  # type: ignore[index]
    test_x = test_set.arrays[0].reshape(len(test_set), -1)  # type: ignore[index]
    return x, train_set.targets[:images], test_x, test_set.targets


def _mlp(activation: type[Module], seed: int = 0) -> Sequential:
    random.manual_seed(seed)
    return Sequential(Linear(784, 64), activation(), Linear(64, 64), activation(),
                      Linear(64, 10))


def _one_epoch(model: Module, x: np.ndarray, y: np.ndarray, lr: float, seed: int = 1) -> None:
    """One epoch of SGD, batch 32, seeded shuffle."""
    optimizer = SGD(model.parameters(), lr=lr)
    random.manual_seed(seed)
    order = creation.randperm(len(y)).numpy()
    for start in range(0, len(y), 32):
        batch = order[start:start + 32]
        optimizer.zero_grad()
        with np.errstate(over="ignore", invalid="ignore"):
            F.cross_entropy(model(creation.tensor(x[batch])),
                            creation.tensor(y[batch])).backward()
            optimizer.step()


def _hidden(model: Sequential, x: np.ndarray) -> list[np.ndarray]:
    """The outputs of each hidden activation for the images ``x``."""
    outputs = []
    a = creation.tensor(x)
    with no_grad(), np.errstate(over="ignore", invalid="ignore"):
        for module in model:
            a = module(a)
            if not isinstance(module, Linear):
                outputs.append(a.numpy())
    return outputs


def _accuracy(model: Module, x: np.ndarray, y: np.ndarray) -> float:
    with no_grad(), np.errstate(over="ignore", invalid="ignore"):
        return float((model(creation.tensor(x)).numpy().argmax(axis=1) == y).mean())


def saturation(quick: bool = False, save: str | os.PathLike[str] | None = None,
               file: Any = "stdout", lang: str | None = None) -> dict[str, Any]:
    """784-64-64-10 sigmoid: N(0, 1) initial weights vs Xavier's, saturated shares and
    the accuracy after one epoch (SGD lr 0.5)."""
    # --quick trains on 6,000 images: on 2,000 (62 steps) Xavier's net had not yet caught
    # up with the saturated one (24% vs 41%), the opposite of the point; 6,000: 64% vs 57%
    x, y, test_x, test_y = _mnist(6000 if quick else 10_000)
    result: dict[str, Any] = {}
    for name in ("N(0, 1)", "Xavier"):
        model = _mlp(Sigmoid)
        for module in model:
            if isinstance(module, Linear):
                if name == "Xavier":
                    init.xavier_uniform_(module.weight)
                else:
                    init.normal_(module.weight, 0.0, 1.0)
                init.zeros_(module.bias)
        hidden = _hidden(model, test_x)
        shares = [float(((h < SATURATED) | (h > 1 - SATURATED)).mean()) for h in hidden]
        _one_epoch(model, x, y, lr=0.5)
        result[name] = {"saturated": shares, "accuracy": _accuracy(model, test_x, test_y),
                        "hidden": hidden}
    say = messages(lang)
    lines = [say("act.saturation_title", images=f"{len(y):,}"),
             say("act.saturation_meaning", low=SATURATED, high=f"{1 - SATURATED:g}")]
    for name, numbers in result.items():
        share = ", ".join(say("act.layer_share", layer=i + 1, share=f"{s:.1%}")
                          for i, s in enumerate(numbers["saturated"]))
        lines.append(say("act.saturation_row", name=pad(name, 8), share=share,
                         accuracy=f"{numbers['accuracy']:.1%}"))
    say_lines(lines, file)
    if save is not None:
        draw_in(lang, _draw_saturation, result, save)
    return result


def _draw_saturation(result: dict[str, Any], save: str | os.PathLike[str], words: Messages
                     ) -> Any:
    from chainrule.viz._mpl import finish, new_figure

    fig = new_figure(11, 4)
    axes = fig.subplots(1, 2)
    for ax, (name, numbers) in zip(axes, result.items(), strict=True):
        for i, h in enumerate(numbers["hidden"]):
            ax.hist(h.ravel(), bins=50, range=(0, 1), alpha=0.6,
                    label=words("fig.saturation.layer", layer=i + 1,
                                share=f"{numbers['saturated'][i]:.0%}"))
        ax.set_title(words("fig.saturation.panel", name=name,
                           accuracy=f"{numbers['accuracy']:.1%}"), fontsize=9.5)
        ax.set_xlabel(words("fig.saturation.output"))
        ax.set_ylabel(words("fig.saturation.count"))
        ax.legend(fontsize=8)
    fig.suptitle(words("fig.saturation.title"), fontsize=11)
    return finish(fig, save)


def dead_relus(quick: bool = False, save: str | os.PathLike[str] | None = None,
               file: Any = "stdout", lang: str | None = None) -> dict[float, list[int]]:
    """784-64-64-10 ReLU, one epoch of SGD per learning rate: units that output 0 for every
    test image, per hidden layer."""
    x, y, test_x, test_y = _mnist(2000 if quick else 10_000)
    rates = [0.01, 0.5, 2.0] if quick else [0.01, 0.1, 0.5, 1.0, 2.0]
    dead: dict[float, list[int]] = {}
    accuracy: dict[float, float] = {}
    at_init = [int((h.max(axis=0) <= 0).sum()) for h in _hidden(_mlp(ReLU), test_x)]
    for lr in rates:
        model = _mlp(ReLU)
        _one_epoch(model, x, y, lr)
        dead[lr] = [int((h.max(axis=0) <= 0).sum()) for h in _hidden(model, test_x)]
        accuracy[lr] = _accuracy(model, test_x, test_y)
    say = messages(lang)
    lines = [say("act.dead_title", images=f"{len(y):,}"),
             say("act.dead_init", first=at_init[0], second=at_init[1])]
    for lr in rates:
        lines.append(say("act.dead_row", lr=f"{lr:<5g}", first=f"{dead[lr][0]:>2}",
                         second=f"{dead[lr][1]:>2}", accuracy=f"{accuracy[lr]:.1%}"))
    say_lines(lines, file)
    if save is not None:
        draw_in(lang, _draw_dead, dead, accuracy, save)
    return dead


def _draw_dead(dead: dict[float, list[int]], accuracy: dict[float, float],
               save: str | os.PathLike[str], words: Messages) -> Any:
    from chainrule.viz._mpl import finish, new_figure

    fig = new_figure(7.5, 4)
    ax = fig.add_subplot()
    rates = list(dead)
    spots = np.arange(len(rates))
    for i in range(2):
        ax.bar(spots + (i - 0.5) * 0.38, [dead[lr][i] for lr in rates], 0.38,
               label=words("fig.dead.layer", layer=i + 1))
    for spot, lr in zip(spots, rates, strict=True):
        ax.text(spot, 66, words("fig.dead.accuracy", accuracy=f"{accuracy[lr]:.0%}"),
                ha="center", va="bottom", fontsize=8)
    ax.set_ylim(0, 76)
    ax.set_xticks(spots, [words("fig.lr", lr=f"{lr:g}") for lr in rates])
    ax.set_ylabel(words("fig.dead.units"))
    ax.set_title(words("fig.dead.title"), fontsize=10)
    ax.legend(fontsize=8)
    return finish(fig, save)


def zigzag(quick: bool = False, save: str | os.PathLike[str] | None = None,
           file: Any = "stdout", lang: str | None = None) -> dict[str, Any]:
    """One linear neuron w . x learning w* = (1, -1) by SGD (one example a step, squared
    error), fed sigmoid outputs (all positive) or tanh outputs (centred on 0).

    With positive inputs every component of dL/dw = (w . x - y) x has the sign of the
    error, so each step moves both weights up or both down: the path to w*, which needs one
    up and one down, zig-zags. Returns the paths and the share of same-sign steps.
    """
    steps = 150 if quick else 400
    target = np.array([1.0, -1.0])
    random.manual_seed(0)
    z = creation.randn(steps, 2, dtype="float64").numpy() * 2.0
    inputs = {"sigmoid (all > 0)": 1.0 / (1.0 + np.exp(-z)), "tanh (centred)": np.tanh(z)}
    result: dict[str, Any] = {}
    for name, x in inputs.items():
        w = creation.tensor(np.zeros(2), requires_grad=True)
        path = [w.detach().numpy().copy()]
        for example in x:
            xt = creation.tensor(example)
            loss = 0.5 * ((w * xt).sum() - float(example @ target)) ** 2
            loss.backward()
            with no_grad():
                w -= 0.5 * w.grad  # type: ignore[operator]
            w.grad = None
            path.append(w.detach().numpy().copy())
        moves = np.diff(np.array(path), axis=0)
        moving = np.abs(moves).sum(axis=1) > 1e-12
        same = float((np.sign(moves[moving, 0]) == np.sign(moves[moving, 1])).mean())
        distance = np.abs(np.array(path) - target).max(axis=1)
        near = np.flatnonzero(distance < 0.05)
        result[name] = {"path": np.array(path), "same_sign": same,
                        "steps": int(near[0]) if near.size else None}
    say = messages(lang)
    lines = [say("act.zigzag_title"), say("act.zigzag_setup", steps=steps)]
    for name, numbers in result.items():
        reached = (say("act.zigzag_reached", steps=numbers["steps"])
                   if numbers["steps"] is not None else say("act.zigzag_never", steps=steps))
        lines.append(say("act.zigzag_row", name=pad(name, 18),
                         same=f"{numbers['same_sign']:.0%}", reached=reached))
    say_lines(lines, file)
    if save is not None:
        draw_in(lang, _draw_zigzag, result, target, save)
    return result


def _draw_zigzag(result: dict[str, Any], target: np.ndarray, save: str | os.PathLike[str],
                 words: Messages, steps: int = 60) -> Any:
    """The first ``steps`` of each path, side by side."""
    from chainrule.viz._mpl import finish, new_figure

    fig = new_figure(11, 4.8)
    for ax, (name, numbers) in zip(fig.subplots(1, 2), result.items(), strict=True):
        path = numbers["path"][:steps]
        ax.plot(path[:, 0], path[:, 1], "o-", markersize=2.5, linewidth=0.9)
        ax.plot(*target, marker="*", markersize=14, color="gold", markeredgecolor="k")
        ax.annotate("w* = (1, -1)", target, textcoords="offset points", xytext=(6, -12),
                    fontsize=8)
        ax.plot(0, 0, "ks", markersize=5)
        inputs = words(f"fig.zigzag.{name.split()[0]}")  # sigmoid (all > 0), tanh (centred)
        ax.set_title(words("fig.zigzag.panel", name=inputs,
                           same=f"{numbers['same_sign']:.0%}"), fontsize=9.5)
        ax.set_xlabel("w1")
        ax.set_ylabel("w2")
        ax.set_xlim(-0.25, 1.45)
        ax.set_ylim(-1.25, 0.3)
        ax.set_aspect("equal")
        ax.grid(alpha=0.3)
    fig.suptitle(words("fig.zigzag.title", steps=steps), fontsize=10.5)
    return finish(fig, save)
