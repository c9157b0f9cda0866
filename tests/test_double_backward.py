"""Gradients of gradients (create_graph=True): every op of the op table, the losses, a
gradient penalty through an MLP, Hessian-vector products and autograd.functional.

Second derivatives are compared with PyTorch in float64 (1e-10) and, on small shapes, with
float64 finite differences of the first gradient (gradgradcheck). Ops whose backward cannot
be recorded are listed in UNSUPPORTED with the reason: they must raise DoubleBackwardError
naming the op, never give a wrong number.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.autograd import DoubleBackwardError, functional

from optable import CASES, OpCase, make_inputs, torch

# op -> (its node, why its backward cannot be recorded): none in the op table today; the
# mechanism that refuses is tested below on ops written to be unrecordable
UNSUPPORTED: dict[str, tuple[str, str]] = {}


def _numpy(t):
    if t is None:
        return None
    return t.numpy(force=True) if hasattr(t, "numpy") and not isinstance(t, cr.Tensor) \
        else t.detach().numpy()


def second_derivatives(case: OpCase, arrays, grad_idx, library):
    """d/dx of <d out/dx . w> with a fixed upstream gradient v and weights w."""
    rng = np.random.default_rng(7)
    if library == "torch":
        xs = [torch.tensor(a, dtype=torch.float64, requires_grad=i in grad_idx)
              for i, a in enumerate(arrays)]
        out = case.ref(*xs)
        out = out[0] if isinstance(out, tuple) else out
        wrap, grad = (lambda a: torch.tensor(a)), torch.autograd.grad
    else:
        xs = [cr.tensor(a, dtype=cr.float64, requires_grad=i in grad_idx)
              for i, a in enumerate(arrays)]
        out = case.fn(*xs)
        wrap, grad = (lambda a: cr.tensor(a, dtype=cr.float64)), cr.autograd.grad
    v = rng.normal(size=tuple(out.shape))
    wanted = [xs[i] for i in grad_idx]
    first = grad(out, wanted, wrap(v), create_graph=True, allow_unused=True)
    weights = [rng.normal(size=tuple(x.shape)) for x in wanted]
    terms = [(g * wrap(w)).sum() for g, w in zip(first, weights, strict=True)
             if g is not None and g.requires_grad]
    if not terms:
        return [None] * len(wanted)
    return list(grad(sum(terms), wanted, allow_unused=True))


def _params():
    return [pytest.param(case, shapes, id=f"{case.name}-" + "x".join(map(str, shapes)))
            for case in CASES for shapes in case.shapes[:2]]


@pytest.mark.parametrize("case, shapes", _params())
def test_second_derivatives_of_every_op(case, shapes):
    arrays = make_inputs(case, shapes, 0)
    grad_idx = case.grad_inputs if case.grad_inputs is not None else tuple(range(len(arrays)))
    if case.name in UNSUPPORTED:
        node, _ = UNSUPPORTED[case.name]
        with pytest.raises(DoubleBackwardError, match=f"create_graph=True: {node}"):
            second_derivatives(case, arrays, grad_idx, "chainrule")
        return
    ours = second_derivatives(case, arrays, grad_idx, "chainrule")
    if torch is None:
        pytest.skip("torch not installed")
    theirs = second_derivatives(case, arrays, grad_idx, "torch")
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        a, b = _numpy(a), _numpy(b)
        if a is None and b is None:
            continue
        shape = arrays[grad_idx[i]].shape
        a = np.zeros(shape) if a is None else a
        b = np.zeros(shape) if b is None else b
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10,
                                   err_msg=f"{case.name}: second derivative of input {i}")


def _small_cases():
    """Each supported case once, with its smallest non-empty shapes (finite differences
    cost two first-gradient evaluations per input element)."""
    out = []
    for case in CASES:
        if case.name in UNSUPPORTED:
            continue
        sized = [(sum(int(np.prod(s)) for s in shapes), k, shapes)
                 for k, shapes in enumerate(case.shapes)
                 if all(int(np.prod(s)) > 0 for s in shapes)]
        if sized:
            shapes = min(sized)[2]
            out.append(pytest.param(case, shapes, id=f"{case.name}-"
                                    + "x".join(map(str, shapes))))
    return out


@pytest.mark.parametrize("case, shapes", _small_cases())
def test_gradgradcheck_of_every_supported_op(case, shapes):
    arrays = make_inputs(case, shapes, 1)
    grad_idx = case.grad_inputs if case.grad_inputs is not None else tuple(range(len(arrays)))
    xs = [cr.tensor(a, dtype=cr.float64, requires_grad=i in grad_idx)
          for i, a in enumerate(arrays)]
    assert cr.autograd.gradgradcheck(case.fn, xs, eps=1e-6, atol=1e-5, rtol=1e-4)


def test_the_op_table_is_mostly_covered():
    supported = [c for c in CASES if c.name not in UNSUPPORTED]
    assert not UNSUPPORTED and len(_small_cases()) == len(supported) > 120


# ---- losses ----------------------------------------------------------------------------
_RNG = np.random.default_rng(3)
_X, _Y = _RNG.normal(size=(5, 3)), _RNG.normal(size=(5, 3))
_T, _P = np.array([0, 2, 1, 1, 0]), _RNG.uniform(0.05, 0.95, size=(5, 3))
_W = np.array([0.5, 2.0, 1.0])
LOSSES = [
    ("cross_entropy", lambda m, a: m.cross_entropy(a, _lib_tensor(m, _T))),
    ("cross_entropy_sum", lambda m, a: m.cross_entropy(a, _lib_tensor(m, _T), reduction="sum")),
    ("cross_entropy_none", lambda m, a: (m.cross_entropy(a, _lib_tensor(m, _T),
                                                         reduction="none") ** 2).sum()),
    ("cross_entropy_weight_smooth", lambda m, a: m.cross_entropy(
        a, _lib_tensor(m, _T), weight=_lib_tensor(m, _W), label_smoothing=0.1)),
    ("cross_entropy_ignore", lambda m, a: m.cross_entropy(a, _lib_tensor(m, _T),
                                                          ignore_index=2)),
    ("nll", lambda m, a: m.nll_loss(m.log_softmax(a, dim=1), _lib_tensor(m, _T))),
    ("mse", lambda m, a: m.mse_loss(a, _lib_tensor(m, _Y))),
    ("mse_sum", lambda m, a: m.mse_loss(a.tanh(), _lib_tensor(m, _Y), reduction="sum")),
    ("bce_with_logits", lambda m, a: m.binary_cross_entropy_with_logits(a, _lib_tensor(m, _P))),
    ("huber", lambda m, a: m.huber_loss(a, _lib_tensor(m, _Y))),
    ("smooth_l1", lambda m, a: m.smooth_l1_loss(a ** 3, _lib_tensor(m, _Y))),
]


def _lib_tensor(module, array):
    if module is F:
        return cr.tensor(array)
    return torch.tensor(array)


@pytest.mark.parametrize("name, loss", LOSSES, ids=[n for n, _ in LOSSES])
def test_second_derivatives_of_the_losses(name, loss):
    def run(module, make, grad):
        x = make(_X)
        (g,) = grad(loss(module, x), x, create_graph=True)
        (h,) = grad((g * g).sum() + (g * make(_Y)).sum(), x)
        return h

    ours = run(F, lambda a: cr.tensor(a, requires_grad=True), cr.autograd.grad)
    x0 = cr.tensor(_X, requires_grad=True)
    assert cr.autograd.gradgradcheck(lambda a: loss(F, a), (x0,))
    if torch is None:
        pytest.skip("torch not installed")
    theirs = run(torch.nn.functional, lambda a: torch.tensor(a, requires_grad=True),
                 torch.autograd.grad)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-10)


# ---- uses ------------------------------------------------------------------------------
def _mlp_weights(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 0.5, size=s) for s in ((8, 2), (8,), (8, 8), (8,), (1, 8), (1,))]


def test_gradient_penalty_trains_with_torchs_parameter_gradients():
    """WGAN-GP's penalty ((||grad_x f(x)|| - 1)^2) through a tanh MLP: the parameter
    gradients equal PyTorch's, and a few SGD steps lower the penalty."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 2))
    weights = _mlp_weights()

    def penalty(lib, params, data):
        h = data
        for k in range(0, 6, 2):
            h = h @ params[k].T + params[k + 1]
            if k < 4:
                h = h.tanh()
        if lib is cr:
            (gx,) = cr.autograd.grad(h.sum(), data, create_graph=True)
        else:
            (gx,) = torch.autograd.grad(h.sum(), data, create_graph=True)
        return ((gx.norm(dim=1) - 1) ** 2).mean()

    params = [cr.tensor(w, requires_grad=True) for w in weights]
    loss = penalty(cr, params, cr.tensor(x, requires_grad=True))
    loss.backward()
    if torch is not None:
        tparams = [torch.tensor(w, requires_grad=True) for w in weights]
        tloss = penalty(torch, tparams, torch.tensor(x, requires_grad=True))
        tloss.backward()
        assert loss.item() == pytest.approx(tloss.item(), abs=1e-12)
        for ours, theirs in zip(params, tparams, strict=True):
            if theirs.grad is None:  # the last bias: d/dx does not depend on it
                assert ours.grad is None or not ours.grad.numpy().any()
                continue
            np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(),
                                       rtol=1e-10, atol=1e-12)
    opt = cr.optim.SGD(params, lr=0.05)
    first = loss.item()
    for _ in range(30):
        opt.zero_grad()
        penalty(cr, params, cr.tensor(x, requires_grad=True)).backward()
        opt.step()
    assert penalty(cr, params, cr.tensor(x, requires_grad=True)).item() < first / 2


