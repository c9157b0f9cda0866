"""Activation functions compared on one task: sigmoid, tanh, ReLU, Leaky ReLU, PReLU, ELU,
GELU and Maxout, same data, same architecture, same optimizer.

Prints how fast each one learns (the first epoch after which the loss on the whole training
set is below 0.2), its final test accuracy, and how many hidden ReLU units are "dead" (never
positive on any training example: their gradient is zero, so they stop learning). Given
enough epochs they all end at about the same accuracy; the difference is the speed, and the
slowest is named only when the measurement singles it out.

Run:  python examples/activations.py [--quick]
"""

from __future__ import annotations

from typing import Any

import _common as common
import numpy as np

import chainrule as cr
from chainrule import nn

THRESHOLD = 0.2  # the training loss each activation has to get below (it starts at ~1.1)
BATCH = 32
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


def epochs_to_loss(model: nn.Module, X: cr.Tensor, y: cr.Tensor, epochs: int,
                   threshold: float) -> int | None:
    """Train with Adam (lr 0.01, batch 32) for ``epochs`` and return the first epoch after
    which the loss on the whole training set is below ``threshold`` (None: never)."""
    loss_fn = nn.CrossEntropyLoss()
    optimizer = cr.optim.Adam(model.parameters(), lr=0.01)
    loader = cr.data.DataLoader(cr.data.TensorDataset(X, y), batch_size=BATCH, shuffle=True,
                                generator=cr.Generator(0))
    reached = None
    for epoch in range(1, epochs + 1):
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()
        model.eval()
        with cr.no_grad():
            loss = loss_fn(model(X), y).item()
        if reached is None and loss < threshold:
            reached = epoch
    return reached


def conclusion(results: dict[str, Any], epochs: int) -> str:
    """What the measured speeds say, and no more: the slowest activation is named only when
    it took at least 1.5 times as many epochs as the next slowest (one that never got there
    in ``epochs`` counts as ``epochs + 1``)."""
    def took(name: str) -> int:
        reached = results[name]["epochs_to_loss"]
        return epochs + 1 if reached is None else int(reached)

    def said(name: str) -> str:
        reached = results[name]["epochs_to_loss"]
        return f"not in {epochs} epochs" if reached is None else f"{reached} epochs"

    ranked = sorted(results, key=took)
    slowest, runner_up = ranked[-1], ranked[-2]
    if took(slowest) < 1.5 * took(runner_up):
        return (f"no activation is clearly slowest here ({slowest}: {said(slowest)}, "
                f"{runner_up}: {said(runner_up)})")
    why = ", whose slope is at most 1/4 (the gradient shrinks at every layer)" \
        if slowest == "sigmoid" else ""
    return (f"slowest to reach the loss: {slowest}{why}, {said(slowest)}, "
            f"{took(slowest) / took(runner_up):.1f}x the next slowest ({runner_up}, "
            f"{said(runner_up)})")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = common.parser(__doc__).parse_args(argv)
    X, y = cr.data.make_spiral(600, noise=0.2, seed=0)
    X_test, y_test = cr.data.make_spiral(600, noise=0.2, seed=1)
    epochs = 60 if args.quick else 300
    steps = -(-len(y) // BATCH)
    print(f"spiral, 600 training points, 2 hidden layers of 32, Adam lr 0.01, batch {BATCH} "
          f"({steps} steps per epoch), {epochs} epochs; speed: the first epoch after which "
          f"the training loss is below {THRESHOLD}")
    results: dict[str, Any] = {}
    for name in [*ACTIVATIONS, "maxout"]:
        cr.manual_seed(0)
        model = build(name, 32)
        reached = epochs_to_loss(model, X, y, epochs, THRESHOLD)
        results[name] = {"test_accuracy": common.accuracy(model, X_test, y_test),
                         "epochs_to_loss": reached, "dead_units": dead_units(model, X)}
        speed = (f"loss < {THRESHOLD} after {reached:>3} epochs ({reached * steps:>4} steps)"
                 if reached is not None else f"loss never < {THRESHOLD} in {epochs} epochs")
        print(f"{name:>10}: {speed}, test accuracy {results[name]['test_accuracy']:.1%}"
              + (f", dead ReLU units {results[name]['dead_units']} of 64" if name == "relu"
                 else ""))
    accs = np.array([r["test_accuracy"] for r in results.values()])
    print(f"test accuracy after {epochs} epochs: {accs.min():.1%} to {accs.max():.1%}; "
          + conclusion(results, epochs))
    assert (accs > 0.6).all(), results
    assert all(r["epochs_to_loss"] is not None for r in results.values()), results
    others = [r["epochs_to_loss"] for k, r in results.items() if k != "sigmoid"]
    assert results["sigmoid"]["epochs_to_loss"] > np.median(others), results
    return results


if __name__ == "__main__":
    main()
