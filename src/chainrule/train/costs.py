"""The costs ``chainrule train --loss`` trains with, and what a trained model's outputs mean.

Three costs of a classifier with K outputs ``z`` (logits) and a batch of n labels, with
``y`` the one-hot target row and ``a = sigmoid(z)``:

* ``cross_entropy`` (the default): softmax over the K outputs, then the negative log of
  the true class's probability, averaged over the batch (``nn.CrossEntropyLoss``).
* ``mse``: Nielsen's network.py quadratic cost, ``C = 1/n sum_x 1/2 ||a(x) - y(x)||^2``:
  half the squared error summed over the K sigmoid outputs, averaged over the batch. Its
  gradient with respect to ``a`` is ``(a - y) / n``, network.py's ``cost_derivative``.
* ``bce``: Nielsen's network2.py ``CrossEntropyCost``,
  ``C = 1/n sum_x sum_k [-y_k ln a_k - (1 - y_k) ln(1 - a_k)]``: a binary cross-entropy
  per class, summed over the K sigmoid outputs and averaged over the batch. Computed from
  the logits (``binary_cross_entropy_with_logits``), so a saturated output never takes
  log(0); its gradient with respect to ``z`` is ``(a - y) / n``, network2's delta.
* ``multi_margin``: the multiclass SVM (hinge) loss (``nn.MultiMarginLoss``).

A model trained with ``mse`` or ``bce`` has K independent sigmoid outputs: each one is the
probability of its class on its own, and they need not sum to 1. :func:`probabilities`
turns outputs into probabilities the way the run was trained (softmax or sigmoid).

>>> import chainrule as cr
>>> z, y = cr.tensor([[0.0, 0.0]]), cr.tensor([1])
>>> round(OneHotBCE(2)(z, y).item(), 4)  # two classes, each -ln(1/2)
1.3863
>>> round(OneHotMSE(2)(z, y).item(), 4)  # 1/2 * (0.5^2 + 0.5^2)
0.25
"""

from __future__ import annotations

from typing import Any

from chainrule import nn
from chainrule.tensor import Tensor

LOSSES = ("cross_entropy", "mse", "bce", "multi_margin")
SIGMOID_LOSSES = ("mse", "bce")  # costs of sigmoid outputs: probabilities by sigmoid


class OneHotMSE(nn.Module):
    """The tutorials' quadratic cost C = 1/(2n) sum_x ||y(x) - a(x)||^2: sigmoid outputs
    against one-hot targets, summed over the outputs and averaged over the batch."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.num_classes = num_classes

    def forward(self, output: Any, target: Any) -> Any:
        onehot = nn.functional.one_hot(target, self.num_classes, dtype=output.dtype)
        total = nn.functional.mse_loss(output.sigmoid(), onehot, reduction="sum")
        return total * (0.5 / max(len(onehot), 1))


class OneHotBCE(nn.Module):
    """network2.py's cross-entropy cost: a binary cross-entropy per class between the
    sigmoid outputs and the one-hot targets, summed over the classes and averaged over the
    batch, computed from the logits (numerically stable)."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.num_classes = num_classes

    def forward(self, output: Any, target: Any) -> Any:
        onehot = nn.functional.one_hot(target, self.num_classes, dtype=output.dtype)
        total = nn.functional.binary_cross_entropy_with_logits(output, onehot,
                                                               reduction="sum")
        return total * (1.0 / max(len(onehot), 1))


def build_loss(config: dict[str, Any], num_classes: int) -> nn.Module:
    """The cost of ``config['loss']`` for a model with ``num_classes`` outputs."""
    loss = config["loss"]
    if loss == "mse":
        return OneHotMSE(num_classes)
    if loss == "bce":
        return OneHotBCE(num_classes)
    if loss == "multi_margin":
        return nn.MultiMarginLoss()
    return nn.CrossEntropyLoss()


def probabilities(loss: str, output: Tensor) -> Tensor:
    """The class probabilities of a model's outputs (N, K) as the run trained them:
    sigmoid for ``mse`` and ``bce`` (one probability per class, not summing to 1),
    softmax otherwise."""
    if loss in SIGMOID_LOSSES:
        return output.sigmoid()
    return nn.functional.softmax(output, dim=1)
