"""nn.utils: gradient clipping, parameter vectors."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

from nnref import torch


@pytest.mark.skipif(torch is None, reason="torch oracle not installed")
@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_matches_torch(norm_type: float) -> None:
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(3, 4)) * 5, rng.normal(size=4)]
    params = [nn.Parameter(cr.zeros(g.shape, dtype=cr.float64)) for g in grads]
    tparams = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, tp, g in zip(params, tparams, grads, strict=True):
        p.grad = cr.tensor(g)
        tp.grad = torch.tensor(g)
    total = nn.utils.clip_grad_norm_(params, 1.5, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, 1.5, norm_type)
    assert total.item() == pytest.approx(ttotal.item(), rel=1e-12)
    for p, tp in zip(params, tparams, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12)


def test_clip_value_and_vectors() -> None:
    p = nn.Parameter(cr.zeros(3))
    p.grad = cr.tensor([-5.0, 0.5, 5.0])
    nn.utils.clip_grad_value_([p], 1.0)
    assert p.grad.tolist() == [-1.0, 0.5, 1.0]
    model = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (8,)
    nn.utils.vector_to_parameters(vec * 0 + 1, model.parameters())
    assert model.weight.tolist() == [[1, 1, 1], [1, 1, 1]]
    with pytest.raises(ValueError, match="8"):
        nn.utils.vector_to_parameters(cr.ones(3), model.parameters())
    with pytest.raises(RuntimeError, match="norm"):
        q = nn.Parameter(cr.zeros(1))
        q.grad = cr.tensor([float("nan")])
        nn.utils.clip_grad_norm_([q], 1.0, error_if_nonfinite=True)
