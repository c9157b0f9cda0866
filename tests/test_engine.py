"""The backward engine: accumulation, graph freeing, depth, determinism, no cycles, hooks."""

import gc
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import nn
from chainrule.autograd.engine import sum_to_shape


def test_gradients_accumulate_across_backward_calls() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_non_scalar_backward_needs_gradient() -> None:
    y = cr.ones(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"implicitly created only for scalar.*\(3,\)"):
        y.backward()
    with pytest.raises(RuntimeError, match="gradient has shape"):
        y.backward(cr.ones(2))


def test_backward_without_grad_explains() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.ones(2).sum().backward()


def test_second_backward_says_retain_graph() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()
    x.grad = None
    loss2 = (x * x).sum()
    loss2.backward(retain_graph=True)
    loss2.backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_shared_subexpression_sums_both_paths() -> None:
    x = cr.tensor([2.0], requires_grad=True)
    h = x * x
    y = h + h * 3  # dy/dx = 4 * 2x = 16
    y.backward(cr.ones(1))
    assert x.grad.tolist() == [16.0]


def test_leaf_grads_do_not_alias_each_other_or_the_given_gradient() -> None:
    a = cr.ones(2, requires_grad=True)
    b = cr.ones(2, requires_grad=True)
    v = cr.tensor([1.0, 2.0])
    (a + b).backward(v)
    a.grad.add_(10)
    assert b.grad.tolist() == [1.0, 2.0] and v.tolist() == [1.0, 2.0]
    (a + b).backward(v)
    assert b.grad.tolist() == [2.0, 4.0] and a.grad.tolist() == [12.0, 14.0]


def test_chain_10000_ops_deep() -> None:
    x = cr.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001**10_000], rtol=1e-3)


def _mlp_step(seed: int) -> list[np.ndarray]:
    g = cr.Generator(seed)
    w1 = cr.randn(8, 5, generator=g, dtype=cr.float64, requires_grad=True)
    w2 = cr.randn(3, 8, generator=g, dtype=cr.float64, requires_grad=True)
    x = cr.randn(16, 5, generator=g, dtype=cr.float64)
    h = cr.sigmoid(x @ w1.T)
    out = (h @ w2.T).log_softmax(dim=1)
    loss = -out[np.arange(16), np.arange(16) % 3].mean() + (h * h).sum() * 1e-3
    loss.backward()
    return [w1.grad.numpy().copy(), w2.grad.numpy().copy()]


def test_same_program_gives_bit_identical_gradients() -> None:
    first = _mlp_step(0)
    for _ in range(3):
        again = _mlp_step(0)
        for a, b in zip(first, again, strict=True):
            assert np.array_equal(a, b)


def test_no_reference_cycles_after_a_training_step() -> None:
    w = cr.randn(4, 3, requires_grad=True)
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            x = cr.randn(5, 3)
            loss = cr.sigmoid(x @ w.T).sum()
            loss.retain_grad()
            loss.backward()
            with cr.no_grad():
                w -= 0.1 * w.grad
            w.grad = None
        del x, loss
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_memory_stays_flat_over_10000_steps() -> None:
    w = cr.randn(16, 8, requires_grad=True)
    x = cr.randn(32, 8)
    tracemalloc.start()
    # CPython's free lists (tuples, floats) fill during the first steps; measure after that
    at_1000 = objects_at_1000 = 0
    for step in range(10_000):
        loss = cr.tanh(x @ w.T).sum()
        loss.backward()
        with cr.no_grad():
            w -= 0.001 * w.grad
        w.grad = None
        if step == 1000:
            at_1000 = tracemalloc.get_traced_memory()[0]
            objects_at_1000 = len(gc.get_objects())
    current = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert current <= at_1000 + 16 * 1024
    assert len(gc.get_objects()) <= objects_at_1000 + 50


def test_hooks_on_leaf_and_non_leaf() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    y = x * 2
    y.register_hook(lambda g: seen.append(g.tolist()))
    handle = x.register_hook(lambda g: g * 10)
    y.sum().backward()
    assert seen == [[1.0, 1.0]] and x.grad.tolist() == [20.0, 20.0]
    handle.remove()
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_retain_grad_keeps_non_leaf_grad() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    z = y * y
    z.sum().backward()
    assert y.grad.tolist() == [6.0, 12.0] and y.retains_grad
    w = x * 4
    (w * w).sum().backward()
    with pytest.warns(UserWarning, match=r"not a leaf .*MulBackward.*retain_grad\(\)"):
        assert w.grad is None


def test_detach_cuts_the_graph_and_shares_data() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.is_leaf and not d.requires_grad
    (y + d * 100).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_requires_grad_only_settable_on_leaves() -> None:
    y = cr.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(1, 3), min_size=0, max_size=3),
    st.lists(st.booleans(), min_size=3, max_size=3),
    st.integers(0, 2),
)
def test_broadcast_gradient_sums_back_to_input_shape(dims: list, ones: list, extra: int) -> None:
    in_shape = tuple(1 if one else d for d, one in zip(dims, ones, strict=False))
    out_shape = (2,) * extra + tuple(dims)
    x = cr.tensor(np.random.default_rng(0).normal(size=in_shape), dtype=cr.float64,
                  requires_grad=True)
    gy = np.random.default_rng(1).normal(size=out_shape)
    (x * cr.ones(out_shape, dtype=cr.float64)).backward(cr.tensor(gy))
    expected = np.broadcast_to(np.zeros(in_shape), out_shape).copy()
    # brute force: accumulate every output cell into the input cell it came from
    reduced = np.zeros(in_shape)
    for index in np.ndindex(*out_shape):
        src = tuple(0 if s == 1 else i for i, s in zip(index[extra:], in_shape, strict=True))
        reduced[src] += gy[index]
    assert expected.shape == out_shape
    np.testing.assert_allclose(x.grad.numpy(), reduced, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sum_to_shape(gy, in_shape), reduced, rtol=1e-12, atol=1e-12)


