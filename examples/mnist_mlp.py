"""The tutorials' 784-16-16-10 sigmoid network on MNIST: squared-error cost vs cross-entropy.

Shows: the parameter count (13,002), mini-batch SGD (batch 32, lr 0.5), and why the
cross-entropy cost learns faster than the quadratic cost with sigmoid outputs (its gradient
does not carry the small sigma' factor). Saves training curves and the first layer's
weights as images.

Run:  python examples/mnist_mlp.py [--quick] [--out FOLDER]
"""

from __future__ import annotations

import os
from typing import Any

import _common as common

import chainrule as cr
from chainrule import nn
from chainrule.train import Trainer
from chainrule.train.recipe import OneHotMSE


def build() -> nn.Sequential:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.Sigmoid(), nn.Linear(16, 16),
                         nn.Sigmoid(), nn.Linear(16, 10))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = common.parser(__doc__).parse_args(argv)
    folder = common.out_dir(args, "mnist_mlp")
    train_set, test_set, name = common.mnist(args.quick)
    epochs = 2 if args.quick else 5
    results: dict[str, Any] = {}
    for cost, loss_fn in (("quadratic", OneHotMSE(10)), ("cross-entropy", nn.CrossEntropyLoss())):
        cr.manual_seed(0)
        model = build()
        results["parameters"] = model.num_parameters()
        loader = cr.data.DataLoader(train_set, batch_size=32, shuffle=True,
                                    generator=cr.Generator(1))
        run = os.path.join(folder, cost)
        if os.path.exists(run):
            for f in os.listdir(run):
                os.remove(os.path.join(run, f))
        trainer = Trainer(model, loss_fn, cr.optim.SGD(model.parameters(), lr=0.5), out_dir=run,
                          progress=False, log=None)
        test_loader = cr.data.DataLoader(test_set, batch_size=1000)
        trainer.fit(loader, test_loader, epochs=epochs)
        results[cost] = trainer.evaluate(test_loader, 10)["accuracy"]
        if common.have_matplotlib():
            from chainrule import viz

            viz.training_curves(run, save=os.path.join(run, "curves.png"))
            viz.first_layer_weights(model, save=os.path.join(run, "weights.png"))
    print(f"784-16-16-10 sigmoid network: {results['parameters']:,} parameters; {name}, "
          f"{epochs} epochs, SGD lr 0.5, batch 32")
    print(f"test accuracy, quadratic cost:     {results['quadratic']:.2%}")
    print(f"test accuracy, cross-entropy cost: {results['cross-entropy']:.2%}")
    print(f"figures in {folder}/<cost>/curves.png and weights.png")
    assert results["parameters"] == 13_002
    assert results["cross-entropy"] > results["quadratic"], "cross-entropy should learn faster"
    assert results["cross-entropy"] > (0.8 if args.quick else 0.94)
    return results


if __name__ == "__main__":
    main()
