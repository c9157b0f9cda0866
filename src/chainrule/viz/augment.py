"""What data augmentation does to images: each one, then several augmented versions of it.

>>> import numpy as np
>>> images = np.zeros((3, 28, 28), np.float32)
>>> images[:, 8:20, 12:16] = 1.0
>>> fig = augmented_grid(images, ["shift", "rotate"], versions=4)
>>> len([ax for ax in fig.axes if ax.images])
15
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.data.augment import Augment
from chainrule.i18n import Messages
from chainrule.viz._mpl import finish, new_figure, wrap
from chainrule.viz.fonts import figure_language
from chainrule.viz.pictures import show


def augmented_grid(images: Any, kinds: Sequence[str], versions: int = 7, seed: int = 0,
                   labels: Sequence[Any] | None = None,
                   save: str | os.PathLike[str] | None = None, lang: str | None = None) -> Any:
    """One row per image: the image, then ``versions`` augmented versions of it, each drawn
    as :class:`~chainrule.data.augment.Augment` (``kinds``, its default sizes) changes a
    training batch, from a NumPy generator seeded with ``seed``. ``lang``: the language of
    the labels ("en", "zh"; default ``$CHAINRULE_LANG`` or the locale; Chinese needs a CJK
    font, see :mod:`chainrule.viz.fonts`).

    >>> fig = augmented_grid(np.zeros((1, 28, 28)), ["shift"], versions=2, lang="en")
    >>> [ax.get_title() for ax in fig.axes]
    ['original', 'version 1', 'version 2']
    """
    batch = np.asarray(images, dtype=np.float32)
    augment = Augment(kinds)
    rng = np.random.default_rng(seed)
    columns = [batch] + [augment(batch, rng) for _ in range(versions)]
    language = figure_language(lang)
    with language.fonts():
        return _grid(augment, columns, labels, save, language.words)


def _grid(augment: Augment, columns: list[np.ndarray], labels: Sequence[Any] | None,
          save: str | os.PathLike[str] | None, words: Messages) -> Any:
    rows, versions = len(columns[0]), len(columns) - 1
    fig = new_figure(1.2 * (versions + 1) + 0.4, 1.25 * rows + 0.7)
    axes = np.atleast_2d(fig.subplots(rows, versions + 1))
    for col, shown in enumerate(columns):
        for row in range(rows):
            ax = axes[row, col]
            show(ax, shown[row])
            if row == 0:
                ax.set_title(words("viz.augment.original") if col == 0
                             else words("viz.augment.version", number=col), fontsize=8)
        if col == 0 and labels is not None:
            for row in range(rows):
                axes[row, 0].set_ylabel(str(labels[row]), fontsize=9, rotation=0,
                                        labelpad=12, va="center")
    sizes = {"shift": words("viz.augment.shift", pixels=augment.max_shift),
             "rotate": words("viz.augment.rotate", degrees=f"{augment.max_degrees:g}"),
             "elastic": words("viz.augment.elastic", sigma=f"{augment.sigma:g}",
                              alpha=f"{augment.alpha:g}")}
    described = words("viz.augment.separator").join(sizes[kind] for kind in augment.kinds)
    title = words("viz.augment.title", kinds=",".join(augment.kinds), described=described)
    per_line = max(int(fig.get_figwidth() * 72 / 6), 20)  # as suptitle does, line by line
    fig.suptitle("\n".join(wrap(line, per_line) for line in title.split("\n")), fontsize=10)
    return finish(fig, save)
