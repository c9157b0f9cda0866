"""The worked 2-2-2 example of the classic backpropagation tutorial, as a chainrule network.

Inputs (0.05, 0.10), targets (0.01, 0.99), weights w1..w8 = 0.15 .. 0.55, biases 0.35 and
0.60 (not trained), sigmoid everywhere, E = sum of 1/2 (target - out)^2, lr 0.5.

>>> result = run(steps=1)
>>> round(result["error_after_1"], 9)
0.291027774
"""

from __future__ import annotations

from typing import Any

from chainrule import creation, nn
from chainrule.autograd.grad_mode import no_grad
from chainrule.ops import linalg
from chainrule.tensor import Tensor

INPUTS = [0.05, 0.10]
TARGETS = [0.01, 0.99]
W_HIDDEN = [[0.15, 0.20], [0.25, 0.30]]  # w1 w2 (into h1), w3 w4 (into h2)
W_OUTPUT = [[0.40, 0.45], [0.50, 0.55]]  # w5 w6 (into o1), w7 w8 (into o2)
B_HIDDEN, B_OUTPUT = 0.35, 0.60
LR = 0.5
PUBLISHED: dict[str, Any] = {"error_after_1": 0.291027924, "error_after_10000": 0.000035085,
                              "out_after_10000": (0.015912196, 0.984065734)}

DIFFERENCE = ("The tutorial's published numbers propagate the hidden-layer error through the "
              "output weights already updated in the same step; correct backpropagation uses "
              "the weights of the forward pass, which gives slightly different numbers.")


def build() -> nn.Sequential:
    """The 2-2-2 sigmoid network with the tutorial's weights, float64, biases frozen."""
    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 2), nn.Sigmoid()).double()
    with no_grad():
        model[0].weight.copy_(creation.tensor(W_HIDDEN, dtype="float64"))
        model[0].bias.fill_(B_HIDDEN)
        model[2].weight.copy_(creation.tensor(W_OUTPUT, dtype="float64"))
        model[2].bias.fill_(B_OUTPUT)
    model[0].bias.requires_grad_(False)
    model[2].bias.requires_grad_(False)
    return model


def data() -> tuple[Tensor, Tensor]:
    """The one training example as (1, 2) float64 tensors."""
    return (creation.tensor([INPUTS], dtype="float64"),
            creation.tensor([TARGETS], dtype="float64"))


def total_error(out: Tensor, target: Tensor) -> Tensor:
    """E_total = sum over outputs of 1/2 (target - out)^2."""
    return 0.5 * nn.functional.mse_loss(out, target, reduction="sum")


def train_step(model: nn.Sequential, x: Tensor, target: Tensor,
               as_published: bool = False) -> float:
    """One gradient-descent step; returns E_total before the step.

    With ``as_published`` the hidden layer's gradient is recomputed through the output
    weights *after* their update, which is what the tutorial's code does.
    """
    hidden, output = model[0], model[2]
    model.zero_grad()
    out_h = model[1](hidden(x))
    net_o = output(out_h)
    net_o.retain_grad()
    error = total_error(model[3](net_o), target)
    error.backward()
    with no_grad():
        output.weight -= LR * output.weight.grad
    if as_published:
        delta_o = net_o.grad
        hidden.weight.grad = None
        linalg.linear(model[1](hidden(x)), output.weight.detach()).backward(delta_o)
    with no_grad():
        hidden.weight -= LR * hidden.weight.grad
    return float(error.item())


def run(steps: int = 10_000, as_published: bool = False) -> dict[str, Any]:
    """Train for ``steps`` steps and collect the numbers the tutorial prints."""
    model = build()
    x, target = data()
    with no_grad():
        first_out = model(x)
    result: dict[str, Any] = {"out_before": first_out.tolist()[0]}
    result["error_before"] = train_step(model, x, target, as_published)
    result["w_hidden_after_1"] = model[0].weight.tolist()
    result["w_output_after_1"] = model[2].weight.tolist()
    with no_grad():
        result["error_after_1"] = float(total_error(model(x), target).item())
    for _ in range(steps - 1):
        train_step(model, x, target, as_published)
    with no_grad():
        out = model(x)
        result["error_after"] = float(total_error(out, target).item())
    result["out_after"] = out.tolist()[0]
    result["steps"] = steps
    return result
