"""RMSprop and Adagrad: per-parameter step sizes from running squared gradients.

>>> import chainrule as cr
>>> w = cr.nn.Parameter(cr.tensor([1.0]))
>>> opt = cr.optim.RMSprop([w], lr=0.01)
>>> (w * w).sum().backward(); opt.step()
>>> round(w.item(), 4)
0.9
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.optim.optimizer import Optimizer, check_hyper


class RMSprop(Optimizer):
    """s = alpha s + (1 - alpha) g^2;  w -= lr g / (sqrt(s) + eps) (centered: s - mean(g)^2)."""

    def __init__(self, params: Any, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 maximize: bool = False) -> None:
        check_hyper("RMSprop", lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                    momentum=momentum)
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps,
                                  "weight_decay": weight_decay, "momentum": momentum,
                                  "centered": centered, "maximize": maximize})

    def update(self, param: Any, grad: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        g = -grad if group["maximize"] else grad
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            if group["momentum"] > 0:
                state["momentum_buffer"] = np.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * param
        alpha = group["alpha"]
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * g * g
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg += (g - grad_avg) * (1 - alpha)
            avg = np.sqrt(square_avg - grad_avg * grad_avg) + group["eps"]
        else:
            avg = np.sqrt(square_avg) + group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += g / avg
            param -= group["lr"] * buf
        else:
            param -= group["lr"] * g / avg


class Adagrad(Optimizer):
    """s += g^2;  w -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps)."""

    def __init__(self, params: Any, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, maximize: bool = False) -> None:
        check_hyper("Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps)
        super().__init__(params, {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
                                  "initial_accumulator_value": initial_accumulator_value,
                                  "eps": eps, "maximize": maximize})

    def update(self, param: Any, grad: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        g = -grad if group["maximize"] else grad
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(param, group["initial_accumulator_value"])
        state["step"] += 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * param
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += g * g
        param -= clr * g / (np.sqrt(state["sum"]) + group["eps"])
