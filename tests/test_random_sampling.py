"""``multinomial`` against PyTorch's CPU draws, bit for bit: the exponential race (without
replacement, or one sample) and the cumulative search (with replacement), for seeds 0..9,
the issue's category counts, float32 and float64, 1-D and 2-D inputs, and the stream
position each draw leaves behind.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from tests.nnref import torch

import chainrule as cr

pytestmark = pytest.mark.skipif(torch is None, reason="torch is not installed")

SEEDS = range(10)
CATEGORIES = (1, 2, 15, 16, 17, 100, 1000, 10**5)


def _weights(seed: int, rows: int, categories: int, dtype: Any) -> Any:
    """Positive weights, one category of weight 0 when there are enough categories."""
    generator = torch.Generator().manual_seed(1000 + seed)
    weights = torch.rand(rows, categories, generator=generator, dtype=dtype) + 0.01
    if categories > 3:
        weights[:, 1] = 0
    return weights if rows > 1 else weights[0]


@pytest.mark.parametrize("replacement", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_multinomial_is_torchs(replacement: bool, dtype: str) -> None:
    for seed in SEEDS:
        for categories in CATEGORIES:
            for rows in (1, 3):
                weights = _weights(seed, rows, categories, getattr(torch, dtype))
                ours_weights = cr.tensor(weights.numpy())
                positive = int((weights > 0).sum(-1).min())
                counts = {1, min(5, positive), positive} if not replacement else {1, 7, 100}
                for count in sorted(counts):
                    cr.manual_seed(seed)
                    torch.manual_seed(seed)
                    ours = cr.multinomial(ours_weights, count, replacement).numpy()
                    theirs = torch.multinomial(weights, count, replacement).numpy()
                    where = (seed, categories, rows, count)
                    if replacement or np.array_equal(ours, theirs):
                        assert np.array_equal(ours, theirs), where
                    else:
                        _assert_same_up_to_ties(ours, theirs, weights.numpy(), seed, where)
                    assert float(cr.rand(()).item()) == float(torch.rand(()))


def _assert_same_up_to_ties(ours: np.ndarray, theirs: np.ndarray, weights: np.ndarray,
                            seed: int, where: Any) -> None:
    """Among 10**5 float32 keys ``weight / exponential`` a few are equal; PyTorch's unstable
    sort orders such a pair its own way. The keys in the order drawn must be the same bits,
    and only tied keys may swap."""
    cr.manual_seed(seed)
    race = cr.empty(weights.shape, dtype=cr.tensor(weights).dtype).exponential_().numpy()
    keys = (weights / race).reshape(-1, weights.shape[-1])
    ours, theirs = ours.reshape(len(keys), -1), theirs.reshape(len(keys), -1)
    for row_keys, ours_row, theirs_row in zip(keys, ours, theirs, strict=True):
        assert np.array_equal(row_keys[ours_row], row_keys[theirs_row]), where
        swapped = ours_row != theirs_row
        assert swapped.sum() <= 0.01 * swapped.size, where


def test_multinomial_with_its_own_generator_and_as_a_method() -> None:
    weights = torch.tensor([[0.5, 2.0, 1.0, 0.25]])
    ours = cr.tensor(weights.numpy()).multinomial(6, True,
                                                  generator=cr.Generator().manual_seed(8))
    theirs = weights.multinomial(6, True, generator=torch.Generator().manual_seed(8))
    assert np.array_equal(ours.numpy(), theirs.numpy())


def test_zero_weight_categories_come_last_in_another_order() -> None:
    """Asking for more categories than have weight: the ones with weight come first in
    PyTorch's order; those of weight 0 tie, and PyTorch's partial sort orders them its own
    way (not reproduced): chainrule gives them by index."""
    for seed in SEEDS:
        weights = torch.rand(17)
        weights[::3] = 0
        positive = int((weights > 0).sum())
        cr.manual_seed(seed)
        torch.manual_seed(seed)
        ours = cr.multinomial(cr.tensor(weights.numpy()), 17).numpy()
        theirs = torch.multinomial(weights, 17).numpy()
        assert np.array_equal(ours[:positive], theirs[:positive])
        assert sorted(ours[positive:]) == sorted(theirs[positive:]) == list(range(0, 17, 3))
        assert ours[positive:].tolist() == sorted(ours[positive:])


@pytest.mark.parametrize("categories, samples, replacement", [
    (4, 20, True), (6, 4, False), (1000, 500, True), (1000, 300, False)])
def test_weighted_random_sampler_draws_pytorchs_indices(categories: int, samples: int,
                                                        replacement: bool) -> None:
    from torch.utils.data import WeightedRandomSampler as TorchSampler

    from chainrule.utils.data import WeightedRandomSampler

    for seed in SEEDS:
        weights = np.random.default_rng(seed).random(categories).tolist()
        torch.manual_seed(seed)
        cr.manual_seed(seed)
        expected = list(TorchSampler(weights, samples, replacement=replacement))
        assert list(WeightedRandomSampler(weights, samples, replacement=replacement)) \
            == expected
        mine = cr.Generator().manual_seed(seed + 7)
        theirs = torch.Generator().manual_seed(seed + 7)
        assert list(WeightedRandomSampler(weights, samples, replacement, generator=mine)) \
            == list(TorchSampler(weights, samples, replacement, generator=theirs))
