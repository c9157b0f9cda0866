"""Datasets: anything with ``__len__`` and ``__getitem__``; array-backed ones also batch.

A dataset that defines ``get_batch(indices)`` hands the DataLoader whole
batches by NumPy fancy indexing, with no Python work per sample.

>>> import chainrule as cr
>>> ds = TensorDataset(cr.arange(10.0).reshape(5, 2), cr.arange(5))
>>> len(ds), ds[1]
(5, (tensor([2., 3.]), tensor(1)))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.random import Generator, numpy_generator
from chainrule.tensor import Tensor
from chainrule.wording import plural


class Dataset:
    """Base class: subclasses define ``__len__`` and ``__getitem__(i)``."""

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError


class TensorDataset(Dataset):
    """Samples are rows of equally long arrays (or Tensors): ``(images, labels)``.

    ``ds[i]`` and ``ds[a:b]`` are tuples of Tensors sharing the rows' memory, as in
    PyTorch; the DataLoader takes whole batches from the arrays (``get_batch``, ``arrays``).
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        self.arrays = [a._data if isinstance(a, Tensor) else np.asarray(a) for a in arrays]
        n = len(self.arrays[0])
        for i, a in enumerate(self.arrays):
            if len(a) != n:
                raise ValueError(f"TensorDataset: array {i} has {len(a)} rows, array 0 has {n}")

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        if isinstance(index, Tensor):
            index = index._data
        return tuple(Tensor._wrap(a[index]) for a in self.arrays)

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        """The whole arrays as Tensors (PyTorch's ``TensorDataset.tensors``)."""
        return tuple(Tensor._wrap(a) for a in self.arrays)

    def get_batch(self, indices: Any) -> tuple[Any, ...]:
        return tuple(a[indices] for a in self.arrays)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def get_batch(self, indices: Any) -> Any:
        inner = self.indices[indices]
        if hasattr(self.dataset, "get_batch"):
            return self.dataset.get_batch(inner)
        from chainrule.data.loader import default_collate

        return default_collate([self.dataset[int(i)] for i in inner])

    @property
    def arrays(self) -> list[Any] | None:
        """The subset's rows as arrays when the parent is array-backed (else None)."""
        parent = getattr(self.dataset, "arrays", None)
        if parent is None:
            return None
        return [a[self.indices] for a in parent]


def random_split(dataset: Any, lengths: Sequence[float], generator: Generator | None = None
                 ) -> list[Subset]:
    """Split into non-overlapping random subsets of the given sizes (or fractions summing to 1)."""
    n = len(dataset)
    if all(isinstance(x, float) for x in lengths) and abs(sum(lengths) - 1.0) < 1e-9:
        sizes = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
    else:
        sizes = [int(x) for x in lengths]
    if sum(sizes) != n:
        raise ValueError(f"random_split: lengths {list(lengths)} sum to {sum(sizes)}, the dataset "
                         f"has {plural(n, 'sample')}")
    order = numpy_generator(generator).permutation(n)
    out, start = [], 0
    for size in sizes:
        out.append(Subset(dataset, order[start:start + size]))
        start += size
    return out
