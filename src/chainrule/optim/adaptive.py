"""Adadelta, Adamax, NAdam and RAdam, step for step as ``torch.optim`` computes them.

Each update follows PyTorch's single-tensor code, the order of its floating-point
operations included (``addcdiv`` is ``value * a / b``, ``addcmul`` is ``value * a * b``),
so trajectories agree to the last bits in float64.

>>> import chainrule as cr
>>> w = cr.nn.Parameter(cr.tensor([1.0]))
>>> opt = cr.optim.Adamax([w], lr=0.1)
>>> (w * w).sum().backward(); opt.step()
>>> round(w.item(), 4)
0.9
"""

from __future__ import annotations

from typing import Any

from chainrule import dtypes
from chainrule.backend import array_module
from chainrule.optim.optimizer import Optimizer, check_hyper


def _check_betas(name: str, betas: tuple[float, float]) -> tuple[float, float]:
    if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
        raise ValueError(f"{name}: betas must be in [0, 1), got {betas}")
    return (float(betas[0]), float(betas[1]))


def _next_step(param: Any, state: dict[str, Any], buffers: tuple[str, ...],
               **scalars: Any) -> int:
    """Count a step; on the first, make the state: ``step``, ``scalars``, zeroed ``buffers``."""
    if not state:
        xp = array_module(param)
        state["step"] = 0
        state.update(scalars)
        for name in buffers:
            state[name] = xp.zeros_like(param)
    state["step"] += 1
    return int(state["step"])


def _with_weight_decay(g: Any, param: Any, group: dict[str, Any]) -> Any:
    """L2 weight decay: added to the gradient, or (``decoupled_weight_decay``, AdamW's way)
    taken from the weights before the update."""
    wd = group["weight_decay"]
    if wd and group.get("decoupled_weight_decay", False):
        param *= 1 - group["lr"] * wd
    elif wd:
        g = g + wd * param
    return g


class Adadelta(Optimizer):
    """s = rho s + (1 - rho) g^2;  d = sqrt(u + eps) / sqrt(s + eps) g;
    u = rho u + (1 - rho) d^2;  w -= lr d (Zeiler 2012; lr 1 by default)."""

    def __init__(self, params: Any, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, maximize: bool = False) -> None:
        check_hyper("Adadelta", lr=lr, eps=eps, weight_decay=weight_decay)
        if not 0 <= rho <= 1:
            raise ValueError(f"Adadelta: rho must be in [0, 1], got {rho}")
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps,
                                  "weight_decay": weight_decay, "maximize": maximize})

    def update(self, param: Any, grad: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = array_module(param)
        g = -grad if group["maximize"] else grad
        _next_step(param, state, ("square_avg", "acc_delta"))
        g = _with_weight_decay(g, param, group)
        rho, eps = group["rho"], group["eps"]
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg *= rho
        square_avg += (1 - rho) * g * g
        delta = xp.sqrt(acc_delta + eps) / xp.sqrt(square_avg + eps) * g
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        param -= group["lr"] * delta


class Adamax(Optimizer):
    """Adam with the infinity norm: u = max(b2 u, |g| + eps);
    w -= lr / (1 - b1^t) * m / u."""

    def __init__(self, params: Any, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, *, maximize: bool = False) -> None:
        check_hyper("Adamax", lr=lr, eps=eps, weight_decay=weight_decay)
        super().__init__(params, {"lr": lr, "betas": _check_betas("Adamax", betas), "eps": eps,
                                  "weight_decay": weight_decay, "maximize": maximize})

    def update(self, param: Any, grad: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = array_module(param)
        g = -grad if group["maximize"] else grad
        step = _next_step(param, state, ("exp_avg", "exp_inf"))
        g = _with_weight_decay(g, param, group)
        beta1, beta2 = group["betas"]
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        exp_avg += (g - exp_avg) * (1 - beta1)
        exp_inf *= beta2
        xp.maximum(exp_inf, xp.abs(g) + group["eps"], out=exp_inf)
        clr = group["lr"] / (1 - beta1 ** step)
        param += -clr * exp_avg / exp_inf


class NAdam(Optimizer):
    """Adam with Nesterov momentum (Dozat 2016): the momentum coefficient mu_t warms up
    as b1 (1 - 0.5 * 0.96^(t * momentum_decay)); the step mixes g and m through it."""

    def __init__(self, params: Any, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False) -> None:
        check_hyper("NAdam", lr=lr, eps=eps, weight_decay=weight_decay,
                    momentum_decay=momentum_decay)
        super().__init__(params, {"lr": lr, "betas": _check_betas("NAdam", betas), "eps": eps,
                                  "weight_decay": weight_decay, "momentum_decay": momentum_decay,
                                  "decoupled_weight_decay": decoupled_weight_decay,
                                  "maximize": maximize})

    def update(self, param: Any, grad: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = array_module(param)
        g = -grad if group["maximize"] else grad
        lr = group["lr"]
        beta1, beta2 = group["betas"]
        step = _next_step(param, state, ("exp_avg", "exp_avg_sq"), mu_product=1.0)
        g = _with_weight_decay(g, param, group)
        decay = group["momentum_decay"]
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * decay)))
        # PyTorch keeps this product in a 0-d tensor of the default float dtype
        scalar = dtypes.STATE.default.type
        mu_product = state["mu_product"] = float(scalar(state["mu_product"]) * scalar(mu))
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg += (g - exp_avg) * (1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * g * g
        denom = xp.sqrt(exp_avg_sq / (1 - beta2**step)) + group["eps"]
        param += (-lr * (1.0 - mu) / (1.0 - mu_product)) * g / denom
        param += ((-lr * mu_next) / (1.0 - mu_product * mu_next)) * exp_avg / denom


class RAdam(Optimizer):
    """Rectified Adam (Liu et al. 2019): plain momentum SGD while the variance estimate is
    unreliable (rho_t <= 5), then Adam scaled by the rectification term."""

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False) -> None:
        check_hyper("RAdam", lr=lr, eps=eps, weight_decay=weight_decay)
        super().__init__(params, {"lr": lr, "betas": _check_betas("RAdam", betas), "eps": eps,
                                  "weight_decay": weight_decay,
                                  "decoupled_weight_decay": decoupled_weight_decay,
                                  "maximize": maximize})

    def update(self, param: Any, grad: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = array_module(param)
        g = -grad if group["maximize"] else grad
        lr = group["lr"]
        beta1, beta2 = group["betas"]
        step = _next_step(param, state, ("exp_avg", "exp_avg_sq"))
        g = _with_weight_decay(g, param, group)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg += (g - exp_avg) * (1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * g * g
        bias2 = 1 - beta2**step
        corrected = exp_avg / (1 - beta1**step)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive = (bias2**0.5) / (xp.sqrt(exp_avg_sq) + group["eps"])
            param -= corrected * lr * adaptive * rect
        else:
            param -= corrected * lr
