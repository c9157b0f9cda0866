"""Learning-rate schedules with PyTorch's recurrences (so the sequences match torch's).

Call ``scheduler.step()`` once per epoch (or per batch for OneCycleLR), after
``optimizer.step()``.

>>> import chainrule as cr
>>> w = cr.nn.Parameter(cr.zeros(1))
>>> opt = cr.optim.SGD([w], lr=1.0)
>>> sched = cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
>>> lrs = []
>>> for _ in range(5):
...     lrs.append(sched.get_last_lr()[0]); opt.step(); sched.step()
>>> lrs
[1.0, 1.0, 0.5, 0.5, 0.25]
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Callable
from typing import Any

from chainrule.optim.optimizer import Optimizer
from chainrule.wording import article, plural


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    return _is_number(value) and math.isfinite(value)


# the value rules a state entry may have: (test, what the message says was expected)
_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "count": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
    "positive int": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "positive": (lambda v: _finite(v) and v > 0, "a finite number > 0"),
    "finite": (_finite, "a finite number"),
    "non-negative": (lambda v: _finite(v) and v >= 0, "a finite number >= 0"),
    "lrs": (lambda v: all(_finite(x) and x >= 0 for x in v), "learning rates >= 0"),
    "(0, 1]": (lambda v: _finite(v) and 0 < v <= 1, "a number in (0, 1]"),
    "[0, 1]": (lambda v: _finite(v) and 0 <= v <= 1, "a number in [0, 1]"),
    "[0, 1)": (lambda v: _finite(v) and 0 <= v < 1, "a number in [0, 1)"),
    "number": (_is_number, "a number"),
}


def _check_like(owner: str, where: str, template: Any, value: Any) -> None:
    """Raise ValueError unless ``value`` has the JSON shape of ``template`` (type, length, keys)."""
    def fail(expected: str) -> ValueError:
        return ValueError(f"{owner} state {where!r}: expected {expected}, found {value!r:.60}")

    if isinstance(template, bool):
        if not isinstance(value, bool):
            raise fail("true or false")
    elif _is_int(template):
        if not _is_int(value):
            raise fail("an integer")
    elif _is_number(template):
        if not _is_number(value):
            raise fail("a number")
    elif isinstance(template, str):
        if not isinstance(value, str):
            raise fail("a string")
    elif isinstance(template, list | tuple):
        if not isinstance(value, list | tuple) or len(value) != len(template):
            raise fail(f"a list of {len(template)}")
        for i, (t, v) in enumerate(zip(template, value, strict=True)):
            _check_like(owner, f"{where}[{i}]", t, v)
    elif isinstance(template, dict):
        if not isinstance(value, dict) or set(map(str, value)) != set(map(str, template)):
            raise fail(f"a dict with the keys {sorted(map(str, template))}")
        by_name = {str(k): v for k, v in value.items()}
        for key, t in template.items():
            _check_like(owner, f"{where}.{key}", t, by_name[str(key)])
    elif template is not None and not isinstance(value, type(template)):
        raise fail(article(type(template).__name__))


def _checked_state(scheduler: Any, state: Any) -> dict[str, Any]:
    """``state`` if it fits ``scheduler`` (same keys, same JSON shapes, values in range)."""
    name = type(scheduler).__name__
    current = scheduler.state_dict()
    if not isinstance(state, dict) or set(state) != set(current):
        found = sorted(map(str, state)) if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"{name} state: expected the keys {sorted(current)}, found {found} "
                         "(saved by another schedule?)")
    loose = getattr(scheduler, "_loose_keys", ())
    for key, template in current.items():
        if key not in loose:
            _check_like(name, key, template, state[key])
    for key, rule in scheduler._state_rules.items():
        if key in state and not isinstance(rule, str):
            if state[key] not in rule:
                raise ValueError(f"{name} state {key!r}: expected one of {sorted(rule)}, found "
                                 f"{state[key]!r:.60}")
        elif key in state:
            test, expected = _RULES[rule]
            if not test(state[key]):
                raise ValueError(f"{name} state {key!r}: expected {expected}, found "
                                 f"{state[key]!r:.60}")
    return dict(state)


class LRScheduler:
    """Base: ``get_lr()`` gives the next lrs from the current ones (chainable form)."""

    # what load_state_dict accepts for each entry (a rule of _RULES or a set of choices)
    _state_rules: dict[str, Any] = {"last_epoch": "count", "_step_count": "count",
                                    "base_lrs": "lrs", "_last_lr": "lrs"}

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError("resuming a scheduler (last_epoch != -1) needs 'initial_lr' in "
                               "every param group: load the optimizer state first")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self.step()

    def get_lr(self) -> list[float]:
        raise NotImplementedError

    def step(self) -> None:
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The lrs set by the last ``step()``."""
        return list(self._last_lr)

    def _lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer and functions (JSON-friendly numbers and lists)."""
        return {k: v for k, v in self.__dict__.items()
                if k != "optimizer" and not callable(v) and k != "lr_lambdas"}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; ValueError naming the entry if it doesn't fit."""
        self.__dict__.update(_checked_state(self, state))


