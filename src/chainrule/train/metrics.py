"""Classification metrics and the per-epoch metric logs (metrics.jsonl and metrics.csv).

>>> import numpy as np
>>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 0]), 2).tolist()
[[1, 0], [1, 1]]
"""

from __future__ import annotations

import csv
import json
import os
from typing import Any

import numpy as np

from chainrule.tensor import Tensor


def _np(x: Any) -> np.ndarray:
    if isinstance(x, Tensor):
        return np.asarray(x.detach().numpy())
    return np.asarray(x)


def predictions(output: Any) -> np.ndarray:
    """Predicted class per row: argmax of the scores (or > 0.5 for a single output)."""
    scores = _np(output)
    if scores.ndim == 2 and scores.shape[1] > 1:
        return scores.argmax(axis=1)
    return (scores.reshape(-1) > 0).astype(np.int64)


def accuracy(output: Any, target: Any) -> float:
    """Fraction of rows whose predicted class equals the target."""
    target = _np(target)
    if target.size == 0:
        return float("nan")
    return float((predictions(output) == target).mean())


def confusion_matrix(target: Any, predicted: Any, num_classes: int) -> np.ndarray:
    """Counts [true class, predicted class]."""
    t = _np(target).astype(np.int64).reshape(-1)
    p = _np(predicted).astype(np.int64).reshape(-1)
    return np.bincount(t * num_classes + p, minlength=num_classes**2).reshape(num_classes,
                                                                                num_classes)


class MetricsLog:
    """Appends one row per epoch to ``metrics.jsonl`` and ``metrics.csv`` in ``folder``."""

    FIELDS = ("epoch", "step", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr",
              "seconds", "samples_per_second")

    def __init__(self, folder: str | os.PathLike[str] | None) -> None:
        self.folder = folder
        self.rows: list[dict[str, Any]] = []

    def append(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if self.folder is None:
            return
        with open(os.path.join(self.folder, "metrics.jsonl"), "a") as f:
            f.write(json.dumps(row) + "\n")
        path = os.path.join(self.folder, "metrics.csv")
        new = not os.path.exists(path)
        with open(path, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.FIELDS, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(row)

    def rewrite(self, rows: list[dict[str, Any]]) -> None:
        """Start the files over with ``rows`` (after resuming from a checkpoint)."""
        self.rows = []
        if self.folder is not None:
            for name in ("metrics.jsonl", "metrics.csv"):
                path = os.path.join(self.folder, name)
                if os.path.exists(path):
                    os.remove(path)
        for row in rows:
            self.append(row)


def read_metrics(folder: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The rows of a run's ``metrics.jsonl`` (empty if the run has none yet)."""
    path = os.path.join(folder, "metrics.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
