"""``torch.utils.data``'s names for chainrule's data pipeline (re-exports of chainrule.data).

So that ``from torch.utils.data import DataLoader, TensorDataset`` keeps working with
``import chainrule as torch``:

>>> import chainrule as torch
>>> from chainrule.utils.data import DataLoader, TensorDataset
>>> ds = TensorDataset(torch.arange(6.0).reshape(3, 2), torch.tensor([0, 1, 0]))
>>> [tuple(x.shape) for x, _ in DataLoader(ds, batch_size=2)]
[(2, 2), (1, 2)]
"""

from chainrule.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    random_split,
)
from chainrule.distributed.sampler import DistributedSampler

__all__ = ["BatchSampler", "DataLoader", "Dataset", "DistributedSampler", "RandomSampler",
           "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset",
           "WeightedRandomSampler", "default_collate", "random_split"]
