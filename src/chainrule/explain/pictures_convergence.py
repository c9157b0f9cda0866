"""Convergence speed, measured rather than asserted: steps to a training-loss threshold.

The CS231n notes repeat Krizhevsky et al. (2012): a 4-layer convolutional net with ReLU
reached 25% training error on CIFAR-10 six times faster than the same net with tanh. This
example measures the same kind of number on what chainrule ships: a 784-64-64-64-10 net
(four Linear layers) on the embedded mini-MNIST, plain SGD (batch 64), the same seeded
initial weights for sigmoid, tanh and ReLU, several learning rates each, counting the steps
until the running mean of the training loss (last 50 batches) drops below 0.5. Each
activation is judged at its own best learning rate, as in the paper.

>>> run = steps_to_threshold("tanh", lr=0.5, images=500, max_steps=60, window=10,
...                          threshold=1.5)
>>> 10 <= run.steps < 60, run.curve[-1] < 1.5 <= run.curve[-2]
(True, True)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule import creation, random
from chainrule.data.datasets import MiniMNIST
from chainrule.i18n import Messages, messages, pad
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.activations import ReLU, Sigmoid, Tanh
from chainrule.nn.layers import Linear, Sequential
from chainrule.nn.module import Module
from chainrule.optim.sgd import SGD
from chainrule.viz.fonts import draw_in

ACTIVATIONS: dict[str, type[Module]] = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU,
                                        "relu+He": ReLU}  # He's init: kaiming_normal_
THRESHOLD = 0.5
CLAIM = 6.0  # the notes: ReLU about 6x faster than tanh


@dataclass
class Run:
    activation: str
    lr: float
    steps: int | None  # None: the threshold was not reached
    diverged: bool = False  # the loss became inf or NaN
    curve: list[float] = field(default_factory=list)  # running mean of the loss per step


def build(activation: str, seed: int = 0) -> Sequential:
    """784-64-64-64-10 with ``activation`` between the Linear layers: PyTorch's default
    initialisation, the same weights for every activation (they draw no random numbers);
    ``relu+He``: ReLU with He's initialisation (N(0, 2 / fan_in), zero biases)."""
    random.manual_seed(seed)
    sizes = [784, 64, 64, 64, 10]
    modules: list[Module] = []
    for i in range(4):
        modules.append(Linear(sizes[i], sizes[i + 1]))
        if i < 3:
            modules.append(ACTIVATIONS[activation]())
    if activation == "relu+He":
        for module in modules:
            if isinstance(module, Linear):
                init.kaiming_normal_(module.weight, nonlinearity="relu")
                init.zeros_(module.bias)
    return Sequential(*modules)


