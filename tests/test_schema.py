"""The checkpoint metadata schema (train/schema.py) for the records of issue 13: the held-out
validation indices, the test results after training, and test_* metrics columns."""

from __future__ import annotations

from typing import Any

import pytest

from chainrule.train.schema import FORMAT, VERSION, check_metadata

ROW = {"epoch": 1, "step": 10, "train_loss": 0.5, "train_accuracy": 0.8, "lr": 0.1,
       "seconds": 1.0, "samples_per_second": 100.0}
RESULT = {"epoch": 3, "loss": 0.2, "accuracy": 0.9, "count": 100}


def _meta(**keys: Any) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "epoch": 3, **keys}


@pytest.mark.parametrize("keys", [
    {"validation": {"of": 10, "indices": [0, 4, 9]}},
    {"test": {"last": RESULT}},
    {"test": {"last": RESULT, "best": {**RESULT, "chosen_by": "val_accuracy",
                                       "chosen_value": 0.91}}},
    {"metrics": [{**ROW, "test_loss": 0.3, "test_accuracy": 0.85}]},
    {"metrics": [{**ROW, "val_loss": 0.3, "val_accuracy": 0.85}]},  # older runs, and splits
])
def test_valid_records_pass(keys: dict[str, Any]) -> None:
    check_metadata(_meta(**keys))


@pytest.mark.parametrize(("keys", "message"), [
    ({"validation": [1, 2]}, "'validation': expected {of, indices}"),
    ({"validation": {"of": 10, "indices": [3, 2]}}, r"increasing integers in \[0, 10\)"),
    ({"validation": {"of": 10, "indices": [1, 10]}}, r"increasing integers in \[0, 10\)"),
    ({"validation": {"of": 10, "indices": [1, True]}}, "increasing integers"),
    ({"validation": {"of": 10, "indices": []}}, "a list of image indices"),
    ({"validation": {"of": 3, "indices": [0, 1, 2]}}, "fewer than 3 indices"),
    ({"validation": {"of": 1, "indices": [0]}}, "an integer >= 2"),
    ({"test": {}}, "'test': expected {last, best} results"),
    ({"test": {"first": RESULT}}, "'test': expected {last, best} results"),
    ({"test": {"last": {"epoch": 3}}}, "'test.last': expected a result with accuracy"),
    ({"test": {"last": {**RESULT, "accuracy": "high"}}}, "'test.last.accuracy': expected a"),
    ({"test": {"last": {**RESULT, "epoch": -1}}}, "'test.last.epoch': expected an integer"),
    ({"test": {"best": {**RESULT, "chosen_value": "x"}}}, "'test.best.chosen_value'"),
    ({"metrics": [{**ROW, "test_accuracy": "0.9"}]}, "'metrics\\[0\\].test_accuracy'"),
])
def test_invalid_records_name_the_key(keys: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_metadata(_meta(**keys))
