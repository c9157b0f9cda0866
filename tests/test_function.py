"""User-defined Functions: ctx.save_for_backward, needs_input_grad, non-differentiable outputs."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import Function


class ScaledSquare(Function):
    @staticmethod
    def forward(ctx, x, scale):  # type: ignore[no-untyped-def]
        ctx.save_for_backward(x)
        ctx.scale = scale
        ctx.seen_needs = ctx.needs_input_grad
        return scale * x * x

    @staticmethod
    def backward(ctx, gy):  # type: ignore[no-untyped-def]
        (x,) = ctx.saved_tensors
        return 2 * ctx.scale * x * gy, None


class SortWithIndices(Function):
    @staticmethod
    def forward(ctx, x):  # type: ignore[no-untyped-def]
        order = np.argsort(x, kind="stable")
        ctx.save_for_backward(order)
        ctx.mark_non_differentiable(order)
        return x[order], order

    @staticmethod
    def backward(ctx, g_sorted, g_order):  # type: ignore[no-untyped-def]
        (order,) = ctx.saved_tensors
        gx = np.zeros_like(g_sorted)
        gx[order] = g_sorted
        return gx


def test_custom_function_forward_backward() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = ScaledSquare.apply(x, 3.0)
    assert y.grad_fn.name() == "ScaledSquareBackward"
    assert y.grad_fn.seen_needs == (True, False)
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]


def test_custom_function_passes_gradcheck() -> None:
    x = cr.randn(4, dtype=cr.float64, requires_grad=True)
    assert cr.gradcheck(lambda t: ScaledSquare.apply(t, 0.5), (x,))


def test_multiple_outputs_and_mark_non_differentiable() -> None:
    x = cr.tensor([3.0, 1.0, 2.0], requires_grad=True)
    values, order = SortWithIndices.apply(x)
    assert values.requires_grad and not order.requires_grad
    assert order.tolist() == [1, 2, 0]
    (values * cr.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [100.0, 1.0, 10.0]


def test_no_graph_recorded_when_no_input_requires_grad() -> None:
    y = ScaledSquare.apply(cr.ones(2), 2.0)
    assert y.grad_fn is None and not y.requires_grad


def test_next_functions_walks_the_graph() -> None:
    x = cr.ones(2, requires_grad=True)
    y = (x * 2).sum()
    mul, _ = y.grad_fn.next_functions[0]  # then (None, 0) for dim and keepdim
    assert mul.name() == "MulBackward"
    (leaf, _), (const, _) = mul.next_functions
    assert leaf.name() == "AccumulateGrad" and leaf.variable is x and const is None


def test_saved_tensors_gone_after_backward() -> None:
    x = cr.ones(2, requires_grad=True)
    y = ScaledSquare.apply(x, 1.0)
    node = y.grad_fn
    y.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        _ = node.saved_tensors
