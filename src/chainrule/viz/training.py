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

from chainrule.i18n import Messages
from chainrule.train.metrics import read_metrics
from chainrule.train.progress import evaluated_sets
from chainrule.viz._mpl import finish, new_figure, suptitle
from chainrule.viz.fonts import figure_language
from chainrule.viz.pictures import show

# (marker, line style) of train, then of each evaluated set
SET_STYLES: tuple[tuple[str, Any], ...] = (("o", "-"), ("s", "--"), ("^", ":"), ("d", "-."))


def set_name(name: str, words: Messages) -> str:
    """A set's name in the figure's language: train, validation, test (others as they are)."""
    return words(f"viz.set.{name}") if name in ("train", "val", "test") else name


def _curve_axes(fig: Any, words: Messages) -> Any:
    """The loss and accuracy axes: titles, labels, integer epoch ticks, accuracy in %."""
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    axes = fig.subplots(1, 2)
    for ax, key in zip(axes, ("loss", "accuracy"), strict=True):
        ax.set_title(words(f"viz.curves.{key}_title"))
        ax.set_xlabel(words("viz.curves.epoch"))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(words("viz.curves.loss_label"))
    axes[1].set_ylabel(words("viz.curves.accuracy_label"))
    axes[1].yaxis.set_major_formatter(PercentFormatter(1.0))
    return axes


def _sets(rows: list[dict[str, Any]]) -> list[str]:
    """train first, then the evaluated sets the rows have (val, test, ...)."""
    names = evaluated_sets(rows[0])
    return ["train", *[n for n in names if n != "train"]] if "train" in names else names


def training_curves(run: Any, save: str | os.PathLike[str] | None = None,
                    lang: str | None = None) -> Any:
    """Loss and accuracy per epoch, train vs validation (or whatever evaluated sets the
    rows hold: ``<set>_loss`` / ``<set>_accuracy``), from a run folder or metric rows;
    ``lang``: the language of the labels ("en", "zh"; default ``$CHAINRULE_LANG`` or the
    locale; Chinese needs a CJK font, see :mod:`chainrule.viz.fonts`).

    >>> rows = [{"epoch": 1, "train_loss": 1.0, "train_accuracy": 0.5}]
    >>> [ax.get_xlabel() for ax in training_curves(rows, lang="en").axes]
    ['epoch', 'epoch']
    """
    rows = read_metrics(run) if isinstance(run, str | os.PathLike) else list(run)
    if not rows:
        raise ValueError(f"training_curves: no metrics found in {run!r}")
    language = figure_language(lang)
    with language.fonts():
        words = language.words
        epochs = [r["epoch"] for r in rows]
        fig = new_figure(10, 4)
        for ax, key in zip(_curve_axes(fig, words), ("loss", "accuracy"), strict=True):
            for name, (marker, line) in zip(_sets(rows), SET_STYLES, strict=False):
                column = f"{name}_{key}"
                if column in rows[0]:
                    ax.plot(epochs, [r.get(column, np.nan) for r in rows], marker=marker,
                            linestyle=line, label=set_name(name, words))
            if len(ax.lines) > 1:
                ax.legend()
        return finish(fig, save)


def compare_curves(runs: Sequence[tuple[str, list[dict[str, Any]]]],
                   save: str | os.PathLike[str] | None = None, lang: str | None = None) -> Any:
    """Several runs' loss and accuracy per epoch on the same axes: one colour per run (the
    legend below names each by its label), one line style per set (solid train, dashed
    validation or test); ``lang`` as in :func:`training_curves`.

    >>> rows = [{"epoch": 1, "train_loss": 1.0, "train_accuracy": 0.5, "val_loss": 1.1,
    ...          "val_accuracy": 0.4}]
    >>> fig = compare_curves([("run a (loss=mse)", rows), ("run b", rows)], lang="en")
    >>> sorted(t.get_text() for t in fig.legends[0].get_texts())
    ['run a (loss=mse)', 'run b']
    """
    runs = [(label, rows) for label, rows in runs if rows]
    if not runs:
        raise ValueError("compare_curves: no run has metrics")
    language = figure_language(lang)
    with language.fonts():
        return _compare_curves(runs, save, language.words)


