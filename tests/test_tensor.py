"""Tensor: creation, attributes, operators, indexing, in-place rules, printing."""

import warnings

import numpy as np
import pytest

import chainrule as cr


def test_tutorial_example_mean_of_3_y_squared() -> None:
    x = cr.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    out.backward()
    assert out.item() == 27.0
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 2), 4.5))
    assert y.grad_fn.name() == "AddBackward"
    assert type(y.grad_fn).__name__ == "AddBackward"
    assert x.grad_fn is None and x.is_leaf and not y.is_leaf
    assert "grad_fn=<MulBackward0>" in repr(z)  # PyTorch's name in the print-out


def test_vector_jacobian_product_doubling_loop() -> None:
    cr.manual_seed(3)
    x = cr.randn(3, requires_grad=True)
    y = x * 2
    k = 1
    while y.norm() < 1000:
        y = y * 2
        k += 1
    v = cr.tensor([0.1, 1.0, 0.0001])
    y.backward(v)
    np.testing.assert_array_equal(x.grad.numpy(), (v * 2**k).numpy())


def test_creation_functions_and_dtypes() -> None:
    assert cr.tensor([1.5]).dtype == np.float32
    assert cr.tensor([1, 2]).dtype == np.int64
    assert cr.tensor([True]).dtype == np.bool_
    assert cr.tensor(np.zeros(2, np.float64)).dtype == np.float64
    assert cr.zeros(2, 3).shape == (2, 3) and cr.ones((4,)).shape == (4,)
    assert cr.full((2,), 7.0).tolist() == [7.0, 7.0]
    assert cr.arange(3).tolist() == [0, 1, 2] and cr.arange(0.0, 1.0, 0.5).tolist() == [0, 0.5]
    assert cr.linspace(0, 1, 5).tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    assert cr.eye(2).tolist() == [[1, 0], [0, 1]]
    assert cr.zeros_like(cr.ones(2, dtype=cr.float64)).dtype == np.float64
    assert cr.randint(0, 5, (100,)).numpy().max() < 5
    assert cr.rand(3, 2).shape == (3, 2) and cr.randn(2).dtype == np.float32
    array = np.arange(3.0)
    shared = cr.from_numpy(array)
    array[0] = 9.0
    assert shared[0].item() == 9.0
    cr.set_default_dtype(cr.float64)
    try:
        assert cr.tensor([0.5]).dtype == np.float64 and cr.randn(1).dtype == np.float64
    finally:
        cr.set_default_dtype(cr.float32)


def test_seeded_generator_is_reproducible_and_independent_of_numpy_global() -> None:
    cr.manual_seed(7)
    a = cr.randn(5).numpy().copy()
    np.random.seed(123)
    np.random.rand(10)
    cr.manual_seed(7)
    assert np.array_equal(a, cr.randn(5).numpy())
    g = cr.Generator(5)
    state = g.get_state()
    first = cr.rand(4, generator=g).numpy().copy()
    g.set_state(state)
    assert np.array_equal(first, cr.rand(4, generator=g).numpy())


def test_attributes() -> None:
    x = cr.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.ndim == 3 and x.numel() == 24 and x.size(1) == 3
    assert str(x.device) == "cpu" and x.device == "cpu"
    assert x.T.shape == (4, 3, 2)
    assert cr.tensor([[1.0, 2.0]]).tolist() == [[1.0, 2.0]]
    with pytest.raises(ValueError, match="one-element"):
        x.item()
    w = cr.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        w.numpy()
    assert w.detach().numpy().tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="floating point"):
        cr.tensor([1, 2], requires_grad=True)


def test_operators_broadcast_with_scalars_on_either_side() -> None:
    x = cr.tensor([1.0, 2.0])
    assert (2 * x).tolist() == [2, 4] and (x * 2).tolist() == [2, 4]
    assert (1 - x).tolist() == [0, -1] and (2 / x).tolist() == [2, 1]
    assert (2**x).tolist() == [2, 4] and (np.float64(3) * x).tolist() == [3, 6]
    assert (x + cr.ones(3, 1)).shape == (3, 2)
    assert (x + 1).dtype == np.float32


def test_comparisons_have_no_grad() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    mask = x > 1.5
    assert mask.dtype == np.bool_ and not mask.requires_grad and mask.grad_fn is None
    assert (x == 1.0).tolist() == [True, False] and (x != 1.0).tolist() == [False, True]
    assert (x <= 1.0).tolist() == [True, False] and (x >= 2).tolist() == [False, True]


