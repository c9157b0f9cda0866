"""Activation functions compared on one task: sigmoid, tanh, ReLU, Leaky ReLU, PReLU, ELU,
GELU and Maxout, same data, same architecture, same optimizer.

Prints each one's final test accuracy and how many hidden ReLU-like units are "dead"
(never positive on any training example: their gradient is zero, so they stop learning).

Run:  python examples/activations.py [--quick]
"""

from __future__ import annotations

from typing import Any

import _common as common
import numpy as np

import chainrule as cr
from chainrule import nn

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
               "leaky_relu": lambda: nn.LeakyReLU(0.1), "prelu": nn.PReLU, "elu": nn.ELU,
               "gelu": nn.GELU}


def build(name: str, width: int) -> nn.Sequential:
    if name == "maxout":
        return nn.Sequential(nn.Maxout(2, width, 2), nn.Maxout(width, width, 2),
                             nn.Linear(width, 3))
    act = ACTIVATIONS[name]
    return nn.Sequential(nn.Linear(2, width), act(), nn.Linear(width, width), act(),
                         nn.Linear(width, 3))


def dead_units(model: nn.Sequential, X: cr.Tensor) -> int:
    """Hidden units (after the activation) that are never > 0 on the data."""
    count = 0
    h = X
    with cr.no_grad():
        for module in model:
            h = module(h)
            if isinstance(module, nn.ReLU):
                count += int((h.numpy() <= 0).all(axis=0).sum())
    return count


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = common.parser(__doc__).parse_args(argv)
    X, y = cr.data.make_spiral(600, noise=0.2, seed=0)
    X_test, y_test = cr.data.make_spiral(600, noise=0.2, seed=1)
    epochs = 60 if args.quick else 300
    results: dict[str, Any] = {}
    for name in [*ACTIVATIONS, "maxout"]:
        cr.manual_seed(0)
        model = build(name, 32)
        opt = cr.optim.Adam(model.parameters(), lr=0.01)
        common.train(model, X, y, epochs=epochs, optimizer=opt, batch_size=32)
        results[name] = {"test_accuracy": common.accuracy(model, X_test, y_test),
                         "dead_units": dead_units(model, X)}
        print(f"{name:>10}: test accuracy {results[name]['test_accuracy']:.1%}"
              + (f", dead ReLU units {results[name]['dead_units']} of 64" if name == "relu"
                 else ""))
    best = max(results, key=lambda k: results[k]["test_accuracy"])
    print(f"best here: {best}; sigmoid, whose slope is at most 1/4, learns slowest")
    accs = np.array([r["test_accuracy"] for r in results.values()])
    assert (accs > 0.6).all(), results
    assert results["sigmoid"]["test_accuracy"] <= np.median(accs)
    return results


if __name__ == "__main__":
    main()
