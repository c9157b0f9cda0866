"""``DistributedSampler``: each rank reads its own shard of the dataset (PyTorch's rules).

The order is one permutation seeded with ``seed + epoch`` (the same on every rank, so the
shards are disjoint), padded by repeating its start until the length divides by the number
of ranks (or cut with ``drop_last``); rank ``r`` takes positions ``r, r + n, r + 2n, ...``.
Call ``set_epoch(epoch)`` at the start of every epoch for a new order.

>>> from chainrule.distributed import DistributedSampler
>>> shards = [list(DistributedSampler(range(10), num_replicas=4, rank=r, shuffle=False))
...           for r in range(4)]
>>> shards
[[0, 4, 8], [1, 5, 9], [2, 6, 0], [3, 7, 1]]
>>> [len(DistributedSampler(range(10), 4, r, drop_last=True)) for r in range(4)]
[2, 2, 2, 2]
"""

from __future__ import annotations

from collections.abc import Iterator, Sized

from chainrule.data.sampler import Sampler
from chainrule.random import Generator


class DistributedSampler(Sampler):
    """Indices of this rank's shard of ``dataset``.

    Args:
        dataset: anything with a length.
        num_replicas: the number of ranks (default: ``chainrule.distributed.world_size()``).
        rank: this rank (default: ``chainrule.distributed.rank()``).
        shuffle: a new permutation each epoch (seeded with ``seed + epoch``), else in order.
        seed: the same on every rank.
        drop_last: cut the tail so every rank gets ``len(dataset) // num_replicas``
            samples; otherwise the order is padded by repeating its first indices.
    """

    def __init__(self, dataset: Sized, num_replicas: int | None = None,
                 rank: int | None = None, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False) -> None:
        super().__init__(dataset)
        if num_replicas is None or rank is None:
            from chainrule.distributed import api

            num_replicas = api.world_size() if num_replicas is None else num_replicas
            rank = api.rank() if rank is None else rank
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive integer, "
                             f"got {num_replicas!r}")
        if not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank!r}, rank should be in "
                             f"the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, seed, drop_last, 0
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = n // num_replicas
        else:
            self.num_samples = -(-n // num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            indices = Generator(self.seed + self.epoch).permutation(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            while padding > 0 and indices:
                take = indices[:padding]
                indices += take
                padding -= len(take)
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use the order of ``epoch`` next (call it on every rank with the same number)."""
        self.epoch = epoch