def _compare_curves(runs: list[tuple[str, list[dict[str, Any]]]],
                    save: str | os.PathLike[str] | None, words: Messages) -> Any:
    from matplotlib.lines import Line2D

    columns = 1 if max(len(label) for label, _ in runs) > 45 else min(len(runs), 3)
    fig = new_figure(11, 4.6 + 0.25 * -(-len(runs) // columns))
    axes = _curve_axes(fig, words)
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
                   [set_name(name, words) for name in styles], fontsize=8,
                   title=words("viz.compare.line_style"), title_fontsize=8)
    fig.legend([Line2D([], [], color=f"C{i % 10}", lw=3) for i in range(len(runs))],
               [label for label, _ in runs], loc="outside lower center", fontsize=8,
               ncols=columns, title=words("viz.compare.runs"),
               title_fontsize=8)
    suptitle(fig, words("viz.compare.title", count=len(runs)))
    return finish(fig, save)


def confusion_matrix(matrix: Any, labels: list[str] | None = None,
                     save: str | os.PathLike[str] | None = None, lang: str | None = None) -> Any:
    """Counts of (true, predicted) as a heat map with the numbers written in; ``lang`` as
    in :func:`training_curves`.

    >>> fig = confusion_matrix([[3, 1], [0, 4]], lang="en")
    >>> fig.axes[0].get_title().splitlines()
    ['confusion matrix', 'accuracy 87.50% of 8 samples']
    """
    m = np.asarray(matrix)
    k = m.shape[0]
    labels = labels or [str(i) for i in range(k)]
    language = figure_language(lang)
    with language.fonts():
        words = language.words
        fig = new_figure(max(1.6 + 0.55 * k, 4.4), max(1.2 + 0.5 * k, 3.6))
        ax = fig.subplots()
        image = ax.imshow(m, cmap="Blues")
        fig.colorbar(image, ax=ax, shrink=0.8, label=words("viz.confusion.samples"))
        for i in range(k):
            for j in range(k):
                ax.text(j, i, str(int(m[i, j])), ha="center", va="center", fontsize=8,
                        color="white" if m[i, j] > m.max() / 2 else "black")
        ax.set_xticks(range(k), labels)
        ax.set_yticks(range(k), labels)
        ax.set_xlabel(words("viz.confusion.predicted"))
        ax.set_ylabel(words("viz.confusion.true"))
        ax.set_title(words("viz.confusion.title", accuracy=f"{np.trace(m) / max(m.sum(), 1):.2%}",
                           count=f"{int(m.sum()):,}"), fontsize=10)
        return finish(fig, save)


def misclassified(images: Any, true: Any, predicted: Any, max_images: int = 25,
                  save: str | os.PathLike[str] | None = None, lang: str | None = None) -> Any:
    """A grid of the images the model got wrong, each titled 'predicted p, true t';
    ``lang`` as in :func:`training_curves`.

    >>> fig = misclassified(np.zeros((3, 28, 28)), [1, 2, 3], [1, 5, 3], lang="en")
    >>> fig.axes[0].get_title(), fig.get_suptitle()
    ('predicted 5, true 2', 'misclassified: 1 of 3 images')
    """
    images, true, predicted = (np.asarray(a) for a in (images, true, predicted))
    language = figure_language(lang)
    with language.fonts():
        return _misclassified(images, true, predicted, max_images, save, language.words)


def _misclassified(images: np.ndarray, true: np.ndarray, predicted: np.ndarray,
                   max_images: int, save: str | os.PathLike[str] | None,
                   words: Messages) -> Any:
    wrong = np.flatnonzero(true != predicted)[:max_images]
    cols = max(min(len(wrong), 5), 1)
    rows = max(-(-len(wrong) // cols), 1)
    fig = new_figure(max(2.0 * cols, 4.0), 2.2 * rows + 0.3)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, i in zip(axes, wrong, strict=False):
        show(ax, images[i])  # a grey digit, or a colour image
        ax.set_title(words("viz.misclassified.tile", predicted=predicted[i], true=true[i]),
                     fontsize=8, color="tab:red")
    if not len(wrong):
        axes[0].text(0.5, 0.5, words("viz.misclassified.none"), ha="center", va="center")
    total = int((true != predicted).sum())
    shown = words("viz.misclassified.first", count=len(wrong)) if total > len(wrong) else ""
    suptitle(fig, words("viz.misclassified.title", wrong=f"{total:,}", total=f"{len(true):,}",
                        shown=shown))
    return finish(fig, save)
