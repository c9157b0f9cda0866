"""Images of a data set as pictures: grey 28x28 digits and 32x32 colour images (CIFAR-10),
and a colour network's first-layer weights as colour templates.

>>> import numpy as np
>>> picture(np.zeros(3072))[0].shape, picture(np.zeros((1, 28, 28)))[1]
((32, 32, 3), 'gray')
>>> from chainrule import nn
>>> fig = colour_templates(nn.Linear(3072, 10), labels=[str(i) for i in range(10)])
>>> len([ax for ax in fig.axes if ax.images])
10
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.nn.layers import Linear
from chainrule.viz._mpl import finish, new_figure, suptitle
from chainrule.viz.fonts import figure_language


def picture(image: Any) -> tuple[np.ndarray, str | None]:
    """(array, colour map) to draw one image of a data set with ``imshow``: 784 values as a
    28x28 grey image, 3072 as a 32x32 colour one (channels last, clipped to [0, 1]), any
    other square number of values as a grey square."""
    values = np.asarray(image, dtype=np.float64)
    if values.size == 3 * 32 * 32:
        return np.clip(values.reshape(3, 32, 32).transpose(1, 2, 0), 0.0, 1.0), None
    side = int(round(np.sqrt(values.size)))
    if side * side != values.size:
        raise ValueError(f"picture: expected the values of a square grey image or of a "
                         f"3x32x32 colour one, got {values.size} values")
    return values.reshape(side, side), "gray"


def show(ax: Any, image: Any, **kwargs: Any) -> Any:
    """Draw one image of a data set on ``ax`` (see :func:`picture`), without ticks."""
    values, cmap = picture(image)
    shown = ax.imshow(values, cmap=cmap, vmin=0.0, vmax=max(1.0, float(values.max())),
                      **kwargs) if cmap else ax.imshow(values, **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    return shown


def colour_templates(layer: Linear, max_units: int = 32, labels: Sequence[str] | None = None,
                     save: str | os.PathLike[str] | None = None, lang: str | None = None) -> Any:
    """Each unit's incoming weights from a 3x32x32 colour image drawn as a colour image,
    scaled from its own smallest weight (black) to its largest (full colour), as the
    CS231n notes draw a linear classifier's templates. ``lang``: the language of the title
    ("en", "zh"; default ``$CHAINRULE_LANG`` or the locale; Chinese needs a CJK font, see
    :mod:`chainrule.viz.fonts`)."""
    W = layer.weight.detach().numpy()
    if W.shape[1] != 3 * 32 * 32:
        raise ValueError(f"colour_templates: the layer takes {W.shape[1]} inputs, not a "
                         "3x32x32 colour image (3072)")
    language = figure_language(lang)
    with language.fonts():
        n = min(W.shape[0], max_units)
        cols = min(n, 8)
        rows = -(-n // cols)
        fig = new_figure(1.5 * cols, 1.6 * rows + 0.5)
        axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
        for i, ax in enumerate(axes):
            ax.axis("off")
            if i < n:
                low, high = float(W[i].min()), float(W[i].max())
                show(ax, (W[i] - low) / ((high - low) or 1.0))
                ax.set_title(labels[i] if labels is not None else f"h{i + 1}", fontsize=8)
        suptitle(fig, language.words("viz.templates.title", shown=n, count=W.shape[0]), 10)
        return finish(fig, save)
