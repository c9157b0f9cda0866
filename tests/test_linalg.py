"""Table-driven checks of the linalg ops: float64 gradcheck and torch (forward and gradients)."""

import pytest

from optable import OpCase, cases_for, check_case, params


@pytest.mark.parametrize(("case", "shapes"), params(cases_for("linalg")))
def test_op_matches_finite_differences_and_torch(case: OpCase, shapes: tuple) -> None:
    check_case(case, shapes)
