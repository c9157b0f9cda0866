"""Explain one point: the forward and backward pass of the playground's network for that
single example, with real numbers, by :func:`chainrule.explain.backprop` (the walk-through
``chainrule example backprop`` prints).

The clicked position picks the nearest data point; the walk-through runs on the network's
own layers (dropout, an identity at evaluation, left out) and leaves the training state as
it was: the gradients of the last training step are put back afterwards.

>>> from chainrule.playground.session import Session
>>> session = Session({"data": "xor", "hidden": [2], "seed": 3})
>>> view = explain(session, 0.0, 0.0)
>>> view["lines"][0], view["label"] in (0, 1)
('FORWARD PASS', True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.explain.backprop import backprop, half_squared_error
from chainrule.playground.options import SetupError
from chainrule.playground.session import Session
from chainrule.tensor import Tensor

LANGUAGES = ("en", "zh")


def _cross_entropy_terms(output: Tensor, target: Tensor) -> Tensor:
    return -(target * nn.functional.log_softmax(output, dim=-1))


def _sigmoid_squared_terms(output: Tensor, target: Tensor) -> Tensor:
    return 0.5 * (output.sigmoid() - target) ** 2


def nearest(session: Session, x: float, y: float) -> int:
    """Index of the data point closest to (x, y)."""
    distance = ((session.points - np.array([x, y])) ** 2).sum(axis=1)
    return int(distance.argmin())


def explain(session: Session, x: float, y: float, lang: str = "en") -> dict[str, Any]:
    """The walk-through of the data point nearest to (x, y) as lines of text (headings in
    ``lang``, English or Chinese, from :mod:`chainrule.i18n`), with the point and its label."""
    if lang not in LANGUAGES:
        raise SetupError("lang", f"{lang!r:.20} is not one of {', '.join(LANGUAGES)}")
    if session.setup["activation"] == "maxout":
        raise SetupError("explain", "the step-through covers Linear layers followed by an "
                         "elementwise activation; Maxout takes the larger of two linear "
                         "pieces per neuron: choose another activation to step through")
    index = nearest(session, x, y)
    loss: Callable[[Tensor, Tensor], Tensor]
    label = session.labels[index]
    features = session.inputs[index:index + 1]
    if session.regression:
        target, loss, names = cr.tensor([[float(label)]]), half_squared_error, ["y"]
    else:
        onehot = np.zeros((1, session.classes), dtype=np.float32)
        onehot[0, int(label)] = 1.0
        target = cr.tensor(onehot)
        loss = (_sigmoid_squared_terms if session.setup["loss"] == "mse"
                else _cross_entropy_terms)
        names = [f"class{k}" for k in range(session.classes)]
    layers = [m for m in session.model if not isinstance(m, nn.Dropout)]
    kept = [p.grad for p in session.model.parameters()]
    lr = session.setup["lr"] if session.setup["optimizer"] == "sgd" else None
    try:
        walk = backprop(nn.Sequential(*layers), features, target, loss=loss, lr=lr,
                        file=None, names=names, lang=lang)
    finally:
        for p, grad in zip(session.model.parameters(), kept, strict=True):
            p.grad = grad
    return {
        "type": "explain", "index": index, "point": session.points[index].tolist(),
        "label": float(label) if session.regression else int(label),
        "split": "test" if index in set(session.test_idx.tolist()) else "train",
        "features": dict(zip(session.setup["features"],
                             features.numpy()[0].astype(float).tolist(), strict=True)),
        "lines": walk.lines, "update": lr is not None,
    }
