"""The validation split and the data's dtype (train/split.py, recipe.parse_val_split)."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.data import TensorDataset
from chainrule.train import split
from chainrule.train.recipe import ConfigError, parse_val_split


@pytest.mark.parametrize(("given", "expected"), [
    ("10000", 10000), (10000, 10000), ("0.1", 0.1), (0.25, 0.25), ("1.0", 1), ("1e4", 10000),
    ("0", None), (0, None), ("none", None), (None, None),
])
def test_parse_val_split(given: object, expected: object) -> None:
    parsed = parse_val_split(given)
    assert parsed == expected and type(parsed) is type(expected)


@pytest.mark.parametrize("given", ["abc", "-1", -0.5, "2.5", "inf", "nan", True, [1], ""])
def test_parse_val_split_refuses(given: object) -> None:
    with pytest.raises(ConfigError, match="--val-split"):
        parse_val_split(given)


@pytest.mark.parametrize(("n", "spec", "count"), [
    (60000, 10000, 10000), (60000, 0.1, 6000), (10, 0.25, 2), (10, 0.26, 3), (2, 1, 1),
])
def test_held_out_count(n: int, spec: float, count: int) -> None:
    assert split.held_out_count(n, spec) == count


@pytest.mark.parametrize(("n", "spec", "message"), [
    (10, 10, "has 10 images; hold out fewer"), (10, 11, "has 10 images"),
    (10, 0.01, "holds out no image"), (1, 0.5, r"has 1 image\(s\), too few"),
])
def test_held_out_count_refuses(n: int, spec: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        split.held_out_count(n, spec)


def test_indices_are_seeded_sorted_and_disjoint_from_training() -> None:
    first = split.validation_indices(1000, 200, seed=3)
    assert np.array_equal(first, split.validation_indices(1000, 200, seed=3))
    assert not np.array_equal(first, split.validation_indices(1000, 200, seed=4))
    assert len(first) == 200 and (np.diff(first) > 0).all() and 0 <= first[0] < first[-1] < 1000
    data = TensorDataset(np.arange(1000, dtype=np.float32)[:, None], np.arange(1000))
    train, val = split.split(data, first)
    trained, held = set(train.get_batch(np.arange(len(train)))[1]), set(val.indices.tolist())
    assert len(train) == 800 and not trained & held and trained | held == set(range(1000))


@pytest.mark.parametrize(("saved", "n", "spec", "message"), [
    ({"of": 100, "indices": [1, 2]}, 90, 2, "training set of 100 images, this one has 90"),
    ({"of": 100, "indices": [2, 1]}, 100, 2, "increasing indices"),
    ({"of": 100, "indices": [1, 100]}, 100, 2, r"in \[0, 100\)"),
    ({"of": 100, "indices": [1, 2, 3]}, 100, 2, "expected 2 increasing"),
    ({"of": 100, "indices": [1, "2"]}, 100, 2, "whole numbers"),
    ([1, 2], 100, 2, "expected {of, indices}"),
])
def test_saved_indices_are_checked(saved: object, n: int, spec: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        split.check_saved_indices(saved, n, spec)


def test_saved_indices_come_back_as_saved() -> None:
    indices = split.validation_indices(100, 0.2, seed=0)
    saved = {"of": 100, "indices": indices.tolist()}
    assert np.array_equal(split.check_saved_indices(saved, 100, 0.2), indices)


def test_with_dtype_casts_images_not_labels() -> None:
    data = TensorDataset(np.ones((4, 2), np.float32), np.arange(4))
    assert split.with_dtype(data, "float32") is data
    cast = split.with_dtype(data, "float64")
    assert [a.dtype for a in cast.arrays] == [np.float64, np.int64]
    x, y = cast.get_batch(np.array([0, 2]))
    assert x.dtype == np.float64 and y.tolist() == [0, 2]
    image, label = cast[1]
    assert image.dtype == np.float64 and label == 1
