"""``chainrule.autograd.grad``: gradients returned instead of accumulated into ``.grad``.

>>> import chainrule as cr
>>> x = cr.tensor([3.0], requires_grad=True)
>>> (g,) = cr.autograd.grad((x * x).sum(), x)
>>> g
tensor([6.])
>>> x.grad is None
True
"""

from __future__ import annotations

import sys
from typing import Any

from chainrule.autograd.engine import run_backward


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple[Any, ...]:
    """Return d(outputs)/d(inputs) weighted by ``grad_outputs``, leaving ``.grad`` untouched.

    With ``create_graph=True`` the returned gradients have a graph of their own (see
    :mod:`chainrule.autograd.higher_order`) and can be differentiated again; the graph of
    ``outputs`` is then kept, as ``retain_graph`` defaults to ``create_graph``.
    """
    Tensor = sys.modules["chainrule.tensor"].Tensor  # noqa: N806
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad(): input {i} does not require grad")
    if create_graph:  # a grad_output with a graph of its own keeps it
        roots = [g if isinstance(g, Tensor) and g.requires_grad else o._root_grad(g)
                 for o, g in zip(outputs, grad_outputs, strict=True)]
    else:
        roots = [o._root_grad(g) for o, g in zip(outputs, grad_outputs, strict=True)]
    if retain_graph is None:
        retain_graph = create_graph
    captured = run_backward(outputs, roots, bool(retain_graph), capture=inputs,
                            create_graph=create_graph)
    assert captured is not None
    result = []
    for i, g in enumerate(captured):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad(): input {i} was not used to compute the outputs; pass "
                "allow_unused=True to get None for it"
            )
        if g is None or create_graph:
            result.append(g)
        else:
            result.append(Tensor._wrap(g.copy() if g.base is not None else g))
    return tuple(result)
