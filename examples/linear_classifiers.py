"""A single neuron as a linear classifier: logistic (binary softmax) vs SVM (hinge) loss.

Part 1, two classes in 2-D: the same neuron w.x + b trained with the logistic loss
(BCEWithLogitsLoss) and with the binary hinge loss mean(max(0, 1 - y s)), y in {-1, +1}.
Part 2, three classes: a linear layer with the softmax (cross-entropy) loss vs the
multiclass SVM loss (MultiMarginLoss). Both draw straight boundaries; they differ in how
they treat points that are already classified correctly.

Run:  python examples/linear_classifiers.py [--quick] [--out FOLDER]
"""

from __future__ import annotations

import os
from typing import Any

import _common as common

import chainrule as cr
from chainrule import nn


def binary(loss: str, X: cr.Tensor, y: cr.Tensor, epochs: int) -> tuple[nn.Linear, float]:
    cr.manual_seed(0)
    neuron = nn.Linear(2, 1)
    opt = cr.optim.SGD(neuron.parameters(), lr=0.1)
    target01 = y.float().reshape(-1, 1)
    signs = target01 * 2 - 1
    for _ in range(epochs):
        opt.zero_grad()
        score = neuron(X)
        if loss == "logistic":
            value = nn.functional.binary_cross_entropy_with_logits(score, target01)
        else:
            value = nn.functional.relu(1 - signs * score).mean()
        value.backward()
        opt.step()
    with cr.no_grad():
        acc = float(((neuron(X).numpy().ravel() > 0) == (y.numpy() == 1)).mean())
    return neuron, acc


class TwoScores(nn.Module):
    """Turn one score s into (0, s) so the 2-class boundary plot can take an argmax."""

    def __init__(self, neuron: nn.Linear) -> None:
        super().__init__()
        self.neuron = neuron

    def forward(self, x: cr.Tensor) -> cr.Tensor:
        s = self.neuron(x)
        return cr.cat([cr.zeros_like(s), s], dim=1)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = common.parser(__doc__).parse_args(argv)
    folder = common.out_dir(args, "linear_classifiers")
    epochs = 200 if args.quick else 1000
    X2, y2 = cr.data.make_gaussians(300, centers=2, std=1.5, seed=0)
    results: dict[str, Any] = {}
    models = []
    for loss in ("logistic", "hinge"):
        neuron, results[f"binary_{loss}"] = binary(loss, X2, y2, epochs)
        models.append((f"binary {loss}", TwoScores(neuron)))
    X3, y3 = cr.data.make_gaussians(450, centers=3, std=1.2, seed=1)
    for name, loss_fn in (("softmax", nn.CrossEntropyLoss()), ("svm", nn.MultiMarginLoss())):
        cr.manual_seed(0)
        layer = nn.Linear(2, 3)
        common.train(layer, X3, y3, epochs=epochs // 10, loss_fn=loss_fn, lr=0.1)
        results[f"multiclass_{name}"] = common.accuracy(layer, X3, y3)
        models.append((f"3-class {name}", layer))
    for key, value in results.items():
        print(f"{key:>20}: training accuracy {value:.1%}")
    if common.have_matplotlib():
        from chainrule import viz

        viz.decision_boundary(models[:2], X2, y2, save=os.path.join(folder, "binary.png"))
        viz.decision_boundary(models[2:], X3, y3, save=os.path.join(folder, "multiclass.png"))
        print(f"figures in {folder}")
    assert all(v > 0.85 for v in results.values()), results
    return results


if __name__ == "__main__":
    main()
