"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay.

    g = grad + weight_decay * w
    v = momentum * v + (1 - dampening) * g      (v = g on the first step)
    step = g + momentum * v  (Nesterov)  or  v
    w = w - lr * step

>>> import chainrule as cr
>>> w = cr.nn.Parameter(cr.tensor([1.0]))
>>> opt = cr.optim.SGD([w], lr=0.1, momentum=0.9)
>>> for _ in range(2):
...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
>>> round(w.item(), 4)
0.46
"""

from __future__ import annotations

from functools import partial
from typing import Any

from chainrule.backend.parallel import elementwise
from chainrule.optim.optimizer import Optimizer, check_hyper


class SGD(Optimizer):
    def __init__(self, params: Any, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 maximize: bool = False) -> None:
        check_hyper("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov,
                                  "maximize": maximize})

    def step_group(self, group: dict[str, Any]) -> None:
        if group["momentum"] or group["weight_decay"] or group["maximize"]:
            super().step_group(group)
            return
        lr, states = group["lr"], self.state  # plain SGD, the tutorials': w -= lr * grad
        for p in group["params"]:
            grad = p.grad
            if grad is None or not p._requires_grad:
                continue
            if p not in states:
                states[p] = {}
            p._data -= lr * grad._data
            p._bump_version()

    def update(self, param: Any, grad: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        momentum = group["momentum"]
        buf = state.get("momentum_buffer") if momentum else None
        if momentum and buf is None:  # the first step: v = g (no dampening), as PyTorch
            g = gradient(param, grad, group["weight_decay"], group["maximize"])
            buf = state["momentum_buffer"] = g.copy()
            param -= group["lr"] * (g + momentum * buf if group["nesterov"] else buf)
            return
        # large parameters: over the cores, in cache-sized blocks (the same numbers)
        elementwise(partial(sgd_update, lr=group["lr"], momentum=momentum,
                            dampening=group["dampening"], weight_decay=group["weight_decay"],
                            nesterov=group["nesterov"], maximize=group["maximize"]),
                    *((param, grad) if buf is None else (param, grad, buf)))


def gradient(param: Any, grad: Any, weight_decay: float, maximize: bool) -> Any:
    """The gradient the update follows: ``-grad`` when maximizing, plus weight decay."""
    g = -grad if maximize else grad
    return g + weight_decay * param if weight_decay else g


def sgd_update(param: Any, grad: Any, buf: Any = None, *, lr: float, momentum: float,
               dampening: float, weight_decay: float, nesterov: bool, maximize: bool) -> None:
    """One SGD step of ``param`` and of ``buf``, its momentum buffer (None without
    momentum), in place; elementwise, so :func:`elementwise` may run it on slices."""
    g = gradient(param, grad, weight_decay, maximize)
    if buf is not None:
        buf *= momentum
        if dampening:
            buf += (1 - dampening) * g
        else:
            buf += g  # the same numbers as (1 - 0) * g, without a temporary array
        g = g + momentum * buf if nesterov else buf
    param -= lr * g