class StepLR(LRScheduler):
    """lr * gamma every ``step_size`` epochs."""

    _state_rules = {**LRScheduler._state_rules, "step_size": "positive int", "gamma": "finite"}

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]


class MultiStepLR(LRScheduler):
    """lr * gamma at each milestone epoch."""

    _state_rules = {**LRScheduler._state_rules, "gamma": "finite"}
    _loose_keys = ("milestones",)  # any milestones: {epoch: count}

    def __init__(self, optimizer: Optimizer, milestones: list[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones = dict(Counter(int(m) for m in milestones))
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        count = self.milestones.get(self.last_epoch, 0)
        if not count:
            return self._lrs()
        return [lr * self.gamma**count for lr in self._lrs()]

    def load_state_dict(self, state: dict[str, Any]) -> None:
        milestones = state.get("milestones") if isinstance(state, dict) else None
        if not isinstance(milestones, dict) or not all(
                (_is_int(k) or isinstance(k, str) and k.isascii() and k.isdigit())
                and _is_int(v) and v >= 1 for k, v in milestones.items()):
            raise ValueError("MultiStepLR state 'milestones': expected {epoch: count >= 1}, "
                             f"found {milestones!r:.60}")
        super().load_state_dict(state)
        self.milestones = {int(k): v for k, v in self.milestones.items()}


class ExponentialLR(LRScheduler):
    """lr * gamma every epoch."""

    _state_rules = {**LRScheduler._state_rules, "gamma": "finite"}

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from the base lr down to ``eta_min`` over ``T_max`` epochs."""

    _state_rules = {**LRScheduler._state_rules, "T_max": "positive", "eta_min": "non-negative"}

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,  # noqa: N803
                 last_epoch: int = -1) -> None:
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, T = self.last_epoch, self.T_max  # noqa: N806
        if t == 0:
            return self._lrs()
        if self._step_count == 1 and t > 0:
            return [self.eta_min + (base - self.eta_min) * (1 + math.cos(t * math.pi / T)) / 2
                    for base in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:
            return [lr + (base - self.eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for lr, base in zip(self._lrs(), self.base_lrs, strict=True)]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
                * (lr - self.eta_min) + self.eta_min for lr in self._lrs()]


class LinearLR(LRScheduler):
    """Linear warm-up: factor goes from ``start_factor`` to ``end_factor`` in ``total_iters``."""

    _state_rules = {**LRScheduler._state_rules, "start_factor": "(0, 1]",
                    "end_factor": "[0, 1]", "total_iters": "count"}

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1) -> None:
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError("LinearLR: start_factor must be in (0, 1] and end_factor in [0, 1]")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, \
            total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._lrs()]
        if self.last_epoch > self.total_iters:
            return self._lrs()
        delta = self.end_factor - self.start_factor
        factor = 1.0 + delta / (self.total_iters * self.start_factor
                                + (self.last_epoch - 1) * delta)
        return [lr * factor for lr in self._lrs()]


class LambdaLR(LRScheduler):
    """lr = base_lr * fn(epoch) (one function, or one per param group)."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list[Any],
                 last_epoch: int = -1) -> None:
        n = len(optimizer.param_groups)
        self.lr_lambdas = list(lr_lambda) if isinstance(lr_lambda, list) else [lr_lambda] * n
        if len(self.lr_lambdas) != n:
            raise ValueError(f"LambdaLR: {len(self.lr_lambdas)} functions for {n} groups")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * fn(self.last_epoch)
                for base, fn in zip(self.base_lrs, self.lr_lambdas, strict=True)]