def test_hessian_vector_product_equals_finite_differences():
    """A 10-parameter problem: H v from two backward passes against (g(p + e v) - g(p - e v))
    / 2e from the first derivatives alone."""
    rng = np.random.default_rng(2)
    A, b = rng.normal(size=(6, 10)), rng.normal(size=6)

    def loss(p):
        r = cr.tensor(A) @ p - cr.tensor(b)
        return (r.tanh() ** 2).sum() + (p ** 4).sum() / 4

    p0, v = rng.normal(size=10), rng.normal(size=10)
    _, Hv = functional.hvp(loss, cr.tensor(p0), cr.tensor(v))

    def gradient(p):
        t = cr.tensor(p, requires_grad=True)
        (g,) = cr.autograd.grad(loss(t), t)
        return g.numpy()

    eps = 1e-6
    numeric = (gradient(p0 + eps * v) - gradient(p0 - eps * v)) / (2 * eps)
    np.testing.assert_allclose(Hv.numpy(), numeric, rtol=1e-6, atol=1e-7)
    H = functional.hessian(loss, cr.tensor(p0))
    np.testing.assert_allclose(H.numpy() @ v, Hv.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(H.numpy(), H.numpy().T, atol=1e-12)


@pytest.mark.skipif(torch is None, reason="torch not installed")
def test_functional_helpers_match_torch():
    rng = np.random.default_rng(4)
    x, v, u = rng.normal(size=3), rng.normal(size=3), rng.normal(size=2)

    def f(lib):
        return lambda t: lib.stack([(t ** 2).sum(), (t[0] * t[1]).sin() + t[2]])

    def g(lib):
        return lambda t: (t.exp() * t).sum()

    cx, tx = cr.tensor(x), torch.tensor(x)
    tf = torch.autograd.functional
    pairs = [
        (functional.jacobian(f(cr), cx), tf.jacobian(f(torch), tx)),
        (functional.hessian(g(cr), cx), tf.hessian(g(torch), tx)),
        (functional.hvp(g(cr), cx, cr.tensor(v))[1], tf.hvp(g(torch), tx, torch.tensor(v))[1]),
        (functional.vjp(f(cr), cx, cr.tensor(u))[1], tf.vjp(f(torch), tx, torch.tensor(u))[1]),
        (functional.jvp(f(cr), cx, cr.tensor(v))[1], tf.jvp(f(torch), tx, torch.tensor(v))[1]),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_third_derivative_and_backward_create_graph():
    x = cr.tensor([0.3, -1.2], dtype=cr.float64, requires_grad=True)
    y = x.sigmoid().sum()
    (g1,) = cr.autograd.grad(y, x, create_graph=True)
    (g2,) = cr.autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = cr.autograd.grad(g2.sum(), x)
    s = 1 / (1 + np.exp(-x.detach().numpy()))
    np.testing.assert_allclose(g1.detach().numpy(), s * (1 - s), rtol=1e-12)
    np.testing.assert_allclose(g2.detach().numpy(), s * (1 - s) * (1 - 2 * s), rtol=1e-12)
    np.testing.assert_allclose(g3.numpy(), s * (1 - s) * (1 - 6 * s + 6 * s * s), rtol=1e-12)
    z = cr.tensor([2.0], requires_grad=True)
    (z ** 3).sum().backward(create_graph=True)
    assert z.grad.requires_grad and z.grad.item() == 12.0
    (gz,) = cr.autograd.grad(z.grad.sum(), z)
    assert gz.item() == 12.0


class _SavesAnIntermediate(cr.autograd.Function):
    raw_arrays = True  # written like chainrule's ops

    @staticmethod
    def forward(ctx, x):
        e = np.exp(x)
        ctx.save_for_backward(e)  # neither an input nor the output
        return e * 2

    @staticmethod
    def backward(ctx, gy):
        (e,) = ctx.saved_tensors
        return gy * 2 * e


class _LeavesTheOps(cr.autograd.Function):
    raw_arrays = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        out = np.empty_like(gy)
        np.multiply(gy, 2 * x, out=out)  # an in-place NumPy call on recorded arrays
        return out


@pytest.mark.parametrize("op, words", [(_SavesAnIntermediate, "saves an intermediate"),
                                       (_LeavesTheOps, "cannot record its backward")])
def test_an_unrecordable_backward_names_its_op_and_first_order_still_works(op, words):
    x = cr.tensor([0.5, 1.5], dtype=cr.float64, requires_grad=True)
    with pytest.raises(DoubleBackwardError, match=f"{op.__name__}Backward.*{words}"):
        cr.autograd.grad(op.apply(x).sum(), x, create_graph=True)
    (g,) = cr.autograd.grad(op.apply(x).sum(), x)  # first order is untouched
    assert not g.requires_grad and np.all(np.isfinite(g.numpy()))


def test_custom_tensor_functions_have_second_derivatives():
    class Cube(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, gy):
            (x,) = ctx.saved_tensors
            return 3 * x.square() * gy

    x = cr.tensor([2.0, -1.0], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradgradcheck(Cube.apply, (x,))
    (g,) = cr.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    (h,) = cr.autograd.grad(g.sum(), x)
    assert h.tolist() == [12.0, -6.0]


def test_nn_layers_have_second_derivatives():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Softplus(), nn.Linear(4, 4), nn.GELU(),
                          nn.LayerNorm(4), nn.Linear(4, 1))
    model.double()
    x = cr.randn(5, 3, dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradgradcheck(lambda t: model(t), (x,))


LAYER_CASES = [
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 2), [(1, 1, 4, 4)]),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, 1), [(1, 2, 3, 3)]),
    ("batch_norm", lambda x: F.batch_norm(x, None, None, training=True), [(4, 3)]),
    ("layer_norm", lambda x: F.layer_norm(x, (3,)), [(4, 3)]),
    ("embedding", lambda w: F.embedding(cr.tensor([0, 2, 2]), w), [(3, 2)]),
    ("unfold", lambda x: F.unfold(x, 2), [(1, 1, 3, 3)]),
    ("dropout_train", lambda x: F.dropout(x, 0.5, training=True, generator=_seeded()),
     [(3, 3)]),
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b, padding=1), [(1, 2, 3, 3), (2, 2, 2, 2), (2,)]),
    ("conv2d_stride_dilation", lambda x, w: F.conv2d(x, w, stride=2, dilation=2, padding=1),
     [(1, 1, 5, 5), (2, 1, 2, 2)]),
    ("conv2d_groups", lambda x, w: F.conv2d(x, w, groups=2), [(1, 2, 3, 3), (2, 1, 2, 2)]),
    ("conv1d", lambda x, w: F.conv1d(x, w, padding=1), [(1, 2, 5), (2, 2, 3)]),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2) ** 3, [(1, 1, 4, 4)]),
    ("max_pool2d_overlap", lambda x: F.max_pool2d(x, 3, stride=1, padding=1) ** 2,
     [(1, 1, 3, 3)]),
]


