"""Data: datasets, the DataLoader, the IDX reader, MNIST-style datasets, CIFAR-10, toy sets
and augmentation."""

from chainrule.data.augment import Augment
from chainrule.data.cifar import CIFAR10
from chainrule.data.dataset import Dataset, Subset, TensorDataset, random_split
from chainrule.data.datasets import KMNIST, MNIST, FashionMNIST, MiniMNIST, download
from chainrule.data.idx import DatasetError, read_idx, read_idx_pair, write_idx
from chainrule.data.loader import DataLoader, default_collate
from chainrule.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from chainrule.data.toy import make_circles, make_gaussians, make_moons, make_spiral, make_xor

__all__ = [
    "CIFAR10", "KMNIST", "MNIST", "Augment", "DataLoader", "Dataset", "DatasetError",
    "FashionMNIST", "MiniMNIST", "Subset", "TensorDataset", "default_collate", "download",
    "make_circles", "make_gaussians", "make_moons", "make_spiral", "make_xor", "random_split",
    "read_idx", "read_idx_pair", "write_idx", "BatchSampler", "RandomSampler", "Sampler",
    "SequentialSampler", "SubsetRandomSampler", "WeightedRandomSampler",
]
