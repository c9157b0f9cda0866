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
from typing import Any

import numpy as np

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
        g = -grad if group["maximize"] else grad
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
        if wd:
            if self.decoupled:
                param *= 1 - lr * wd
            else:
                g = g + wd * param
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg += (g - exp_avg) * (1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * g * g
        bias1 = 1 - beta1**step
        bias2_sqrt = math.sqrt(1 - beta2**step)
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            denom = np.sqrt(state["max_exp_avg_sq"]) / bias2_sqrt + group["eps"]
        else:
            denom = np.sqrt(exp_avg_sq) / bias2_sqrt + group["eps"]
        param -= (lr / bias1) * exp_avg / denom


class AdamW(Adam):
    """Adam with weight decay applied to the weights directly (w *= 1 - lr * wd)."""

    decoupled = True

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
