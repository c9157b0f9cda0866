"""Fused losses: cross entropy from logits, binary cross entropy from logits, squared error.

Fused because they are faster and more stable than their pieces: cross entropy
never forms softmax probabilities that could round to 0 before the log, and its
gradient is simply (softmax - onehot), scaled by class weights and the reduction.

>>> import chainrule as cr
>>> logits = cr.tensor([[2.0, 0.5, -1.0]], requires_grad=True)
>>> loss = cr.nn.functional.cross_entropy(logits, cr.tensor([0]))
>>> round(loss.item(), 4)
0.2413
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from chainrule.autograd.function import Function
from chainrule.backend import array_module, column_sums, largest, row_sums, smallest
from chainrule.wording import plural

REDUCTIONS = ("mean", "sum", "none")


def _log_softmax_rows(x: Any) -> Any:
    xp = array_module(x)
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))


class CrossEntropy(Function):
    """Per row i with target t: L_i = (1 - eps) w_t (-log p_it) + (eps / C) sum_c w_c (-log p_ic).

    ``mean`` divides by the sum of w_t over rows that are not ``ignore_index``
    (PyTorch's convention). dL_i/dx_ij = (1 - eps) w_t (p_ij - [j = t]) + (eps / C)(W p_ij - w_j)
    with W = sum_c w_c.
    """

    @staticmethod
    def forward(ctx: Any, x: Any, target: Any, weight: Any, ignore_index: int,
                reduction: str, smoothing: float) -> Any:
        xp = array_module(x)
        n, c = x.shape
        ctx.plain = (weight is None and not smoothing and n > 0
                     and smallest(target) >= 0
                     and (ignore_index < 0 or not bool((target == ignore_index).any())))
        if ctx.plain:  # no weights, smoothing or ignored rows: the common case, fewer passes
            return CrossEntropy._plain_forward(ctx, xp, x, target, reduction)
        logp = _log_softmax_rows(x)
        keep, safe_t, w_t = _target_weights(target, weight, ignore_index, c, x.dtype)
        rows = xp.arange(n)
        loss = -logp[rows, safe_t] * w_t
        if smoothing:
            smooth = -(logp.sum(axis=1) if weight is None else logp @ weight) * keep
            loss = (1 - smoothing) * loss + (smoothing / c) * smooth
        denom = w_t.sum()
        ctx.save_for_backward(logp, safe_t, w_t, keep, weight, x)
        ctx.reduction, ctx.smoothing, ctx.denom = reduction, smoothing, denom
        if reduction == "none":
            return loss
        total = loss.sum()
        return total / denom if reduction == "mean" else total

    @staticmethod
    def _plain_forward(ctx: Any, xp: Any, x: Any, target: Any, reduction: str) -> Any:
        n = x.shape[0]
        rows = row_numbers(xp, n)
        # Each row's max, shifted to 0 so exp cannot overflow. Picking it with argmax costs
        # half of a max-reduction on small batches (argmax also finds a NaN first).
        shifted = x - x[rows, x.argmax(axis=1)][:, None]
        picked = shifted[rows, target]
        e = xp.exp(shifted, out=shifted)  # (in place: the same numbers, no new array)
        total = row_sums(e)
        e /= total[:, None]
        loss = xp.log(total, out=total)
        loss -= picked  # -log softmax at the target
        ctx.save_for_backward(e, rows, target, x)  # the softmax p: the gradient is p - onehot
        ctx.reduction = reduction
        if reduction == "none":
            return loss
        total_loss = column_sums(loss)
        return total_loss / x.dtype.type(n) if reduction == "mean" else total_loss

    @staticmethod
    def recompute(ctx: Any, saved: tuple[Any, ...]) -> tuple[Any, ...]:
        """For a recorded backward (create_graph=True): the saved softmax (or log-softmax)
        again, from the recorded input, so the gradient formula below stays differentiable;
        the weights and masks are constants."""
        import chainrule as cr
        from chainrule.autograd.traced import Traced

        x = saved[-1]
        if ctx.plain:
            return (Traced(cr.softmax(x.tensor, dim=1)), *saved[1:])
        return (Traced(cr.log_softmax(x.tensor, dim=1)), *saved[1:])

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        if ctx.plain:
            p, rows, target, _ = ctx.saved_tensors
            if ctx.reduction == "none":
                g = p * gy[:, None]
                _subtract_at(g, rows, target, gy)
                return g
            coef = gy / p.dtype.type(p.shape[0]) if ctx.reduction == "mean" else gy
            g = p * coef
            _subtract_at(g, rows, target, coef)
            return g
        logp, safe_t, w_t, keep, weight, _ = ctx.saved_tensors
        xp = array_module(logp)
        n, c = logp.shape
        p = xp.exp(logp)
        eps = ctx.smoothing
        if ctx.reduction == "none":
            coef = gy
        elif ctx.reduction == "mean":
            coef = xp.full(n, gy / ctx.denom, dtype=logp.dtype)
        else:
            coef = xp.full(n, gy, dtype=logp.dtype)
        g = p * ((1 - eps) * w_t)[:, None]
        g[xp.arange(n), safe_t] -= (1 - eps) * w_t
        if eps:
            total_w = c if weight is None else weight.sum()
            class_w = 1.0 if weight is None else weight[None, :]
            g += (eps / c) * (total_w * p - class_w) * keep[:, None]
        return g * coef[:, None]


def _subtract_at(g: Any, rows: Any, target: Any, value: Any) -> None:
    """``g[rows, target] -= value`` (one entry per row). On NumPy arrays through
    ``np.subtract.at``, which costs a third less than indexing's read, subtract and write
    on a batch of 32 rows (the same numbers: each entry changes once)."""
    if type(g) is np.ndarray:
        np.subtract.at(g, (rows, target), value)
    else:  # CuPy, or a recorded backward's array (create_graph=True)
        g[rows, target] -= value


def row_numbers(xp: Any, n: int) -> Any:
    """``xp.arange(n)``, the row index of every step; NumPy's made once per batch size
    (read-only). CuPy's are made each time: an array lives on one device.

    >>> row_numbers(np, 3).tolist()
    [0, 1, 2]
    """
    return _numpy_rows(n) if xp is np else xp.arange(n)


@lru_cache(maxsize=16)
def _numpy_rows(n: int) -> Any:
    rows = np.arange(n)
    rows.flags.writeable = False
    return rows


def _target_weights(target: Any, weight: Any, ignore_index: int, n_classes: int, dtype: Any
                    ) -> tuple[Any, Any, Any]:
    """Per row: ``keep`` (the label is not ``ignore_index``), the label made safe to index
    with (0 where ignored) and its weight ``w_t`` (the class weight, 0 where ignored).

    Raises IndexError for a label outside 0 .. n_classes - 1: the functional checks labels
    with a better message, but a captured step's replay calls the op directly, and a
    negative label would otherwise pick a column from the end without a word.
    """
    xp = array_module(target)
    keep = target != ignore_index
    safe = xp.where(keep, target, 0)
    if safe.size and (smallest(safe) < 0 or largest(safe) >= n_classes):
        raise IndexError(f"class targets must be in 0 .. {n_classes - 1} or ignore_index "
                         f"({ignore_index})")
    w_t = keep.astype(dtype) if weight is None else weight[safe] * keep
    return keep, safe, w_t


class NLL(Function):
    """Negative log likelihood of log-probabilities x (rows: samples, columns: classes):
    L_i = -w_t x_it, 0 for rows labelled ``ignore_index``; ``mean`` divides by the sum of
    w_t (PyTorch's convention). dL_i/dx_ij = -w_t [j = t]: one entry per row.
    """

    constant_saves = True  # the per-row weights w_t: constants (no gradient flows to them)

    @staticmethod
    def forward(ctx: Any, x: Any, target: Any, weight: Any, ignore_index: int,
                reduction: str) -> Any:
        xp = array_module(x)
        _, safe, w_t = _target_weights(target, weight, ignore_index, x.shape[1], x.dtype)
        rows = xp.arange(x.shape[0])
        loss = -x[rows, safe] * w_t
        ctx.save_for_backward(rows, safe, w_t)
        ctx.shape, ctx.reduction = x.shape, reduction
        if reduction == "none":
            return loss
        total = loss.sum()
        if reduction == "sum":
            return total
        ctx.denom = w_t.sum()
        return total / ctx.denom

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        rows, safe, w_t = ctx.saved_tensors
        xp = array_module(gy)
        coef = gy / ctx.denom if ctx.reduction == "mean" else gy
        g = xp.zeros(ctx.shape, dtype=w_t.dtype)
        g[rows, safe] = -(w_t * coef)
        return g


class BCEWithLogits(Function):
    """Binary cross entropy on logits: -[pw y log s(x) + (1 - y) log(1 - s(x))], stably.

    Written as (1 - y) x + (1 + (pw - 1) y) softplus(-x); gradient s(x)(pw y + 1 - y) - pw y.
    """

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any, weight: Any, pos_weight: Any,
                reduction: str = "none") -> Any:
        xp = array_module(x)
        softplus_neg = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)
        pw = 1.0 if pos_weight is None else pos_weight
        loss = (1 - y) * x + (1 + (pw - 1) * y) * softplus_neg
        ctx.save_for_backward(x, y)
        if weight is not None:
            loss = loss * weight
        ctx.weight, ctx.pw, ctx.reduction, ctx.count = weight, pw, reduction, loss.size
        if reduction == "none":
            return loss
        # reduced here, as PyTorch's one node does (grad_fn BinaryCrossEntropyWithLogits)
        total = loss.sum()
        return total / loss.dtype.type(max(loss.size, 1)) if reduction == "mean" else total

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        from chainrule.ops.activation import sigmoid_array

        x, y = ctx.saved_tensors
        pw = ctx.pw
        if ctx.reduction == "mean":
            gy = gy / gy.dtype.type(max(ctx.count, 1))
        g = sigmoid_array(x) * (pw * y + 1 - y) - pw * y
        if ctx.weight is not None:
            g = g * ctx.weight
        gy_target = None
        if ctx.needs_input_grad[1]:
            xp = array_module(x)
            softplus_neg = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)
            gy_target = gy * (-x + (pw - 1) * softplus_neg)
            if ctx.weight is not None:
                gy_target = gy_target * ctx.weight
        return gy * g, gy_target


class SquaredError(Function):
    """Elementwise (x - y)^2 with gradient 2 (x - y), reduced by the caller's choice."""

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any, reduction: str) -> Any:
        diff = x - y
        ctx.save_for_backward(x, y)  # (the inputs: backward subtracts again, one pass)
        ctx.reduction = reduction
        sq = diff * diff
        if reduction == "none":
            return sq
        total = sq.sum()
        return total / diff.dtype.type(max(diff.size, 1)) if reduction == "mean" else total

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        x, y = ctx.saved_tensors
        diff = x - y
        scale = 2 * gy
        if ctx.reduction == "mean":
            scale = scale / diff.dtype.type(max(diff.size, 1))
        g = diff * scale
        return g, (-g if ctx.needs_input_grad[1] else None)


def check_reduction(name: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def as_class_targets(name: str, target: Any, n_classes: int, ignore_index: int) -> np.ndarray:
    """Validate integer class labels: dtype and range, with a message that says how to fix."""
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: class targets must be integers (int64), got {target.dtype}; "
            "use target.long(), or pass probabilities of the same shape as the input"
        )
    if target.size == 0 or (smallest(target) >= 0 and largest(target) < n_classes):
        return target
    xp = array_module(target)
    bad = (target != ignore_index) & ((target < 0) | (target >= n_classes))
    if bool(xp.any(bad)):
        value = int(target[bad].reshape(-1)[0])
        raise IndexError(
            f"{name}: target {value} is out of range for {plural(n_classes, 'class', 'classes')} "
            f"(valid: 0 .. {n_classes - 1}); check the number of output units"
        )
    return target
