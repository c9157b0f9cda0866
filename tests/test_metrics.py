"""chainrule.train.metrics: the per-batch counts and the accuracy the Trainer reports."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule.train.metrics import accuracy, confusion_matrix, correct_count, predictions

RNG = np.random.default_rng(0)
SCORES = RNG.normal(size=(40, 5)).astype(np.float32)
LABELS = RNG.integers(0, 5, 40)
LOGITS = RNG.normal(size=(40, 1))  # one output: class 1 where the logit is above 0
BINARY = RNG.integers(0, 2, 40)

# (name, output, target, expected count), each as arrays, Tensors or both mixed
CASES: list[tuple[str, Any, Any, int]] = [
    ("arrays", SCORES, LABELS, int((SCORES.argmax(1) == LABELS).sum())),
    ("tensors", cr.tensor(SCORES), cr.tensor(LABELS), int((SCORES.argmax(1) == LABELS).sum())),
    ("tensor-requiring-grad", cr.tensor(SCORES, requires_grad=True), cr.tensor(LABELS),
     int((SCORES.argmax(1) == LABELS).sum())),
    ("one-output", cr.tensor(LOGITS), cr.tensor(BINARY), int(((LOGITS[:, 0] > 0) == BINARY).sum())),
    ("all-right", np.eye(3), np.arange(3), 3),
    ("none-right", np.eye(3), np.array([1, 2, 0]), 0),
]


@pytest.mark.parametrize(("output", "target", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_correct_count_and_accuracy_agree(output: Any, target: Any, expected: int) -> None:
    assert correct_count(output, target) == expected
    assert type(correct_count(output, target)) is int
    assert accuracy(output, target) == pytest.approx(expected / len(np.asarray(
        target.numpy() if isinstance(target, cr.Tensor) else target)))


def test_predictions_do_not_change_the_output() -> None:
    scores = cr.tensor(SCORES.copy(), requires_grad=True)
    predicted = predictions(scores)
    predicted[:] = -1  # the predictions are a new array, not a view of the scores
    np.testing.assert_array_equal(scores.detach().numpy(), SCORES)


def test_confusion_matrix_counts_every_row() -> None:
    counts = confusion_matrix(cr.tensor(LABELS), predictions(cr.tensor(SCORES)), 5)
    assert counts.sum() == 40 and np.trace(counts) == correct_count(SCORES, LABELS)
