"""``chainrule plot RUN``: the standard figures of a run, written as PNGs next to it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.autograd.grad_mode import no_grad
from chainrule.data.loader import DataLoader
from chainrule.nn.layers import Linear
from chainrule.tensor import Tensor
from chainrule.train.metrics import confusion_matrix as count_confusion
from chainrule.train.metrics import predictions
from chainrule.viz.augment import augmented_grid
from chainrule.viz.boundary import decision_boundary, neuron_boundaries
from chainrule.viz.conv import conv_filters, feature_map_grid, first_conv
from chainrule.viz.fonts import figure_language
from chainrule.viz.pictures import colour_templates
from chainrule.viz.training import confusion_matrix, misclassified, training_curves
from chainrule.viz.weights import activation_histograms, first_layer_weights


def plot_run(folder: str, model: Any, test_set: Any, features: int, classes: int,
             augment: Sequence[str] | None = None, seed: int = 0,
             lang: str | None = None) -> list[str]:
    """Write curves, confusion matrix and model-specific figures; return the file paths.

    Images: misclassified digits, and the first layer's weights (an MLP) or, for a
    convolutional network, its first layer's filters and the first test image's feature
    maps after each layer; with ``augment`` (the run's ``--augment``), the first test
    images and augmented versions of them (``augment.png``). 2-D points: decision
    boundaries. ``lang``: the language of every figure's words ("en", "zh"; default
    ``$CHAINRULE_LANG`` or the locale; Chinese needs a CJK font, see
    :mod:`chainrule.viz.fonts`).
    """
    written = []

    def path(name: str) -> str:
        written.append(os.path.join(folder, name))
        return written[-1]

    training_curves(folder, save=path("curves.png"), lang=lang)
    xs, ys, preds = [], [], []
    model.eval()
    with no_grad():
        for x, y in DataLoader(test_set, batch_size=1000):
            out = model(x)
            xs.append(np.asarray(x.numpy()))
            ys.append(np.asarray(y.numpy()))
            preds.append(predictions(out))
    X, Y, P = np.concatenate(xs), np.concatenate(ys), np.concatenate(preds)
    k = max(classes, int(max(Y.max(), P.max())) + 1)
    confusion_matrix(count_confusion(Y, P, k), save=path("confusion.png"), lang=lang)
    sample = Tensor._wrap(X[:500])
    activation_histograms(model, sample, save=path("activations.png"), lang=lang)
    first = next(m for m in model.modules() if isinstance(m, Linear))
    if features != 2:
        misclassified(X, Y, P, save=path("misclassified.png"), lang=lang)
        if first_conv(model) is None and features == 3072:
            colour_templates(first, save=path("weights.png"), lang=lang)
        elif first_conv(model) is None:
            first_layer_weights(first, save=path("weights.png"), lang=lang)
        else:
            conv_filters(model, save=path("filters.png"), lang=lang)
            title = figure_language(lang).words("viz.maps.test_image", label=Y[0],
                                                predicted=P[0])
            feature_map_grid(model, X[0], title, save=path("feature_maps.png"), lang=lang)
        if augment:
            augmented_grid(X[:6], augment, seed=seed, labels=Y[:6].tolist(),
                           save=path("augment.png"), lang=lang)
    else:
        decision_boundary(model, X, Y, save=path("boundary.png"), lang=lang)
        neuron_boundaries(model, X, Y, save=path("neurons.png"), lang=lang)
    return written
