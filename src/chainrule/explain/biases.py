"""The worked example's biases: their gradients, their updates, and what training them changes.

The tutorial keeps its two biases fixed (b1 = 0.35 into both hidden neurons, b2 = 0.60 into
both outputs). Their gradients are still there to read: a bias enters its neuron's net input
with the factor 1, so dE/db of a neuron is that neuron's delta dE/dnet; a bias shared by a
layer, as the tutorial draws b1 and b2, gets the sum of its layer's deltas. ``nn.Linear``
gives every neuron its own bias. :func:`bias_walkthrough` prints all three: the per-neuron
gradients and updates, the shared ones, and the error after one and after many steps with
the biases fixed, trained per neuron, and trained as shared biases.

>>> walk = bias_walkthrough(steps=10, file=None)
>>> walk.values["dE/db_o1"] == walk.values["delta_o1"]
True
>>> round(walk.values["E_after_1/fixed"], 9)
0.291027774
"""

from __future__ import annotations

from typing import TextIO

from chainrule.autograd.grad_mode import no_grad
from chainrule.explain import worked
from chainrule.explain.backprop import Walkthrough, emit, fmt
from chainrule.i18n import display_width, messages, pad
from chainrule.nn.layers import Sequential

VARIANTS = ("fixed", "per_neuron", "shared")  # their words: biases.variant.* in i18n


def trainable(variant: str) -> Sequential:
    """The worked 2-2-2 network with its biases fixed, or trainable (``per_neuron``, or
    ``shared``: each layer's biases start equal and :func:`step` keeps them equal)."""
    if variant not in VARIANTS:
        raise ValueError(f"bias variant {variant!r}: expected one of {', '.join(VARIANTS)}")
    model = worked.build()
    if variant != "fixed":
        model[0].bias.requires_grad_(True)
        model[2].bias.requires_grad_(True)
    return model


def step(model: Sequential, variant: str, lr: float = worked.LR) -> float:
    """One gradient-descent step on the worked example; returns E_total before it. With
    ``shared`` each layer's bias gradient is the sum over its neurons, the gradient of one
    bias feeding all of them."""
    x, target = worked.data()
    model.zero_grad()
    error = worked.total_error(model(x), target)
    error.backward()
    with no_grad():
        for layer in (model[0], model[2]):
            layer.weight -= lr * layer.weight.grad
            if variant == "fixed":
                continue
            grad = layer.bias.grad
            if variant == "shared":
                grad = grad.sum()  # the one bias's gradient, subtracted from every entry
            layer.bias -= lr * grad
    return float(error.item())


def bias_walkthrough(steps: int = 1000, lr: float = worked.LR,
                     file: TextIO | None | str = "stdout", lang: str | None = None
                     ) -> Walkthrough:
    """Print the bias gradients and updates of the first step and the error of the three
    variants after 1 and ``steps`` steps (``lang``: see :func:`chainrule.i18n.resolve`)."""
    walk = Walkthrough(words=messages(lang))
    walk.say(walk.words("biases.title"))
    walk.say(walk.words("biases.factor"))
    model = trainable("per_neuron")
    x, target = worked.data()
    model.zero_grad()
    out_h = model[1](model[0](x))
    net_o = model[2](out_h)
    error = worked.total_error(model[3](net_o), target)
    error.backward()
    layers = [("h", "b1", model[0]), ("o", "b2", model[2])]
    for prefix, _, layer in layers:
        grads = layer.bias.grad.numpy()
        for k, grad in enumerate(grads):
            name = f"{prefix}{k + 1}"
            walk.keep(f"delta_{name}", grad)
            walk.say(f"dE/db_{name} = delta_{name} = {fmt(walk.keep(f'dE/db_{name}', grad))}")
    for prefix, shared, layer in layers:
        grads = layer.bias.grad.numpy()
        total = walk.keep(f"dE/d{shared}", grads.sum())
        walk.say(walk.words("biases.shared", shared=shared, first=f"{prefix}1",
                            second=f"{prefix}2")
                 + f": dE/d{shared} = delta_{prefix}1 + delta_{prefix}2 = "
                 f"{_term(grads[0])} + {_term(grads[1])} = {fmt(total)}")
    walk.say("")
    walk.say(walk.words("biases.update", lr=fmt(lr)))
    for prefix, shared, layer in layers:
        old = float(layer.bias.detach().numpy()[0])
        for k, grad in enumerate(layer.bias.grad.numpy()):
            name = f"{prefix}{k + 1}"
            new = walk.keep(f"b_{name}+", old - lr * grad)
            walk.say(f"b_{name}+ = {fmt(old)} - {fmt(lr)} * {_term(grad)} = {fmt(new)}")
        new = walk.keep(f"{shared}+", old - lr * walk.values[f"dE/d{shared}"])
        walk.say(f"{shared}+ {walk.words('biases.shared_mark')} = {fmt(old)} - {fmt(lr)} * "
                 f"{fmt(walk.values[f'dE/d{shared}'])} = {fmt(new)}")
    walk.say("")
    _compare(walk, steps, lr)
    emit(walk, file)
    return walk


def _compare(walk: Walkthrough, steps: int, lr: float) -> None:
    x, target = worked.data()
    after_1: dict[str, float] = {}
    after: dict[str, float] = {}
    for variant in VARIANTS:
        model = trainable(variant)
        for done in range(steps):
            step(model, variant, lr)
            if done == 0:
                with no_grad():
                    after_1[variant] = walk.keep(
                        f"E_after_1/{variant}", worked.total_error(model(x), target).item())
        with no_grad():
            after[variant] = walk.keep(f"E_after_{steps}/{variant}",
                                       worked.total_error(model(x), target).item())
    words = walk.words
    walk.say(words("biases.compare"))
    labels = {variant: words(f"biases.variant.{variant}") for variant in VARIANTS}
    width = max(display_width(text) for text in labels.values())
    first = words("biases.after_1")
    column = max(14, display_width(first))
    walk.say(f"  {pad('', width)}  {pad(first, column)}  "
             f"{words('biases.after', steps=f'{steps:,}')}")
    for variant, text in labels.items():
        walk.say(f"  {pad(text, width)}  {pad(fmt(after_1[variant]), column)}  "
                 f"{fmt(after[variant])}")
    gain = after["fixed"] / after["per_neuron"] if after["per_neuron"] > 0 else float("inf")
    walk.keep("gain", gain)
    if gain > 1:
        walk.say(words("biases.less", gain=f"{gain:.2f}", steps=f"{steps:,}"))
    else:
        walk.say(words("biases.more", gain=f"{1 / gain:.2f}", steps=f"{steps:,}"))



def _term(value: float) -> str:
    """A number inside a sum: negative ones in brackets, ``(-0.038098237)``."""
    return f"({fmt(value)})" if value < 0 else fmt(value)
