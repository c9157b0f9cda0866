"""What a convolutional network sees: its first layer's filters, and one image's feature maps
after each layer.

>>> from chainrule import nn
>>> import numpy as np
>>> model = nn.Sequential(nn.Unflatten(1, (1, 28)), nn.Conv2d(1, 4, 5), nn.ReLU(),
...                       nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 12 * 12, 10))
>>> len([ax for ax in conv_filters(model).axes if ax.images])
4
>>> [name for name, _ in feature_maps(model, np.zeros((28, 28), np.float32))]
['1 Conv2d', '2 ReLU', '3 MaxPool2d']
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from chainrule.autograd.grad_mode import no_grad
from chainrule.i18n import Messages
from chainrule.nn.conv import BatchNorm2d, Conv2d, Unflatten
from chainrule.nn.module import Module
from chainrule.tensor import Tensor
from chainrule.viz._mpl import finish, new_figure, suptitle
from chainrule.viz.fonts import figure_language
from chainrule.viz.pictures import show


def first_conv(model: Module) -> Conv2d | None:
    """The model's first Conv2d layer (None if it has none)."""
    return next((m for m in model.modules() if isinstance(m, Conv2d)), None)


def conv_filters(model: Module, max_filters: int = 64,
                 save: str | os.PathLike[str] | None = None, lang: str | None = None) -> Any:
    """Each filter of the first conv layer as a small image, with its numbers written in
    when it is 5x5 or smaller (red +, blue -; each filter on its own scale). A filter with
    several input channels is shown as their mean. ``lang``: the language of the labels
    ("en", "zh"; default ``$CHAINRULE_LANG`` or the locale; Chinese needs a CJK font, see
    :mod:`chainrule.viz.fonts`).

    >>> from chainrule import nn
    >>> conv_filters(nn.Conv2d(1, 2, 3), lang="en").get_suptitle()
    'first conv layer: 2 filters 3x3'
    """
    layer = first_conv(model)
    if layer is None:
        raise ValueError("conv_filters: the model has no Conv2d layer")
    language = figure_language(lang)
    with language.fonts():
        return _conv_filters(layer, max_filters, save, language.words)


def _conv_filters(layer: Conv2d, max_filters: int, save: str | os.PathLike[str] | None,
                  words: Messages) -> Any:
    W = layer.weight.detach().numpy()
    shown = W[:, 0] if W.shape[1] == 1 else W.mean(axis=1)
    n = min(len(shown), max_filters)
    cols = min(n, 8)
    rows = -(-n // cols)
    fig = new_figure(1.6 * cols, 1.8 * rows + 0.4)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    small = max(shown.shape[1:]) <= 5
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= n:
            continue
        bound = float(np.abs(shown[i]).max()) or 1.0
        ax.imshow(shown[i], cmap="seismic", vmin=-bound, vmax=bound)
        ax.set_title(words("viz.conv.filter", number=i + 1), fontsize=8)
        if small:
            for (r, c), value in np.ndenumerate(shown[i]):
                color = "white" if abs(value) > 0.6 * bound else "black"  # on dark cells
                ax.text(c, r, f"{value:.2f}", ha="center", va="center", fontsize=5,
                        color=color)
    channels = "" if W.shape[1] == 1 else words("viz.conv.channels", count=W.shape[1])
    suptitle(fig, words("viz.conv.title", count=W.shape[0], height=W.shape[2],
                        width=W.shape[3], channels=channels))
    return finish(fig, save)


def feature_maps(model: Module, image: Any) -> list[tuple[str, np.ndarray]]:
    """(layer name, maps (C, H, W)) for each layer of ``model`` that outputs images, for one
    ``image`` (28x28, as the model takes it); Unflatten and BatchNorm2d are left out (the
    first only adds a dim, the second rescales the conv layer before it)."""
    captured: list[tuple[str, np.ndarray]] = []
    handles = []
    for name, module in model.named_modules():
        if module._modules or isinstance(module, Unflatten | BatchNorm2d):
            continue

        def hook(mod: Module, args: Any, out: Any, name: str = name) -> None:
            if isinstance(out, Tensor) and out.ndim == 4:
                captured.append((f"{name} {type(mod).__name__}", out.detach().numpy()[0]))
        handles.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(Tensor._wrap(np.asarray(image)[None]))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return captured


def feature_map_grid(model: Module, image: Any, title: str = "", max_maps: int = 16,
                     save: str | os.PathLike[str] | None = None, lang: str | None = None) -> Any:
    """The image, then one row per layer of :func:`feature_maps`: what each channel
    responds to (conv outputs red +, blue -; after an activation or pooling, grey);
    ``lang`` as in :func:`conv_filters`.

    >>> from chainrule import nn
    >>> model = nn.Sequential(nn.Unflatten(1, (1, 28)), nn.Conv2d(1, 2, 5), nn.ReLU())
    >>> fig = feature_map_grid(model, np.zeros((28, 28), np.float32), lang="en")
    >>> fig.axes[0].get_title()
    'input'
    """
    layers = feature_maps(model, image)
    if not layers:
        raise ValueError("feature_map_grid: no layer of the model outputs images")
    language = figure_language(lang)
    with language.fonts():
        words = language.words
        cols = min(max(len(maps) for _, maps in layers), max_maps) + 1
        fig = new_figure(1.1 * cols, 1.25 * (len(layers) + 1) + 0.3)
        axes = np.atleast_2d(fig.subplots(len(layers) + 1, cols))
        for ax in axes.ravel():
            ax.axis("off")
        show(axes[0, 0], image)  # a grey digit, or a colour image
        axes[0, 0].set_title(words("viz.maps.input"), fontsize=8)
        for row, (name, maps) in zip(axes[1:], layers, strict=True):
            row[0].text(1.0, 0.5, f"{name}\n{'x'.join(str(s) for s in maps.shape)}",
                        ha="right", va="center", fontsize=7, transform=row[0].transAxes)
            signed = bool((maps < 0).any())
            for ax, fmap in zip(row[1:], maps[:max_maps], strict=False):
                if signed:
                    bound = float(np.abs(fmap).max()) or 1.0
                    ax.imshow(fmap, cmap="seismic", vmin=-bound, vmax=bound)
                else:
                    ax.imshow(fmap, cmap="gray", vmin=0, vmax=float(fmap.max()) or 1.0)
        suptitle(fig, title or words("viz.maps.title"))
        return finish(fig, save)
