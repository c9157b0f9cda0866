"""Matrix products: ``matmul`` (vector, matrix, batched, broadcasting) and fused ``linear``.

For C = A @ B the chain rule gives dA = dC @ B^T and dB = A^T @ dC. Batch
dimensions broadcast like NumPy; the engine sums gradients back over them.
A 1-D operand is treated as a row (left) or column (right) vector and the
added axis removed again, exactly as NumPy and PyTorch do.

>>> import chainrule as cr
>>> A = cr.ones(2, 3, requires_grad=True)
>>> (A @ cr.ones(3)).sum().backward()
>>> A.grad.shape
chainrule.Size([2, 3])
"""

from __future__ import annotations

from typing import Any

from chainrule.autograd.engine import sum_to_shape
from chainrule.autograd.function import Function
from chainrule.backend import blas, column_sums
from chainrule.wording import plural


class DtypeError(RuntimeError, TypeError):
    """Operands of a matrix product (``@``, ``linear``, ``nn.Linear``) have different dtypes.

    PyTorch raises ``RuntimeError`` here, so this is one; it is also a ``TypeError`` (the
    Python exception for a value of the wrong type). ``module``: the layer that raised, or
    None. NumPy would silently promote (a float64 input turns a float32 model's output and
    gradients into float64), which hides a data-loading mistake and halves the speed.
    """

    def __init__(self, message: str, module: Any = None) -> None:
        super().__init__(message)
        self.module = module


def dtype_fix(x_dtype: Any, w_dtype: Any) -> str:
    """How to make an input of ``x_dtype`` match weights of ``w_dtype`` (for messages)."""
    names = {"float32": "x.float()", "float64": "x.double()", "float16": "x.half()"}
    fix = f"convert the input with {names.get(str(w_dtype), f'x.to(cr.{w_dtype})')}"
    if str(x_dtype) in ("float16", "float32", "float64"):
        model = {"float32": "float()", "float64": "double()", "float16": "half()"}[str(x_dtype)]
        fix += f", or the model with model.{model}"
    return fix


def _dtype_error(a: Any, b: Any) -> DtypeError:
    return DtypeError(
        f"matmul: the operands' dtypes differ: {tuple(a.shape)} {a.dtype} @ {tuple(b.shape)} "
        f"{b.dtype}. Fix: convert one to the other's dtype: a.to(cr.{b.dtype}) or "
        f"b.to(cr.{a.dtype})"
    )


def _shape_error(a: Any, b: Any, detail: str) -> ValueError:
    return ValueError(
        f"matmul: cannot multiply {tuple(a.shape)} {a.dtype} by {tuple(b.shape)} {b.dtype}: "
        f"{detail}. Fix: the last dim of the left operand must equal the "
        f"{'first' if b.ndim == 1 else 'second-to-last'} dim of the right one; "
        "transpose (.T) or reshape one of them"
    )


def check_matmul(a: Any, b: Any) -> None:
    """Raise a clear error when ``a @ b`` is not defined."""
    if a.ndim == 0 or b.ndim == 0:
        raise _shape_error(a, b, "both operands need at least 1 dim (use * for scalars)")
    k_left = a.shape[-1]
    k_right = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_left != k_right:
        raise _shape_error(a, b, f"inner dimensions {k_left} and {k_right} differ")


class MatMul(Function):
    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        if a.dtype != b.dtype:
            raise _dtype_error(a, b)
        try:
            y = a @ b
        except ValueError:
            check_matmul(a, b)  # raises the explanation
            raise
        ctx.save_for_backward(a, b)
        return y

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        a, b = ctx.saved_tensors
        # promote 1-D operands to matrices so one formula covers every case
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        # re-insert the axes NumPy removed: b's (last) first, then a's (second to last)
        g2 = gy[..., None] if b.ndim == 1 else gy
        if a.ndim == 1:
            g2 = g2[..., None, :]
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = sum_to_shape(g2 @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            gb = sum_to_shape(a2.swapaxes(-1, -2) @ g2, b2.shape).reshape(b.shape)
        return ga, gb


class Linear(Function):
    """Fused y = x @ W^T + b (one node instead of three; W is (out, in) like PyTorch).

    The products use ``ndarray.dot``: with a 2-D right operand it is the same product as
    ``@`` (for any batch dims on the left), and its call costs 0.3-0.5 us less: a fifth of a
    small layer's forward or backward. Each product (rows x in x out multiply-adds) goes
    through :func:`chainrule.backend.blas.dot`, which caps mid-sized ones at one thread.
    """

    @staticmethod
    def forward(ctx: Any, x: Any, W: Any, b: Any) -> Any:
        ctx.save_for_backward(x, W)
        y = blas.dot(x, W.T, x.size * W.shape[0])
        if b is not None:
            y += b
        return y

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        x, W = ctx.saved_tensors
        need_x, need_W, need_b = ctx.needs_input_grad
        gx = gW = gb = None
        work = gy.size * W.shape[1]
        if need_x:
            gx = blas.dot(gy, W, work)
        if need_W or need_b:
            g2, x2 = gy, x
            if gy.ndim != 2:  # (batch..., features): the gradients sum over every batch dim
                g2, x2 = gy.reshape(-1, gy.shape[-1]), x.reshape(-1, x.shape[-1])
            if need_W:
                gW = blas.dot(g2.T, x2, work)
            if need_b:
                gb = column_sums(g2)
        return gx, gW, gb


def matmul(a: Any, b: Any) -> Any:
    """Matrix product with NumPy's rules for 1-D, 2-D and batched operands.

    >>> import chainrule as cr
    >>> cr.matmul(cr.ones(2, 3), cr.ones(3, 4)).shape
    chainrule.Size([2, 4])
    """
    return MatMul.apply(a, b)


def linear(x: Any, weight: Any, bias: Any = None) -> Any:
    """``x @ weight.T + bias`` as one fused op (``weight`` has shape (out, in)).

    >>> import chainrule as cr
    >>> cr.linear(cr.ones(4, 3), cr.ones(2, 3), cr.zeros(2)).shape
    chainrule.Size([4, 2])
    """
    if x.shape[-1] != weight.shape[-1]:
        raise ValueError(
            f"linear: input {tuple(x.shape)} {x.dtype} has {plural(x.shape[-1], 'feature')} but "
            f"the weight {tuple(weight.shape)} expects {weight.shape[-1]}. Fix: the input's last "
            "dim must equal the weight's second (the weight is (out_features, in_features))"
        )
    if x.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        other = x if x.dtype != weight.dtype else bias
        raise DtypeError(
            f"linear: {'input' if other is x else 'bias'} {tuple(other.shape)} is "
            f"{other.dtype} but the weight {tuple(weight.shape)} is {weight.dtype}. Fix: "
            f"{dtype_fix(other.dtype, weight.dtype) if other is x else 'bias.to(weight.dtype)'}"
        )
    return Linear.apply(x, weight, bias)
