"""A 3x3 kernel slid over a 5x5 image with every number, and its gradient by hand vs autograd.

``chainrule example convolution`` prints the image, the kernel and the output map, works one
output out term by term, then takes a loss and computes the kernel's gradient by hand (the
input correlated with the output's gradient) and the input's gradient (the output's
gradient, padded, correlated with the kernel turned 180 degrees), and compares both with
what autograd gives through :func:`chainrule.nn.functional.conv2d`. All the numbers are
small integers, so every sum is exact and the two ways agree to the last bit.

>>> walk = convolution(file=None)
>>> walk.values["y[1,2]"], walk.values["dL/dk[0,0]"], walk.values["equal"]
(2.0, -4.0, 1.0)
"""

from __future__ import annotations

import textwrap
from typing import TextIO

import numpy as np

from chainrule import creation
from chainrule.explain.backprop import Walkthrough, emit, fmt
from chainrule.i18n import messages
from chainrule.nn.conv_functional import conv2d

IMAGE = [[1, 2, 2, 2, 1],  # a small "7"
         [0, 0, 0, 2, 1],
         [0, 0, 1, 2, 0],
         [0, 1, 2, 0, 0],
         [0, 2, 1, 0, 0]]
KERNEL = [[1, 0, -1],  # responds to a vertical edge: bright on the left, dark on the right
          [1, 0, -1],
          [1, 0, -1]]
TARGET = [[0, 0, 0],  # what the loss wants the output map to be
          [0, 0, 0],
          [0, 0, 0]]
SHOWN = (1, 2)  # the output worked out term by term


def _say(walk: Walkthrough, text: str) -> None:
    """A paragraph, wrapped at 88 columns (Chinese, with no spaces to break at, is left
    to the terminal)."""
    for line in textwrap.wrap(text, 88) if text.isascii() else [text]:
        walk.say(line)


def _grid(walk: Walkthrough, title: str, values: np.ndarray) -> None:
    walk.say(title)
    for row in values:
        walk.say("  " + " ".join(f"{fmt(float(v)):>5}" for v in row))


def _number(value: float) -> str:
    return f"({fmt(value)})" if value < 0 else fmt(value)


def _sum(walk: Walkthrough, name: str, a: np.ndarray, b: np.ndarray, a_name: str,
         b_name: str, a_at: tuple[int, int]) -> float:
    """Print ``name`` = the sum of the window ``a`` (read from ``a_at``) times ``b``, cell
    by cell, one row of ``b`` per line: first the names, then the numbers."""
    rows = len(b)
    pad = " " * len(name)
    for r in range(rows):
        terms = [f"{a_name}[{a_at[0] + r},{a_at[1] + c}]*{b_name}[{r},{c}]"
                 for c in range(len(b[r]))]
        walk.say(f"{name if r == 0 else pad} {'=' if r == 0 else '+'} {' + '.join(terms)}")
    for r in range(rows):
        terms = [f"{_number(float(a[r, c]))}*{_number(float(b[r, c]))}"
                 for c in range(len(b[r]))]
        walk.say(f"{pad} {'=' if r == 0 else '+'} {' + '.join(terms)}")
    total = float((a * b).sum())
    walk.say(f"{pad} = {fmt(total)}")
    return total


def correlate(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Slide ``k`` over ``x`` (no padding, stride 1): out[i, j] = sum x[i+a, j+b] * k[a, b],
    written as the loops one does by hand.

    >>> correlate(np.arange(9.0).reshape(3, 3), np.ones((2, 2))).tolist()
    [[8.0, 12.0], [20.0, 24.0]]
    """
    kh, kw = k.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = sum(x[i + a, j + b] * k[a, b] for a in range(kh) for b in range(kw))
    return out


def convolution(file: TextIO | None | str = "stdout", lang: str | None = None) -> Walkthrough:
    """Print the worked convolution (see the module docstring); return every number
    (``lang``: the language of the explanations, see :func:`chainrule.i18n.resolve`)."""
    walk = Walkthrough(words=messages(lang))
    say = walk.words
    x = creation.tensor(IMAGE, dtype="float64", requires_grad=True)
    k = creation.tensor(KERNEL, dtype="float64", requires_grad=True)
    X, K, T = (np.array(v, dtype=np.float64) for v in (IMAGE, KERNEL, TARGET))
    y = conv2d(x.reshape(1, 1, 5, 5), k.reshape(1, 1, 3, 3)).reshape(3, 3)
    Y = y.detach().numpy()
    walk.say(say("conv.title"))
    _grid(walk, say("conv.image"), X)
    _grid(walk, say("conv.kernel"), K)
    _say(walk, say("conv.rule"))
    _grid(walk, say("conv.output"), Y)
    i, j = SHOWN
    _sum(walk, f"y[{i},{j}]", X[i:i + 3, j:j + 3], K, "x", "k", (i, j))
    walk.keep(f"y[{i},{j}]", Y[i, j])
    walk.say("")
    loss = ((y - creation.tensor(TARGET, dtype="float64")) ** 2).sum() * 0.5
    loss.backward()
    G = Y - T
    _say(walk, say("conv.loss", loss=fmt(walk.keep("L", loss.item()))))
    _grid(walk, "dL/dy:", G)
    walk.say("")
    _say(walk, say("conv.kernel_gradient"))
    hand_k = correlate(X, G)
    walk.keep("dL/dk[0,0]", _sum(walk, "dL/dk[0,0]", X[0:3, 0:3], G, "x", "g", (0, 0)))
    walk.say("  (g = dL/dy)")
    _grid(walk, say("conv.by_hand"), hand_k)
    assert k.grad is not None and x.grad is not None
    auto_k = k.grad.numpy()
    _grid(walk, say("conv.autograd", grad="k.grad"), auto_k)
    walk.say("")
    _say(walk, say("conv.input_gradient"))
    hand_x = correlate(np.pad(G, 2), K[::-1, ::-1])
    auto_x = x.grad.numpy()
    _grid(walk, say("conv.by_hand"), hand_x)
    _grid(walk, say("conv.autograd", grad="x.grad"), auto_x)
    same = bool(np.array_equal(hand_k, auto_k) and np.array_equal(hand_x, auto_x))
    walk.keep("equal", same)
    walk.say("")
    walk.say(say("conv.agree") if same else
             say("conv.differ", kernel=f"{np.abs(hand_k - auto_k).max():g}",
                 input=f"{np.abs(hand_x - auto_x).max():g}"))
    emit(walk, file)
    return walk
