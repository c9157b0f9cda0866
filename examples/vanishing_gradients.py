"""Vanishing gradients in a deep (8-layer) MLP: sigmoid vs ReLU, with numbers and a figure.

Each sigmoid layer multiplies the backward signal by its slope, at most 1/4, so by the
first layer the gradient has shrunk by orders of magnitude and the early layers barely
learn. ReLU passes a slope of 1 where it is active, so the gradient reaches the first layer
at about the same size. The script records mean |dE/dW| per layer while training both on
MNIST digits, prints the first-to-last-layer ratio, and plots the gradient flow.

Run:  python examples/vanishing_gradients.py [--quick] [--out FOLDER]
"""

from __future__ import annotations

import os
from typing import Any

import _common as common
import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.viz.gradients import record_gradient_flow


def deep(act: type[nn.Module], layers: int = 8, width: int = 32) -> nn.Sequential:
    """``layers`` weight layers, each initialized the way its activation wants (Xavier for
    sigmoid, He/Kaiming for ReLU), so the difference left is the activation's slope."""
    modules: list[nn.Module] = [nn.Flatten(), nn.Linear(784, width), act()]
    for _ in range(layers - 2):
        modules += [nn.Linear(width, width), act()]
    modules.append(nn.Linear(width, 10))
    model = nn.Sequential(*modules)
    for m in model.modules():
        if isinstance(m, nn.Linear):
            if act is nn.ReLU:
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            else:
                nn.init.xavier_normal_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def batches(loader: Any, steps: int) -> Any:
    """``steps`` batches from ``loader``, starting another pass when one ends (mini-MNIST
    holds 313 batches of 32, fewer than a full run's steps)."""
    count = 0
    while count < steps:
        for batch in loader:
            if count == steps:
                return
            count += 1
            yield batch


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = common.parser(__doc__).parse_args(argv)
    folder = common.out_dir(args, "vanishing_gradients")
    train_set, _, name = common.mnist(quick=True)
    steps = 100 if args.quick else 600
    flows = {}
    for label, act in (("sigmoid", nn.Sigmoid), ("relu", nn.ReLU)):
        cr.manual_seed(0)
        model = deep(act)
        loader = cr.data.DataLoader(train_set, batch_size=32, shuffle=True,
                                    generator=cr.Generator(0))
        flows[label] = record_gradient_flow(model, nn.CrossEntropyLoss(),
                                            cr.optim.SGD(model.parameters(), lr=0.1),
                                            batches(loader, steps))
    ratios = {}
    for label, flow in flows.items():
        mean = flow.mean(axis=0)
        ratios[label] = float(mean[0] / mean[-1])
        print(f"{label:>8}: mean |dE/dW| per layer (input -> output): "
              + " ".join(f"{v:.1e}" for v in mean))
        print(f"{'':>8}  first / last layer = {ratios[label]:.2e}")
    done = {len(flow) for flow in flows.values()}  # the steps each network was trained for
    assert done == {steps}, done
    passes = steps * 32 / len(train_set)
    print(f"({name}, 8 weight layers of width 32, {steps} SGD steps of batch 32 = "
          f"{passes:.2g} passes over its {len(train_set):,} training images)")
    if common.have_matplotlib():
        from chainrule import viz

        viz.gradient_flow(flows, save=os.path.join(folder, "gradient_flow.png"))
        viz.activation_functions(save=os.path.join(folder, "activations.png"))
        print(f"figures in {folder}")
    assert ratios["sigmoid"] < 1e-3 and ratios["relu"] > 100 * ratios["sigmoid"], ratios
    assert np.all(np.diff(flows["sigmoid"].mean(axis=0)[:-1]) > 0), "sigmoid: shrinking backward"
    return {"ratios": ratios, "flows": flows}


if __name__ == "__main__":
    main()