def _seeded():
    return cr.Generator().manual_seed(5)  # the same mask at every evaluation


@pytest.mark.parametrize("name, fn, shapes", LAYER_CASES, ids=[c[0] for c in LAYER_CASES])
def test_layers_functions_have_second_derivatives(name, fn, shapes):
    rng = np.random.default_rng(5)
    xs = [cr.tensor(rng.normal(size=s), dtype=cr.float64, requires_grad=True) for s in shapes]
    assert cr.autograd.gradgradcheck(fn, xs)


CONV_VS_TORCH = [
    ("conv2d", lambda m, x, w, b: m.conv2d(x, w, b, padding=1)),
    ("conv2d_stride", lambda m, x, w, b: m.conv2d(x, w, b, stride=2)),
    ("conv2d_dilation", lambda m, x, w, b: m.conv2d(x, w, b, dilation=2, padding=2)),
    ("max_pool2d", lambda m, x, w, b: m.max_pool2d(m.conv2d(x, w, b), 2, ceil_mode=True)),
]


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize("name, fn", CONV_VS_TORCH, ids=[c[0] for c in CONV_VS_TORCH])
def test_convolution_second_derivatives_match_torch(name, fn):
    rng = np.random.default_rng(6)
    arrays = [rng.normal(size=(2, 2, 5, 5)), rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)]

    def second(module, make, grad):
        xs = [make(a) for a in arrays]
        out = (fn(module, *xs).tanh() ** 2).sum()
        first = grad(out, xs, create_graph=True)
        return grad(sum((g * g).sum() for g in first), xs)

    ours = second(F, lambda a: cr.tensor(a, requires_grad=True), cr.autograd.grad)
    theirs = second(torch.nn.functional, lambda a: torch.tensor(a, requires_grad=True),
                    torch.autograd.grad)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-10)
