"""What a ``chainrule train`` run learns from and checks itself on: the validation split
(``--val-split``) and the floating dtype of its data (``--dtype``).

``--val-split N`` holds N images (or a fraction of them) out of the training set: they are
never trained on; every epoch is evaluated on them (the ``val_*`` columns) and the best
epoch is chosen on them, so the test set stays unseen until it is evaluated once, after
training. Which images are held out is drawn from the run's seed, and the indices are
saved with the run (the checkpoint's ``validation`` metadata), so a resumed run keeps
exactly the same split whatever NumPy version draws the permutation later.

>>> indices = validation_indices(100, 0.25, seed=0)
>>> len(indices), bool((np.diff(indices) > 0).all())
(25, True)
>>> validation_indices(100, 25, seed=0).tolist() == indices.tolist()
True
>>> validation_indices(10, 10, seed=0)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: --val-split 10: the training set has 10 images; hold out fewer ...
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.data.dataset import Dataset, Subset
from chainrule.random import Generator
from chainrule.tensor import Tensor

SPLIT_STREAM = 2  # the split is drawn from Generator(seed + 2): the loader's is seed + 1


def held_out_count(n: int, spec: int | float) -> int:
    """How many of ``n`` training images ``--val-split spec`` holds out: ``spec`` itself
    when it is a count, ``round(spec * n)`` for a fraction in (0, 1). ValueError when no
    image would be held out or none left to train on."""
    if n < 2:
        raise ValueError(f"--val-split {spec}: the training set has {n} image(s), too few to "
                         "hold any out and train on the rest; leave out --val-split")
    count = round(spec * n) if isinstance(spec, float) else int(spec)
    if count >= n:
        raise ValueError(f"--val-split {spec}: the training set has {n:,} images; hold out "
                         f"fewer (at least 1 must be left to train on), e.g. --val-split "
                         f"{max(n // 5, 1)} or a fraction like 0.1")
    if count < 1:
        raise ValueError(f"--val-split {spec}: holds out no image of the {n:,} of the "
                         f"training set; pass a larger fraction or a count like "
                         f"--val-split {max(n // 5, 1)}")
    return count


def validation_indices(n: int, spec: int | float, seed: int) -> np.ndarray:
    """The sorted indices (int64) of the training images ``--val-split spec`` holds out of
    ``n``, drawn from ``seed``: the first ``count`` of a seeded permutation."""
    count = held_out_count(n, spec)
    order = Generator(seed + SPLIT_STREAM).permutation(n)
    return np.sort(order[:count]).astype(np.int64)


def check_saved_indices(saved: Any, n: int, spec: int | float) -> np.ndarray:
    """The held-out indices saved with a run, checked against the training set it is
    resumed on (``n`` images) and its ``--val-split``; ValueError says what does not fit."""
    if not isinstance(saved, dict) or not isinstance(saved.get("indices"), list):
        raise ValueError("metadata 'validation': expected {of, indices}, found "
                         f"{saved!r:.80}")
    of, indices = saved.get("of"), saved["indices"]
    if of != n:
        raise ValueError(f"its validation images were held out of a training set of {of} "
                         f"images, this one has {n:,}: resume it with the same data")
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in indices):
        raise ValueError("metadata 'validation.indices': expected whole numbers")
    array = np.asarray(indices, dtype=np.int64)
    if array.size != held_out_count(n, spec) or (array.size and (
            array[0] < 0 or array[-1] >= n or not (np.diff(array) > 0).all())):
        raise ValueError(f"metadata 'validation.indices': expected {held_out_count(n, spec)} "
                         f"increasing indices in [0, {n}), found {array.size}")
    return array


def split(dataset: Any, held_out: np.ndarray) -> tuple[Subset, Subset]:
    """(training images, validation images) of ``dataset``: the rows not in ``held_out``
    and those in it, each in their original order."""
    keep = np.ones(len(dataset), dtype=bool)
    keep[held_out] = False
    return Subset(dataset, np.flatnonzero(keep)), Subset(dataset, held_out)


def _cast(value: Any, dtype: np.dtype) -> Any:
    if isinstance(value, tuple | list):
        return type(value)(_cast(v, dtype) for v in value)
    if isinstance(value, Tensor):
        value = value._data
    if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.dtype != dtype:
        return value.astype(dtype)
    return value


class WithDtype(Dataset):
    """``dataset`` with its floating arrays (the images) in ``dtype`` (``--dtype``); labels
    and other integer arrays unchanged. An array-backed dataset is converted once."""

    def __init__(self, dataset: Any, dtype: Any) -> None:
        self.dataset, self.dtype = dataset, np.dtype(dtype)
        self._arrays: list[Any] | None = None

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Any:
        return _cast(self.dataset[index], self.dtype)

    def get_batch(self, indices: Any) -> Any:
        if self.arrays is not None:
            return tuple(a[indices] for a in self.arrays)
        if hasattr(self.dataset, "get_batch"):
            return _cast(self.dataset.get_batch(indices), self.dtype)
        from chainrule.data.loader import default_collate

        return default_collate([self[int(i)] for i in indices])

    @property
    def arrays(self) -> list[Any] | None:
        """The parent's arrays in ``dtype`` (None when the parent has none)."""
        if self._arrays is None:
            parent = getattr(self.dataset, "arrays", None)
            if parent is not None:
                self._arrays = [_cast(a, self.dtype) for a in parent]
        return self._arrays


def with_dtype(dataset: Any, dtype: Any) -> Any:
    """``dataset`` itself when its floats already are float32 and ``dtype`` is float32
    (the default: nothing copied), else :class:`WithDtype`."""
    if dataset is None or np.dtype(dtype) == np.float32:
        return dataset
    return WithDtype(dataset, dtype)
