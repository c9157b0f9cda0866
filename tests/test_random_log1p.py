"""``exponential_`` with the C library's ``log1p`` run on whole arrays: the same bits as
``math.log1p`` for the arguments it gets (``-u``, ``u`` a 53-bit uniform), and as torch's
``exponential_`` for seeds 0..9 and sizes 1 .. 10**5 (across the chunks of 8,192)."""

from __future__ import annotations

import math
import platform

import numpy as np
import pytest
from tests.nnref import torch

import chainrule as cr
from chainrule import random_log1p

SIZES = (1, 2, 7, 100, 8191, 8192, 8193, 10**5)


def _libm(x: np.ndarray) -> np.ndarray:
    return np.fromiter(map(math.log1p, x.tolist()), np.float64, x.size)


def test_log1p_negative_is_math_log1p() -> None:
    """2**20 uniforms, as many scaled towards 0 (fdlibm's small branches), the values near
    every power of two (its reduction's edges), 0 and the ends."""
    steps = np.random.default_rng(3).integers(0, 2**53, 2**20, dtype=np.int64)
    powers = np.left_shift(np.int64(1), np.arange(54, dtype=np.int64))
    near = (powers[:, None] + np.arange(-300, 301)).ravel()
    multiples = np.concatenate([steps, steps >> 20, steps >> 40, near, [0, 2**53 - 1]])
    multiples = multiples[(multiples >= 0) & (multiples < 2**53)]
    x = multiples.astype(np.float64) * -2.0**-53
    out = np.empty_like(x)
    random_log1p.log1p_negative(x, out)
    expected = _libm(x)
    assert np.array_equal(out.view(np.int64), expected.view(np.int64)), int(
        (out != expected).sum())
    if platform.libc_ver()[0] == "glibc":  # fdlibm's log1p, with or without fused steps
        assert random_log1p.libm_log1p_matches()


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_exponential_is_torchs(dtype: str) -> None:
    for seed in range(10):
        cr.manual_seed(seed)
        torch.manual_seed(seed)
        for size in SIZES:
            lambd = 1.0 if size % 2 else 2.5
            ours = cr.empty(size, dtype=getattr(cr, dtype)).exponential_(lambd).numpy()
            theirs = torch.empty(size, dtype=getattr(torch, dtype)).exponential_(lambd)
            assert np.array_equal(ours, theirs.numpy()), (seed, size, dtype)
        assert float(cr.rand(()).item()) == float(torch.rand(()))  # same words consumed
