"""PyTorch-style idioms run under ``torch`` and under ``chainrule``: same values and dtypes.

One table: each idiom is a function of the library module (``torch`` or ``chainrule``)
written the way PyTorch code writes it, so running it with ``chainrule`` is what
``import chainrule as torch`` does to a program. Results are compared recursively:
tensors by dtype, shape and values, tuples (``max(t, dim)``, ``sort``, ``topk``) item by
item and by their ``.values`` / ``.indices``, numbers and bools exactly. An idiom that
raises under torch must raise under chainrule (``expect_error``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def X(t: Any) -> Any:  # noqa: N802 - a fixed input, as the idioms' "x"
    return t.tensor([[0.5, -1.25, 2.0], [0.125, 0.75, -0.375]])


def V(t: Any) -> Any:  # noqa: N802
    return t.tensor([3.0, -1.0, 2.0, 0.5])


def Y(t: Any) -> Any:  # noqa: N802 - a second input like X
    return t.tensor([[0.25, 1.5, -2.0], [0.625, -0.75, 0.5]])


def I(t: Any) -> Any:  # noqa: E743, N802 - integer input
    return t.tensor([[3, -1, 4], [1, 5, -9]])


def _grad(t: Any, fn: Callable[[Any], Any], values: Any = None) -> Any:
    """(output, input gradient) of ``fn`` at ``values`` (X by default)."""
    x = t.tensor(values if values is not None else [[0.5, -1.25, 2.0], [0.125, 0.75, -0.375]],
                 requires_grad=True)
    y = fn(x)
    y.sum().backward()
    return y.detach(), x.grad


def _inplace(t: Any, name: str, *args: Any) -> Any:
    x = X(t).abs() + 0.25 if name in ("log1p_", "rsqrt_", "sqrt_", "log_") else X(t) * 0.5
    out = getattr(x, name)(*args)
    return out is x, x


def _out(t: Any, fn: Callable[..., Any], *args: Any, shape: Any = None, dtype: Any = None,
         **kwargs: Any) -> Any:
    out = t.zeros(*(shape or (2, 3)), dtype=dtype)
    result = fn(*args, out=out, **kwargs)
    return result is out, out


def _relu(t: Any) -> Any:
    class MyReLU(t.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx: Any, grad_output: Any) -> Any:
            (x,) = ctx.saved_tensors
            grad = grad_output.clone()
            grad[x < 0] = 0
            return grad

    return MyReLU


def _legendre3(t: Any) -> Any:
    class P3(t.autograd.Function):
        """P3(z) = (5 z^3 - 3 z) / 2, dP3/dz = (15 z^2 - 3) / 2."""

        @staticmethod
        def forward(ctx: Any, z: Any) -> Any:
            ctx.save_for_backward(z)
            return (5 * z**3 - 3 * z) / 2

        @staticmethod
        def backward(ctx: Any, grad_output: Any) -> Any:
            (z,) = ctx.saved_tensors
            return grad_output * (15 * z * z - 3) / 2

    return P3


def _fit_p3(t: Any) -> Any:
    """A few steps of fitting y = a + b P3(c + d x) to sin(x), by hand, as the tutorial."""
    t.manual_seed(0)
    x = t.linspace(-math.pi, math.pi, 200, dtype=t.float64)
    y = t.sin(x)
    a, b, c, d = (t.full((), v, dtype=t.float64, requires_grad=True)
                  for v in (0.0, -1.0, 0.0, 0.3))
    p3 = _legendre3(t)
    for _ in range(5):
        loss = (a + b * p3.apply(c + d * x) - y).pow(2).sum()
        loss.backward()
        with t.no_grad():
            for w in (a, b, c, d):
                w -= 5e-6 * w.grad
                w.grad = None
    return loss.detach(), a.detach(), b.detach(), c.detach(), d.detach()


def _multinomial(t: Any, replacement: bool) -> Any:
    g = t.Generator().manual_seed(0)
    probs = t.tensor([[0.0, 1.0, 3.0, 0.0], [2.0, 0.0, 0.0, 1.0]])
    s = t.multinomial(probs, 2, replacement=replacement, generator=g)
    return s.dtype, tuple(s.shape), s.sort(dim=1).values if not replacement else (s > -1).all()


def _custom_relu(t: Any) -> Any:
    return _grad(t, _relu(t).apply)


UNARY = ["sin", "cos", "tan", "atan", "sinh", "cosh", "expm1", "sign", "square",
         "erf", "erfc", "floor", "ceil", "round", "trunc", "frac", "exp", "abs", "neg", "sgn",
         "fix"]
POSITIVE = ["log1p", "log2", "log10", "rsqrt", "reciprocal", "sqrt", "log"]
INPLACE = ["sin_", "cos_", "floor_", "ceil_", "round_", "trunc_", "frac_", "sign_", "abs_",
           "neg_", "exp_", "square_", "reciprocal_", "log1p_", "rsqrt_", "sqrt_", "log_",
           "sigmoid_", "tanh_", "relu_", "erf_", "expm1_"]

IDIOMS: dict[str, Callable[[Any], Any]] = {
    # ---- math functions: torch.X(t), t.X(), gradients ------------------------------------
    **{f"{n}": (lambda t, n=n: getattr(t, n)(X(t))) for n in UNARY},
    **{f"{n}_method": (lambda t, n=n: getattr(X(t), n)()) for n in UNARY},
    **{f"{n}_grad": (lambda t, n=n: _grad(t, lambda x: getattr(x, n)())) for n in UNARY},
    **{f"{n}": (lambda t, n=n: getattr(t, n)(X(t).abs() + 0.25)) for n in POSITIVE},
    **{f"{n}_grad": (lambda t, n=n: _grad(t, lambda x: getattr(t, n)(x.abs() + 0.25)))
       for n in POSITIVE},
    **{f"{n}_int": (lambda t, n=n: getattr(t, n)(I(t))) for n in
       ("sin", "exp", "floor", "round", "sign", "square", "abs", "reciprocal", "erf")},
    **{f"inplace_{n}": (lambda t, n=n: _inplace(t, n)) for n in INPLACE},
    "asin_acos": lambda t: (t.asin(X(t) / 3), t.acos(X(t) / 3), t.arcsin(X(t) / 3)),
    "asin_grad": lambda t: _grad(t, lambda x: (x / 3).asin() + (x / 3).acos()),
    "atan2": lambda t: (t.atan2(X(t), Y(t)), X(t).atan2(t.tensor(0.5))),
    "atan2_grad": lambda t: _grad(t, lambda x: t.atan2(x, Y(t) + 3)),
    "round_decimals": lambda t: (t.round(t.tensor([1234.5678, 0.125, -2.5]), decimals=2),
                                 t.tensor([1234.5678, 1250.0]).round(decimals=-2)),
    "floor_divide_remainder": lambda t: (I(t) // 2, I(t) % 3, t.remainder(I(t), -4),
                                         t.fmod(I(t), 4), X(t) // 0.5, X(t) % 0.5,
                                         t.floor_divide(I(t), 3)),
    "div_rounding": lambda t: (t.div(I(t), 2, rounding_mode="trunc"),
                               t.div(I(t), 2, rounding_mode="floor"),
                               t.div(X(t), 0.3, rounding_mode="trunc"), t.true_divide(I(t), 2)),
    "int_div_by_zero": lambda t: I(t) // 0,
    # ---- max/min overloads, selection, products ----------------------------------------
    "max_binary": lambda t: (t.max(X(t), Y(t)), t.min(X(t), t.zeros(3)),
                             X(t).max(X(t) * 0)),
    "max_dim": lambda t: (t.max(X(t), 1), t.max(X(t), dim=0, keepdim=True).indices,
                          X(t).min(1).values, t.max(X(t), 1)[1]),
    "max_all": lambda t: (t.max(X(t)), X(t).min(), t.amax(X(t), dim=(0, 1))),
    "max_binary_grad": lambda t: _grad(t, lambda x: t.max(x, Y(t))),
    "argmax_argmin": lambda t: (t.argmax(X(t)), t.argmax(X(t), dim=1), X(t).argmin(0),
                                t.argmin(X(t), dim=1, keepdim=True)),
    "sort": lambda t: (t.sort(X(t)), X(t).sort(dim=0, descending=True), t.argsort(V(t)),
                       V(t).argsort(descending=True), t.sort(I(t), 1).values),
    "topk": lambda t: (t.topk(V(t), 2), X(t).topk(1, dim=0, largest=False),
                       t.topk(X(t), 2).indices),
    "sort_topk_grad": lambda t: _grad(t, lambda x: x.sort(1).values * t.tensor([1.0, 2, 3])
                                      + x.topk(2, 1).values.sum()),
    "cumsum_cumprod": lambda t: (t.cumsum(X(t), dim=1), X(t).cumsum(0), t.cumsum(I(t), 1),
                                 t.cumprod(X(t), 1), X(t).cumprod(dim=0),
                                 t.cumsum(t.tensor([True, False, True]), 0)),
    "cumsum_grad": lambda t: _grad(t, lambda x: x.cumsum(1) * x.cumprod(0)),
    "mm_bmm_matmul": lambda t: (t.mm(X(t), X(t).T), X(t).mm(X(t).t()),
                                t.bmm(X(t)[None], X(t).T[None]), t.matmul(X(t), V(t)[:3]),
                                X(t).matmul(X(t).T)),
    "mm_shape_error": lambda t: t.mm(X(t), X(t)),
    "bmm_needs_3d": lambda t: t.bmm(X(t), X(t).T),
    "dot_outer": lambda t: (t.dot(V(t), V(t)), V(t).dot(V(t) * 2), t.outer(V(t), V(t)[:2]),
                            V(t).outer(V(t)), t.outer(I(t)[0], I(t)[1])),
    "einsum": lambda t: (t.einsum("ij,kj->ik", X(t), X(t)), t.einsum("ii", X(t)[:, :2]),
                         t.einsum("i,i->", V(t), V(t)), t.einsum("bij->bji", X(t)[None]),
                         t.einsum("ij", X(t)), t.einsum("...j,j", X(t), V(t)[:3]),
                         t.einsum("ij,jk", [X(t), X(t).T])),
    "einsum_grad": lambda t: _grad(t, lambda x: t.einsum("ij,kj->ik", x, x * x)),
    "norm": lambda t: (t.norm(X(t)), X(t).norm(), X(t).norm(dim=1), X(t).norm(p=1, dim=0),
                       t.norm(X(t), p="fro"), t.linalg.norm(X(t)), t.linalg.norm(V(t), ord=3),
                       t.linalg.vector_norm(X(t), ord=math.inf), t.linalg.matrix_norm(X(t)),
                       t.linalg.norm(X(t), ord=1), t.linalg.norm(X(t), dim=1)),
    "norm_grad": lambda t: _grad(t, lambda x: x.norm(dim=1) + t.linalg.norm(x, ord=math.inf)),
    # ---- out= ------------------------------------------------------------------------
    "out_add": lambda t: _out(t, t.add, X(t), 1.0),
    "add_sub_alpha": lambda t: (t.add(X(t), X(t), alpha=2), t.sub(X(t), 1, alpha=3)),
    "out_mul": lambda t: _out(t, t.mul, X(t), X(t)),
    "out_exp_sin": lambda t: (_out(t, t.exp, X(t)), _out(t, t.sin, X(t))),
    "out_matmul_mm": lambda t: (_out(t, t.matmul, X(t), X(t).T, shape=(2, 2)),
                                _out(t, t.mm, X(t), X(t).T, shape=(2, 2))),
    "out_sum_mean": lambda t: (_out(t, t.sum, X(t), 1, shape=(2,)),
                               _out(t, t.mean, X(t), 0, keepdim=True, shape=(1, 3))),
    "out_float64": lambda t: _out(t, t.add, X(t), 1, dtype=t.float64),
    "out_resized_empty": lambda t: _out(t, t.mul, X(t), 2, shape=(0,)),
    "out_int_refuses_float": lambda t: _out(t, t.add, X(t), 1, dtype=t.int64),
    "out_refuses_grad": lambda t: t.add(X(t).requires_grad_(), 1, out=t.zeros(2, 3)),
    "out_requires_grad": lambda t: t.exp(X(t), out=t.zeros(2, 3, requires_grad=True)),
    "out_no_grad_ok": lambda t: _no_grad_out(t),
    # ---- small names -------------------------------------------------------------------
    "keepdims": lambda t: (X(t).sum(1, keepdims=True), t.sum(X(t), dim=0, keepdims=True),
                           X(t).mean(0, keepdims=True), t.mean(X(t), 1, keepdim=True),
                           X(t).max(1, keepdims=True).values, X(t).std(0, keepdims=True),
                           X(t).amax(1, keepdims=True), t.logsumexp(X(t), 1, keepdims=True)),
    "sum_dtype": lambda t: (t.sum(I(t)), I(t).sum(dtype=t.float64), X(t).sum(dtype=t.float64),
                            t.tensor([True, True]).sum()),
    "numel": lambda t: (X(t).nelement(), X(t).numel(), t.numel(X(t))),
    "all_any": lambda t: (t.all(X(t) > -2), t.any(X(t) > 1.5), (X(t) > 0).all(dim=1),
                          X(t).any(0), t.all(I(t), dim=1, keepdim=True), t.any(I(t) > 4),
                          (X(t) > 0).any()),
    "isclose_allclose_equal": lambda t: (
        t.isclose(X(t), X(t) + 1e-7), X(t).isclose(X(t) * 1.01, rtol=1e-3),
        t.allclose(X(t), X(t) + 1e-7), X(t).allclose(X(t) + 1), t.equal(X(t), X(t)),
        X(t).equal(X(t)[:1]), t.equal(I(t), I(t) * 1), t.isclose(t.tensor([math.nan]),
                                                               t.tensor([math.nan]),
                                                               equal_nan=True)),
    "comparisons": lambda t: (t.eq(X(t), 0.5), t.ne(I(t), 1), t.lt(X(t), I(t)),
                              X(t).ge(0), X(t).gt(Y(t)), X(t).le(0.125),
                              t.greater(X(t), 0), I(t).lt(0.5)),
    "clamp_variants": lambda t: (X(t).clamp(-1, 1), X(t).clip(max=0.2), t.clip(X(t), min=0),
                                 X(t).clamp_min(0.1), X(t).clamp_max(0.1),
                                 _inplace(t, "clamp_", -0.2, 0.2), _inplace(t, "clip_", 0.0),
                                 _inplace(t, "clamp_min_", 0.1), _inplace(t, "clamp_max_", 0.1)),
    "multinomial": lambda t: _multinomial(t, replacement=False),
    "multinomial_replacement": lambda t: _multinomial(t, replacement=True),
    "multinomial_too_many": lambda t: t.multinomial(t.tensor([0.0, 1.0]), 3),
    "multinomial_zero_weights_last": lambda t: t.multinomial(t.tensor([0.0, 1.0]), 2),
    "multinomial_method": lambda t: X(t).abs().multinomial(1).shape,
    # ---- dtype promotion (the full table is tests/test_promotion.py) --------------------
    "promotion": lambda t: (t.tensor([1, 2]) / 2, t.tensor([1, 2]) * 2.5, I(t) + 1.5,
                            t.ones(2) ** t.tensor([2, 3]), t.tensor([1, 2]) + t.tensor(1.5),
                            t.tensor([True, False]) + 1, I(t) > 0.5, 1.5 / t.tensor([1, 3]),
                            X(t) * t.tensor(2.0, dtype=t.float64), t.tensor([1, 2]) ** 2),
    "sub_bools_refused": lambda t: t.tensor([True]) - t.tensor([False]),
    # ---- custom autograd.Function with Tensors -----------------------------------------
    "custom_relu": _custom_relu,
    "custom_legendre_fit": _fit_p3,
    # ---- losses ------------------------------------------------------------------------
    "smooth_l1": lambda t: (t.nn.functional.smooth_l1_loss(X(t), Y(t)),
                            t.nn.functional.smooth_l1_loss(X(t), X(t) * 0, beta=0.5,
                                                           reduction="none"),
                            t.nn.SmoothL1Loss(reduction="sum", beta=0.0)(X(t), Y(t)),
                            t.nn.functional.huber_loss(X(t), X(t) * 0, delta=0.5)),
    "smooth_l1_grad": lambda t: _grad(t, lambda x: t.nn.functional.smooth_l1_loss(
        x, Y(t) * 0.5, beta=0.7)),
}


def _no_grad_out(t: Any) -> Any:
    w = X(t).requires_grad_()
    with t.no_grad():
        return _out(t, t.add, w, 1)


EXPECT_ERROR = {"int_div_by_zero", "mm_shape_error", "bmm_needs_3d", "out_int_refuses_float",
                "out_refuses_grad", "out_requires_grad", "multinomial_too_many",
                "sub_bools_refused"}
RANDOM = {"multinomial", "multinomial_replacement"}  # same distribution, not the same draws


def _dtype_name(dtype: Any) -> str:
    return str(dtype).replace("torch.", "").replace("chainrule.", "")


def _same(ours: Any, theirs: Any, where: str) -> None:
    if isinstance(theirs, torch.Tensor):
        if theirs._is_zerotensor():  # torch's gradient of sign: a tensor of zeros, not stored
            theirs = torch.zeros(theirs.shape, dtype=theirs.dtype)
        assert isinstance(ours, cr.Tensor), f"{where}: {type(ours).__name__}, not a Tensor"
        assert _dtype_name(ours.dtype) == _dtype_name(theirs.dtype), \
            f"{where}: dtype {ours.dtype} vs torch {theirs.dtype}"
        assert tuple(ours.shape) == tuple(theirs.shape), \
            f"{where}: shape {tuple(ours.shape)} vs torch {tuple(theirs.shape)}"
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=2e-6,
                                   atol=1e-6, err_msg=where)
    elif isinstance(theirs, torch.dtype):
        assert _dtype_name(ours) == _dtype_name(theirs), where
    elif isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), f"{where}: {ours!r}"
        for field in ("values", "indices"):
            if hasattr(theirs, field):
                _same(getattr(ours, field), getattr(theirs, field), f"{where}.{field}")
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            _same(a, b, f"{where}[{i}]")
    else:
        assert type(ours) is type(theirs) and ours == theirs, f"{where}: {ours!r} vs {theirs!r}"


@pytest.mark.parametrize("name", list(IDIOMS))
def test_idiom_matches_torch(name: str) -> None:
    idiom = IDIOMS[name]
    if name in EXPECT_ERROR:
        with pytest.raises(Exception):  # noqa: B017 - torch's and chainrule's kinds may differ
            idiom(torch)
        with pytest.raises(Exception):  # noqa: B017
            idiom(cr)
        return
    theirs, ours = idiom(torch), idiom(cr)
    if name in RANDOM:
        theirs, ours = theirs[:2], ours[:2]
    _same(ours, theirs, name)


def test_random_idioms_are_seeded_and_valid() -> None:
    first, again = _multinomial(cr, False), _multinomial(cr, False)
    assert first[2].tolist() == again[2].tolist() == [[1, 2], [0, 3]]
    assert _multinomial(cr, True)[2].item()


def test_every_torch_nn_init_name_exists() -> None:
    import torch.nn.init as torch_init

    names = [n for n in dir(torch_init) if not n.startswith("_")
             and callable(getattr(torch_init, n))
             and getattr(getattr(torch_init, n), "__module__", "") == "torch.nn.init"]
    assert len(names) > 20
    assert [n for n in names if not hasattr(cr.nn.init, n)] == []


# each chainrule module class -> its torch.nn.functional name (None: torch has none)
FUNCTIONAL_OF = {
    "AdaptiveAvgPool2d": "adaptive_avg_pool2d", "AvgPool2d": "avg_pool2d",
    "BCELoss": "binary_cross_entropy", "BCEWithLogitsLoss": "binary_cross_entropy_with_logits",
    "BatchNorm1d": "batch_norm", "BatchNorm2d": "batch_norm", "Conv1d": "conv1d",
    "Conv2d": "conv2d", "CrossEntropyLoss": "cross_entropy", "Dropout": "dropout",
    "Dropout2d": "dropout2d", "ELU": "elu", "Embedding": "embedding", "Flatten": None,
    "Fold": "fold", "GELU": "gelu", "HuberLoss": "huber_loss", "Identity": None,
    "L1Loss": "l1_loss", "LayerNorm": "layer_norm", "LeakyReLU": "leaky_relu",
    "Linear": "linear", "LogSoftmax": "log_softmax", "MSELoss": "mse_loss",
    "MaxPool2d": "max_pool2d", "Maxout": None, "MultiMarginLoss": "multi_margin_loss",
    "NLLLoss": "nll_loss", "PReLU": "prelu", "ReLU": "relu", "Sigmoid": "sigmoid",
    "SmoothL1Loss": "smooth_l1_loss", "Softmax": "softmax", "Softplus": "softplus",
    "Tanh": "tanh", "Unflatten": None, "Unfold": "unfold",
}


def test_every_module_has_its_functional_form() -> None:
    modules = sorted(n for n in cr.nn.__all__ if isinstance(getattr(cr.nn, n), type)
                     and issubclass(getattr(cr.nn, n), cr.nn.Module)
                     and n not in ("Module", "Sequential", "ModuleList", "ModuleDict"))
    assert sorted(FUNCTIONAL_OF) == modules, "a new module: add it to FUNCTIONAL_OF"
    for module, name in FUNCTIONAL_OF.items():
        if name is None:
            assert not hasattr(torch.nn, module) or not hasattr(torch.nn.functional,
                                                                module.lower()), module
            continue
        assert hasattr(torch.nn.functional, name), name
        assert name in cr.nn.functional.__all__, f"nn.{module}: no nn.functional.{name}"
