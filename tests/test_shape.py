"""Table-driven checks of the shape ops: float64 gradcheck and torch (forward and gradients)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optable import OpCase, cases_for, check_case, params


@pytest.mark.parametrize(("case", "shapes"), params(cases_for("shape")))
def test_op_matches_finite_differences_and_torch(case: OpCase, shapes: tuple) -> None:
    check_case(case, shapes)


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 5),
    st.integers(1, 4),
    st.lists(st.integers(0, 4), min_size=1, max_size=8),
    st.booleans(),
)
def test_integer_index_backward_counts_every_use(rows: int, cols: int, picks: list,
                                                  use_mask: bool) -> None:
    import numpy as np

    import chainrule as cr

    rng = np.random.default_rng(len(picks))
    data = rng.normal(size=(rows, cols))
    x = cr.tensor(data, requires_grad=True)
    if use_mask:
        mask = data > 0
        out = x[mask]
        gy = rng.normal(size=out.shape)
        out.backward(cr.tensor(gy))
        expected = np.zeros_like(data)
        expected[mask] = gy
    else:
        index = np.array([p % rows for p in picks])
        out = x[index]
        gy = rng.normal(size=out.shape)
        out.backward(cr.tensor(gy))
        expected = np.zeros_like(data)
        for position, row in enumerate(index):  # brute force: every pick adds its gradient
            expected[row] += gy[position]
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-12)
