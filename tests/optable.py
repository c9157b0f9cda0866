"""The op table: every differentiable op with shapes, a float64 gradcheck and a torch oracle.

Each ``OpCase`` names a chainrule function, the equivalent torch function and
the input shapes to try (broadcasting, size-1 and empty dims included). The
harness ``check_case`` runs one case three ways:

1. chainrule's backward against float64 central differences (``gradcheck``);
2. forward values against torch (CPU, float64) within 1e-10;
3. input gradients for a random upstream gradient against torch within 1e-10.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import chainrule as cr

try:
    import torch
except ImportError:  # pragma: no cover - CI installs torch
    torch = None


@dataclass
class OpCase:
    name: str
    fn: Callable[..., Any]
    ref: Callable[..., Any]
    shapes: list[tuple[tuple[int, ...], ...]]
    module: str
    domain: str = "real"  # real | positive | away (|x| >= 0.1, for kinks at 0) | unit (|x| < 0.9)
    grad_inputs: tuple[int, ...] | None = None  # which inputs get gradients (default: all)
    extra: dict[str, Any] = field(default_factory=dict)

    def ids(self) -> list[str]:
        return [f"{self.name}-" + "x".join(str(s) for s in shapes) for shapes in self.shapes]


def make_inputs(case: OpCase, shapes: tuple[tuple[int, ...], ...], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for shape in shapes:
        x = rng.uniform(-2.0, 2.0, size=shape)
        if case.domain == "positive":
            x = np.abs(x) + 0.2
        elif case.domain == "away":
            x = np.sign(x) * (np.abs(x) + 0.1)
        elif case.domain == "unit":
            x = 0.45 * x
        out.append(x)
    return out


def _torch_out(value: Any) -> Any:
    return value[0] if isinstance(value, tuple) else value


def check_case(case: OpCase, shapes: tuple[tuple[int, ...], ...], seed: int = 0) -> None:
    arrays = make_inputs(case, shapes, seed)
    grad_idx = case.grad_inputs if case.grad_inputs is not None else tuple(range(len(arrays)))
    xs = [cr.tensor(a, dtype=cr.float64, requires_grad=i in grad_idx)
          for i, a in enumerate(arrays)]

    assert cr.gradcheck(case.fn, xs, eps=1e-6, atol=1e-6, rtol=1e-4)

    out = case.fn(*xs)
    if torch is None:
        pytest.skip("torch not installed: gradcheck done, oracle comparison skipped")
    txs = [torch.tensor(a, dtype=torch.float64, requires_grad=i in grad_idx)
           for i, a in enumerate(arrays)]
    tout = _torch_out(case.ref(*txs))
    assert out.shape == tuple(tout.shape), f"{case.name}: shape {out.shape} vs {tuple(tout.shape)}"
    np.testing.assert_allclose(out.numpy() if not out.requires_grad else out.detach().numpy(),
                               tout.detach().numpy(), rtol=1e-10, atol=1e-10,
                               err_msg=f"{case.name}: forward differs from torch")

    upstream = np.random.default_rng(seed + 1).normal(size=tout.shape)
    out.backward(cr.tensor(upstream, dtype=cr.float64))
    tout.backward(torch.tensor(upstream, dtype=torch.float64))
    for i in grad_idx:
        ours = xs[i].grad
        theirs = txs[i].grad
        if theirs is None:
            assert ours is None or not np.any(ours.numpy())
            continue
        assert ours is not None, f"{case.name}: input {i} got no gradient"
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-10,
                                   err_msg=f"{case.name}: gradient of input {i} differs")


def params(cases: list[OpCase]) -> Any:
    return [pytest.param(c, s, id=i) for c in cases for s, i in zip(c.shapes, c.ids(), strict=True)]


BIN = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((1,), (2, 3)), ((0, 3), (3,)),
       ((), (2, 2))]
UN = [((3, 4),), ((2, 1, 3),), ((0, 2),), ((),)]

_T: Any = torch

CASES = [
    OpCase("add", lambda a, b: a + b, lambda a, b: a + b, BIN, "elementwise"),
    OpCase("radd_scalar", lambda a: 2.5 + a, lambda a: 2.5 + a, UN, "elementwise"),
    OpCase("sub", lambda a, b: a - b, lambda a, b: a - b, BIN, "elementwise"),
    OpCase("rsub_scalar", lambda a: 1.0 - a, lambda a: 1.0 - a, UN, "elementwise"),
    OpCase("mul", lambda a, b: a * b, lambda a, b: a * b, BIN, "elementwise"),
    OpCase("div", lambda a, b: a / b, lambda a, b: a / b, BIN, "elementwise", domain="away"),
    OpCase("rdiv_scalar", lambda a: 3.0 / a, lambda a: 3.0 / a, UN, "elementwise",
           domain="away"),
    OpCase("neg", lambda a: -a, lambda a: -a, UN, "elementwise"),
    OpCase("pow_scalar", lambda a: a**3, lambda a: a**3, UN, "elementwise"),
    OpCase("pow_square", lambda a: a**2, lambda a: a**2, UN, "elementwise"),
    OpCase("pow_frac", lambda a: a**0.5, lambda a: a**0.5, UN, "elementwise", domain="positive"),
    OpCase("pow_tensor", lambda a, b: a**b, lambda a, b: a**b, BIN[:4], "elementwise",
           domain="positive"),
    OpCase("rpow", lambda a: 2.0**a, lambda a: 2.0**a, UN, "elementwise"),
    OpCase("exp", cr.exp, lambda a: _T.exp(a), UN, "elementwise"),
    OpCase("log", cr.log, lambda a: _T.log(a), UN, "elementwise", domain="positive"),
    OpCase("sqrt", cr.sqrt, lambda a: _T.sqrt(a), UN, "elementwise", domain="positive"),
    OpCase("abs", cr.abs, lambda a: _T.abs(a), UN, "elementwise", domain="away"),
    OpCase("maximum", cr.maximum, lambda a, b: _T.maximum(a, b), BIN, "elementwise"),
    OpCase("minimum", cr.minimum, lambda a, b: _T.minimum(a, b), BIN, "elementwise"),
    OpCase("where", lambda a, b: cr.where(a > 0, a, b),
           lambda a, b: _T.where(a > 0, a, b), BIN[:4], "elementwise", domain="away"),
    OpCase("clamp", lambda a: cr.clamp(a, -0.5, 0.7), lambda a: _T.clamp(a, -0.5, 0.7), UN,
           "elementwise"),
    OpCase("clamp_min", lambda a: a.clamp(min=0.3), lambda a: a.clamp(min=0.3), UN,
           "elementwise"),
    OpCase("sigmoid", cr.sigmoid, lambda a: _T.sigmoid(a), UN, "activation"),
    OpCase("tanh", cr.tanh, lambda a: _T.tanh(a), UN, "activation"),
    OpCase("relu", cr.relu, lambda a: _T.relu(a), UN, "activation", domain="away"),
    OpCase("leaky_relu", lambda a: cr.leaky_relu(a, 0.2),
           lambda a: _T.nn.functional.leaky_relu(a, 0.2), UN, "activation", domain="away"),
    OpCase("elu", lambda a: cr.elu(a, 1.5), lambda a: _T.nn.functional.elu(a, 1.5), UN,
           "activation", domain="away"),
    OpCase("gelu", cr.gelu, lambda a: _T.nn.functional.gelu(a), UN, "activation"),
    OpCase("gelu_tanh", lambda a: cr.gelu(a, "tanh"),
           lambda a: _T.nn.functional.gelu(a, approximate="tanh"), UN, "activation"),
    OpCase("softplus", cr.softplus, lambda a: _T.nn.functional.softplus(a), UN, "activation"),
    OpCase("softplus_beta", lambda a: cr.softplus(a, 2.0, 1.0),
           lambda a: _T.nn.functional.softplus(a, 2.0, 1.0), UN, "activation", domain="away"),
    OpCase("sum", lambda a: a.sum(), lambda a: a.sum(), UN, "reduce"),
    OpCase("sum_dim", lambda a: a.sum(dim=-1), lambda a: a.sum(dim=-1), UN[:3], "reduce"),
    OpCase("sum_dims_keep", lambda a: a.sum(dim=(0, 1), keepdim=True),
           lambda a: a.sum(dim=(0, 1), keepdim=True), UN[:3], "reduce"),
    OpCase("mean", lambda a: a.mean(), lambda a: a.mean(), UN[:2] + UN[3:], "reduce"),
    OpCase("mean_dim", lambda a: a.mean(dim=0, keepdim=True),
           lambda a: a.mean(dim=0, keepdim=True), [((3, 4),), ((2, 1, 3),), ((2, 0),)],
           "reduce"),
    OpCase("max_all", lambda a: a.max(), lambda a: a.max(), UN[:2], "reduce"),
    OpCase("max_dim", lambda a: a.max(dim=1).values, lambda a: a.max(dim=1).values,
           UN[:2], "reduce"),
    OpCase("min_dim_keep", lambda a: a.min(dim=0, keepdim=True).values,
           lambda a: a.min(dim=0, keepdim=True).values, UN[:2], "reduce"),
    OpCase("amax", lambda a: a.amax(dim=(0, 1)), lambda a: a.amax(dim=(0, 1)), UN[:2],
           "reduce"),
    OpCase("var", lambda a: a.var(), lambda a: a.var(), UN[:2], "reduce"),
    OpCase("var_dim", lambda a: a.var(dim=1, correction=0, keepdim=True),
           lambda a: a.var(dim=1, correction=0, keepdim=True), UN[:2], "reduce"),
    OpCase("std", lambda a: a.std(dim=0), lambda a: a.std(dim=0), UN[:2], "reduce"),
    OpCase("logsumexp", lambda a: a.logsumexp(dim=-1), lambda a: a.logsumexp(dim=-1),
           UN[:3], "reduce"),
    OpCase("softmax", lambda a: a.softmax(dim=-1), lambda a: a.softmax(dim=-1), UN[:3],
           "reduce"),
    OpCase("log_softmax", lambda a: a.log_softmax(dim=0), lambda a: a.log_softmax(dim=0),
           UN[:3], "reduce"),
    OpCase("matmul", cr.matmul, lambda a, b: a @ b,
           [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)),
            ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((0, 4), (4, 3)), ((3, 0), (0, 2))],
           "linalg"),
    OpCase("linear", cr.linear, lambda x, w, b: _T.nn.functional.linear(x, w, b),
           [((5, 3), (4, 3), (4,)), ((2, 5, 3), (4, 3), (4,)), ((3,), (4, 3), (4,))], "linalg"),
    OpCase("reshape", lambda a: a.reshape(-1, 2), lambda a: a.reshape(-1, 2),
           [((3, 4),), ((2, 1, 4),), ((0, 2),)], "shape"),
    OpCase("flatten", lambda a: a.flatten(1), lambda a: a.flatten(1),
           [((2, 3, 4),), ((2, 1, 1),)], "shape"),
    OpCase("transpose", lambda a: a.transpose(0, -1), lambda a: a.transpose(0, -1),
           [((3, 4),), ((2, 3, 4),)], "shape"),
    OpCase("T", lambda a: a.T, lambda a: a.T, [((3, 4),)], "shape"),
    OpCase("permute", lambda a: a.permute(2, 0, 1), lambda a: a.permute(2, 0, 1),
           [((2, 3, 4),), ((1, 0, 2),)], "shape"),
    OpCase("expand", lambda a: a.expand(2, 3, 4), lambda a: a.expand(2, 3, 4),
           [((3, 1),), ((1, 4),), ((4,),)], "shape"),
    OpCase("squeeze", lambda a: a.squeeze(), lambda a: a.squeeze(),
           [((2, 1, 3),), ((1, 1),)], "shape"),
    OpCase("squeeze_dim", lambda a: a.squeeze(1), lambda a: a.squeeze(1),
           [((2, 1, 3),), ((2, 4),)], "shape"),
    OpCase("unsqueeze", lambda a: a.unsqueeze(-1), lambda a: a.unsqueeze(-1),
           [((2, 3),), ((),)], "shape"),
    OpCase("cat", lambda a, b: cr.cat([a, b], dim=1), lambda a, b: _T.cat([a, b], dim=1),
           [((2, 3), (2, 1)), ((2, 0), (2, 2))], "shape"),
    OpCase("stack", lambda a, b: cr.stack([a, b], dim=1), lambda a, b: _T.stack([a, b], dim=1),
           [((2, 3), (2, 3)), ((0,), (0,))], "shape"),
    OpCase("split", lambda a: a.split(2, dim=0)[1] * 2.0 + a.split(2, dim=0)[0].sum(),
           lambda a: a.split(2, dim=0)[1] * 2.0 + a.split(2, dim=0)[0].sum(),
           [((4, 3),), ((4,),)], "shape"),
    OpCase("split_sizes", lambda a: cr.split(a, [1, 3], dim=1)[1],
           lambda a: _T.split(a, [1, 3], dim=1)[1], [((2, 4),)], "shape"),
    OpCase("pad", lambda a: cr.pad(a, (1, 2)), lambda a: _T.nn.functional.pad(a, (1, 2)),
           [((2, 3),), ((3,),)], "shape"),
    OpCase("pad_2d_value", lambda a: cr.pad(a, (0, 1, 2, 0), value=1.5),
           lambda a: _T.nn.functional.pad(a, (0, 1, 2, 0), value=1.5), [((2, 3),)], "shape"),
    OpCase("pad_reflect", lambda a: cr.pad(a, (2, 1), mode="reflect"),
           lambda a: _T.nn.functional.pad(a, (2, 1), mode="reflect"), [((2, 4),)], "shape"),
    OpCase("pad_replicate", lambda a: cr.pad(a, (2, 1), mode="replicate"),
           lambda a: _T.nn.functional.pad(a, (2, 1), mode="replicate"), [((2, 4),)], "shape"),
    OpCase("getitem_basic", lambda a: a[1:, None, ..., ::2],
           lambda a: a[1:, None, ..., ::2], [((3, 4),), ((3, 2, 5),)], "shape"),
    OpCase("getitem_int", lambda a: a[1], lambda a: a[1], [((3, 4),)], "shape"),
    OpCase("getitem_repeat", lambda a: a[[0, 2, 0, 0]], lambda a: a[[0, 2, 0, 0]],
           [((3, 4),), ((3,),)], "shape"),
    OpCase("getitem_mask", lambda a: a[a > 0], lambda a: a[a > 0], [((3, 4),)], "shape",
           domain="away"),
    OpCase("getitem_pairs", lambda a: a[[0, 1, 1], [2, 0, 2]],
           lambda a: a[[0, 1, 1], [2, 0, 2]], [((3, 4),)], "shape"),
]

# ---- math functions, sorting, products and norms (tests/test_math_ops.py) ------------------
_INF = float("inf")


def _unary(name: str, domain: str = "real", module: str = "math") -> OpCase:
    """``cr.name`` against ``torch.name`` on the unary shapes."""
    return OpCase(name, getattr(cr, name), lambda a: getattr(_T, name)(a), UN, module, domain)


CASES += [
    *(_unary(n, module="trig") for n in ("sin", "cos", "atan", "sinh", "cosh")),
    _unary("tan", "unit", "trig"), _unary("asin", "unit", "trig"), _unary("acos", "unit", "trig"),
    OpCase("atan2", cr.atan2, lambda a, b: _T.atan2(a, b), BIN, "trig", domain="away"),
    OpCase("atan2_method", lambda a, b: a.arctan2(b), lambda a, b: a.arctan2(b), BIN[:2], "trig",
           domain="away"),
    *(_unary(n) for n in ("expm1", "square", "erf", "erfc", "floor", "ceil", "trunc", "frac",
                          "sign", "round")),
    *(_unary(n, "positive") for n in ("log1p", "log2", "log10", "rsqrt")),
    _unary("reciprocal", "away"),
    OpCase("round_decimals", lambda a: a.round(decimals=1), lambda a: a.round(decimals=1), UN,
           "math"),
    OpCase("remainder", cr.remainder, lambda a, b: _T.remainder(a, b), BIN[:4], "math",
           domain="away"),
    OpCase("mod_scalar", lambda a: a % 0.7, lambda a: a % 0.7, UN, "math"),
    OpCase("fmod", cr.fmod, lambda a, b: _T.fmod(a, b), BIN[:4], "math", domain="away"),
    OpCase("sort", lambda a: a.sort().values, lambda a: a.sort().values, UN, "sorting"),
    OpCase("sort_desc_dim0", lambda a: cr.sort(a, dim=0, descending=True)[0],
           lambda a: _T.sort(a, dim=0, descending=True)[0], UN[:3], "sorting"),
    OpCase("topk", lambda a: a.topk(2).values, lambda a: a.topk(2).values,
           [((3, 4),), ((2, 1, 3),)], "sorting"),
    OpCase("topk_smallest_dim0", lambda a: cr.topk(a, 1, dim=0, largest=False)[0],
           lambda a: _T.topk(a, 1, dim=0, largest=False)[0], [((3, 4),)], "sorting"),
    OpCase("cumsum", lambda a: a.cumsum(dim=-1), lambda a: a.cumsum(dim=-1), UN, "sorting"),
    OpCase("cumprod", lambda a: cr.cumprod(a, 0), lambda a: _T.cumprod(a, 0), UN, "sorting"),
    OpCase("max_binary", lambda a, b: cr.max(a, b), lambda a, b: _T.max(a, b), BIN, "sorting"),
    OpCase("min_binary", lambda a, b: a.min(b), lambda a, b: a.min(b), BIN[:3], "sorting"),
    OpCase("mm", cr.mm, lambda a, b: _T.mm(a, b), [((3, 4), (4, 2)), ((0, 4), (4, 3))],
           "products"),
    OpCase("bmm", cr.bmm, lambda a, b: _T.bmm(a, b), [((2, 3, 4), (2, 4, 5))], "products"),
    OpCase("dot", cr.dot, lambda a, b: _T.dot(a, b), [((4,), (4,))], "products"),
    OpCase("outer", cr.outer, lambda a, b: _T.outer(a, b), [((3,), (4,)), ((0,), (2,))],
           "products"),
    *(OpCase(f"einsum[{eq}]", lambda *xs, eq=eq: cr.einsum(eq, *xs),
             lambda *xs, eq=eq: _T.einsum(eq, *xs), [shapes], "products")
      for eq, shapes in [("ij,jk->ik", ((3, 4), (4, 2))), ("ii->i", ((3, 3),)), ("ii", ((3, 3),)),
                         ("ij->", ((2, 3),)), ("bij,bjk->bik", ((2, 3, 4), (2, 4, 5))),
                         ("i,j", ((3,), (2,))), ("...ij,...jk", ((2, 3, 4), (2, 4, 2))),
                         ("ij->ji", ((2, 3),)), ("iij->j", ((2, 2, 3),)),
                         ("ij,ij,j->i", ((2, 3), (2, 3), (3,)))]),
    *(OpCase(f"vector_norm[{p}]", lambda a, p=p: cr.linalg.vector_norm(a, p),
             lambda a, p=p: _T.linalg.vector_norm(a, p), UN[:2] + UN[3:], "norms", domain="away")
      for p in (2, 1, 3, 0.5, _INF, -_INF)),
    OpCase("vector_norm_dim", lambda a: cr.linalg.vector_norm(a, dim=-1, keepdim=True),
           lambda a: _T.linalg.vector_norm(a, dim=-1, keepdim=True), UN[:3], "norms"),
    OpCase("norm_method", lambda a: a.norm(dim=0), lambda a: a.norm(dim=0), UN[:2], "norms"),
    *(OpCase(f"matrix_norm[{p}]", lambda a, p=p: cr.linalg.matrix_norm(a, p),
             lambda a, p=p: _T.linalg.matrix_norm(a, p), [((3, 4),), ((2, 3, 3),)], "norms",
             domain="away")
      for p in ("fro", 1, -1, _INF, -_INF)),
    OpCase("linalg_norm_fro", cr.linalg.norm, lambda a: _T.linalg.norm(a),
           [((3, 4),), ((2, 3, 4),)], "norms"),
]


def cases_for(module: str) -> list[OpCase]:
    return [c for c in CASES if c.module == module]