class OneCycleLR(LRScheduler):
    """Warm up to ``max_lr`` then anneal far below it, in ``total_steps`` batches (step per batch).

    Momentum (or Adam's beta1) cycles the opposite way when ``cycle_momentum``.
    """

    _state_rules = {**LRScheduler._state_rules, "total_steps": "positive int",
                    "anneal_strategy": {"cos", "linear"}}

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float],
                 total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float = 0.85, max_momentum: float = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False, last_epoch: int = -1) -> None:
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR: give total_steps, or epochs and steps_per_epoch")
            total_steps = epochs * steps_per_epoch
        if total_steps <= 0:
            raise ValueError(f"OneCycleLR: total_steps must be positive, got {total_steps}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("OneCycleLR: anneal_strategy must be 'cos' or 'linear'")
        self.total_steps, self.anneal_strategy = total_steps, anneal_strategy
        groups = optimizer.param_groups
        max_lrs = max_lr if isinstance(max_lr, list) else [max_lr] * len(groups)
        if last_epoch == -1:
            for group, top in zip(groups, max_lrs, strict=True):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        if three_phase:
            ends = [pct_start * total_steps - 1, 2 * pct_start * total_steps - 2, total_steps - 1]
            keys = [("initial_lr", "max_lr"), ("max_lr", "initial_lr"), ("initial_lr", "min_lr")]
            moms = [("max", "base"), ("base", "max"), ("max", "max")]
        else:
            ends = [pct_start * total_steps - 1, total_steps - 1]
            keys = [("initial_lr", "max_lr"), ("max_lr", "min_lr")]
            moms = [("max", "base"), ("base", "max")]
        self.phases: list[dict[str, Any]] = [{"end_step": float(e), "lr": k, "momentum": m}
                       for e, k, m in zip(ends, keys, moms, strict=True)]
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("OneCycleLR: cycle_momentum needs an optimizer with momentum "
                                 "or betas; pass cycle_momentum=False")
            self.use_beta1 = "betas" in optimizer.defaults
            if last_epoch == -1:
                for group in groups:
                    group["base_momentum"], group["max_momentum"] = base_momentum, max_momentum
                    self._set_momentum(group, max_momentum)
        super().__init__(optimizer, last_epoch)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        checked = _checked_state(self, state)
        if checked["total_steps"] != self.total_steps:
            raise ValueError(f"OneCycleLR state 'total_steps': this schedule has "
                             f"{plural(self.total_steps, 'step')}, the saved one "
                             f"{checked['total_steps']} "
                             "(one cycle spans a fixed number of steps: build it with the same "
                             "total_steps, e.g. the same number of epochs)")
        if checked["last_epoch"] > checked["total_steps"]:
            raise ValueError(f"OneCycleLR state 'last_epoch': expected at most total_steps "
                             f"({checked['total_steps']}), found {checked['last_epoch']}")
        for i, phase in enumerate(checked["phases"]):
            if not _finite(phase["end_step"]) \
                    or not set(phase["lr"]) <= {"initial_lr", "max_lr", "min_lr"} \
                    or not set(phase["momentum"]) <= {"max", "base"}:
                raise ValueError(f"OneCycleLR state 'phases[{i}]': expected a finite end_step, "
                                 "lr from initial_lr/max_lr/min_lr, momentum from max/base, "
                                 f"found {phase!r:.80}")
        self.__dict__.update(checked)

    def _set_momentum(self, group: dict[str, Any], value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {plural(step, 'time')} but total_steps is "
                             f"{self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, phase in enumerate(self.phases):
                end = phase["end_step"]
                if step <= end or i == len(self.phases) - 1:
                    pct = (step - start) / (end - start)
                    lo, hi = phase["lr"]
                    lr = self._anneal(group[lo], group[hi], pct)
                    if self.cycle_momentum:
                        m0, m1 = phase["momentum"]
                        mom = self._anneal(group[f"{m0}_momentum"], group[f"{m1}_momentum"], pct)
                        self._set_momentum(group, mom)
                    break
                start = end
            lrs.append(lr)
        return lrs


class ReduceLROnPlateau:
    """Multiply lr by ``factor`` when a metric stops improving for ``patience`` epochs."""

    _state_rules: dict[str, Any] = {
        "mode": {"min", "max"}, "threshold_mode": {"rel", "abs"}, "factor": "[0, 1)",
        "patience": "count", "cooldown": "count", "threshold": "finite", "eps": "non-negative",
        "min_lrs": "lrs", "best": "number", "num_bad_epochs": "count",
        "cooldown_counter": "count", "last_epoch": "count", "_last_lr": "lrs"}

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float | list[float] = 0.0, eps: float = 1e-8) -> None:
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau: factor must be < 1")
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError("ReduceLROnPlateau: mode is 'min'|'max', threshold_mode 'rel'|'abs'")
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode, self.cooldown, self.eps = threshold, \
            threshold_mode, cooldown, eps
        n = len(optimizer.param_groups)
        self.min_lrs = list(min_lr) if isinstance(min_lr, list) else [min_lr] * n
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [g["lr"] for g in optimizer.param_groups]

    def _better(self, value: float) -> bool:
        if self.mode == "min":
            limit = self.best * (1 - self.threshold) if self.threshold_mode == "rel" \
                else self.best - self.threshold
            return value < limit
        limit = self.best * (1 + self.threshold) if self.threshold_mode == "rel" \
            else self.best + self.threshold
        return value > limit

    def step(self, metrics: float) -> None:
        value = float(metrics)
        self.last_epoch += 1
        if self._better(value):
            self.best = value
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.optimizer.param_groups, self.min_lrs, strict=True):
                new = max(group["lr"] * self.factor, floor)
                if group["lr"] - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; ValueError naming the entry if it doesn't fit."""
        self.__dict__.update(_checked_state(self, state))


SCHEDULES = ("none", "step", "cosine", "exponential", "onecycle", "warmup")