def data(images: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    """The first ``images`` mini-MNIST training images (flat, in [0, 1]) and labels."""
    train_set = MiniMNIST(train=True)
    x = train_set.arrays[0].reshape(len(train_set), -1)[:images]  # type: ignore[index]
    return x, train_set.targets[:images]


def steps_to_threshold(activation: str, lr: float, images: int = 10_000,
                       max_steps: int = 3000, window: int = 50, threshold: float = THRESHOLD,
                       seed: int = 0, arrays: tuple[np.ndarray, np.ndarray] | None = None
                       ) -> Run:
    """Train with SGD (batch 64) until the mean loss of the last ``window`` batches is below
    ``threshold``; the step count, or None after ``max_steps``. ``arrays``: the data, when
    already loaded (else :func:`data` of ``images``)."""
    x, y = arrays if arrays is not None else data(images)
    model = build(activation, seed)
    optimizer = SGD(model.parameters(), lr=lr)
    random.manual_seed(seed + 1)
    losses: list[float] = []
    run = Run(activation, lr, None)
    order = creation.randperm(len(y)).numpy()
    position = 0
    for step in range(1, max_steps + 1):
        if position + 64 > len(order):
            order, position = creation.randperm(len(y)).numpy(), 0
        batch = order[position:position + 64]
        position += 64
        optimizer.zero_grad()
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging rate: reported
            loss = F.cross_entropy(model(creation.tensor(x[batch])),
                                   creation.tensor(y[batch]))
            loss.backward()
            optimizer.step()
        losses.append(float(loss.item()))
        if not np.isfinite(losses[-1]):
            run.diverged = True
            break
        run.curve.append(float(np.mean(losses[-window:])))
        if len(losses) >= window and run.curve[-1] < threshold:
            run.steps = step
            break
    return run


def convergence(quick: bool = False, save: str | os.PathLike[str] | None = None,
                file: Any = "stdout", lang: str | None = None) -> dict[str, list[Run]]:
    """Every activation at every learning rate; print the table and the ratios (``lang``:
    see :func:`chainrule.i18n.resolve`) and (with ``save``) draw them, in ``lang`` too when
    a font with Chinese characters is found."""
    # --quick tries 0.1 and 0.3, where the full run finds each activation's best rate: at
    # 0.5 alone tanh beat ReLU with He's init (42 steps vs 63), the opposite of the full run
    rates = [0.1, 0.3] if quick else [0.03, 0.1, 0.3, 1.0]
    settings: dict[str, Any] = (
        {"images": 2000, "max_steps": 200, "window": 20, "threshold": 1.0} if quick
        else {"images": 10_000, "max_steps": 3000, "window": 50, "threshold": THRESHOLD})
    arrays = data(settings["images"])
    runs = {name: [steps_to_threshold(name, lr, arrays=arrays, **settings) for lr in rates]
            for name in ACTIVATIONS}
    if file is not None:
        print("\n".join(_report(runs, rates, settings, messages(lang))),
              file=None if file == "stdout" else file)
    if save is not None:
        draw_convergence(runs, settings["threshold"], save, lang)
    return runs


def _cell(run: Run) -> str:
    if run.steps is not None:
        return str(run.steps)
    return "diverged" if run.diverged else "-"


def best(runs: list[Run]) -> Run | None:
    """The run that reached the threshold in the fewest steps (None if none did)."""
    reached = [run for run in runs if run.steps is not None]
    return min(reached, key=lambda run: run.steps or 0) if reached else None


def _report(runs: dict[str, list[Run]], rates: list[float], settings: dict[str, Any],
            say: Messages) -> list[str]:
    lines = [say("converge.title", window=settings["window"],
                 threshold=f"{settings['threshold']:g}"),
             say("converge.setup", images=f"{settings['images']:,}",
                 steps=f"{settings['max_steps']:,}"), "",
             "  " + pad(say("converge.lr"), 8) + "".join(f"{name:>10}" for name in runs)]
    for i, lr in enumerate(rates):
        cells = [_cell(runs[name][i]) for name in runs]
        lines.append(f"  {lr:<8g}" + "".join(f"{cell:>10}" for cell in cells))
    winners = {name: best(name_runs) for name, name_runs in runs.items()}
    lines.append("  " + pad(say("converge.best"), 8) + "".join(
        f"{'-' if w is None or w.steps is None else w.steps:>10}" for w in winners.values()))
    lines.append("")
    relu, tanh, sigmoid = winners["relu"], winners["tanh"], winners["sigmoid"]
    he = winners["relu+He"]
    if relu is not None and relu.steps and tanh is not None and tanh.steps:
        lines.append(say("converge.tanh_relu", ratio=f"{tanh.steps / relu.steps:.2f}",
                         tanh=f"{tanh.lr:g}", relu=f"{relu.lr:g}", claim=f"{CLAIM:g}"))
    if he is not None and he.steps and tanh is not None and tanh.steps:
        lines.append(say("converge.tanh_he", ratio=f"{tanh.steps / he.steps:.2f}",
                         tanh=f"{tanh.lr:g}", he=f"{he.lr:g}"))
    if relu is not None and relu.steps and sigmoid is not None and sigmoid.steps:
        lines.append(say("converge.sigmoid", ratio=f"{sigmoid.steps / relu.steps:.2f}"))
    elif relu is not None and relu.steps:
        lines.append(say("converge.sigmoid_never", steps=f"{settings['max_steps']:,}"))
    return lines


def draw_convergence(runs: dict[str, list[Run]], threshold: float,
                     save: str | os.PathLike[str] | None = None, lang: str | None = None
                     ) -> Any:
    """Left: each activation's loss curve at its best rate; right: steps per rate; the
    words in ``lang`` (see :func:`chainrule.viz.fonts.figure_language`).

    >>> runs = {"relu": [Run("relu", 0.5, 2, curve=[2.0, 0.4])],
    ...         "tanh": [Run("tanh", 0.5, None, curve=[2.0, 1.9])]}
    >>> fig = draw_convergence(runs, 0.5, lang="en")
    >>> [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    ['relu, lr 0.5: 2 steps', 'tanh, lr 0.5: not reached']
    """
    return draw_in(lang, _draw_convergence, runs, threshold, save)


def _draw_convergence(runs: dict[str, list[Run]], threshold: float,
                      save: str | os.PathLike[str] | None, words: Messages) -> Any:
    from chainrule.viz._mpl import finish, new_figure

    fig = new_figure(12, 4.4)
    curves, bars = fig.subplots(1, 2)
    for name, name_runs in runs.items():
        winner = best(name_runs) or name_runs[-1]
        label = (words("fig.converge.reached", name=name, lr=f"{winner.lr:g}",
                       steps=winner.steps) if winner.steps
                 else words("fig.converge.not_reached", name=name, lr=f"{winner.lr:g}"))
        curves.plot(range(1, len(winner.curve) + 1), winner.curve, label=label)
    curves.axhline(threshold, color="k", linestyle=":", linewidth=1)
    curves.set_xlabel(words("fig.converge.step"))
    curves.set_ylabel(words("fig.converge.loss"))
    curves.set_title(words("fig.converge.curves"), fontsize=10)
    curves.legend(fontsize=8)
    curves.grid(alpha=0.3)
    rates = [run.lr for run in next(iter(runs.values()))]
    width = 0.8 / len(runs)
    most = max((run.steps or 0) for name_runs in runs.values() for run in name_runs) or 1
    for i, (name, name_runs) in enumerate(runs.items()):
        heights = [run.steps if run.steps is not None else 0 for run in name_runs]
        spots = np.arange(len(rates)) + (i - (len(runs) - 1) / 2) * width
        bars.bar(spots, heights, width, label=name)
        for spot, run in zip(spots, name_runs, strict=True):
            if run.steps is None:
                bars.text(spot, most * 0.02, words("fig.converge.not_reached_bar"),
                          ha="center", va="bottom", fontsize=6.5, rotation=90)
    bars.set_xticks(range(len(rates)), [words("fig.lr", lr=f"{lr:g}") for lr in rates])
    bars.set_ylabel(words("fig.converge.steps", threshold=f"{threshold:g}"))
    bars.set_title(words("fig.converge.bars"), fontsize=10)
    bars.legend(fontsize=8)
    fig.suptitle(words("fig.converge.title"), fontsize=11)
    return finish(fig, save)
