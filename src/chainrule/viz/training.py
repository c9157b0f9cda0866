"""Figures of a training run: curves, confusion matrix, misclassified examples.

>>> fig = training_curves([{"epoch": 1, "train_loss": 1.0, "train_accuracy": 0.5},
...                        {"epoch": 2, "train_loss": 0.5, "train_accuracy": 0.8}])
>>> [ax.get_title() for ax in fig.axes]
['loss', 'accuracy']
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from chainrule.train.metrics import read_metrics
from chainrule.viz._mpl import finish, new_figure


def training_curves(run: Any, save: str | os.PathLike[str] | None = None) -> Any:
    """Loss and accuracy per epoch, train vs validation, from a run folder or metric rows."""
    rows = read_metrics(run) if isinstance(run, str | os.PathLike) else list(run)
    if not rows:
        raise ValueError(f"training_curves: no metrics found in {run!r}")
    epochs = [r["epoch"] for r in rows]
    fig = new_figure(10, 4)
    for ax, key in zip(fig.subplots(1, 2), ("loss", "accuracy"), strict=True):
        ax.plot(epochs, [r[f"train_{key}"] for r in rows], "o-", label="train")
        if f"val_{key}" in rows[0]:
            ax.plot(epochs, [r[f"val_{key}"] for r in rows], "s--", label="validation")
        ax.set_title(key)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    return finish(fig, save)


def confusion_matrix(matrix: Any, labels: list[str] | None = None,
                     save: str | os.PathLike[str] | None = None) -> Any:
    """Counts of (true, predicted) as a heat map with the numbers written in."""
    m = np.asarray(matrix)
    k = m.shape[0]
    labels = labels or [str(i) for i in range(k)]
    fig = new_figure(1.0 + 0.55 * k, 0.6 + 0.5 * k)
    ax = fig.subplots()
    image = ax.imshow(m, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(int(m[i, j])), ha="center", va="center", fontsize=8,
                    color="white" if m[i, j] > m.max() / 2 else "black")
    ax.set_xticks(range(k), labels)
    ax.set_yticks(range(k), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"confusion matrix (accuracy {np.trace(m) / max(m.sum(), 1):.2%})")
    return finish(fig, save)


def misclassified(images: Any, true: Any, predicted: Any, max_images: int = 25,
                  save: str | os.PathLike[str] | None = None) -> Any:
    """A grid of the images the model got wrong, titled 'pred p / true t'."""
    images, true, predicted = (np.asarray(a) for a in (images, true, predicted))
    wrong = np.flatnonzero(true != predicted)[:max_images]
    cols = max(min(len(wrong), 5), 1)
    rows = max(-(-len(wrong) // cols), 1)
    fig = new_figure(2.0 * cols, 2.2 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, i in zip(axes, wrong, strict=False):
        ax.imshow(images[i].reshape(28, 28), cmap="gray")
        ax.set_title(f"pred {predicted[i]} / true {true[i]}", fontsize=9, color="tab:red")
    if not len(wrong):
        axes[0].text(0.5, 0.5, "no mistakes", ha="center", va="center")
    fig.suptitle(f"misclassified ({int((true != predicted).sum())} of {len(true)})")
    return finish(fig, save)
