"""Table-driven checks of the linalg ops: float64 gradcheck and torch (forward and gradients);
mixed dtypes raise like torch."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.linalg import DtypeError

from nnref import torch
from optable import OpCase, cases_for, check_case, params


@pytest.mark.parametrize(("case", "shapes"), params(cases_for("linalg")))
def test_op_matches_finite_differences_and_torch(case: OpCase, shapes: tuple) -> None:
    check_case(case, shapes)


def test_matmul_rejects_mixed_dtypes_like_torch() -> None:
    a, b = cr.ones(2, 3), cr.ones(3, 4, dtype=cr.float64)
    for left, right in [(a, b), (b.T, a.T), (a, cr.ones(3).to(cr.int64))]:
        with pytest.raises(DtypeError, match=(
                rf"matmul: the operands' dtypes differ: \(.*\) {left.dtype} @ \(.*\) "
                rf"{right.dtype}. Fix: convert one to the other's dtype: "
                rf"a.to\(cr.{right.dtype}\) or b.to\(cr.{left.dtype}\)")):
            left @ right
        with pytest.raises(RuntimeError):
            cr.matmul(left, right)
        if torch is not None:
            with pytest.raises(RuntimeError, match="dtype"):
                torch.from_numpy(left.numpy()) @ torch.from_numpy(right.numpy())
    ints = cr.ones(2, 3).to(cr.int64)
    assert (ints @ ints.T).dtype == np.int64  # one dtype: fine, integers too (like torch)
