"""Samplers: which samples a :class:`~chainrule.data.DataLoader` takes, in which order
(PyTorch's ``torch.utils.data`` samplers).

A sampler yields dataset indices; a batch sampler yields lists of them. Random ones draw
from a chainrule :class:`~chainrule.Generator` (the global one unless ``generator=``).

>>> import chainrule as cr
>>> from chainrule.utils.data import BatchSampler, SequentialSampler
>>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
[[0, 1], [2, 3], [4]]
>>> sorted(cr.utils.data.SubsetRandomSampler([4, 7, 9], generator=cr.Generator(0)))
[4, 7, 9]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized
from typing import Any

import numpy as np

from chainrule.random import Generator, numpy_generator


class Sampler:
    """Base class: subclasses define ``__iter__`` (indices) and, usually, ``__len__``."""

    def __init__(self, data_source: Sized | None = None) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Sized) -> None:
        super().__init__(data_source)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self)))

    def __len__(self) -> int:
        return len(self.data_source)  # type: ignore[arg-type]


class RandomSampler(Sampler):
    """A random order of all indices (a new one each pass), or ``num_samples`` drawn with
    ``replacement``."""

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator: Generator | None = None) -> None:
        super().__init__(data_source)
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError(f"RandomSampler: num_samples should be a positive integer, got "
                             f"{num_samples!r}")
        self.replacement, self._num_samples, self.generator = replacement, num_samples, generator

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[int]:
        # PyTorch: without a generator of its own the sampler seeds a new one from the
        # default generator (one 64-bit word); whole orders, then a cut one (maybe empty).
        n = len(self.data_source)  # type: ignore[arg-type]
        rng = numpy_generator(self.generator)
        if self.generator is None:
            rng = rng.spawn()
        if self.replacement:
            return iter(rng.integers(0, n, self.num_samples).tolist())
        orders = [rng.permutation(n) for _ in range(self.num_samples // n)]
        orders.append(rng.permutation(n)[:self.num_samples % n])
        return iter(np.concatenate(orders).tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order (a new one each pass)."""

    def __init__(self, indices: Iterable[int], generator: Generator | None = None) -> None:
        super().__init__(None)
        self.indices, self.generator = list(indices), generator

    def __iter__(self) -> Iterator[int]:
        order = numpy_generator(self.generator).permutation(len(self.indices))
        return iter([self.indices[i] for i in order])

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices in [0, len(weights)), each with probability proportional to
    its weight (with ``replacement``, or each index at most once): PyTorch's draws, through
    :func:`chainrule.multinomial` on the float64 weights, as PyTorch's sampler does."""

    def __init__(self, weights: Any, num_samples: int, replacement: bool = True,
                 generator: Generator | None = None) -> None:
        super().__init__(None)
        from chainrule.tensor import Tensor

        values = weights.detach().numpy() if isinstance(weights, Tensor) else weights
        self.weights = np.asarray(values, dtype=np.float64).reshape(-1)
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) \
                or num_samples <= 0:
            raise ValueError(f"WeightedRandomSampler: num_samples should be a positive "
                             f"integer, got {num_samples!r}")
        if (self.weights < 0).any() or not np.isfinite(self.weights).all() \
                or self.weights.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights must be finite, >= 0, and not "
                             "all 0")
        if not replacement and num_samples > np.count_nonzero(self.weights):
            raise ValueError(f"WeightedRandomSampler: cannot draw {num_samples} samples "
                             f"without replacement from {np.count_nonzero(self.weights)} "
                             "nonzero weights")
        self.num_samples, self.replacement, self.generator = num_samples, replacement, generator

    def __iter__(self) -> Iterator[int]:
        from chainrule.sampling import multinomial
        from chainrule.tensor import Tensor

        drawn = multinomial(Tensor._wrap(self.weights), self.num_samples, self.replacement,
                            generator=self.generator)
        return iter(drawn.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter
    unless ``drop_last``)."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        super().__init__(None)
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size should be a positive integer, got "
                             f"{batch_size!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(int(index))
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
