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
from chainrule.viz._mpl import finish, new_figure
from chainrule.viz.pictures import show


def augmented_grid(images: Any, kinds: Sequence[str], versions: int = 7, seed: int = 0,
                   labels: Sequence[Any] | None = None,
                   save: str | os.PathLike[str] | None = None) -> Any:
    """One row per image: the image, then ``versions`` augmented versions of it, each drawn
    as :class:`~chainrule.data.augment.Augment` (``kinds``, its default sizes) changes a
    training batch, from a NumPy generator seeded with ``seed``."""
    batch = np.asarray(images, dtype=np.float32)
    augment = Augment(kinds)
    rng = np.random.default_rng(seed)
    columns = [batch] + [augment(batch, rng) for _ in range(versions)]
    rows = len(batch)
    fig = new_figure(1.2 * (versions + 1) + 0.4, 1.25 * rows + 0.7)
    axes = np.atleast_2d(fig.subplots(rows, versions + 1))
    for col, shown in enumerate(columns):
        for row in range(rows):
            ax = axes[row, col]
            show(ax, shown[row])
            if row == 0:
                ax.set_title("original" if col == 0 else f"version {col}", fontsize=8)
        if col == 0 and labels is not None:
            for row in range(rows):
                axes[row, 0].set_ylabel(str(labels[row]), fontsize=9, rotation=0,
                                        labelpad=12, va="center")
    sizes = {"shift": f"shift up to {augment.max_shift} px",
             "rotate": f"rotate up to {augment.max_degrees:g} deg",
             "elastic": f"elastic (sigma {augment.sigma:g}, alpha {augment.alpha:g})"}
    described = "; ".join(sizes[kind] for kind in augment.kinds)
    fig.suptitle(f"--augment {','.join(augment.kinds)}: {described}\neach training batch is "
                 "distorted anew; validation and test images never are", fontsize=10)
    return finish(fig, save)
