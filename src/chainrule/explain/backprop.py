"""Step through one forward and backward pass with the numbers a student computes by hand.

For a small ``Sequential`` of ``Linear`` layers and elementwise activations,
:func:`backprop` prints, neuron by neuron: net input, activation, the loss terms, each
chain-rule factor dE/dout, dout/dnet, dnet/dw and their product, the delta of every layer
as sigma'(z) * W^T delta_next, and the updated weights. Every number is read off
chainrule's own graph: forward values are the tensors the model computed, dout/dnet comes
from ``autograd.grad`` of the activation, dE/dout and dE/dnet from ``retain_grad``, and the
weight gradients from ``.grad``; no derivative is written out a second time by hand.

>>> from chainrule.explain import worked
>>> model = worked.build(); x, t = worked.data()
>>> walk = backprop(model, x, t, lr=0.5, file=None)
>>> walk.values["dE/dw5"] == model[2].weight.grad.tolist()[0][0]
True
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np

from chainrule import autograd, creation
from chainrule.autograd.grad_mode import no_grad
from chainrule.i18n import Messages, messages
from chainrule.nn.layers import Linear, Sequential
from chainrule.nn.module import Module
from chainrule.tensor import Tensor
from chainrule.wording import plural

DIGIT_PIXELS = 28 * 28  # a model taking this many inputs classifies digit images


def fmt(value: float) -> str:
    """Up to 9 decimals without trailing zeros, the way the tutorials print numbers."""
    text = f"{value:.9f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass
class Walkthrough:
    """The printed lines and every number by name (``values['dE/dw5']``)."""

    lines: list[str] = field(default_factory=list)
    values: dict[str, float] = field(default_factory=dict)
    words: Messages = field(default_factory=lambda: Messages("en"))  # the catalogue

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def say(self, line: str = "") -> None:
        self.lines.append(line)

    def keep(self, name: str, value: Any) -> float:
        number = float(value)
        self.values[name] = number
        return number


@dataclass
class _Layer:
    linear: Linear
    act: Module | None
    inputs: Tensor
    net: Tensor
    out: Tensor
    local: Tensor | None = None  # dout/dnet from autograd
    names: list[str] = field(default_factory=list)
    input_names: list[str] = field(default_factory=list)
    first_weight: int = 1


def _layers(model: Sequential) -> list[tuple[Linear, Module | None]]:
    modules = list(model)
    pairs: list[tuple[Linear, Module | None]] = []
    i = 0
    while i < len(modules):
        linear = modules[i]
        if not isinstance(linear, Linear):
            raise TypeError(f"explain.backprop: expected Linear layers followed by an "
                            f"activation, found {type(linear).__name__} at position {i}")
        act = modules[i + 1] if i + 1 < len(modules) and not isinstance(modules[i + 1],
                                                                         Linear) else None
        pairs.append((linear, act))
        i += 2 if act is not None else 1
    return pairs


def half_squared_error(out: Tensor, target: Tensor) -> Tensor:
    """The tutorials' E = sum of 1/2 (target - out)^2 (elementwise terms, not yet summed)."""
    return 0.5 * (target - out) ** 2


def output_names(model: Sequential, names: Sequence[str] | None = None) -> list[str]:
    """The names of the model's outputs in the walk-through: ``names`` when given; for a
    classifier of 28x28 digit images (784 inputs) the class each output scores, the digit
    (``0`` ... ``9``); otherwise the tutorials' ``o1``, ``o2``, ...

    >>> from chainrule import nn
    >>> output_names(nn.Sequential(nn.Linear(784, 16), nn.Sigmoid(), nn.Linear(16, 10)))
    ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']
    >>> output_names(nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 2)))
    ['o1', 'o2']
    """
    pairs = _layers(model)
    first, last = pairs[0][0], pairs[-1][0]
    if names is not None:
        if len(names) != last.out_features:
            raise ValueError(f"explain.backprop: {plural(len(names), 'output name')} for "
                             f"{plural(last.out_features, 'output')}")
        return [str(name) for name in names]
    if first.in_features == DIGIT_PIXELS:
        return [str(k) for k in range(last.out_features)]
    return [f"o{k + 1}" for k in range(last.out_features)]


