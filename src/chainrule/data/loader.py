"""``DataLoader``: shuffled mini-batches as Tensors, reproducible and resumable.

Array-backed datasets are shuffled once per epoch into contiguous arrays and
then sliced, so a batch costs two slices, not a Python loop over samples.
The order comes from a chainrule :class:`~chainrule.Generator`; ``state_dict``
records where in which order the loader is, so training resumes bit-exactly. An
``augment`` function (:class:`chainrule.data.augment.Augment`) changes the images of each
batch with random numbers of that batch's own, drawn from the same generator: a resumed
run's batches are bit-identical to an uninterrupted run's, augmented or not.

>>> import numpy as np, chainrule as cr
>>> ds = cr.data.TensorDataset(np.arange(10.0), np.arange(10))
>>> loader = cr.data.DataLoader(ds, batch_size=4, shuffle=True, generator=cr.Generator(0))
>>> [len(y) for _, y in loader]
[4, 4, 2]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from chainrule.random import Generator, check_state, default_generator
from chainrule.random_draws import permutation, random_int64
from chainrule.tensor import Tensor

AUGMENT_DOMAIN = 0x6175676D  # "augm": keeps the batches' streams apart from other uses


def default_collate(samples: list[Any]) -> Any:
    """Stack a list of samples (tuples of arrays/numbers) into a tuple of arrays."""
    first = samples[0]
    if isinstance(first, dict):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, tuple | list):
        return tuple(default_collate([s[i] for s in samples]) for i in range(len(first)))
    if isinstance(first, Tensor):
        return np.stack([s._data for s in samples])
    return np.stack([np.asarray(s) for s in samples])


def _to_tensor(batch: Any) -> Any:
    if isinstance(batch, tuple | list):
        return tuple(_to_tensor(b) for b in batch)
    if isinstance(batch, dict):
        return {key: _to_tensor(value) for key, value in batch.items()}
    if isinstance(batch, np.ndarray):
        return Tensor._wrap(batch)
    return batch


def _augmented(augment: Callable[[np.ndarray, np.random.Generator], np.ndarray], batch: Any,
               key: int, number: int) -> Any:
    """``batch`` with its inputs (its first array) passed through ``augment``, with the
    random numbers of batch ``number`` of the epoch whose key is ``key``."""
    seeds = np.random.SeedSequence([AUGMENT_DOMAIN, key], spawn_key=(number,))
    rng = np.random.Generator(np.random.PCG64(seeds))
    if isinstance(batch, tuple | list):
        return (augment(np.asarray(batch[0]), rng), *batch[1:])
    return augment(np.asarray(batch), rng)


class DataLoader:
    """Iterate a dataset in mini-batches of Tensors.

    Args:
        dataset: a Dataset (array-backed ones are fastest).
        batch_size: samples per batch.
        shuffle: reshuffle every epoch with ``generator`` (default: chainrule's global one).
        sampler: the indices to take, in order (a :mod:`~chainrule.data.sampler` sampler or
            any iterable of indices with a length); instead of ``shuffle``.
        batch_sampler: yields the index lists of whole batches; instead of ``batch_size``,
            ``shuffle``, ``sampler`` and ``drop_last``.
        num_workers, pin_memory, timeout, worker_init_fn, multiprocessing_context,
            prefetch_factor, persistent_workers: accepted for PyTorch programs; batches are
            made in this process (array-backed ones cost two slices).
        collate_fn: turns a list of samples into a batch (default stacks arrays).
        drop_last: skip the last, smaller batch.
        generator: the Generator of the order (and of ``augment``'s random numbers).
        augment: ``augment(images, rng) -> images``, applied to the first array of each
            batch (the inputs) with a NumPy Generator ``rng`` of its own: made from a key
            the loader draws from ``generator`` at the start of each epoch and the batch's
            number, so it is the same when a run resumes in the middle of an epoch.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.data.augment import Augment
    >>> images = np.random.default_rng(0).random((6, 8, 8), dtype=np.float32)
    >>> ds = cr.data.TensorDataset(images, np.arange(6))
    >>> loader = DataLoader(ds, batch_size=4, shuffle=True, generator=cr.Generator(0),
    ...                     augment=Augment(["rotate"]))
    >>> [tuple(x.shape) for x, _ in loader]
    [(4, 8, 8), (2, 8, 8)]
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Any = None, batch_sampler: Any = None, num_workers: int = 0,
                 collate_fn: Callable[[list[Any]], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn: Any = None,
                 multiprocessing_context: Any = None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 augment: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None
                 ) -> None:
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size = None
        elif batch_size is None or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size} (each "
                             "batch must hold samples: batch_size=None is not supported)")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        self.dataset, self.shuffle = dataset, bool(shuffle)
        self.batch_size = None if batch_size is None else int(batch_size)
        self.sampler, self.batch_sampler, self.num_workers = sampler, batch_sampler, num_workers
        self.drop_last, self.collate_fn = drop_last, collate_fn
        self.generator = generator or default_generator
        self._own_generator = generator is not None  # PyTorch shuffles with it directly
        self.augment = augment
        self._epoch_state: dict[str, Any] | None = None  # generator state at this epoch's start
        self._position = 0  # batches already handed out in the current epoch
        self._resume = False

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler if self.sampler is not None else self.dataset)
        size = self.batch_size or 1
        return n // size if self.drop_last else -(-n // size)

    def _sampled_batches(self) -> Iterator[list[int]]:
        """Index lists from ``batch_sampler``, or ``sampler``'s indices in batches."""
        if self.batch_sampler is not None:
            yield from self.batch_sampler
            return
        from chainrule.data.sampler import BatchSampler

        yield from BatchSampler(self.sampler, self.batch_size or 1, self.drop_last)

    def _fetch(self, indices: Any) -> Any:
        if self.collate_fn is None and hasattr(self.dataset, "get_batch"):
            return self.dataset.get_batch(indices)
        collate = self.collate_fn or default_collate
        return collate([self.dataset[int(i)] for i in indices])

    def _order(self) -> np.ndarray | None:
        """PyTorch's draws at the start of an epoch: the iterator's base seed (one 64-bit
        word, drawn even without shuffling), then RandomSampler's order: ``randperm`` of a
        new generator seeded from this one, or of the loader's own generator, which also
        draws the (empty) remainder permutation at the end of the pass."""
        random_int64(self.generator, ())
        if not self.shuffle:
            return None
        n = len(self.dataset)
        if not self._own_generator:
            return permutation(self.generator.spawn(), n)
        order = permutation(self.generator, n)
        permutation(self.generator, n)
        return order

    def __iter__(self) -> Iterator[Any]:
        if self._resume and self._epoch_state is not None:
            self.generator.set_state(self._epoch_state)
            skip = self._position
        else:
            self._epoch_state = self.generator.get_state()
            skip = 0
        self._resume = False
        order = self._order()
        # drawn after the order, so the first epoch's order is the one without augment
        key = int(random_int64(self.generator, ())) if self.augment is not None else 0
        if self.sampler is not None or self.batch_sampler is not None:
            yield from self._iter_sampled(skip, key)
            return
        n = len(self.dataset)
        size = self.batch_size or 1
        arrays = getattr(self.dataset, "arrays", None) if self.collate_fn is None else None
        if arrays is not None:
            if order is not None:
                arrays = [a[order] for a in arrays]  # one gather per epoch, then slices
            order = None
        n_batches = len(self)
        for b in range(skip, n_batches):
            start, stop = b * size, min((b + 1) * size, n)
            self._position = b + 1
            if arrays is not None:
                batch: Any = tuple(a[start:stop] for a in arrays)
            else:
                batch = self._fetch(np.arange(start, stop) if order is None
                                    else order[start:stop])
            if self.augment is not None:
                batch = _augmented(self.augment, batch, key, b)
            yield _to_tensor(batch)
        self._position = 0
        self._epoch_state = None

    def _iter_sampled(self, skip: int, key: int) -> Iterator[Any]:
        """Batches whose indices come from ``sampler`` or ``batch_sampler`` (a resumed
        epoch draws the skipped batches' indices again and drops them)."""
        for b, indices in enumerate(self._sampled_batches()):
            if b < skip:
                continue
            self._position = b + 1
            batch = self._fetch(np.asarray(indices, dtype=np.int64))
            if self.augment is not None:
                batch = _augmented(self.augment, batch, key, b)
            yield _to_tensor(batch)
        self._position = 0
        self._epoch_state = None

    def state_dict(self) -> dict[str, Any]:
        """Where the loader is: the order's generator state and batches already served."""
        return {"epoch_state": self._epoch_state, "position": self._position,
                "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue exactly where :meth:`state_dict` was taken (mid-epoch or between epochs).

        The state is checked first: a wrong one raises ValueError naming the field (and
        changes nothing), e.g. a position past the end of an epoch of this loader.
        """
        keys = {"epoch_state", "position", "generator"}
        if not isinstance(state, dict) or set(state) != keys:
            found = sorted(map(str, state)) if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"DataLoader state: expected the keys {sorted(keys)}, found {found}")
        check_state(state["generator"], "generator")
        if state["epoch_state"] is not None:
            check_state(state["epoch_state"], "epoch_state")
        position, batches = state["position"], len(self)
        if not isinstance(position, int) or isinstance(position, bool) \
                or not 0 <= position <= batches:
            raise ValueError(f"DataLoader state 'position': expected an integer in [0, {batches}] "
                             f"(batches per epoch of this loader), found {position!r:.60}")
        self.generator.set_state(state["generator"])
        self._epoch_state = state["epoch_state"]
        self._position = position
        self._resume = self._epoch_state is not None and self._position > 0
