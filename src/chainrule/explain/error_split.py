"""The linear intuition before calculus: split each output error among the incoming links
in proportion to their weights, then contrast it with the true gradients.

The example (from the Python-course tutorial): four hidden nodes feed two outputs with
errors e = (0.08, 0.82); the weights into o1 are 0.6, 0.1, 0.15, 0.25, so the share of e1
assigned to w11 is 0.08 * 0.6 / (0.6 + 0.1 + 0.15 + 0.25). The tutorial prints 0.0343 for
it; the arithmetic gives 0.0436 (0.048 / 1.1), which is what this prints. The weights into
o2 are not given there; this example uses 0.2, 0.5, 0.15, 0.35.

>>> walk = error_split(file=None)
>>> round(walk.values["share_e1_w11"], 4)
0.0436
"""

from __future__ import annotations

from typing import TextIO

from chainrule import autograd, creation
from chainrule.explain.backprop import Walkthrough, emit, fmt
from chainrule.i18n import messages
from chainrule.ops.activation import sigmoid

ERRORS = [0.08, 0.82]
W_HO = [[0.6, 0.1, 0.15, 0.25], [0.2, 0.5, 0.15, 0.35]]  # w_kj: hidden j -> output k
HIDDEN_OUT = [0.6, 0.4, 0.75, 0.3]  # the hidden nodes' outputs, for the gradient contrast
PUBLISHED_SHARE = 0.0343


def error_split(file: TextIO | None | str = "stdout", lang: str | None = None) -> Walkthrough:
    """Print the proportional error split, W^T e, and the true gradients for contrast
    (``lang``: the language of the explanations, see :func:`chainrule.i18n.resolve`)."""
    walk = Walkthrough(words=messages(lang))
    say = walk.words
    e = creation.tensor(ERRORS, dtype="float64")
    W = creation.tensor(W_HO, dtype="float64")
    n_out, n_hidden = W.shape
    row_sums = W.sum(dim=1)
    shares = W * (e / row_sums).reshape(n_out, 1)  # share of e_k carried by w_kj
    walk.say(say("split.title"))
    walk.say(say("split.errors", errors=f"e1 = {fmt(ERRORS[0])}, e2 = {fmt(ERRORS[1])}"))
    for k in range(n_out):
        weights = " + ".join(fmt(v) for v in W_HO[k])
        walk.say(say("split.weights_into", output=f"o{k + 1}",
                     terms=f"{weights} = {fmt(row_sums.tolist()[k])}"))
    s = shares.tolist()
    share = walk.keep("share_e1_w11", s[0][0])
    walk.say(say("split.share_w11", formula=f"{fmt(ERRORS[0])} * {fmt(W_HO[0][0])} / "
                 f"({' + '.join(fmt(v) for v in W_HO[0])}) = {share:.4f}"))
    walk.say(say("split.tutorial", published=PUBLISHED_SHARE,
                 product=fmt(ERRORS[0] * W_HO[0][0]), total=fmt(row_sums.tolist()[0]),
                 share=f"{share:.4f}"))
    for k in range(n_out):
        walk.say(say("split.shares", error=f"e{k + 1}", shares=", ".join(
            f"w{k + 1}{j + 1} {s[k][j]:.4f}" for j in range(n_hidden))))
    hidden_prop = shares.sum(dim=0).tolist()
    walk.say(say("split.hidden", errors=", ".join(
        f"e_h{j + 1} = {walk.keep(f'split_h{j + 1}', hidden_prop[j]):.4f}"
        for j in range(n_hidden))))
    plain = (W.T @ e).tolist()
    walk.say("")
    walk.say(say("split.plain"))
    for j in range(n_hidden):
        terms = " + ".join(f"{fmt(W_HO[k][j])} * {fmt(ERRORS[k])}" for k in range(n_out))
        walk.say(f"e_h{j + 1} = {terms} = {fmt(walk.keep(f'wte_h{j + 1}', plain[j]))}")
    _true_gradients(walk)
    emit(walk, file)
    return walk


def _true_gradients(walk: Walkthrough) -> None:
    """Same weights, sigmoid outputs, E = sum 1/2 (t - o)^2 with targets giving errors e."""
    h = creation.tensor(HIDDEN_OUT, dtype="float64", requires_grad=True)
    w = creation.tensor(W_HO, dtype="float64", requires_grad=True)
    out = sigmoid(w @ h)
    target = (out + creation.tensor(ERRORS, dtype="float64")).detach()  # so t - o = e
    error = (0.5 * (target - out) ** 2).sum()
    (grad_h,) = autograd.grad(error, [h])
    say = walk.words
    walk.say("")
    walk.say(say("split.true"))
    walk.say(say("split.outputs", outputs=", ".join(fmt(v) for v in out.tolist()),
                  error=fmt(walk.keep("E_total", error.item()))))
    values = grad_h.tolist()
    walk.say(say("split.gradient", gradients=", ".join(
        f"dE/dh{j + 1} = {fmt(walk.keep(f'grad_h{j + 1}', values[j]))}"
        for j in range(len(values)))))
    walk.say(say("split.moral"))
