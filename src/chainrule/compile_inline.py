"""The hot ops of a captured step written straight into the replay (see :mod:`chainrule.compile`).

The generated replay calls each recorded op's ``forward`` and ``backward`` on raw arrays.
For the small networks of the tutorials that call is a large part of a step: the function
call, the context object, its saved arrays, the op's own tests of its arguments. On the
784-16-16-10 sigmoid step of ``benchmarks/step_vs_numpy.py`` the same array calls written
out in one function took 0.71x the time of the replay calling the ops.

So for ``Linear``, ``Sigmoid``, ``ReLU``, ``Tanh`` and ``CrossEntropy`` (its plain case: no
class weights, no smoothing, a mean or sum), this module writes the array calls of the op's
forward and backward as lines of the replay, with what the op decides from shapes and dtypes
decided once, here, from the recording. The lines must make exactly the array calls the op
makes, in the same order (``ops/linalg.py``, ``ops/activation.py``, ``ops/loss.py``: change
them together): a captured step is checked bit for bit against the eager one before it is
replayed (a difference keeps the step eager, never wrong), and ``tests/test_compile.py``
compares whole trainings.

Any other op, or one of these in a case not covered here (a ``Linear`` over more than two
dims, CuPy arrays, a dtype without an overflow limit), is called as before. A step whose
values leave the case covered (cross entropy with a label equal to ``ignore_index``, or a
negative one) calls the op itself for that step, within the replay.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.backend import blas, column_sums, row_sums
from chainrule.ops.activation import _EXP_LIMIT, ReLU, Sigmoid, Tanh, sigmoid_array
from chainrule.ops.linalg import Linear
from chainrule.ops.loss import CrossEntropy, row_numbers

CONST = 3  # compile_program.CONST: the kind of a constant argument (not imported: a cycle)

NAMESPACE = {"np": np, "row_sums": row_sums, "column_sums": column_sums,
             "sigmoid_array": sigmoid_array, "OneThread": blas.OneThread}


def _product(out: str, a: str, b: str, work: int) -> list[str]:
    """``out = a.dot(b)`` as ``blas.dot`` does it (one thread for the products it caps)."""
    if blas.ALREADY_SERIAL <= work < blas.SERIAL_BELOW:
        return ["    with OneThread():", f"        {out} = {a}.dot({b})"]
    return [f"    {out} = {a}.dot({b})"]


def _const(op: Any, k: int) -> tuple[bool, Any]:
    """(True, value) when argument ``k`` of ``op`` is a constant of the recording."""
    kind, payload = op.args[k]
    return kind == CONST, payload


def forward(op: Any, i: int, args: list[str], ns: dict[str, Any]) -> list[str] | None:
    """The lines that compute ``v{i}`` as ``op``'s forward would, or None (call the op).
    ``args`` are the arguments' expressions; what the backward lines need is kept in
    ``s{i}_...`` names. (``ns`` holds the replay's globals: ``F{i}``, ``N{i}``, ``NE{i}``,
    the op's forward, context class and needs, are there already.)"""
    function, meta = op.function, op.arg_meta
    if op.multi or op.n_out != 1:
        return None
    if function is Linear and meta[0] is not None and len(meta[0][0]) == 2:
        (rows, _), (w_shape, _) = meta[0], meta[1]
        x, w, b = args
        lines = [f"    s{i}_x = {x}", f"    s{i}_w = {w}"]
        lines += _product(f"v{i}", f"s{i}_x", f"s{i}_w.T", rows[0] * rows[1] * w_shape[0])
        no_bias = _const(op, 2) == (True, None)
        return lines if no_bias else lines + [f"    v{i} += {b}"]
    if function is Sigmoid and meta[0] is not None and len(meta[0][0]) and \
            all(meta[0][0]) and meta[0][1].char in _EXP_LIMIT:
        ns[f"LIM{i}"] = _EXP_LIMIT[meta[0][1].char]
        x = args[0]
        # sigmoid_array: e^x / (1 + e^x) below the limit (largest(), without its call)
        return [f"    if {x}.item({x}.argmax()) < LIM{i}:",
                f"        v{i} = np.exp({x}); np.divide(v{i}, v{i} + 1, out=v{i})",
                "    else:",  # exp only of -|x|
                f"        v{i} = sigmoid_array({x})"]
    if function is ReLU:
        return [f"    v{i} = np.maximum({args[0]}, 0)"]
    if function is Tanh:
        return [f"    v{i} = np.tanh({args[0]})"]
    if function is CrossEntropy and _plain_cross_entropy(op):
        return _cross_entropy_forward(op, i, args, ns)
    return None


def _plain_cross_entropy(op: Any) -> bool:
    meta = op.arg_meta
    if meta[0] is None or len(meta[0][0]) != 2 or not meta[0][0][0] or meta[1] is None:
        return False
    settings = [_const(op, k) for k in (2, 3, 4, 5)]
    if not all(is_const for is_const, _ in settings):
        return False
    weight, ignore_index, reduction, smoothing = (value for _, value in settings)
    return (weight is None and not smoothing and reduction in ("mean", "sum")
            and isinstance(ignore_index, int))


def _cross_entropy_forward(op: Any, i: int, args: list[str], ns: dict[str, Any]
                           ) -> list[str]:
    """``CrossEntropy._plain_forward`` after the op's test for its plain case; a batch with
    a negative label (an ignored row, or an error the op reports) calls the op itself, its
    context ``s{i}_g`` telling the backward lines to do the same."""
    (n, _), dtype = op.arg_meta[0]
    ignore_index, reduction = op.args[3][1], op.args[4][1]
    ns[f"ROWS{i}"], ns[f"NR{i}"] = row_numbers(np, n), dtype.type(n)
    x, target = args[0], args[1]
    plain = f"s{i}_t.item(s{i}_t.argmin()) < 0"  # smallest(), without its call
    if ignore_index >= 0:
        plain += f" or bool((s{i}_t == {ignore_index}).any())"
    mean = f" / NR{i}" if reduction == "mean" else ""
    return [f"    s{i}_t = {target}",
            f"    if {plain}:",
            f"        s{i}_g = N{i}(); s{i}_g.needs_input_grad = NE{i}",
            f"        v{i} = F{i}(s{i}_g{''.join(', ' + a for a in args)})",
            f"        s{i}_p = s{i}_l = s{i}_s = None",
            "    else:",
            f"        s{i}_g = None",
            f"        s{i}_p = {x} - {x}[ROWS{i}, {x}.argmax(axis=1)][:, None]",
            f"        s{i}_l = s{i}_p[ROWS{i}, s{i}_t]",
            f"        np.exp(s{i}_p, out=s{i}_p)",
            f"        s{i}_s = row_sums(s{i}_p)",
            f"        s{i}_p /= s{i}_s[:, None]",
            f"        s{i}_s = np.log(s{i}_s, out=s{i}_s)",
            f"        s{i}_s -= s{i}_l",
            f"        v{i} = column_sums(s{i}_s){mean}"]


def backward(op: Any, i: int, grad: str, ns: dict[str, Any]) -> list[str] | None:
    """The lines that set ``g0``, ``g1``... (one per input that needs a gradient) as
    ``op``'s backward would from ``grad``, after :func:`forward`'s lines; None if
    :func:`forward` wrote none for this op."""
    function = op.function
    if function is Linear:
        (rows, _), (w_shape, _) = op.arg_meta[0], op.arg_meta[1]
        need_x, need_w, need_b = op.needs
        work = rows[0] * op.out_shapes[0][1] * w_shape[1]  # gy.size * W.shape[1]
        lines = _product("g0", grad, f"s{i}_w", work) if need_x else []
        if need_w:
            lines += _product("g1", f"{grad}.T", f"s{i}_x", work)
        if need_b:
            lines.append(f"    g2 = column_sums({grad})")
        return lines
    if function is Sigmoid:
        return [f"    g0 = {grad} * v{i}", f"    g0 *= 1 - v{i}"]
    if function is ReLU:
        return [f"    g0 = {grad} * (v{i} > 0)"]
    if function is Tanh:
        return [f"    g0 = {grad} * (1 - v{i} * v{i})"]
    if function is CrossEntropy:
        coef = f"{grad} / NR{i}" if op.args[4][1] == "mean" else grad
        return [f"    if s{i}_g is not None:",
                f"        g0 = B{i}(s{i}_g, {grad}); s{i}_c = None",
                "    else:",
                f"        s{i}_c = {coef}",
                f"        g0 = s{i}_p * s{i}_c",
                f"        np.subtract.at(g0, (ROWS{i}, s{i}_t), s{i}_c)"]
    return None
