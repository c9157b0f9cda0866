"""DataLoader, datasets and splits: batching, seeded shuffling, resumable order."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import DataLoader, Dataset, Subset, TensorDataset, random_split


class Squares(Dataset):
    """A plain map-style dataset (no arrays, no get_batch): exercises the collate path."""

    def __len__(self) -> int:
        return 7

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        return np.array([i, i * i], dtype=np.float32), i % 2


def _flat(loader: DataLoader) -> list[int]:
    return [int(v) for _, y in loader for v in y.tolist()]


def test_batches_drop_last_and_tensors() -> None:
    ds = TensorDataset(np.arange(20.0).reshape(10, 2), np.arange(10))
    loader = DataLoader(ds, batch_size=4)
    batches = list(loader)
    assert [len(y) for _, y in batches] == [4, 4, 2] and len(loader) == 3
    assert isinstance(batches[0][0], cr.Tensor) and batches[0][0].shape == (4, 2)
    assert [len(y) for _, y in DataLoader(ds, batch_size=4, drop_last=True)] == [4, 4]
    assert _flat(loader) == list(range(10))


def test_shuffle_is_seeded_and_changes_each_epoch() -> None:
    ds = TensorDataset(np.arange(50), np.arange(50))
    a = DataLoader(ds, batch_size=8, shuffle=True, generator=cr.Generator(3))
    b = DataLoader(ds, batch_size=8, shuffle=True, generator=cr.Generator(3))
    first, second = _flat(a), _flat(a)
    assert first == _flat(b) and second == _flat(b)
    assert first != second and sorted(first) == list(range(50))


def test_collate_path_and_custom_collate() -> None:
    loader = DataLoader(Squares(), batch_size=3, shuffle=True, generator=cr.Generator(0))
    xs = [x for x, _ in loader]
    assert [x.shape for x in xs] == [(3, 2), (3, 2), (1, 2)]
    total = DataLoader(Squares(), batch_size=7, collate_fn=lambda s: len(s))
    assert list(total) == [7]


def test_resume_mid_epoch_gives_the_same_remaining_batches() -> None:
    ds = TensorDataset(np.arange(40), np.arange(40))
    ref = DataLoader(ds, batch_size=5, shuffle=True, generator=cr.Generator(1))
    expected = [y.tolist() for _, y in ref] + [y.tolist() for _, y in ref]
    loader = DataLoader(ds, batch_size=5, shuffle=True, generator=cr.Generator(1))
    seen = []
    for i, (_, y) in enumerate(loader):
        seen.append(y.tolist())
        if i == 2:
            state = loader.state_dict()
            break
    again = DataLoader(ds, batch_size=5, shuffle=True, generator=cr.Generator(99))
    again.load_state_dict(state)
    seen += [y.tolist() for _, y in again] + [y.tolist() for _, y in again]
    assert seen == expected


def test_random_split_and_subset() -> None:
    ds = TensorDataset(np.arange(10), np.arange(10))
    a, b = random_split(ds, [7, 3], generator=cr.Generator(0))
    assert len(a) == 7 and len(b) == 3
    assert sorted(list(a.indices) + list(b.indices)) == list(range(10))
    halves = random_split(ds, [0.5, 0.5], generator=cr.Generator(0))
    assert [len(h) for h in halves] == [5, 5]
    sub = Subset(ds, [9, 2])
    assert sub[0][1] == 9 and _flat(DataLoader(sub, batch_size=2)) == [9, 2]
    with pytest.raises(ValueError, match="sum to 9"):
        random_split(ds, [5, 4])


def test_toy_sets_are_seeded() -> None:
    for maker in (cr.data.make_circles, cr.data.make_moons, cr.data.make_xor,
                  cr.data.make_spiral, cr.data.make_gaussians):
        X, y = maker(120, seed=4)
        X2, y2 = maker(120, seed=4)
        assert X.shape == (120, 2) and X.dtype == np.float32 and y.dtype == np.int64
        assert np.array_equal(X.numpy(), X2.numpy()) and np.array_equal(y.numpy(), y2.numpy())
        assert not np.array_equal(X.numpy(), maker(120, seed=5)[0].numpy())
    X, y = cr.data.make_xor(200, noise=0.0, seed=0)
    assert ((np.sign(X.numpy()[:, 0]) != np.sign(X.numpy()[:, 1])) == (y.numpy() == 1)).all()
