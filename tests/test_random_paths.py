"""The fast paths of chainrule's generator against PyTorch at the sizes where they switch:
float32 and float64 normals across chunk boundaries, the ragged end, ``mean``/``std``, 10**7
of each; the vectorised C library log of the float64 radii; ``randperm`` without a loop for
every small size and for DataLoader's 60,000; the raw words against NumPy's MT19937.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.nnref import torch

import chainrule as cr
from chainrule import random_draws, random_normal

pytestmark = pytest.mark.skipif(torch is None, reason="torch is not installed")

CHUNK = 16 * random_normal.CHUNK_BLOCKS
CHUNK64 = 16 * random_draws.CHUNK_BLOCKS


@pytest.mark.parametrize("size", [CHUNK - 1, CHUNK, CHUNK + 1, CHUNK + 16, 2 * CHUNK + 15,
                                  3 * CHUNK + 7, 10**6 + 3])
@pytest.mark.parametrize("mean_std", [(0.0, 1.0), (0.5, 0.3), (-3.0, 7.25)])
def test_float32_normals_across_chunks_are_torchs(size: int, mean_std: tuple[float, float]
                                                   ) -> None:
    mean, std = mean_std
    for seed in (0, 9):
        cr.manual_seed(seed)
        torch.manual_seed(seed)
        ours = cr.nn.init.normal_(cr.empty(size), mean, std).numpy()
        theirs = torch.empty(size).normal_(mean, std).numpy()
        assert np.array_equal(ours, theirs), (size, mean_std, seed,
                                              int((ours != theirs).sum()))
        assert float(cr.rand(()).item()) == float(torch.rand(()))  # same words consumed


@pytest.mark.parametrize("size", [CHUNK64 - 1, CHUNK64 + 17, 2 * CHUNK64 + 15])
@pytest.mark.parametrize("mean_std", [(0.0, 1.0), (-2.0, 7.3)])
def test_float64_normals_across_chunks_are_torchs(size: int, mean_std: tuple[float, float]
                                                   ) -> None:
    mean, std = mean_std
    for seed in (0, 9):
        cr.manual_seed(seed)
        torch.manual_seed(seed)
        ours = cr.nn.init.normal_(cr.empty(size, dtype=cr.float64), mean, std).numpy()
        theirs = torch.empty(size, dtype=torch.float64).normal_(mean, std).numpy()
        assert np.array_equal(ours, theirs), (size, mean_std, seed)
        assert float(cr.rand(()).item()) == float(torch.rand(()))


def test_log_f64_is_the_c_librarys_log() -> None:
    """Every value of 2**20 uniforms' 1 - u (the radii's argument), the ends and the powers
    of two, the near-1 values: math.log's bits, whichever way each was found."""
    unit = np.random.default_rng(4).integers(0, 2**53, 2**20).astype(np.float64) * 2.0**-53
    x = np.concatenate([1.0 - unit, 1.0 - unit[:4096] * 2.0**-40, np.ldexp(1.0, -np.arange(54)),
                        [2.0**-53, 1.0 - 2.0**-53, 0.5 + 2.0**-53]])
    out = np.empty_like(x)
    random_normal.log_f64(x, out)
    expected = np.array([math.log(value) for value in x.tolist()])
    assert random_normal.libm_log_matches()
    assert np.array_equal(out, expected), int((out != expected).sum())


def test_randn_10_to_the_7_is_torchs() -> None:
    for dtype in ("float32", "float64"):
        cr.manual_seed(3)
        torch.manual_seed(3)
        assert np.array_equal(cr.randn(10**7, dtype=getattr(cr, dtype)).numpy(),
                              torch.randn(10**7, dtype=getattr(torch, dtype)).numpy()), dtype


def test_randperm_every_small_size_and_60000() -> None:
    for seed in range(10):
        cr.manual_seed(seed)
        torch.manual_seed(seed)
        for n in [*range(41), 60000]:
            ours, theirs = cr.randperm(n).numpy(), torch.randperm(n).numpy()
            assert np.array_equal(ours, theirs), (seed, n)
        assert float(cr.rand(()).item()) == float(torch.rand(()))


def test_randperm_is_a_permutation_when_the_swaps_chain() -> None:
    """Long chains of swaps (each step aimed at the next position) take the most pointer
    jumps; the result is still the loop's."""
    n = 1000

    class Chained:
        def words32(self, count: int) -> np.ndarray:
            return np.ones(count, dtype=np.uint32)  # every step k swaps k and k + 1

    order = cr.random_draws.permutation(Chained(), n)  # type: ignore[arg-type]
    assert order.tolist() == [*range(1, n), 0]


def test_raw_words_are_numpys_mt19937_stream() -> None:
    generator = cr.Generator().manual_seed(11)
    reference = np.random.MT19937()
    reference.state = generator._bits.state
    words = reference.random_raw(7).astype(np.uint32)
    assert np.array_equal(generator.words32(3), words[:3])
    pairs = words[3:].astype(np.uint64)
    expected = (pairs[0::2] << np.uint64(32)) | pairs[1::2]
    assert np.array_equal(generator.words64(2), expected)