def backprop(model: Sequential, x: Any, target: Any,
             loss: Callable[[Tensor, Tensor], Tensor] | None = None, lr: float | None = 0.5,
             file: TextIO | None | str = "stdout",
             names: Sequence[str] | None = None, lang: str | None = None) -> Walkthrough:
    """Print and return the walk-through for one example ``x`` with ``target``.

    ``loss`` maps (output, target) to per-output terms or a scalar; default: 1/2 (t - o)^2
    per output, summed. ``names``: what to call the outputs (default
    :func:`output_names`: the digit each output scores for a 28x28 digit classifier, else
    o1, o2, ...). ``lang``: the language of the explanations ("en", "zh"; default
    ``$CHAINRULE_LANG`` or the locale, see :func:`chainrule.i18n.resolve`); the formulas
    and numbers are the same in every language. Leaves ``.grad`` on the parameters (the
    printed values).
    """
    walk = Walkthrough(words=messages(lang))
    x = x if isinstance(x, Tensor) else creation.tensor(x)
    target = target if isinstance(target, Tensor) else creation.tensor(target)
    x, target = x.reshape(1, -1).detach(), target.reshape(1, -1).detach()
    pairs = _layers(model)
    outputs = output_names(model, names)
    model.zero_grad()

    layers: list[_Layer] = []
    a = x
    weight_no = 1
    for depth, (linear, act) in enumerate(pairs):
        net = linear(a)
        net.retain_grad()
        out = act(net) if act is not None else net
        if act is not None:
            out.retain_grad()
        layer = _Layer(linear, act, a, net, out, first_weight=weight_no)
        weight_no += linear.weight.numel()
        last = depth == len(pairs) - 1
        if last:
            layer.names = outputs
        elif len(pairs) == 2:
            layer.names = [f"h{k + 1}" for k in range(linear.out_features)]
        else:
            layer.names = [f"h{depth + 1}_{k + 1}" for k in range(linear.out_features)]
        layer.input_names = ([f"i{j + 1}" for j in range(linear.in_features)] if depth == 0
                             else layers[-1].names)
        layers.append(layer)
        a = out
    for layer in layers:  # local derivatives of the activations, from the graph
        if layer.act is not None:
            (layer.local,) = autograd.grad(layer.out, layer.net, creation.ones_like(layer.out),
                                           retain_graph=True)
    terms = (loss or half_squared_error)(a, target)
    error = terms.sum() if terms.numel() > 1 else terms.reshape(())
    _forward_report(walk, layers, terms, error)
    error.backward()
    _backward_report(walk, layers)
    if lr is not None:
        _update_report(walk, layers, lr)
    emit(walk, file)
    return walk


def emit(walk: Walkthrough, file: TextIO | None | str) -> None:
    """Print the walk to ``file`` ('stdout' means the current sys.stdout; None: silent)."""
    if file is None:
        return
    print(walk.text, file=sys.stdout if file == "stdout" else file)  # type: ignore[arg-type]


def _row(t: Tensor | None) -> list[float]:
    if t is None:
        raise RuntimeError("explain.backprop: a gradient is missing (does every layer's "
                           "weight require grad?)")
    return [float(v) for v in np.asarray(t.detach().numpy()).reshape(-1)]


def _grad(t: Tensor) -> Tensor:
    if t.grad is None:
        raise RuntimeError("explain.backprop: a weight has no gradient; set "
                           "requires_grad=True on every Linear weight")
    return t.grad


def _forward_report(walk: Walkthrough, layers: list[_Layer], terms: Tensor,
                    error: Tensor) -> None:
    walk.say(walk.words("backprop.forward"))
    if layers[-1].names[0].isdigit():
        walk.say(walk.words("backprop.digit_names"))
    for layer in layers:
        W = layer.linear.weight.detach().numpy()
        b = (layer.linear.bias.detach().numpy() if layer.linear.bias is not None
             else np.zeros(W.shape[0]))
        ins = _row(layer.inputs)
        for k, name in enumerate(layer.names):
            parts = " + ".join(
                f"w{layer.first_weight + k * W.shape[1] + j} * {layer.input_names[j]}"
                for j in range(W.shape[1]))
            numbers = " + ".join(f"{fmt(W[k, j])} * {fmt(ins[j])}" for j in range(W.shape[1]))
            net = walk.keep(f"net_{name}", _row(layer.net)[k])
            walk.say(f"net_{name} = {parts} + b = {numbers} + {fmt(b[k])} = {fmt(net)}")
            out = walk.keep(f"out_{name}", _row(layer.out)[k])
            if layer.act is not None:
                walk.say(f"out_{name} = {type(layer.act).__name__.lower()}(net_{name}) = "
                         f"{fmt(out)}")
    walk.say("")
    walk.say(walk.words("backprop.error"))
    out_names = layers[-1].names
    if terms.numel() == len(out_names):
        for k, name in enumerate(out_names):
            value = walk.keep(f"E_{name}", _row(terms)[k])
            walk.say(f"E_{name} = {fmt(value)}")
    walk.say(f"E_total = {fmt(walk.keep('E_total', error.item()))}")


