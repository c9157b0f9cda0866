"""Catch a training run whose loss blows up while staying finite.

A NaN or Inf loss is easy to see; a loss of 4e30 is a number like any other, and a run with
a learning rate far too large happily trains every epoch at chance accuracy. The rule here
compares each batch loss with the run's *starting* loss ``L0`` (the first batch, measured
before any update)::

    threshold = L0 + max((factor - 1) * |L0|, margin)     # 10 x L0 for the usual L0 > 0.1
    diverged  = more than half of the last `window` batch losses are above threshold
              = the median of the last `window` batch losses is above threshold

* The starting loss, not the best loss so far: a healthy run that reached 0.01 and is noisy
  around 0.1 is ten times above its best, but far below where it started.
* The median over a window, not one batch: a single wild batch moves it by one place.
* ``margin`` keeps tiny starting losses (a fine-tuned model starting at 0.01) from making the
  threshold tiny, and makes bounded losses (sigmoid outputs with a squared error, which cannot
  exceed 5 in the tutorials' cost) unable to trigger it.

Keeping the median test cheap: the threshold is fixed once ``L0`` is known, so "the median is
above it" is "more than half of the window is above it", a count updated in O(1) per step
from a ring of the last ``window`` losses (two comparisons and a few assignments).

>>> watch = DivergenceWatch(Divergence(window=4))
>>> [watch.seen(loss) for loss in (2.3, 2.0, 90.0, 1.9, 95.0, 99.0)]
[False, False, False, False, False, True]
>>> watch.threshold, watch.median()
(23.0, 90.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Divergence:
    """When a finite loss counts as diverged (``Trainer(divergence=...)``).

    Args:
        factor: how many times its starting loss the running loss must reach.
        margin: ... and by how much, at least, in the loss's own units.
        window: how many recent batch losses the running median covers (at most one epoch's
            worth of batches, and at least 5, so a diverging run stops within about an epoch).
    """

    factor: float = 10.0
    margin: float = 1.0
    window: int = 32

    def __post_init__(self) -> None:
        if not (self.factor > 1 and self.margin >= 0 and self.window >= 1):
            raise ValueError(f"Divergence needs factor > 1, margin >= 0 and window >= 1, got "
                             f"factor={self.factor}, margin={self.margin}, "
                             f"window={self.window}")

    def threshold(self, reference: float) -> float:
        """The loss above which a batch counts as far above the start ``reference``."""
        return reference + max((self.factor - 1.0) * abs(reference), self.margin)


DEFAULT_DIVERGENCE = Divergence()  # the Trainer's default (immutable)
MIN_WINDOW = 5
_INF = math.inf  # a module global: one lookup fewer than math.inf on the hot path


class DivergenceWatch:
    """The running state of the rule: the starting loss and a ring of recent losses."""

    __slots__ = ("rule", "reference", "threshold", "values", "index", "above", "window", "half")

    def __init__(self, rule: Divergence, steps_per_epoch: int | None = None) -> None:
        self.rule = rule
        self.reference: float | None = None
        self.threshold = _INF  # nothing is above it until the reference is known
        self.values: list[float] = []
        self.index = self.above = self.window = self.half = 0
        self.resize(steps_per_epoch)

    def resize(self, steps_per_epoch: int | None) -> None:
        """Fit the window to an epoch of ``steps_per_epoch`` batches (None: unknown)."""
        window = self.rule.window
        if steps_per_epoch is not None:
            window = min(window, max(steps_per_epoch, MIN_WINDOW))
        if window != self.window:
            self._fill(window, self.recent())

    def _fill(self, window: int, recent: list[float]) -> None:
        """A window of ``window`` slots holding the last of ``recent`` (oldest first)."""
        recent = recent[len(recent) - window:] if len(recent) > window else recent
        self.values = [-_INF] * (window - len(recent)) + recent
        self.index = 0
        self.window, self.half = window, window // 2
        self.above = sum(v > self.threshold for v in self.values)

    def seen(self, loss: float) -> bool:
        """Record one batch loss (finite); True when the run has diverged. The hot path:
        a few loads, two comparisons, a few stores (about 0.2 us)."""
        threshold = self.threshold
        if threshold == _INF:
            self.start(loss)
            return False
        i = self.index
        values = self.values
        above = self.above + (loss > threshold) - (values[i] > threshold)
        self.above = above
        values[i] = loss
        i += 1
        self.index = 0 if i == self.window else i
        return above > self.half  # more than half of the window: the median is above

    def near_stop(self) -> bool:
        """More than a quarter of the window is above the threshold: halfway to the stop
        (more than half). The Trainer holds an epoch-end checkpoint back while this is so,
        keeping the last one as the good state to fall back to if the run is stopped."""
        return self.above > self.window // 4

    def start(self, reference: float) -> None:
        """Take ``reference`` as the starting loss; the window starts empty."""
        self.reference = reference
        self.threshold = self.rule.threshold(reference)
        self._fill(self.window, [])

    def recent(self) -> list[float]:
        """The losses in the window, oldest first."""
        ordered = self.values[self.index:] + self.values[:self.index]
        return [v for v in ordered if v != -_INF]

    def median(self) -> float:
        """The median of the losses in the window (the statistic the rule is about)."""
        ordered = sorted(self.recent())
        return ordered[(len(ordered) - 1) // 2] if ordered else math.nan  # the lower one

    def suggested_lr(self, lr: float) -> float:
        """A learning rate to try instead of ``lr``: ``lr`` divided by the loss's growth,
        rounded up to a power of ten (at least 10).

        Once a run diverges, the weights grow with each too-large update and a
        cross-entropy loss with confidently wrong outputs grows about in proportion to
        them, so the loss's growth over its start says roughly by how much the steps
        overshoot: a loss 4e30 times its start asks for lr / 1e31.
        """
        reference = self.reference if self.reference is not None else 0.0
        growth = (self.median() - reference) / max(abs(reference), self.rule.margin)
        exponent = max(1, math.ceil(math.log10(growth))) if growth > 1 else 1
        return lr / 10.0 ** exponent

    # ---- checkpoints --------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """JSON-able: the starting loss and the window's losses, oldest first."""
        return {"reference": self.reference, "recent": self.recent()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        reference = state.get("reference")
        self.reference = None if reference is None else float(reference)
        self.threshold = _INF if reference is None else self.rule.threshold(float(reference))
        self._fill(self.window, [float(v) for v in state.get("recent") or []])


def weight_decay_advice(lr: float, weight_decay: float) -> str | None:
    """Why a run with this ``weight_decay`` blows up, and the fix, when the decay alone can
    do it (None otherwise).

    A step applies ``w -= lr * (grad + weight_decay * w)``: the decay term alone multiplies
    ``w`` by ``1 - lr * weight_decay``. From ``lr * weight_decay >= 1`` on, that factor is 0
    or negative: every step overshoots zero, flipping the weights' signs, and from 2 on they
    grow each step; a lower learning rate is then not the fix.

    >>> weight_decay_advice(0.1, 1e-4) is None
    True
    >>> print(weight_decay_advice(0.5, 1e308))  # doctest: +ELLIPSIS
    The weight decay (1e+308) times the learning rate (0.5) is 5e+307, 1 or more: ...
    """
    product = lr * weight_decay
    if not product >= 1:
        return None
    effect = "flipping its sign and growing it" if product > 2 else "flipping its sign"
    return (f"The weight decay ({weight_decay:g}) times the learning rate ({lr:g}) is "
            f"{product:.3g}, 1 or more: the decay alone multiplies each weight by "
            f"{1 - product:.3g} a step, {effect}. Fix: lower the weight decay below 1/lr = "
            f"{1 / lr:.3g} (1e-5 to 1e-2 is usual)")


def layer_norms(model: Any) -> list[tuple[str, Any, float, float]]:
    """Per module holding parameters with a gradient: (path, module, gradient norm, weight
    norm), largest gradient norm first. Norms are summed in float64 (a float32 square
    overflows from 2e19 on); ``weight`` is the module's weight, or all its parameters."""
    rows = []
    named = model.named_modules() if hasattr(model, "named_modules") else []
    for name, module in named:
        params = [p for p in module._parameters.values() if p is not None]
        grads = [p.grad._data for p in params if p.grad is not None]
        if not grads:
            continue
        weight = module._parameters.get("weight")
        weights = [weight._data] if weight is not None else [p._data for p in params]
        rows.append((name, module, _norm(grads), _norm(weights)))
    rows.sort(key=lambda row: -row[2] if not math.isnan(row[2]) else -math.inf)
    return rows


def _norm(arrays: list[Any]) -> float:
    return math.sqrt(sum(float((a.astype("float64") ** 2).sum()) for a in arrays))


def layer_label(name: str, module: Any) -> str:
    """``'3' Linear(in_features=16, out_features=10, bias=True)``; the root by its type."""
    return f"'{name}' {module!r}" if name else repr(module)
