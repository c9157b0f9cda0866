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
tensor([0.8000], requires_grad=True)
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from chainrule.autograd.grad_mode import STATE as GRAD_MODE
from chainrule.backend import to_device
from chainrule.tensor import Tensor
from chainrule.wording import article


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
                    p.grad._data[...] = 0

    def step(self, closure: Any = None) -> Any:
        """One update of every parameter that has a gradient."""
        loss = None
        if closure is not None:
            from chainrule.autograd.grad_mode import enable_grad

            with enable_grad():
                loss = closure()
        enabled = GRAD_MODE.enabled
        GRAD_MODE.enabled = False  # what no_grad() does, without its two calls every step
        try:
            for group in self.param_groups:
                self.step_group(group)
        finally:
            GRAD_MODE.enabled = enabled
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
            update(p._data, grad._data, group, state)
            p._bump_version()

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
        """Restore from :meth:`state_dict`; group sizes must match.

        Everything is checked before anything changes: a state that does not fit this
        optimizer (other group sizes, another optimizer's keys, a NaN or negative learning
        rate, an array of the wrong shape) raises ValueError naming the entry.
        """
        groups, params = self._checked_groups(state_dict)
        state = self._checked_state(state_dict, groups, params)
        for saved, group in zip(groups, self.param_groups, strict=True):
            for key, value in saved.items():
                if key != "params":
                    group[key] = value
        self.state = state

    def _checked_groups(self, state_dict: Any) -> tuple[list[dict[str, Any]], list[Tensor]]:
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError("load_state_dict: expected a dict with 'state' and 'param_groups'")
        groups = state_dict["param_groups"]
        if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
            raise ValueError("load_state_dict: 'param_groups' must be a list of dicts")
        if len(groups) != len(self.param_groups):
            raise ValueError(f"load_state_dict: {len(groups)} parameter groups in the state, "
                             f"{len(self.param_groups)} in this optimizer")
        params: list[Tensor] = []
        checked = []
        for i, (saved, group) in enumerate(zip(groups, self.param_groups, strict=True)):
            indices = saved.get("params")
            if not isinstance(indices, list) or len(indices) != len(group["params"]):
                found = len(indices) if isinstance(indices, list) else repr(indices)[:40]
                raise ValueError("load_state_dict: a parameter group has a different size "
                                 f"({found} saved vs {len(group['params'])})")
            if indices != list(range(len(params), len(params) + len(indices))):
                raise ValueError(f"load_state_dict: param_groups[{i}].params: expected the "
                                 f"indices {len(params)}..{len(params) + len(indices) - 1}, "
                                 f"found {indices!r:.60}")
            missing = sorted(set(group) - set(saved) - _SCHEDULE_KEYS)
            if missing:
                raise ValueError(f"load_state_dict: param_groups[{i}] has no {missing} (was the "
                                 f"state saved from another optimizer than "
                                 f"{type(self).__name__}?)")
            hyper = {}
            for key, value in saved.items():
                if key != "params":
                    where = f"param_groups[{i}].{key}"
                    hyper[key] = _checked_hyper(where, value, group.get(key, _NO_VALUE))
            checked.append({**hyper, "params": indices})
            params.extend(group["params"])
        return checked, params

    def _checked_state(self, state_dict: dict[str, Any], groups: list[dict[str, Any]],
                       params: list[Tensor]) -> dict[Tensor, dict[str, Any]]:
        saved_state = state_dict["state"]
        if not isinstance(saved_state, dict):
            raise ValueError("load_state_dict: 'state' must be a dict {index: {...}}")
        group_of = [group for group in groups for _ in group["params"]]
        expected: dict[int, dict[str, Any] | None] = {}
        state: dict[Tensor, dict[str, Any]] = {}
        for idx, values in saved_state.items():
            where = f"state[{idx!r:.20}]"
            position = _index(idx, len(params))
            if position is None:
                raise ValueError(f"load_state_dict: {where}: expected a parameter index in "
                                 f"[0, {len(params)})")
            if not isinstance(values, dict):
                raise ValueError(f"load_state_dict: {where}: expected a dict, found "
                                 f"{type(values).__name__}")
            p = params[position]
            group_id = id(group_of[position])
            if group_id not in expected:
                expected[group_id] = self._probe(group_of[position])
            needed = expected[group_id]
            if values and needed is not None and set(needed) - set(values):
                raise ValueError(f"load_state_dict: {where} lacks "
                                 f"{sorted(set(needed) - set(values))} (saved by another "
                                 f"optimizer or with other settings?)")
            entry = {}
            for key, value in values.items():
                kind = None if needed is None else needed.get(key)
                entry[key] = _checked_value(f"{where}.{key}", value, kind, tuple(p.shape))
                if isinstance(value, np.ndarray):  # a copy, on the parameter's device
                    entry[key] = to_device(np.array(value, dtype=p.dtype), p.device)
            state[p] = entry
        return state

    def _probe(self, group: dict[str, Any]) -> dict[str, Any] | None:
        """The state entries one update creates under ``group`` (None: can't tell)."""
        probe: dict[str, Any] = {}
        try:
            with np.errstate(all="ignore"):
                self.update(np.zeros(1), np.ones(1), dict(group), probe)
        except Exception:  # noqa: BLE001 - an optimizer whose update needs more than a group
            return None
        return probe

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        return "\n".join(lines) + "\n)"


