"""Classification metrics and the per-epoch metric logs (metrics.jsonl and metrics.csv).

>>> import numpy as np
>>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 0]), 2).tolist()
[[1, 0], [1, 1]]
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import os
from typing import Any

import numpy as np

from chainrule.paths import what_is_at
from chainrule.tensor import Tensor
from chainrule.train.checkpoint import CheckpointError, write_error


def _np(x: Any) -> np.ndarray:
    if isinstance(x, Tensor):
        data = x._data  # a NumPy array as it is (detach() would make a Tensor per call)
        return data if type(data) is np.ndarray else np.asarray(x.detach().numpy())
    return np.asarray(x)


def predictions(output: Any) -> np.ndarray:
    """Predicted class per row: argmax of the scores (or > 0.5 for a single output)."""
    scores = _np(output)
    if scores.ndim == 2 and scores.shape[1] > 1:
        return scores.argmax(axis=1)
    return (scores.reshape(-1) > 0).astype(np.int64)


def correct_count(output: Any, target: Any) -> int:
    """How many rows' predicted class (:func:`predictions`) equals the target: the training
    step's count, one call per batch.

    >>> import chainrule as cr
    >>> correct_count(cr.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), cr.tensor([1, 1, 1]))
    2
    """
    return int(np.count_nonzero(predictions(output) == _np(target)))


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


def _append(path: str, text: str) -> None:
    """Append ``text`` to ``path``, all or nothing: a failed write (disk full) cuts the file
    back to its old size and raises CheckpointError saying why."""
    data = text.encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError as exc:
        raise write_error(path, exc, len(data)) from None
    size = None
    try:
        size = os.fstat(fd).st_size
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except OSError as exc:
        if size is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
        raise write_error(path, exc, len(data)) from None
    finally:
        os.close(fd)


class MetricsLog:
    """Appends one row per epoch to ``metrics.jsonl`` and ``metrics.csv`` in ``folder``.

    The CSV's columns are those of :data:`FIELDS` the first row has (``val_*`` for a
    validation split, ``test_*`` when the test set is evaluated every epoch). A file that
    can't be written (disk full, read-only folder) raises CheckpointError.
    """

    FIELDS = ("epoch", "step", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
              "test_loss", "test_accuracy", "lr", "seconds", "samples_per_second")

    def __init__(self, folder: str | os.PathLike[str] | None) -> None:
        self.folder = folder
        self.rows: list[dict[str, Any]] = []
        self._columns: list[str] | None = None  # the CSV's, once its header is written

    def append(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if self.folder is None:
            return
        _append(os.path.join(self.folder, "metrics.jsonl"), json.dumps(row) + "\n")
        path = os.path.join(self.folder, "metrics.csv")
        buffer = io.StringIO(newline="")
        header = not os.path.exists(path)
        if header or self._columns is None:
            self._columns = [name for name in self.FIELDS if name in row]
        writer = csv.DictWriter(buffer, fieldnames=self._columns, extrasaction="ignore")
        if header:
            writer.writeheader()
        writer.writerow(row)
        _append(path, buffer.getvalue())

    def rewrite(self, rows: list[dict[str, Any]]) -> None:
        """Start the files over with ``rows`` (after resuming from a checkpoint)."""
        self.rows = []
        if self.folder is not None:
            for name in ("metrics.jsonl", "metrics.csv"):
                path = os.path.join(self.folder, name)
                try:
                    if os.path.exists(path):
                        os.remove(path)
                except OSError as exc:
                    raise write_error(path, exc) from None
        for row in rows:
            self.append(row)


MAX_METRICS_BYTES = 64 << 20  # a row is ~250 bytes: far more than any run writes
MAX_ROW_BYTES = 64 << 10


def read_metrics(folder: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The rows of a run's ``metrics.jsonl`` (empty if the run has none yet).

    A line that is not a JSON object raises CheckpointError naming the file and line; so
    does a file that is not a regular file (a symlink to ``/dev/zero``, a pipe), one over
    :data:`MAX_METRICS_BYTES`, or a line over :data:`MAX_ROW_BYTES`: nothing is read
    without a bound.
    """
    path = os.path.join(folder, "metrics.jsonl")
    if not os.path.lexists(path):
        return []
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: expected a metrics file, found {what_is_at(path)}")
    too_big = CheckpointError(f"{path}: larger than {MAX_METRICS_BYTES >> 20} MiB, far more "
                              "than the metrics of any run: not a metrics file")
    if os.path.getsize(path) > MAX_METRICS_BYTES:
        raise too_big
    rows, total = [], 0
    with open(path, "rb") as f:
        for number in itertools.count(1):
            line = f.readline(MAX_ROW_BYTES + 1)
            if not line:
                break
            total += len(line)
            if total > MAX_METRICS_BYTES:  # it grew while being read
                raise too_big
            if len(line) > MAX_ROW_BYTES:
                raise CheckpointError(f"{path}: line {number} is longer than "
                                      f"{MAX_ROW_BYTES >> 10} KiB: not a metrics row")
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                row = None
            if not isinstance(row, dict):
                raise CheckpointError(f"{path}: line {number} is not a JSON metrics row "
                                      f"({line[:60]!r}): damaged file")
            rows.append(row)
    return rows
