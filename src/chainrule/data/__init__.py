"""Data: datasets, the DataLoader, the IDX reader, MNIST-style datasets and toy sets."""

from chainrule.data.dataset import Dataset, Subset, TensorDataset, random_split
from chainrule.data.idx import DatasetError, read_idx, read_idx_pair, write_idx
from chainrule.data.loader import DataLoader, default_collate

__all__ = [
    "DataLoader", "Dataset", "DatasetError", "Subset", "TensorDataset", "default_collate",
    "random_split", "read_idx", "read_idx_pair", "write_idx",
]
