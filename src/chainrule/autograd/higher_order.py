"""Recorded backward passes: ``backward(create_graph=True)`` and ``grad(create_graph=True)``.

The walk is the engine's own (:func:`chainrule.autograd.engine._walk`: same order, same
un-broadcasting and accumulation), run with grad mode on and every gradient a
:class:`~chainrule.autograd.traced.Traced` array, so each op's one ``backward`` formula
records chainrule ops as it computes. The gradients that come out are Tensors with a
``grad_fn``: differentiate them again, to any order.

>>> import chainrule as cr
>>> x = cr.tensor([2.0], requires_grad=True)
>>> (g,) = cr.autograd.grad(x ** 3, x, create_graph=True)   # 3 x^2
>>> (h,) = cr.autograd.grad(g, x)                          # 6 x
>>> g.item(), h.item()
(12.0, 12.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chainrule.autograd import engine
from chainrule.autograd.function import RECORDING
from chainrule.autograd.grad_mode import STATE as GRAD_MODE
from chainrule.autograd.traced import as_tensor, traced


def run_recorded(roots: Sequence[Any], root_grads: Sequence[Any],
                 capture: Sequence[Any] | None = None) -> list[Any] | None:
    """Backpropagate as :func:`engine.run_backward` does, recording every step. The graph
    is kept (a recorded gradient refers to it). With ``capture``: the gradients of those
    tensors as Tensors (None where none arrived); else added to the leaves' ``.grad``."""
    heap: list[Any] = []
    pending: dict[Any, list[Any]] = {}
    leaves: dict[int, list[Any]] = {}
    for root, grad in zip(roots, root_grads, strict=True):
        engine._add(heap, pending, leaves, root.grad_fn if root.grad_fn is not None else root,
                    root._out_index, traced(grad))
    captured: dict[tuple[int, int], Any] = {}
    capture_keys = {engine.capture_key(t) for t in capture} if capture is not None else set()
    enabled, recording = GRAD_MODE.enabled, RECORDING.on
    GRAD_MODE.enabled, RECORDING.on = True, True
    try:
        engine._walk(heap, pending, leaves, True, capture is None, set(), captured,
                     capture_keys)
    finally:
        GRAD_MODE.enabled, RECORDING.on = enabled, recording
    if capture is not None:
        for leaf, grad in leaves.values():
            captured[(id(leaf), -1)] = grad
        found = [captured.get(engine.capture_key(t)) for t in capture]
        return [None if g is None else as_tensor(traced(g)) for g in found]
    for leaf, grad in leaves.values():
        grad = as_tensor(traced(grad))
        for hook in leaf._hooks or ():
            result = hook(grad)
            if result is not None:
                grad = result
        leaf.grad = grad if leaf.grad is None else leaf.grad + grad
    return None
