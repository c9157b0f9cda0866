"""Table-driven checks of the elementwise ops: gradcheck and torch oracle."""

import pytest

from optable import OpCase, cases_for, check_case, params


@pytest.mark.parametrize(("case", "shapes"), params(cases_for("elementwise")))
def test_op_matches_finite_differences_and_torch(case: OpCase, shapes: tuple) -> None:
    check_case(case, shapes)


_EDGES = [0.0, -0.0, 1.0, -1.5, 1e-45, 1e-310, 3.4e38, -3.4e38, 1.7e308, 2.0 ** -149,
          float("inf"), float("-inf"), float("nan"), 0.1, 1 / 3, 12345.678]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", ["add", "sub", "mul"])
def test_zero_d_scalars_give_numpys_bits(op: str, dtype: str) -> None:
    """0-d float tensors (micrograd's scalars) are added and multiplied as Python floats:
    every result, edge cases included, has the bits of NumPy's own 0-d ufunc, and PyTorch's
    (its CPU kernels are IEEE too; compared where torch is installed)."""
    import operator
    import warnings

    import numpy as np

    import chainrule as cr

    fn = getattr(operator, op)
    rng = np.random.default_rng(0)
    values = _EDGES + list(rng.normal(size=40) * 10.0 ** rng.integers(-40, 40, size=40))
    torch = None
    try:
        import torch
    except ImportError:
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's overflow and cast notes
        arrays = [np.asarray(v, dtype=dtype) for v in values]
        for a in arrays[::3]:
            for b in arrays:
                got = fn(cr.tensor(a, requires_grad=True), cr.tensor(b)).detach()
                want = np.asarray(fn(a, b))
                assert got.dtype == want.dtype and got.shape == ()
                assert got.numpy().tobytes() == want.tobytes() or (
                    np.isnan(want) and np.isnan(got.numpy())), (op, a, b)
                if torch is not None:
                    theirs = fn(torch.tensor(a), torch.tensor(b)).numpy()
                    assert got.numpy().tobytes() == theirs.tobytes() or (
                        np.isnan(theirs) and np.isnan(got.numpy())), (op, a, b)
