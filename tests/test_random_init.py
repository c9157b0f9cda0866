"""``nn.init.trunc_normal_`` and ``orthogonal_`` against PyTorch 2.13's.

trunc_normal_ is PyTorch's two rejection samplers over chainrule's bit-exact normals and
uniforms: the same values and stream position for seeds 0..9, the issue's sizes, both
samplers, float32 and float64. orthogonal_ draws PyTorch's Gaussian matrix bit for bit; its
QR decomposition is NumPy's (OpenBLAS, in float64), PyTorch's is MKL's float32 ``sgeqrf``,
so the orthogonal matrices differ in their last bits (docs/random.md).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from tests.nnref import torch

import chainrule as cr

pytestmark = pytest.mark.skipif(torch is None, reason="torch is not installed")

SEEDS = range(10)
SIZES = (1, 2, 15, 16, 17, 100, 1000, 10**5)
# (mean, std, a, b): more than 30% of the mass in [a, b] (redrawn normals) or less
# (uniform candidates accepted by their density); the last ones warn (mean far outside)
CUTS = [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04), (0.5, 0.02, 0.45, 0.6),
        (0.0, 1.0, -0.5, 0.5), (0.0, 1.0, -0.1, 0.1), (1.0, 1.0, 2.0, 3.0),
        (0.0, 1.0, 2.5, 4.0)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cut", CUTS)
def test_trunc_normal_is_torchs(dtype: str, cut: tuple[float, float, float, float]) -> None:
    for seed in SEEDS:
        for size in SIZES:
            cr.manual_seed(seed)
            torch.manual_seed(seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ours = cr.nn.init.trunc_normal_(cr.empty(size, dtype=getattr(cr, dtype)), *cut)
                theirs = torch.nn.init.trunc_normal_(
                    torch.empty(size, dtype=getattr(torch, dtype)), *cut)
            assert np.array_equal(ours.numpy(), theirs.numpy()), (seed, size)
            assert float(cr.rand(()).item()) == float(torch.rand(())), (seed, size)


def test_trunc_normal_with_its_own_generator_2d() -> None:
    ours = cr.nn.init.trunc_normal_(cr.empty(64, 33), std=0.02,
                                    generator=cr.Generator().manual_seed(4))
    theirs = torch.nn.init.trunc_normal_(torch.empty(64, 33), std=0.02,
                                         generator=torch.Generator().manual_seed(4))
    assert np.array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("shape", [(40, 30), (30, 40), (16, 784), (8, 3, 5, 5)])
def test_orthogonal_draws_torchs_gaussian_and_differs_only_by_the_qr(shape: tuple[int, ...]
                                                                      ) -> None:
    rows, cols = shape[0], int(np.prod(shape[1:]))
    for seed in range(3):
        cr.manual_seed(seed)
        gaussian = torch.from_numpy(cr.randn(rows, cols).numpy())
        torch.manual_seed(seed)
        theirs = torch.nn.init.orthogonal_(torch.empty(shape))
        # PyTorch's own steps on chainrule's Gaussian give PyTorch's matrix, bit for bit
        flat = gaussian.t() if rows < cols else gaussian
        q, r = torch.linalg.qr(flat)
        q = q * torch.diag(r, 0).sign()
        rebuilt = (q.t() if rows < cols else q).reshape(shape)
        assert torch.equal(rebuilt, theirs)
        cr.manual_seed(seed)
        ours = cr.nn.init.orthogonal_(cr.empty(*shape)).numpy()
        assert float(cr.rand(()).item()) == float(torch.rand(()))
        # NumPy's QR (float64) against MKL's float32 one: a few units in the last place
        assert np.abs(ours - theirs.numpy()).max() < 2e-6