_NO_VALUE = object()
# keys the learning-rate schedules add to a param group: a state may have them or not
_SCHEDULE_KEYS = {"initial_lr", "max_lr", "min_lr", "base_momentum", "max_momentum"}
_NON_NEGATIVE = {"lr", "eps", "weight_decay", "momentum", "alpha", "lr_decay",
                 "initial_accumulator_value"} | _SCHEDULE_KEYS


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def _checked_hyper(where: str, value: Any, current: Any) -> Any:
    """A saved hyperparameter, checked against this optimizer's current value of the key."""
    def fail(expected: str) -> ValueError:
        return ValueError(f"load_state_dict: {where}: expected {expected}, found {value!r:.60}")

    name = where.rsplit(".", 1)[-1]
    if current is _NO_VALUE and name not in _SCHEDULE_KEYS:
        raise ValueError(f"load_state_dict: {where}: {name!r} is not a setting of this "
                          "optimizer (was the state saved from another optimizer?)")
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise fail("true or false")
        return value
    if isinstance(current, tuple | list):
        if not isinstance(value, tuple | list) or len(value) != len(current) \
                or not all(_is_number(v) and math.isfinite(v) for v in value):
            raise fail(f"{len(current)} finite numbers")
        if name == "betas" and not all(0 <= v < 1 for v in value):
            raise fail("betas in [0, 1)")
        return tuple(value) if isinstance(current, tuple) else list(value)
    if isinstance(current, str):
        if not isinstance(value, str):
            raise fail("a string")
        return value
    if current is None or _is_number(current) or current is _NO_VALUE:
        if value is None and current is None:
            return value
        if not _is_number(value) or not math.isfinite(value):
            raise fail("a finite number")
        if name in _NON_NEGATIVE and value < 0:
            raise fail("a number >= 0")
        return value
    if not isinstance(value, type(current)):
        raise fail(article(type(current).__name__))
    return copy.deepcopy(value)


def _index(idx: Any, size: int) -> int | None:
    """``idx`` (an int or its decimal string, as JSON keeps it) if in [0, size), else None."""
    if isinstance(idx, str) and idx.isdigit() and idx.isascii():
        idx = int(idx)
    if isinstance(idx, int) and not isinstance(idx, bool) and 0 <= idx < size:
        return idx
    return None


def _checked_value(where: str, value: Any, kind: Any, shape: tuple[int, ...]) -> Any:
    """One per-parameter state entry: an array of the parameter's shape or a count >= 0."""
    if isinstance(value, np.ndarray) or isinstance(kind, np.ndarray):
        if not isinstance(value, np.ndarray) or value.shape != shape \
                or value.dtype.kind not in "fiu":
            found = (f"{value.dtype} array {value.shape}" if isinstance(value, np.ndarray)
                     else f"{value!r:.60}")
            raise ValueError(f"load_state_dict: {where}: expected a float array of the "
                             f"parameter's shape {shape}, found {found}")
        return value
    if _is_int(kind) or kind is None and _is_int(value):
        if not _is_int(value) or value < 0:
            raise ValueError(f"load_state_dict: {where}: expected an integer >= 0, found "
                             f"{value!r:.60}")
        return value
    if not _is_number(value) or not math.isfinite(value):
        raise ValueError(f"load_state_dict: {where}: expected a finite number, found "
                         f"{value!r:.60}")
    return value


def check_hyper(name: str, **values: float) -> None:
    for key, value in values.items():
        if value < 0:
            raise ValueError(f"{name}: invalid {key} {value}: must be >= 0")
