"""Table-driven checks of the math functions, sorting, products and norms (the op table's
``trig``, ``math``, ``sorting``, ``products`` and ``norms`` cases): float64 gradcheck and
torch's values and gradients within 1e-10. Plus the cases a table cannot draw: zeros in
cumprod, ties in max-norms, integer inputs."""

import numpy as np
import pytest

import chainrule as cr

from optable import OpCase, cases_for, check_case, params, torch

CASES = [c for m in ("trig", "math", "sorting", "products", "norms") for c in cases_for(m)]


@pytest.mark.parametrize(("case", "shapes"), params(CASES))
def test_op_matches_finite_differences_and_torch(case: OpCase, shapes: tuple) -> None:
    check_case(case, shapes)


def _both(values: list, fn, **kw):  # type: ignore[no-untyped-def]
    """fn on chainrule and torch float64 leaves: (ours, theirs) outputs and gradients."""
    x = cr.tensor(values, dtype=cr.float64, requires_grad=True)
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    y, ty = fn(cr, x), fn(torch, t)
    up = np.random.default_rng(0).normal(size=tuple(ty.shape))
    y.backward(cr.tensor(up))
    ty.backward(torch.tensor(up))
    return y.detach().numpy(), ty.detach().numpy(), x.grad.numpy(), t.grad.numpy()


@pytest.mark.parametrize("fn", [
    lambda m, x: m.cumprod(x, 1),
    lambda m, x: m.linalg.vector_norm(x, float("inf"), dim=1),
    lambda m, x: m.linalg.vector_norm(x * 0, 2, dim=1),
    lambda m, x: m.linalg.vector_norm(x, 0.5, dim=1),
    lambda m, x: m.amax(x, dim=1),
], ids=["cumprod_zeros", "inf_norm_ties", "zero_norm", "half_norm_zeros", "amax_ties"])
def test_zeros_and_ties_match_torch(fn) -> None:  # type: ignore[no-untyped-def]
    if torch is None:
        pytest.skip("torch not installed")
    values = [[2.0, 0.0, 3.0, -3.0], [0.0, 0.0, 1.5, 2.0], [1.0, -1.0, 1.0, 0.5]]
    y, ty, g, tg = _both(values, fn)
    np.testing.assert_allclose(y, ty, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g, tg, rtol=1e-12, atol=1e-12)


def test_integer_inputs_give_torch_dtypes() -> None:
    if torch is None:
        pytest.skip("torch not installed")
    ints = [3, -2, 0, 7]
    for name in ("sin", "exp", "log1p", "sqrt", "rsqrt", "reciprocal", "erf", "floor", "round",
                 "sign", "square", "abs", "neg", "trunc"):
        ours = getattr(cr, name)(cr.tensor(ints))
        theirs = getattr(torch, name)(torch.tensor(ints))
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), name
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, err_msg=name)
