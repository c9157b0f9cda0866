"""Adam and AdamW (decoupled weight decay), with optional AMSGrad.

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
    w = w - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

>>> import chainrule as cr
>>> w = cr.nn.Parameter(cr.tensor([1.0]))
>>> opt = cr.optim.Adam([w], lr=0.1)
>>> (w * w).sum().backward(); opt.step()
>>> round(w.item(), 4)
0.9
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import numpy as np

from chainrule.backend.parallel import elementwise
from chainrule.optim.optimizer import Optimizer, check_hyper


class Adam(Optimizer):
    decoupled = False

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False,
                 maximize: bool = False) -> None:
        check_hyper(type(self).__name__, lr=lr, eps=eps, weight_decay=weight_decay)
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"{type(self).__name__}: betas must be in [0, 1), got {betas}")
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps,
                                  "weight_decay": weight_decay, "amsgrad": amsgrad,
                                  "maximize": maximize})

    def update(self, param: Any, grad: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        lr, wd = group["lr"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        step = state["step"]
        arrays = [param, grad, state["exp_avg"], state["exp_avg_sq"]]
        if group["amsgrad"]:
            arrays.append(state["max_exp_avg_sq"])
        # large parameters: over the cores, in cache-sized blocks (the same numbers)
        elementwise(partial(adam_update, lr=lr, beta1=beta1, beta2=beta2, eps=group["eps"],
                            weight_decay=wd, decoupled=self.decoupled,
                            maximize=group["maximize"], bias1=1 - beta1**step,
                            bias2_sqrt=math.sqrt(1 - beta2**step)),
                    *arrays)


def adam_update(param: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any, max_exp_avg_sq: Any = None,
                *, lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
                decoupled: bool, maximize: bool, bias1: float, bias2_sqrt: float) -> None:
    """One Adam step of ``param`` and its moments (``max_exp_avg_sq``: AMSGrad's, else
    None), in place; elementwise, so :func:`elementwise` may run it on slices."""
    g = -grad if maximize else grad
    if weight_decay:
        if decoupled:
            param *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * param
    exp_avg += (g - exp_avg) * (1 - beta1)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * g * g
    if max_exp_avg_sq is not None:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        denom = np.sqrt(max_exp_avg_sq) / bias2_sqrt + eps
    else:
        denom = np.sqrt(exp_avg_sq) / bias2_sqrt + eps
    param -= (lr / bias1) * exp_avg / denom


class AdamW(Adam):
    """Adam with weight decay applied to the weights directly (w *= 1 - lr * wd)."""

    decoupled = True

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
