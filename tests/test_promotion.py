"""Type promotion against PyTorch: result dtypes and values of binary ops, table-driven.

Operands: tensors with dims (bool, int64, int32, float32, float64), 0-d tensors (bool,
int64, float32, float64) and Python numbers (bool, int, float). Every pair with at least
one tensor goes through every op; the result must have torch's dtype and torch's values,
and where torch raises, chainrule must raise too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import promotion

torch = pytest.importorskip("torch")

# name -> (kind, values): kind "tensor" with dims, "scalar" (0-d tensor) or "python"
OPERANDS: dict[str, tuple[str, Any, str | None]] = {
    "bool[3]": ("tensor", [True, False, True], "bool"),
    "int64[3]": ("tensor", [3, 1, 2], "int64"),
    "int32[3]": ("tensor", [5, 2, 7], "int32"),
    "float32[3]": ("tensor", [1.5, 0.25, 2.0], "float32"),
    "float64[3]": ("tensor", [0.5, 3.0, 1.25], "float64"),
    "bool[]": ("tensor", True, "bool"),
    "int64[]": ("tensor", 2, "int64"),
    "float32[]": ("tensor", 1.5, "float32"),
    "float64[]": ("tensor", 0.75, "float64"),
    "py_bool": ("python", True, None),
    "py_int": ("python", 2, None),
    "py_float": ("python", 1.5, None),
}

OPS: dict[str, Callable[[Any, Any, Any], Any]] = {
    "add": lambda lib, a, b: a + b,
    "sub": lambda lib, a, b: a - b,
    "mul": lambda lib, a, b: a * b,
    "div": lambda lib, a, b: a / b,
    "pow": lambda lib, a, b: a**b,
    "eq": lambda lib, a, b: a == b,
    "lt": lambda lib, a, b: a < b,
    "ge": lambda lib, a, b: a >= b,
    "floor_divide": lambda lib, a, b: a // b,
    "remainder": lambda lib, a, b: a % b,
    "maximum": lambda lib, a, b: lib.maximum(a, b),
    "where": lambda lib, a, b: lib.where(lib.tensor([True, False, True]), a, b),
}


def _make(lib: Any, name: str) -> Any:
    kind, values, dtype = OPERANDS[name]
    if kind == "python":
        return values
    return lib.tensor(values, dtype=getattr(lib, dtype))


def _run(lib: Any, op: str, left: str, right: str) -> Any:
    try:
        return OPS[op](lib, _make(lib, left), _make(lib, right))
    except Exception as err:  # noqa: BLE001 - any refusal counts; its kind is not compared
        return err


PAIRS = [(a, b) for a in OPERANDS for b in OPERANDS
         if OPERANDS[a][0] == "tensor" or OPERANDS[b][0] == "tensor"]
TENSORS_ONLY = {"maximum", "where"}  # torch refuses Python numbers there; chainrule takes them


def _ulps(ours: Any, theirs: Any) -> float:
    """The largest difference in units of the last place (float32 pow: libm rounding)."""
    spacing = np.spacing(np.abs(theirs).astype(theirs.dtype))
    return float(np.max(np.abs(ours.astype(np.float64) - theirs) / spacing, initial=0.0))


@pytest.mark.parametrize("op", list(OPS))
def test_binary_ops_promote_like_torch(op: str) -> None:
    problems = []
    checked = 0
    for left, right in PAIRS:
        if op in TENSORS_ONLY and "py_" in left + right:
            continue
        theirs = _run(torch, op, left, right)
        ours = _run(cr, op, left, right)
        checked += 1
        where = f"{left} {op} {right}"
        if isinstance(theirs, Exception) or isinstance(ours, Exception):
            if isinstance(theirs, Exception) != isinstance(ours, Exception):
                problems.append(f"{where}: torch {theirs!r}, chainrule {ours!r}")
            continue
        torch_dtype = str(theirs.dtype).replace("torch.", "")
        if str(ours.dtype) != torch_dtype:
            problems.append(f"{where}: dtype {ours.dtype}, torch {torch_dtype}")
            continue
        if tuple(ours.shape) != tuple(theirs.shape):
            problems.append(f"{where}: shape {tuple(ours.shape)}, torch {tuple(theirs.shape)}")
            continue
        if op == "pow" and ours.dtype.kind == "f" and _ulps(ours.numpy(), theirs.numpy()) <= 1:
            continue  # pow(float32, 1.5): one rounding of the float64 power, torch's Sleef
        if not np.array_equal(ours.numpy(), theirs.numpy(), equal_nan=True):
            problems.append(f"{where}: values {ours.numpy()}, torch {theirs.numpy()}")
    assert checked > 50
    assert not problems, f"{len(problems)} of {checked} differ:\n" + "\n".join(problems)


@pytest.mark.parametrize("inplace", ["add_", "mul_", "sub_"])
def test_inplace_keeps_the_tensor_dtype(inplace: str) -> None:
    ours = getattr(cr.tensor([1.0, 2.0]), inplace)(cr.tensor([1, 2]))
    theirs = getattr(torch.tensor([1.0, 2.0]), inplace)(torch.tensor([1, 2]))
    assert str(ours.dtype) == "float32" and ours.tolist() == theirs.tolist()


def test_result_type_and_promote_types_match_torch() -> None:
    dtypes = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
              "float64"]
    for a in dtypes:
        for b in dtypes:
            theirs = torch.promote_types(getattr(torch, a), getattr(torch, b))
            assert str(promotion.promote_types(a, b)) == str(theirs).replace("torch.", "")
    for value in (True, 3, 2.5):
        for dtype in dtypes:
            theirs = torch.result_type(torch.ones(2, dtype=getattr(torch, dtype)), value)
            ours = promotion.result_type(np.ones(2, dtype=dtype), value)
            assert str(ours) == str(theirs).replace("torch.", ""), (dtype, value)


def test_default_dtype_decides_python_floats() -> None:
    cr.set_default_dtype(cr.float64)
    try:
        assert (cr.tensor([1, 2]) * 0.5).dtype == cr.float64
        assert (cr.tensor([1, 2]) / 2).dtype == cr.float64
        assert (cr.ones(2, dtype=cr.float32) * 0.5).dtype == cr.float32
    finally:
        cr.set_default_dtype(cr.float32)


def test_numpy_numbers_count_as_0d_tensors() -> None:
    """A NumPy number takes part as a 0-d tensor of its dtype (what a reduction gives inside
    a captured step's replay), so it never widens a tensor of its category. (PyTorch takes
    it as a Python number: only ``int_tensor * np.float64(2.5)`` differs, float64 here.)"""
    assert (cr.ones(2) * np.float64(2.0)).dtype == cr.float32
    assert (np.float64(2.0) * cr.ones(2)).dtype == cr.float32
    assert (cr.tensor([1, 2]) * np.int32(3)).dtype == cr.int64
    assert (cr.ones(2) * np.float32(2.0)).dtype == cr.float32
    assert (cr.tensor([1, 2]) * np.float64(2.5)).dtype == cr.float64


def test_gradients_flow_through_promoted_ops() -> None:
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    s = cr.tensor(3.0, dtype=cr.float64, requires_grad=True)
    y = (w * s + cr.tensor([1, 2])) / 2
    assert y.dtype == cr.float32
    y.sum().backward()
    assert w.grad.tolist() == [1.5, 1.5] and w.grad.dtype == cr.float32
    assert s.grad.item() == 1.5 and s.grad.dtype == cr.float64
