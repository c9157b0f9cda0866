"""The classic from-scratch NeuralNetwork class in plain NumPy, next to the same net in chainrule.

The NumPy class (weights ``wih`` and ``who``, ``train`` and ``run``) updates with
    output errors  e_o = targets - outputs
    hidden errors  e_h = who.T @ e_o                 (the error split by the weights)
    who += lr * (e_o * o * (1 - o)) @ h.T
    wih += lr * (e_h * h * (1 - h)) @ x.T
The ``who`` update is exactly gradient descent on E = 1/2 sum (target - output)^2, and
chainrule's autograd gives the same gradient. The ``wih`` update is not quite: the true
hidden error is who.T @ (e_o * o * (1 - o)), the book's drops the outputs' slope o (1 - o).
With that one factor put back (``exact=True``) the NumPy class and chainrule agree to
rounding on every weight, step after step; this script shows both facts with numbers.

Run:  python examples/neural_network_class.py [--quick]
"""

from __future__ import annotations

from typing import Any

import _common as common
import numpy as np

import chainrule as cr
from chainrule import nn


class NeuralNetwork:
    """Three layers, sigmoid, no biases: the book's class, NumPy only."""

    def __init__(self, inputs: int, hidden: int, outputs: int, lr: float, seed: int = 0,
                 exact: bool = False) -> None:
        rng = np.random.default_rng(seed)
        self.wih = rng.normal(0.0, inputs**-0.5, (hidden, inputs))
        self.who = rng.normal(0.0, hidden**-0.5, (outputs, hidden))
        self.lr, self.exact = lr, exact

    @staticmethod
    def activation(x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-x))

    def train(self, inputs: list[float], targets: list[float]) -> None:
        x = np.array(inputs, ndmin=2).T
        t = np.array(targets, ndmin=2).T
        h = self.activation(self.wih @ x)
        o = self.activation(self.who @ h)
        output_errors = t - o
        if self.exact:  # the true chain rule: through the outputs' slope o (1 - o)
            hidden_errors = self.who.T @ (output_errors * o * (1.0 - o))
        else:  # the book: split the error by the weights
            hidden_errors = self.who.T @ output_errors
        self.who += self.lr * (output_errors * o * (1.0 - o)) @ h.T
        self.wih += self.lr * (hidden_errors * h * (1.0 - h)) @ x.T

    def run(self, inputs: list[float]) -> np.ndarray:
        x = np.array(inputs, ndmin=2).T
        return self.activation(self.who @ self.activation(self.wih @ x))


def chainrule_twin(net: NeuralNetwork) -> nn.Sequential:
    """The same network in chainrule, float64, starting from the same weights."""
    model = nn.Sequential(nn.Linear(net.wih.shape[1], net.wih.shape[0], bias=False), nn.Sigmoid(),
                          nn.Linear(net.who.shape[1], net.who.shape[0], bias=False),
                          nn.Sigmoid()).double()
    with cr.no_grad():
        model[0].weight.copy_(cr.tensor(net.wih))
        model[2].weight.copy_(cr.tensor(net.who))
    return model


def first_step_updates(net: NeuralNetwork, x: np.ndarray, t: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(delta wih, delta who) of one NumPy training step, leaving ``net`` unchanged."""
    wih, who = net.wih.copy(), net.who.copy()
    net.train(x.tolist(), t.tolist())
    updates = net.wih - wih, net.who - who
    net.wih, net.who = wih, who
    return updates


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = common.parser(__doc__).parse_args(argv)
    train_set, test_set, name = common.mnist(quick=True)
    samples = 300 if args.quick else 3000
    images = train_set.arrays[0].reshape(-1, 784).astype(np.float64) * 0.99 + 0.01
    labels = train_set.targets

    def targets_for(i: int) -> np.ndarray:
        t = np.full(10, 0.01)
        t[labels[i]] = 0.99
        return t

    book = NeuralNetwork(784, 100, 10, lr=0.3)
    exact = NeuralNetwork(784, 100, 10, lr=0.3, exact=True)
    model = chainrule_twin(exact)
    opt = cr.optim.SGD(model.parameters(), lr=0.3)

    # one step from the same weights: compare the updates
    out = model(cr.tensor(images[:1]))
    (0.5 * ((cr.tensor(targets_for(0)[None]) - out) ** 2).sum()).backward()
    auto_ih = -0.3 * model[0].weight.grad.numpy()  # type: ignore[union-attr]
    auto_ho = -0.3 * model[2].weight.grad.numpy()  # type: ignore[union-attr]
    book_ih, book_ho = first_step_updates(book, images[0], targets_for(0))
    ratio = float(np.abs(book_ih).sum() / np.abs(auto_ih).sum())

    for i in range(samples):  # one sample at a time, as in the book
        exact.train(images[i].tolist(), targets_for(i).tolist())
        book.train(images[i].tolist(), targets_for(i).tolist())
        opt.zero_grad()
        out = model(cr.tensor(images[i : i + 1]))
        (0.5 * ((cr.tensor(targets_for(i)[None]) - out) ** 2).sum()).backward()
        opt.step()
    diff = max(float(np.abs(model[0].weight.detach().numpy() - exact.wih).max()),
               float(np.abs(model[2].weight.detach().numpy() - exact.who).max()))
    test_x = test_set.arrays[0].reshape(-1, 784).astype(np.float64) * 0.99 + 0.01
    truth = test_set.targets[:500]

    def acc(net: NeuralNetwork) -> float:
        return float((np.stack([net.run(x).ravel() for x in test_x[:500]]).argmax(1)
                      == truth).mean())

    with cr.no_grad():
        chain_acc = float((model(cr.tensor(test_x[:500])).numpy().argmax(1) == truth).mean())
    who_same = float(np.abs(book_ho - auto_ho).max())
    print("one step from the same weights:")
    print(f"  who update, book class vs chainrule autograd: max difference {who_same:.1e}")
    print(f"  wih update: the book's is {ratio:.1f}x chainrule's in size (no o(1-o) factor)")
    print(f"after {samples} {name} samples one at a time (lr 0.3):")
    print(f"  exact NumPy class vs chainrule: largest weight difference {diff:.1e}")
    print(f"  accuracy on 500 test images: book {acc(book):.1%}, exact NumPy {acc(exact):.1%}, "
          f"chainrule {chain_acc:.1%}")
    assert who_same < 1e-12, "output-layer gradients must agree"
    assert ratio > 1.5, "the book's hidden update skips the outputs' slope"
    assert diff < 1e-10, "with the chain rule complete, NumPy and chainrule must agree"
    return {"who_difference": who_same, "wih_ratio": ratio, "difference": diff,
            "accuracy": chain_acc}


if __name__ == "__main__":
    main()
