"""Figures of a training run: curves (of one run, or of several overlaid), confusion matrix,
misclassified examples.

>>> fig = training_curves([{"epoch": 1, "train_loss": 1.0, "train_accuracy": 0.5},
...                        {"epoch": 2, "train_loss": 0.5, "train_accuracy": 0.8}])
>>> [ax.get_title() for ax in fig.axes]
['loss per epoch', 'accuracy per epoch']
>>> [ax.get_ylabel() for ax in fig.axes]
['loss (mean over the samples)', 'accuracy (%)']
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.train.metrics import read_metrics
from chainrule.train.progress import evaluated_sets
from chainrule.viz._mpl import finish, new_figure, suptitle
from chainrule.viz.pictures import show

SET_NAMES = {"train": "train", "val": "validation", "test": "test"}
# (marker, line style) of train, then of each evaluated set
SET_STYLES: tuple[tuple[str, Any], ...] = (("o", "-"), ("s", "--"), ("^", ":"), ("d", "-."))


def _curve_axes(fig: Any) -> Any:
    """The loss and accuracy axes: titles, labels, integer epoch ticks, accuracy in %."""
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    axes = fig.subplots(1, 2)
    for ax, key in zip(axes, ("loss", "accuracy"), strict=True):
        ax.set_title(f"{key} per epoch")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("loss (mean over the samples)")
    axes[1].set_ylabel("accuracy (%)")
    axes[1].yaxis.set_major_formatter(PercentFormatter(1.0))
    return axes


def _sets(rows: list[dict[str, Any]]) -> list[str]:
    """train first, then the evaluated sets the rows have (val, test, ...)."""
    names = evaluated_sets(rows[0])
    return ["train", *[n for n in names if n != "train"]] if "train" in names else names


def training_curves(run: Any, save: str | os.PathLike[str] | None = None) -> Any:
    """Loss and accuracy per epoch, train vs validation (or whatever evaluated sets the
    rows hold: ``<set>_loss`` / ``<set>_accuracy``), from a run folder or metric rows."""
    rows = read_metrics(run) if isinstance(run, str | os.PathLike) else list(run)
    if not rows:
        raise ValueError(f"training_curves: no metrics found in {run!r}")
    epochs = [r["epoch"] for r in rows]
    fig = new_figure(10, 4)
    for ax, key in zip(_curve_axes(fig), ("loss", "accuracy"), strict=True):
        for name, (marker, line) in zip(_sets(rows), SET_STYLES, strict=False):
            column = f"{name}_{key}"
            if column in rows[0]:
                ax.plot(epochs, [r.get(column, np.nan) for r in rows], marker=marker,
                        linestyle=line, label=SET_NAMES.get(name, name))
        if len(ax.lines) > 1:
            ax.legend()
    return finish(fig, save)


def compare_curves(runs: Sequence[tuple[str, list[dict[str, Any]]]],
                   save: str | os.PathLike[str] | None = None) -> Any:
    """Several runs' loss and accuracy per epoch on the same axes: one colour per run (the
    legend below names each by its label), one line style per set (solid train, dashed
    validation or test).

    >>> rows = [{"epoch": 1, "train_loss": 1.0, "train_accuracy": 0.5, "val_loss": 1.1,
    ...          "val_accuracy": 0.4}]
    >>> fig = compare_curves([("run a (loss=mse)", rows), ("run b", rows)])
    >>> sorted(t.get_text() for t in fig.legends[0].get_texts())
    ['run a (loss=mse)', 'run b']
    """
    from matplotlib.lines import Line2D

    runs = [(label, rows) for label, rows in runs if rows]
    if not runs:
        raise ValueError("compare_curves: no run has metrics")
    columns = 1 if max(len(label) for label, _ in runs) > 45 else min(len(runs), 3)
    fig = new_figure(11, 4.6 + 0.25 * -(-len(runs) // columns))
    axes = _curve_axes(fig)
    styles: dict[str, tuple[str, Any]] = {}
    for index, (_, rows) in enumerate(runs):
        color = f"C{index % 10}"
        epochs = [r["epoch"] for r in rows]
        for name in _sets(rows):
            marker, line = styles.setdefault(
                name, SET_STYLES[min(len(styles), len(SET_STYLES) - 1)])
            for ax, key in zip(axes, ("loss", "accuracy"), strict=True):
                if f"{name}_{key}" in rows[0]:
                    ax.plot(epochs, [r.get(f"{name}_{key}", np.nan) for r in rows],
                            marker=marker, linestyle=line, color=color, markersize=3)
    axes[0].legend([Line2D([], [], color="black", linestyle=line, marker=marker)
                    for marker, line in styles.values()],
                   [SET_NAMES.get(name, name) for name in styles], fontsize=8,
                   title="line style", title_fontsize=8)
    fig.legend([Line2D([], [], color=f"C{i % 10}", lw=3) for i in range(len(runs))],
               [label for label, _ in runs], loc="outside lower center", fontsize=8,
               ncols=columns, title="run (settings that differ)",
               title_fontsize=8)
    suptitle(fig, f"{len(runs)} runs compared: loss and accuracy per epoch")
    return finish(fig, save)


def confusion_matrix(matrix: Any, labels: list[str] | None = None,
                     save: str | os.PathLike[str] | None = None) -> Any:
    """Counts of (true, predicted) as a heat map with the numbers written in."""
    m = np.asarray(matrix)
    k = m.shape[0]
    labels = labels or [str(i) for i in range(k)]
    fig = new_figure(max(1.6 + 0.55 * k, 4.4), max(1.2 + 0.5 * k, 3.6))
    ax = fig.subplots()
    image = ax.imshow(m, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8, label="samples")
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(int(m[i, j])), ha="center", va="center", fontsize=8,
                    color="white" if m[i, j] > m.max() / 2 else "black")
    ax.set_xticks(range(k), labels)
    ax.set_yticks(range(k), labels)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"confusion matrix\naccuracy {np.trace(m) / max(m.sum(), 1):.2%} of "
                 f"{int(m.sum()):,} samples", fontsize=10)
    return finish(fig, save)


def misclassified(images: Any, true: Any, predicted: Any, max_images: int = 25,
                  save: str | os.PathLike[str] | None = None) -> Any:
    """A grid of the images the model got wrong, each titled 'predicted p, true t'."""
    images, true, predicted = (np.asarray(a) for a in (images, true, predicted))
    wrong = np.flatnonzero(true != predicted)[:max_images]
    cols = max(min(len(wrong), 5), 1)
    rows = max(-(-len(wrong) // cols), 1)
    fig = new_figure(max(2.0 * cols, 4.0), 2.2 * rows + 0.3)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, i in zip(axes, wrong, strict=False):
        show(ax, images[i])  # a grey digit, or a colour image
        ax.set_title(f"predicted {predicted[i]}, true {true[i]}", fontsize=8,
                     color="tab:red")
    if not len(wrong):
        axes[0].text(0.5, 0.5, "no mistakes", ha="center", va="center")
    total = int((true != predicted).sum())
    shown = f" (the first {len(wrong)})" if total > len(wrong) else ""
    suptitle(fig, f"misclassified: {total:,} of {len(true):,} images{shown}")
    return finish(fig, save)
