"""Vector and matrix norms: ``norm``, ``linalg.vector_norm``, ``linalg.matrix_norm``.

One op, :class:`VectorNorm`, computes every vector p-norm; its backward follows PyTorch's
(a zero norm has gradient 0, not NaN; the max-norm shares the gradient among tied
maxima). Matrix norms are built from it and the reductions.

>>> import chainrule as cr
>>> x = cr.tensor([3.0, 4.0], requires_grad=True)
>>> n = cr.linalg.norm(x)
>>> n.backward()
>>> n.item(), x.grad
(5.0, tensor([0.6000, 0.8000]))
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.autograd.function import Function
from chainrule.backend import array_module
from chainrule.ops import elementwise as ew
from chainrule.ops import reduce as red
from chainrule.ops import shape as shp
from chainrule.ops.promotion import floating
from chainrule.ops.reduce import drop_axes, keep_shape, normalize_dims


class VectorNorm(Function):
    """(sum |x|^p)^(1/p) over ``axes``; p = inf / -inf: the largest / smallest |x|; p = 0:
    the number of nonzeros.

    Gradients: p = 2: x / norm; p = inf: sign(x) on the maxima, shared; otherwise
    sign(x) |x|^(p-1) / norm^(p-1); zero where the norm is zero.
    """

    @staticmethod
    def forward(ctx: Any, x: Any, p: float, axes: tuple[int, ...], keepdim: bool) -> Any:
        x = floating(x)
        xp = array_module(x)
        a = xp.abs(x)
        if p == 2:
            y = xp.sqrt((x * x).sum(axis=axes, keepdims=True))
        elif p == math.inf:
            y = a.max(axis=axes, keepdims=True)
        elif p == -math.inf:
            y = a.min(axis=axes, keepdims=True)
        elif p == 0:
            y = (x != 0).sum(axis=axes, keepdims=True).astype(x.dtype)
        elif p == 1:
            y = a.sum(axis=axes, keepdims=True)
        else:
            y = (a**p).sum(axis=axes, keepdims=True) ** (1.0 / p)
        ctx.p = p
        ctx.axes = axes
        if not keepdim:
            y = y.reshape(drop_axes(y.shape, axes))
        ctx.save_for_backward(x, y)  # the output itself (what a recorded backward needs)
        return y

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        x, y = ctx.saved_tensors
        xp = array_module(gy)
        p = ctx.p
        keep = keep_shape(x.shape, ctx.axes)
        y = y.reshape(keep)
        g = gy.reshape(keep)
        if p == 0:
            return xp.zeros_like(x)
        if p == 1:
            return xp.sign(x) * g
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 2:
                scale = xp.where(y == 0, 0, g / y)
                return x * scale
            if abs(p) == math.inf:
                ties = (xp.abs(x) == y).astype(x.dtype)
                count = ties.sum(axis=ctx.axes, keepdims=True)
                return xp.sign(x) * ties * (g / count)
            scaled = xp.sign(x) * xp.abs(x) ** (p - 1)
            if p < 1:
                scaled = xp.where(x == 0, 0, scaled)
            return scaled * xp.where(y == 0, 0, g / y ** (p - 1))


def _order(ord: Any) -> float:  # noqa: A002
    if isinstance(ord, str) or not isinstance(ord, (int, float)):
        raise ValueError(f"vector_norm: ord must be a number (or inf), got {ord!r}")
    return float(ord)


def vector_norm(x: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False,  # noqa: A002
                *, dtype: Any = None) -> Any:
    """The p-norm of ``x`` over ``dim`` (all elements when None) as one vector.

    >>> import chainrule as cr
    >>> cr.linalg.vector_norm(cr.tensor([[3.0, -4.0]]), ord=1)
    tensor(7.)
    >>> cr.linalg.vector_norm(cr.tensor([3.0, -4.0]), ord=float("inf"))
    tensor(4.)
    """
    if dtype is not None:
        x = x.to(dtype)
    return VectorNorm.apply(x, _order(ord), normalize_dims("vector_norm", dim, x.ndim), keepdim)


def matrix_norm(A: Any, ord: Any = "fro", dim: Any = (-2, -1),  # noqa: A002, N803
                keepdim: bool = False) -> Any:
    """A matrix norm over the two dims ``dim``: 'fro' (Frobenius), 1 / -1 (largest /
    smallest column sum of |A|), inf / -inf (row sums). 'nuc' and 2 need an SVD, which
    chainrule does not have.

    >>> import chainrule as cr
    >>> cr.linalg.matrix_norm(cr.tensor([[1.0, -2.0], [3.0, 4.0]]), ord=1)
    tensor(6.)
    """
    if len(dim) != 2:
        raise ValueError(f"matrix_norm: dim must name two dims, got {dim!r}")
    axes = normalize_dims("matrix_norm", dim, A.ndim)
    if ord == "fro":
        return VectorNorm.apply(A, 2.0, axes, keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        rows, cols = dim
        summed, pick = (rows, cols) if ord in (1, -1) else (cols, rows)
        sums = red.sum(ew.abs(A), dim=summed, keepdim=True)
        extreme = red.amax if ord > 0 else red.amin
        out = extreme(sums, dim=pick, keepdim=True)
        if keepdim:
            return out
        return shp.reshape(out, drop_axes(out.shape, axes))
    raise NotImplementedError(f"matrix_norm: ord={ord!r} needs singular values (an SVD), "
                              f"which chainrule does not have; use 'fro', 1, -1, inf or -inf "
                              f"(input {tuple(A.shape)} {A.dtype})")


def linalg_norm(A: Any, ord: Any = None, dim: Any = None, keepdim: bool = False,  # noqa: A002, N803
                *, dtype: Any = None) -> Any:
    """``torch.linalg.norm``: a vector norm over one dim (or of the flattened input when
    ``ord`` and ``dim`` are None), a matrix norm over two.

    >>> import chainrule as cr
    >>> cr.linalg.norm(cr.tensor([[3.0, 4.0]]))
    tensor(5.)
    """
    if dtype is not None:
        A = A.to(dtype)  # noqa: N806
    if isinstance(dim, int) or (dim is not None and len(dim) == 1):
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim)
    if dim is None and ord is None:
        return vector_norm(A, 2, None, keepdim)
    if dim is None and A.ndim == 1:
        return vector_norm(A, ord, None, keepdim)
    if dim is None and A.ndim != 2:
        raise RuntimeError(f"linalg.norm: with ord={ord!r} and no dim the input must be 1-D or "
                           f"2-D, got {tuple(A.shape)} {A.dtype}")
    return matrix_norm(A, "fro" if ord is None else ord, (-2, -1) if dim is None else dim,
                       keepdim)


def norm(input: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False,  # noqa: A002
         dtype: Any = None) -> Any:
    """``torch.norm``: the p-norm over ``dim`` (all elements when None); 'fro' is the 2-norm.

    >>> import chainrule as cr
    >>> cr.norm(cr.tensor([[3.0, 4.0]])), cr.norm(cr.tensor([3.0, -4.0]), p=1)
    (tensor(5.), tensor(7.))
    """
    if dtype is not None:
        input = input.to(dtype)
    if p == "fro":
        p = 2
    if p == "nuc":
        return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)
    return vector_norm(input, p, dim, keepdim)
