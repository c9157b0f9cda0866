"""The worked 2-2-2 backpropagation example from the tutorials, computed by chainrule's autograd.

Two inputs (0.05, 0.10), two sigmoid hidden neurons, two sigmoid outputs with targets
(0.01, 0.99), weights w1..w8 = 0.15 .. 0.55, biases 0.35 and 0.60 (not trained),
E = sum 1/2 (target - out)^2, plain gradient descent with lr 0.5.

It prints the forward pass, the updated weights after one step, and E_total after one
and after 10,000 steps. The tutorial's own code feeds the hidden layer's error back
through the output weights it has *already updated* in the same step; ``--as-published``
reproduces that variant so its numbers (0.291027924, 0.000035085) can be checked too.

Run:  python examples/worked_example.py [--as-published] [--steps 10000]
"""

from __future__ import annotations

import argparse
from typing import Any

import chainrule as cr
from chainrule import nn

INPUTS = [0.05, 0.10]
TARGETS = [0.01, 0.99]
W_HIDDEN = [[0.15, 0.20], [0.25, 0.30]]  # w1 w2 (into h1), w3 w4 (into h2)
W_OUTPUT = [[0.40, 0.45], [0.50, 0.55]]  # w5 w6 (into o1), w7 w8 (into o2)
B_HIDDEN, B_OUTPUT = 0.35, 0.60
LR = 0.5

DIFFERENCE = ("The tutorial's published numbers propagate the hidden-layer error through the "
              "output weights already updated in the same step; correct backpropagation uses "
              "the weights of the forward pass, which gives slightly different numbers.")


def build() -> nn.Sequential:
    """The 2-2-2 sigmoid network with the tutorial's weights, float64, biases frozen."""
    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 2), nn.Sigmoid()).double()
    with cr.no_grad():
        model[0].weight.copy_(cr.tensor(W_HIDDEN, dtype=cr.float64))
        model[0].bias.fill_(B_HIDDEN)
        model[2].weight.copy_(cr.tensor(W_OUTPUT, dtype=cr.float64))
        model[2].bias.fill_(B_OUTPUT)
    model[0].bias.requires_grad_(False)
    model[2].bias.requires_grad_(False)
    return model


def total_error(out: cr.Tensor, target: cr.Tensor) -> cr.Tensor:
    """E_total = sum over outputs of 1/2 (target - out)^2."""
    return 0.5 * nn.functional.mse_loss(out, target, reduction="sum")


def train_step(model: nn.Sequential, x: cr.Tensor, target: cr.Tensor,
               as_published: bool = False) -> float:
    """One gradient-descent step; returns E_total before the step."""
    hidden, output = model[0], model[2]
    model.zero_grad()
    out_h = model[1](hidden(x))
    net_o = output(out_h)
    net_o.retain_grad()
    error = total_error(model[3](net_o), target)
    error.backward()
    with cr.no_grad():
        output.weight -= LR * output.weight.grad
    if as_published:
        # redo the hidden layer's gradient with the *updated* output weights (the slip)
        delta_o = net_o.grad
        hidden.weight.grad = None
        out_h2 = model[1](hidden(x))
        cr.linear(out_h2, output.weight.detach()).backward(delta_o)
    with cr.no_grad():
        hidden.weight -= LR * hidden.weight.grad
    return error.item()


def run(steps: int = 10_000, as_published: bool = False) -> dict[str, Any]:
    """Train for ``steps`` steps and collect the numbers the tutorial prints."""
    model = build()
    x = cr.tensor([INPUTS], dtype=cr.float64)
    target = cr.tensor([TARGETS], dtype=cr.float64)
    with cr.no_grad():
        first_out = model(x)
    result: dict[str, Any] = {"out_before": first_out.tolist()[0]}
    result["error_before"] = train_step(model, x, target, as_published)
    result["w_hidden_after_1"] = model[0].weight.tolist()
    result["w_output_after_1"] = model[2].weight.tolist()
    with cr.no_grad():
        result["error_after_1"] = total_error(model(x), target).item()
    for _ in range(steps - 1):
        train_step(model, x, target, as_published)
    with cr.no_grad():
        out = model(x)
        result["error_after"] = total_error(out, target).item()
    result["out_after"] = out.tolist()[0]
    result["steps"] = steps
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as-published", action="store_true",
                        help="reproduce the tutorial's published numbers (see the docstring)")
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="1,000 steps (for CI)")
    args = parser.parse_args(argv)
    steps = 1_000 if args.quick else args.steps
    r = run(steps, args.as_published)
    w1, w2, w3, w4 = (w for row in r["w_hidden_after_1"] for w in row)
    w5, w6, w7, w8 = (w for row in r["w_output_after_1"] for w in row)
    print(f"forward: out_o1 = {r['out_before'][0]:.8f}, out_o2 = {r['out_before'][1]:.9f}")
    print(f"E_total before the step = {r['error_before']:.9f}")
    print(f"after one step: w5..w8 = {w5:.8f}, {w6:.9f}, {w7:.9f}, {w8:.9f}")
    print(f"                w1..w4 = {w1:.9f}, {w2:.8f}, {w3:.8f}, {w4:.8f}")
    print(f"E_total after 1 step = {r['error_after_1']:.9f}")
    print(f"E_total after {steps:,} steps = {r['error_after']:.6g}, outputs "
          f"{r['out_after'][0]:.9f}, {r['out_after'][1]:.9f}")
    variant = "the tutorial's published variant" if args.as_published else "correct backprop"
    print(f"({variant}) {DIFFERENCE}")
    return r


if __name__ == "__main__":
    main()
