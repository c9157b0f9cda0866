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

from typing import Any

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
            p._version[0] += 1

    def update(self, param: Any, grad: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        g = -grad if group["maximize"] else grad
        if group["weight_decay"]:
            g = g + group["weight_decay"] * param
        momentum = group["momentum"]
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= momentum
                if group["dampening"]:
                    buf += (1 - group["dampening"]) * g
                else:
                    buf += g  # the same numbers as (1 - 0) * g, without a temporary array
            g = g + momentum * buf if group["nesterov"] else buf
        param -= group["lr"] * g
