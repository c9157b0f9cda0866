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


_INDICES = [3, slice(1, None), (None, Ellipsis, 0), [0, 2, 2], (slice(None), [1, 0]),
            ([0, 3], [1, 1]), "mask", "tensor_pair", "int_scalar"]


@pytest.mark.parametrize("name", [str(i) for i in range(len(_INDICES))])
def test_split_index_round_trips_and_moves_arrays_out_of_the_template(name: str) -> None:
    import numpy as np

    import chainrule as cr
    from chainrule.ops.shape import ARRAY, fill_index, is_basic_index, split_index

    x = np.arange(16.0).reshape(4, 4)
    index = _INDICES[int(name)]
    if index == "mask":
        index = x > 6
    elif index == "tensor_pair":
        index = (cr.arange(2), cr.tensor([3, 1]))
    elif index == "int_scalar":
        index = np.int64(2)  # a NumPy scalar stays in the template: a basic index (a view)
    template, arrays = split_index(index)
    raw = tuple(a.detach().numpy() if isinstance(a, cr.Tensor) else a for a in arrays)
    plain = tuple(a.detach().numpy() if isinstance(a, cr.Tensor) else a for a in index) \
        if isinstance(index, tuple) else index
    np.testing.assert_array_equal(x[fill_index(template, raw)], x[plain])
    items = template if isinstance(template, tuple) else (template,)
    assert sum(item is ARRAY for item in items) == len(arrays)
    assert (not arrays) == is_basic_index(template)
    t = cr.tensor(x)
    assert (t[index]._version is t._version) == (not arrays)  # basic: shares the version


# x[index] and x[index] = v when nothing is recorded take a short path (the scalar loops of
# manual backprop); the results, views, version counters and errors are the op's own.
_PLAIN_CASES = [("int", 2), ("ints", (1, 2)), ("all_ints", (1, 2, 0)), ("negative", (-1, 0)),
                ("int_tensor_0d", "ix"), ("int_tensor_1d", "rows"), ("bool_tensor", "mask"),
                ("slice", slice(1, 3)), ("float_tensor", "bad")]


@pytest.mark.parametrize("name, index", _PLAIN_CASES, ids=[c[0] for c in _PLAIN_CASES])
def test_plain_getitem_is_the_ops_result(name: str, index) -> None:
    import numpy as np

    import chainrule as cr
    from chainrule.autograd.capture import STATE as CAPTURE

    data = np.arange(24.0).reshape(4, 3, 2)
    x = cr.tensor(data)
    index = {"ix": cr.tensor(2), "rows": cr.tensor([3, 0, 3]), "mask": cr.tensor(data > 10),
             "bad": cr.tensor(1.5)}.get(index, index) if isinstance(index, str) else index
    try:
        CAPTURE.tape = []  # a capture records every op: the op's own path
        reference = x[index]
    except IndexError as exc:
        reference = exc
    finally:
        CAPTURE.tape = None
    try:
        fast = x[index]
    except IndexError as exc:
        fast = exc
    if isinstance(reference, IndexError):
        assert isinstance(fast, IndexError) and str(fast) == str(reference)
        return
    np.testing.assert_array_equal(fast.numpy(), reference.numpy())
    assert fast.dtype == reference.dtype and fast.shape == reference.shape
    assert (fast._version is x._version) == (reference._version is x._version)
    assert fast.grad_fn is None and not fast.requires_grad


def test_plain_setitem_writes_counts_the_version_and_still_records_when_needed() -> None:
    import numpy as np

    import chainrule as cr

    dC = cr.zeros(5, 3)
    view = dC[1]  # shares dC's version counter
    ix, row = cr.tensor(1), cr.tensor([1.0, 2.0, 3.0])
    dC[ix] += row
    dC[ix] += row
    assert dC.numpy()[1].tolist() == [2.0, 4.0, 6.0] and view.numpy().tolist() == [2.0, 4.0, 6.0]
    # dC[ix] with a tensor index is a copy: its += counts on the copy, the write-back on dC
    assert dC._version[0] == 2 and view._version is dC._version
    value = cr.tensor([1.0, 1.0, 1.0], requires_grad=True)
    dC[2] = value * 2  # a value with a graph: recorded, gradients flow
    dC.sum().backward()
    np.testing.assert_array_equal(value.grad.numpy(), [2.0, 2.0, 2.0])
