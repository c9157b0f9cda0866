"""gradcheck: True for correct backwards, a precise error for wrong ones."""

import pytest

import chainrule as cr
from chainrule.autograd import Function, GradcheckError


class WrongSquare(Function):
    @staticmethod
    def forward(ctx, x):  # type: ignore[no-untyped-def]
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, gy):  # type: ignore[no-untyped-def]
        (x,) = ctx.saved_tensors
        return gy * x  # should be 2 x


def test_gradcheck_passes_for_composite() -> None:
    x = cr.randn(3, 4, dtype=cr.float64, requires_grad=True)
    w = cr.randn(4, 2, dtype=cr.float64, requires_grad=True)
    assert cr.gradcheck(lambda a, b: cr.tanh(a @ b).softmax(dim=1), (x, w))


def test_gradcheck_reports_input_element_and_values() -> None:
    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as err:
        cr.gradcheck(WrongSquare.apply, (x,))
    message = str(err.value)
    assert "WrongSquareBackward" in message and "input 0 element (0,)" in message
    assert "numeric 2.00000" in message and "analytic 1.0" in message
    assert not cr.gradcheck(WrongSquare.apply, (x,), raise_exception=False)


def test_gradcheck_requires_float64() -> None:
    with pytest.raises(ValueError, match="float64"):
        cr.gradcheck(lambda t: t * 2, (cr.ones(2, requires_grad=True),))


def test_autograd_grad_returns_without_accumulating() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    (gx, gh) = cr.autograd.grad(h.sum() * 3, [x, h])
    assert gx.tolist() == [6.0, 12.0] and gh.tolist() == [3.0, 3.0] and x.grad is None
    y = cr.ones(1, requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        cr.autograd.grad((x * 2).sum(), [y])
