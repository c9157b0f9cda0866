"""Hooks into :class:`chainrule.train.Trainer`'s epochs: :class:`Callback` and
:class:`EarlyStopping`.

>>> stop = EarlyStopping(monitor="val_loss", patience=2)
>>> [stop.on_epoch_end(None, {"val_loss": v}) for v in (1.0, 0.5, 0.6, 0.7)]
[False, False, False, True]
"""

from __future__ import annotations

import math
from typing import Any


class Callback:
    """Hook into training; return True from ``on_epoch_end`` to stop."""

    def on_epoch_end(self, trainer: Any, row: dict[str, Any]) -> bool | None:
        return None


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs."""

    def __init__(self, monitor: str = "val_loss", patience: int = 3, min_delta: float = 0.0,
                 mode: str | None = None) -> None:
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.mode = mode or ("max" if "acc" in monitor else "min")
        self.best = math.inf if self.mode == "min" else -math.inf
        self.bad_epochs = 0

    def on_epoch_end(self, trainer: Any, row: dict[str, Any]) -> bool:
        value = row.get(self.monitor)
        if value is None:
            return False
        better = (value < self.best - self.min_delta if self.mode == "min"
                  else value > self.best + self.min_delta)
        if better:
            self.best, self.bad_epochs = value, 0
        else:
            self.bad_epochs += 1
        return self.bad_epochs >= self.patience