def test_autograd_grad_leaves_retained_grads_alone() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    cr.autograd.grad(y.sum(), [x], retain_graph=True)
    assert y.grad is None
    y.sum().backward()
    assert y.grad.tolist() == [1.0, 1.0]


def test_a_leaf_hook_runs_as_soon_as_its_gradient_is_complete():
    """The last layer's weight hook runs before the first layer's backward starts (what lets
    a DistributedDataParallel bucket be reduced during backward); the gradients are those
    of a backward without hooks."""
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x = cr.randn(5, 3)
    model(x).pow(2).sum().backward()
    expected = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    order = []
    handles = [model[2].weight.register_hook(lambda g: order.append("last")),
               model[0].weight.register_hook(lambda g: order.append("first"))]
    hidden = model[0](x)
    hidden.register_hook(lambda g: order.append("first layer's backward"))
    model[2](model[1](hidden)).pow(2).sum().backward()
    assert order == ["last", "first layer's backward", "first"]
    for p, want in zip(model.parameters(), expected, strict=True):
        np.testing.assert_array_equal(p.grad.numpy(), want)
    for handle in handles:
        handle.remove()


class _TwoOutputs(cr.autograd.Function):
    """exp(x) and 2x; saves its first output (a multi-output op's version record)."""

    raw_arrays = True

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y, 2 * x

    @staticmethod
    def backward(ctx, g_exp, g_double):
        (y,) = ctx.saved_tensors
        return g_exp * y + 2 * g_double


def _relu_output_changed(lib):
    x = lib.tensor([1.0, -2.0], requires_grad=True)
    y = (x * 1).relu()  # relu saves its output
    loss = (y * 2).sum()
    y.add_(1)
    return loss


def _constant_input_changed(lib):
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = lib.tensor([3.0, 4.0])
    loss = (a * b).sum()  # mul saves b, for a's gradient
    b.mul_(2)
    return loss


def _view_of_saved_input_changed(lib):
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = lib.tensor([3.0, 4.0])
    loss = (a * b).sum()
    b[0:1].add_(1)  # through a view: the view shares b's version counter
    return loss


def _scalar_input_changed(lib):
    w = lib.tensor(0.5, dtype=lib.float64, requires_grad=True)
    x = lib.tensor(1.5, dtype=lib.float64)
    loss = w * x + w  # 0-d tensors, as a micrograd-style program makes them
    x.add_(1)
    return loss


def _unsaved_input_changed(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    loss = (a + 1).sum()  # add saves nothing: changing a cannot change a gradient
    a.mul_(3)
    return loss


def _leaf_not_saved_changed(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    x = lib.tensor([3.0, 4.0])
    loss = (w * x).sum()  # w's gradient reads x only, and x needs none: w is not saved
    with lib.no_grad():
        w.add_(1)
    return loss


@pytest.mark.parametrize("build, raises", [
    (_relu_output_changed, True),
    (_constant_input_changed, True),
    (_view_of_saved_input_changed, True),
    (_scalar_input_changed, True),
    (_unsaved_input_changed, False),
    (_leaf_not_saved_changed, False),
])
def test_in_place_changes_of_saved_tensors_are_caught_as_pytorch_catches_them(
        build, raises: bool) -> None:
    """Only tensors an op saved are version-checked (PyTorch's rule, compared with it)."""
    torch = pytest.importorskip("torch")
    for lib in (cr, torch):
        loss = build(lib)
        if raises:
            with pytest.raises(RuntimeError, match="modified by an inplace operation"
                               if lib is torch else "modified by an in-place operation"):
                loss.backward()
        else:
            loss.backward()


def test_a_multi_output_ops_saved_output_is_version_checked() -> None:
    x = cr.tensor([0.5, 1.0], requires_grad=True)
    y, doubled = _TwoOutputs.apply(x)
    loss = (y * 1).sum() + doubled.sum()
    y.add_(1)
    with pytest.raises(RuntimeError,
                       match="_TwoOutputsBackward: .*modified by an in-place operation"):
        loss.backward()
    x = cr.tensor([0.5, 1.0], requires_grad=True)
    y, doubled = _TwoOutputs.apply(x)
    loss = (y * 1).sum() + (doubled * 1).sum()
    doubled.add_(1)  # not saved: no complaint
    loss.backward()
    assert np.allclose(x.grad.numpy(), np.exp([0.5, 1.0]) + 2)


def test_tensors_get_a_version_counter_only_when_something_needs_one() -> None:
    """The counter is made lazily (one object fewer per recorded op), yet reads and
    in-place writes see the same numbers as before."""
    x = cr.tensor([1.0, 2.0])
    y = x * 2
    assert y._counter is None and y._version == [0]
    y.add_(1)
    y.mul_(2)
    assert y._version == [2]
    z = cr.tensor([1.0])
    z += 1
    assert z._version == [1]
    v = x[0:1]  # a view shares its base's counter
    v.add_(1)
    assert x._version == [1] and v._version is x._version
