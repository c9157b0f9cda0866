"""nn.functional helpers not covered by the op and loss tables: one_hot."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

from nnref import torch


@pytest.mark.parametrize("labels, num_classes", [([0, 2, 1, 2], 3), ([3, 0], -1),
                                                 ([[1, 0], [2, 2]], 4), ([], 5)])
def test_one_hot_rows(labels: list, num_classes: int) -> None:
    t = np.array(labels, dtype=np.int64)
    got = F.one_hot(cr.tensor(t), num_classes)
    width = num_classes if num_classes != -1 else t.max() + 1
    want = (t[..., None] == np.arange(width)).astype(np.int64)
    assert got.dtype == np.int64 and got.shape == want.shape
    assert np.array_equal(got.numpy(), want)
    if torch is not None:
        theirs = torch.nn.functional.one_hot(torch.tensor(t), num_classes).numpy()
        assert np.array_equal(got.numpy(), theirs)


def test_one_hot_dtype_and_no_gradient() -> None:
    got = F.one_hot(cr.tensor([1, 0]), 2, dtype=np.float32)
    assert got.dtype == np.float32 and got.tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert not got.requires_grad


@pytest.mark.parametrize("labels, error, match", [
    ([0, 3], IndexError, "target 3 is out of range for 3 classes"),
    ([0, -1], IndexError, "negative"),
    ([0.0, 1.0], TypeError, "integers"),
])
def test_one_hot_errors(labels: list, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        F.one_hot(cr.tensor(labels), 3)


def test_linear_rejects_mixed_dtypes_like_torch() -> None:
    x, w, b = cr.ones(3, 4), cr.ones(2, 4), cr.zeros(2)
    for args, what in [((x.double(), w, b), "input (3, 4) is float64 but the weight (2, 4) "
                        "is float32. Fix: convert the input with x.float(), or the model "
                        "with model.double()"),
                       ((x.to(cr.int64), w, None), "input (3, 4) is int64 but the weight"),
                       ((x, w, b.double()), "bias (2,) is float64 but the weight (2, 4) is "
                        "float32. Fix: bias.to(weight.dtype)")]:
        with pytest.raises(RuntimeError) as err:
            F.linear(*args)
        assert isinstance(err.value, TypeError) and f"linear: {what}" in str(err.value)
        if torch is not None:
            with pytest.raises(RuntimeError, match="same dtype"):
                torch.nn.functional.linear(*[None if a is None else torch.from_numpy(a.numpy())
                                             for a in args])


def test_linear_shape_error_names_no_previous_layer() -> None:
    with pytest.raises(ValueError, match=r"linear: input \(3, 5\) float32 has 5 features but "
                       r"the weight \(2, 4\) expects 4. Fix: the input's last dim must equal "
                       r"the weight's second \(the weight is \(out_features, in_features\)\)"):
        F.linear(cr.ones(3, 5), cr.ones(2, 4))