def _backward_report(walk: Walkthrough, layers: list[_Layer]) -> None:
    walk.say("")
    walk.say(walk.words("backprop.backward"))
    for index in range(len(layers) - 1, -1, -1):
        layer = layers[index]
        W = layer.linear.weight
        grads = _grad(W).numpy()
        d_out = _row(layer.out.grad) if layer.out.grad is not None else _row(layer.net.grad)
        local = _row(layer.local) if layer.local is not None else [1.0] * len(layer.names)
        delta = _row(layer.net.grad)
        ins = _row(layer.inputs)
        nxt = layers[index + 1] if index + 1 < len(layers) else None
        for k, name in enumerate(layer.names):
            if nxt is None:
                walk.say(f"dE/dout_{name} = {fmt(walk.keep(f'dE/dout_{name}', d_out[k]))}")
            else:
                Wn = nxt.linear.weight.detach().numpy()
                deltas = _row(nxt.net.grad)
                terms = " + ".join(f"{fmt(Wn[m, k])} * {fmt(deltas[m])}"
                                   for m in range(Wn.shape[0]))
                walk.say(f"dE/dout_{name} = (W^T delta_next)_{name} = {terms} = "
                         f"{fmt(walk.keep(f'dE/dout_{name}', d_out[k]))}")
            walk.say(f"dout_{name}/dnet_{name} = "
                     f"{fmt(walk.keep(f'dout_{name}/dnet_{name}', local[k]))}")
            walk.say(f"delta_{name} = dE/dnet_{name} = sigma'(z) * W^T delta_next = "
                     f"{fmt(local[k])} * {fmt(d_out[k])} = "
                     f"{fmt(walk.keep(f'delta_{name}', delta[k]))}" if nxt is not None else
                     f"delta_{name} = dE/dnet_{name} = dE/dout * dout/dnet = "
                     f"{fmt(d_out[k])} * {fmt(local[k])} = "
                     f"{fmt(walk.keep(f'delta_{name}', delta[k]))}")
            for j in range(W.shape[1]):
                w_name = f"w{layer.first_weight + k * W.shape[1] + j}"
                walk.say(f"dE/d{w_name} = dE/dout_{name} * dout_{name}/dnet_{name} * "
                         f"dnet_{name}/d{w_name} = {fmt(d_out[k])} * {fmt(local[k])} * "
                         f"{fmt(ins[j])} = {fmt(walk.keep(f'dE/d{w_name}', grads[k, j]))}")
            bias = layer.linear.bias
            if bias is not None and bias.grad is not None:
                walk.say(f"dE/db_{name} = delta_{name} = "
                         f"{fmt(walk.keep(f'dE/db_{name}', bias.grad.numpy()[k]))}")


def _update_report(walk: Walkthrough, layers: list[_Layer], lr: float) -> None:
    walk.say("")
    walk.say(walk.words("backprop.update", lr=fmt(lr)))
    with no_grad():
        for layer in layers:
            W = layer.linear.weight
            new = (W - lr * _grad(W)).numpy()
            old = W.detach().numpy()
            for k in range(W.shape[0]):
                for j in range(W.shape[1]):
                    w_name = f"w{layer.first_weight + k * W.shape[1] + j}"
                    walk.say(f"{w_name}+ = {fmt(old[k, j])} - {fmt(lr)} * "
                             f"{fmt(walk.values[f'dE/d{w_name}'])} = "
                             f"{fmt(walk.keep(f'{w_name}+', new[k, j]))}")