def test_indexing_backward_accumulates_repeated_indices() -> None:
    x = cr.arange(12.0).reshape(3, 4).detach().requires_grad_()
    x[np.array([0, 0, 2])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[:, 0], [2, 0, 1])
    x.grad = None
    x[x > 5].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy().ravel(), (np.arange(12) > 5).astype(float))
    x.grad = None
    x[None, ..., 1:3][0, cr.tensor([1, 1])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[1], [0, 2, 2, 0])


def test_inplace_outside_graph_is_allowed() -> None:
    x = cr.zeros(3)
    x.add_(1)
    x += 1
    x.mul_(3)
    x[1] = 0.0
    assert x.tolist() == [6, 0, 6]
    x.zero_()
    assert x.tolist() == [0, 0, 0]


def test_inplace_on_leaf_requiring_grad_raises_like_pytorch() -> None:
    w = cr.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="no_grad"):
        w += 1
    with cr.no_grad():
        w -= 0.5
    assert w.tolist() == [0.5, 0.5, 0.5]


def test_inplace_on_saved_tensor_detected_at_backward() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()  # exp saves its output y
    z = (y * 3).sum()
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.backward()


def test_inplace_on_input_saved_by_mul_detected() -> None:
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0])
    loss = (a * b).sum()
    b.mul_(2)  # b is outside the graph, but mul saved it to compute a's gradient
    with pytest.raises(RuntimeError, match=r"saved array 0, shape \(2,\) float32"):
        loss.backward()


def test_inplace_in_graph_is_recorded() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.add_(1)
    y.mul_(3)
    assert y.grad_fn.name() == "MulBackward"
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]


def test_setitem_in_graph() -> None:
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = cr.tensor(5.0, requires_grad=True)
    y = x * 1
    y[1] = v * 2
    (y * cr.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 100.0]
    assert v.grad.item() == 20.0


def test_repr_like_pytorch() -> None:
    assert repr(cr.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(cr.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(cr.tensor([1.0], dtype=cr.float64)) == "tensor([1.], dtype=chainrule.float64)"
    assert repr(cr.tensor([[1, 2], [3, 4]])) == "tensor([[1, 2],\n        [3, 4]])"


def test_conversions_are_differentiable() -> None:
    x = cr.tensor([1.5, 2.5], requires_grad=True)
    y = x.double()
    assert y.dtype == np.float64
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [3.0, 5.0]
    assert cr.tensor([1.7]).long().tolist() == [1]
    c = x.clone()
    c.sum().backward()
    assert x.grad.tolist() == [4.0, 6.0]


def test_softplus_and_sigmoid_stable_without_warnings() -> None:
    x = cr.tensor([-1000.0, -30.0, 0.0, 30.0, 1000.0], dtype=cr.float64, requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        s = cr.softplus(x)
        g = cr.sigmoid(x)
        (s.sum() + g.sum()).backward()
    assert s.tolist()[0] == 0.0 and s.tolist()[-1] == 1000.0
    assert g.tolist()[0] == 0.0 and g.tolist()[-1] == 1.0
    assert np.isfinite(x.grad.numpy()).all()


def test_max_ties_split_like_pytorch() -> None:
    x = cr.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5]  # evenly distributed over tied maxima
    x.grad = None
    x.max(dim=0).values.backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]  # with dim: the gradient goes to the index
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([1.0, 0.0], requires_grad=True)
    cr.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 1.0] and b.grad.tolist() == [0.5, 0.0]


def test_matmul_shape_error_names_op_shapes_dtypes_and_fix() -> None:
    a, b = cr.ones(32, 15), cr.ones(16, 10)
    with pytest.raises(ValueError) as err:
        a @ b
    message = str(err.value)
    assert "matmul" in message and "(32, 15) float32" in message
    assert "(16, 10) float32" in message and "15 and 16" in message and "Fix" in message


def test_shape_errors_are_clear() -> None:
    with pytest.raises(ValueError, match=r"reshape: cannot view \(2, 3\)"):
        cr.ones(2, 3).reshape(4, 2)
    with pytest.raises(IndexError, match="dim 3 is out of range"):
        cr.ones(2, 3).sum(dim=3)
    with pytest.raises(ValueError, match="cat: shapes"):
        cr.cat([cr.ones(2, 3), cr.ones(2, 2)])
    with pytest.raises(ValueError, match="empty dimension"):
        cr.ones(0, 2).max()


def test_explicit_dtype_is_applied_without_rounding_through_float32() -> None:
    value = 0.1 + 1e-12
    assert cr.tensor(value, dtype=cr.float64).item() == value
    assert cr.tensor([value], dtype=cr.float64).tolist() == [value]
