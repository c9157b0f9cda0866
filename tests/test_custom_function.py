"""User-defined autograd.Functions get Tensors (PyTorch's way); chainrule's ops get arrays."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.autograd import Function
from chainrule.ops.elementwise import Mul


class Scale(Function):
    """y = k x with a Python number k; records what forward saw."""

    seen: list = []

    @staticmethod
    def forward(ctx, x, k):  # type: ignore[no-untyped-def]
        Scale.seen = [type(x), cr.is_grad_enabled(), x.requires_grad, type(k)]
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, grad):  # type: ignore[no-untyped-def]
        Scale.seen.append(type(grad))
        return grad * ctx.k, None


class SplitSigns(Function):
    """Two outputs, one non-differentiable (a mask), and tensors saved for backward."""

    @staticmethod
    def forward(ctx, x):  # type: ignore[no-untyped-def]
        mask = x > 0
        ctx.save_for_backward(x, mask)
        ctx.mark_non_differentiable(mask)
        return x.abs(), mask

    @staticmethod
    def backward(ctx, grad_abs, grad_mask):  # type: ignore[no-untyped-def]
        x, mask = ctx.saved_tensors
        assert isinstance(x, cr.Tensor) and mask.dtype == cr.bool
        return grad_abs * x.sign()


class RawCube(Function):
    raw_arrays = True  # the fast path chainrule's ops use: NumPy arrays in and out

    @staticmethod
    def forward(ctx, x):  # type: ignore[no-untyped-def]
        assert isinstance(x, np.ndarray)
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, gy):  # type: ignore[no-untyped-def]
        (x,) = ctx.saved_tensors
        return 3 * x**2 * gy


def test_forward_and_backward_get_tensors_outside_the_graph() -> None:
    x = cr.tensor([1.0, -2.0], requires_grad=True)
    y = Scale.apply(x, 3.0)
    assert Scale.seen == [cr.Tensor, False, False, float]
    assert y.requires_grad and y.grad_fn.name().startswith("ScaleBackward")
    y.sum().backward()
    assert Scale.seen[-1] is cr.Tensor and x.grad.tolist() == [3.0, 3.0]
    assert y.grad_fn is not None and y.grad_fn.needs_input_grad == (True, False)


def test_two_outputs_and_a_non_differentiable_mask() -> None:
    x = cr.tensor([1.5, -2.0, 0.5], requires_grad=True)
    values, mask = SplitSigns.apply(x)
    assert values.requires_grad and not mask.requires_grad and mask.tolist() == [True, False,
                                                                                True]
    (values * cr.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [1.0, -2.0, 3.0]
    assert cr.gradcheck(lambda t: SplitSigns.apply(t)[0],
                        (cr.tensor([0.3, -0.7], dtype=cr.float64, requires_grad=True),))


def test_raw_arrays_opt_in_and_library_ops_stay_raw() -> None:
    assert Mul.raw_arrays and not Scale.raw_arrays and RawCube.raw_arrays
    x = cr.tensor([2.0], requires_grad=True)
    RawCube.apply(x).sum().backward()
    assert x.grad.tolist() == [12.0]


def test_saved_input_changed_in_place_is_caught() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    y = SplitSigns.apply(h)[0]
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_saved_tensors_are_freed_after_backward() -> None:
    x = cr.tensor([1.0, -1.0], requires_grad=True)
    y = SplitSigns.apply(x)[0].sum()
    y.backward(retain_graph=False)
    with pytest.raises(RuntimeError, match="freed"):
        y.grad_fn.next_functions[0][0].saved_tensors  # noqa: B018


class ClampedIdentity(Function):
    @staticmethod
    def forward(ctx, x):  # type: ignore[no-untyped-def]
        return x.clamp(-1, 1)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[no-untyped-def]
        g = grad.clone()
        g[g.abs() > 10] = 0
        return g


def test_a_captured_step_replays_the_users_code() -> None:
    cr.manual_seed(0)

    def make() -> nn.Module:
        cr.manual_seed(0)
        return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))

    rng = np.random.default_rng(0)
    xs = [cr.tensor(rng.normal(size=(5, 4)).astype(np.float32) * 3) for _ in range(6)]
    ys = [cr.tensor(rng.integers(0, 3, 5)) for _ in range(6)]

    def loss_fn(out: cr.Tensor, y: cr.Tensor) -> cr.Tensor:
        return nn.functional.cross_entropy(ClampedIdentity.apply(out), y)

    eager, captured = make(), make()
    opt_e = cr.optim.SGD(eager.parameters(), lr=0.1)
    step = cr.compile(captured, loss_fn, cr.optim.SGD(captured.parameters(), lr=0.1))
    for x, y in zip(xs, ys, strict=True):
        opt_e.zero_grad()
        loss_fn(eager(x), y).backward()
        opt_e.step()
        step(x, y)
    assert step.stats["replayed"] > 0
    for p, q in zip(eager.parameters(), captured.parameters(), strict=True):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy())
