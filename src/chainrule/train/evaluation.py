"""Evaluating a classifier: mean loss, accuracy and confusion matrix over a data set, and the
once-only test of a run's best and last models after training.

A run with a validation split (``chainrule train --val-split N``) picks its best epoch on the
validation images, so the test set stays unseen while training; :func:`test_best_and_last`
then evaluates it once, on the last model and on the best epoch's weights
(``best.safetensors``), each labelled with the epoch it comes from.

>>> import chainrule as cr
>>> from chainrule import nn
>>> X, y = cr.data.make_xor(40, seed=0)
>>> loader = cr.data.DataLoader(cr.data.TensorDataset(X, y), batch_size=16)
>>> result = evaluate(nn.Linear(2, 2), nn.CrossEntropyLoss(), loader, num_classes=2)
>>> result["count"], result["confusion"].shape
(40, (2, 2))
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.autograd.grad_mode import no_grad
from chainrule.tensor import Tensor
from chainrule.train.checkpoint import apply_checkpoint, read_checkpoint
from chainrule.train.metrics import confusion_matrix, predictions


def evaluate(model: Any, loss_fn: Callable[[Any, Any], Tensor], loader: Any,
             num_classes: int | None = None, to_device: Callable[[Any], Any] | None = None
             ) -> dict[str, Any]:
    """Mean loss, accuracy, confusion matrix and sample count of ``model`` over ``loader``
    (eval mode, no graph; the model's mode is put back after). ``to_device`` moves each
    batch first (None: they stay where they are)."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    targets, predicted = [], []
    try:
        with no_grad():
            for x, y in loader:
                if to_device is not None:
                    x, y = to_device(x), to_device(y)
                output = model(x)
                total += float(loss_fn(output, y).item()) * len(y)
                count += len(y)
                targets.append(np.asarray(y.numpy()))
                predicted.append(predictions(output))
    finally:
        model.train(was_training)
    t = np.concatenate(targets) if targets else np.zeros(0, np.int64)
    p = np.concatenate(predicted) if predicted else np.zeros(0, np.int64)
    k = num_classes or int(max(t.max(initial=0), p.max(initial=0)) + 1)
    return {"loss": total / max(count, 1), "accuracy": float((t == p).mean()) if count
            else float("nan"), "confusion": confusion_matrix(t, p, k), "count": count}


def _summary(result: dict[str, Any], epoch: int) -> dict[str, Any]:
    return {"epoch": int(epoch), "loss": float(result["loss"]),
            "accuracy": float(result["accuracy"]), "count": int(result["count"])}


def test_best_and_last(trainer: Any, loader: Any, num_classes: int
                       ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Evaluate ``trainer``'s last model and its best epoch's weights (``best.safetensors``,
    chosen on ``trainer.monitor``) on ``loader``, once each; the model is left with the
    last weights.

    Returns the last model's full result (with its confusion matrix) and a JSON-able
    summary ``{"last": {epoch, loss, accuracy, count}, "best": {..., "chosen_by",
    "chosen_value"}}`` ("best" only when a best epoch was saved).
    """
    model = trainer.model
    last = trainer.evaluate(loader, num_classes)
    summary: dict[str, Any] = {"last": _summary(last, trainer.epoch)}
    path = trainer.best_path
    if path is None or trainer.best_epoch is None or not os.path.exists(path):
        return last, summary
    arrays, meta = read_checkpoint(path)
    epoch = meta.get("epoch", trainer.best_epoch)
    if epoch == trainer.epoch:  # the last epoch was the best: the same weights
        best = last
    else:
        kept = {name: Tensor._wrap(t._data.copy()) for name, t in model.state_dict().items()}
        try:
            apply_checkpoint(path, arrays, meta, model)
            best = trainer.evaluate(loader, num_classes)
        finally:
            model.load_state_dict(kept)
    summary["best"] = {**_summary(best, epoch), "chosen_by": trainer.monitor,
                       "chosen_value": trainer.best_value}
    return last, summary
