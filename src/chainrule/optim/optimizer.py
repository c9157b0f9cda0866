"""``Optimizer``: the PyTorch-style base class (param_groups, per-parameter state).

Updates happen in place on the parameters' arrays, outside the graph. A
parameter whose ``grad`` is None is skipped; a frozen one (requires_grad
False) is never touched.

>>> import chainrule as cr
>>> w = cr.nn.Parameter(cr.tensor([1.0]))
>>> opt = cr.optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward()
>>> opt.step()
>>> w
Parameter containing:
tensor([0.8], requires_grad=True)
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import numpy as np

from chainrule.autograd.grad_mode import no_grad
from chainrule.tensor import Tensor


class Optimizer:
    """Base class: subclasses implement ``update(param, grad, group, state)`` on raw arrays."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list: pass "
                             "model.parameters() (did the model register any Parameters?)")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add parameters with their own hyperparameters (missing ones take the defaults)."""
        group = dict(group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: expected Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{type(self).__name__}: can't optimize a non-leaf tensor")
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset gradients (they accumulate across backward calls otherwise)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.data[...] = 0

    def step(self, closure: Any = None) -> Any:
        """One update of every parameter that has a gradient."""
        loss = None
        if closure is not None:
            from chainrule.autograd.grad_mode import enable_grad

            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self.step_group(group)
        return loss

    def step_group(self, group: dict[str, Any]) -> None:
        """Update one parameter group (subclasses may specialize this loop for speed)."""
        states, update = self.state, self.update
        for p in group["params"]:
            grad = p.grad
            if grad is None or not p._requires_grad:
                continue
            state = states.get(p)
            if state is None:
                state = states[p] = {}
            update(p.data, grad.data, group, state)
            p._version[0] += 1

    def update(self, param: Any, grad: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        raise NotImplementedError

    # ---- state dict (indices instead of tensors, like PyTorch) -----------------------
    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {...}}, 'param_groups': [...]}`` with arrays copied."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {
                        k: (v.copy() if isinstance(v, np.ndarray) else copy.deepcopy(v))
                        for k, v in self.state[p].items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`; group sizes must match."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"load_state_dict: {len(groups)} parameter groups in the state, "
                             f"{len(self.param_groups)} in this optimizer")
        params: list[Tensor] = []
        for saved, group in zip(groups, self.param_groups, strict=True):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError("load_state_dict: a parameter group has a different size "
                                 f"({len(saved['params'])} saved vs {len(group['params'])})")
            for key, value in saved.items():
                if key != "params":
                    group[key] = value
            params.extend(group["params"])
        self.state = {}
        for idx, values in state_dict["state"].items():
            p = params[int(idx)]
            self.state[p] = {k: (np.array(v, dtype=p.dtype) if isinstance(v, np.ndarray)
                                 and v.shape == p.shape else copy.deepcopy(v))
                             for k, v in values.items()}

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        return "\n".join(lines) + "\n)"


def check_hyper(name: str, **values: float) -> None:
    for key, value in values.items():
        if value < 0:
            raise ValueError(f"{name}: invalid {key} {value}: must be >= 0")
