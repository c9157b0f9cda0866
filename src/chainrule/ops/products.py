"""Products with PyTorch's names: ``mm``, ``bmm``, ``dot``, ``outer`` and ``einsum``.

``mm``, ``bmm`` and ``dot`` are :class:`~chainrule.ops.linalg.MatMul` restricted to the
shapes PyTorch accepts (it refuses what ``@`` would broadcast); ``outer`` is a broadcast
product. ``einsum`` is one op whose backward is ``einsum`` again: the gradient of each
operand contracts the output gradient with the other operands, its subscripts swapped.

>>> import chainrule as cr
>>> A = cr.ones(2, 3, requires_grad=True)
>>> cr.einsum("ij,j->i", A, cr.tensor([1.0, 2.0, 3.0])).sum().backward()
>>> A.grad
tensor([[1., 2., 3.],
        [1., 2., 3.]])
"""

from __future__ import annotations

import string
from collections import Counter
from typing import Any

import numpy as np

from chainrule.autograd.function import Function
from chainrule.backend import array_module
from chainrule.ops import shape as shp
from chainrule.ops.elementwise import mul
from chainrule.ops.linalg import DtypeError, MatMul

_LETTERS = string.ascii_letters


def _describe(tensors: Any) -> str:
    return ", ".join(f"{tuple(t.shape)} {t.dtype}" for t in tensors)


def _need_dims(op: str, tensors: Any, ndim: int) -> None:
    if any(t.ndim != ndim for t in tensors):
        raise RuntimeError(f"{op}: expected {ndim}-D tensors, got {_describe(tensors)}")


def mm(input: Any, mat2: Any) -> Any:  # noqa: A002 - PyTorch's argument name
    """Matrix product of two 2-D tensors.

    >>> import chainrule as cr
    >>> tuple(cr.mm(cr.ones(2, 3), cr.ones(3, 4)).shape)
    (2, 4)
    """
    _need_dims("mm", (input, mat2), 2)
    return MatMul.apply(input, mat2)


def bmm(input: Any, mat2: Any) -> Any:  # noqa: A002
    """Batched matrix product: (b, n, m) @ (b, m, p) -> (b, n, p), no broadcasting.

    >>> import chainrule as cr
    >>> tuple(cr.bmm(cr.ones(5, 2, 3), cr.ones(5, 3, 4)).shape)
    (5, 2, 4)
    """
    _need_dims("bmm", (input, mat2), 3)
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {_describe((input, mat2))}")
    return MatMul.apply(input, mat2)


def dot(input: Any, other: Any) -> Any:  # noqa: A002
    """Inner product of two 1-D tensors of the same length.

    >>> import chainrule as cr
    >>> cr.dot(cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0]))
    tensor(11.)
    """
    _need_dims("dot", (input, other), 1)
    if input.shape != other.shape:
        raise RuntimeError(f"dot: the tensors have different lengths: {_describe((input, other))}")
    return MatMul.apply(input, other)


def outer(input: Any, vec2: Any) -> Any:  # noqa: A002
    """Outer product of two 1-D tensors: ``out[i, j] = input[i] * vec2[j]``.

    >>> import chainrule as cr
    >>> cr.outer(cr.tensor([1, 2]), cr.tensor([1, 10, 100]))
    tensor([[  1,  10, 100],
            [  2,  20, 200]])
    """
    _need_dims("outer", (input, vec2), 1)
    return mul(shp.unsqueeze(input, 1), vec2)


ger = outer


def parse_einsum(subscripts: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """Explicit subscripts: one letter per dim (``...`` spelled out), and the output's.

    >>> parse_einsum("...i,i", [(2, 3), (3,)])
    (['Ai', 'i'], 'A')
    """
    spec = subscripts.replace(" ", "")
    lhs, arrow, out = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: the subscripts {subscripts!r} name {len(terms)} operands, "
                         f"but {len(shapes)} were given")
    spare = iter(c for c in _LETTERS[26:] + _LETTERS[:26] if c not in spec)
    n_ellipsis = max([len(s) - len(t) + 3 for t, s in zip(terms, shapes, strict=True)
                      if "..." in t], default=0)
    ellipsis = "".join(next(spare) for _ in range(n_ellipsis))
    explicit = []
    for term, shape in zip(terms, shapes, strict=True):
        if "..." in term:
            term = term.replace("...", ellipsis[n_ellipsis - (len(shape) - len(term) + 3):])
        if len(term) != len(shape) or not all(c in _LETTERS for c in term):
            raise ValueError(f"einsum: subscripts {term!r} do not fit an operand of shape "
                             f"{tuple(shape)} (one letter per dim, in {subscripts!r})")
        explicit.append(term)
    if arrow:
        out = out.replace("...", ellipsis)
    else:  # implicit output: the broadcast dims, then letters seen once, in alphabetical order
        counts = Counter("".join(terms).replace(".", ""))
        out = ellipsis + "".join(sorted(c for c, n in counts.items() if n == 1))
    return explicit, out


class Einsum(Function):
    """``einsum`` of explicit subscripts (see :func:`parse_einsum`).

    The gradient of operand i is ``einsum("out,others->term_i", gy, *others)``. Two fixes
    make that always possible: a letter repeated in term_i (a diagonal) is renamed and
    tied to the original by an identity matrix operand, and a letter found nowhere else
    (summed out of operand i alone) is left out and the result broadcast along it.
    """

    @staticmethod
    def forward(ctx: Any, terms: list[str], out: str, *operands: Any) -> Any:
        xp = array_module(operands[0])
        ctx.terms, ctx.out = terms, out
        ctx.save_for_backward(*operands)
        extra = {"optimize": True} if xp is np else {}
        return xp.einsum(",".join(terms) + "->" + out, *operands, **extra)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        operands = ctx.saved_tensors
        grads: list[Any] = [None, None]
        for i, need in enumerate(ctx.needs_input_grad[2:]):
            grads.append(_operand_grad(ctx.terms, ctx.out, operands, i, gy) if need else None)
        return tuple(grads)


def _operand_grad(terms: list[str], out: str, operands: Any, i: int, gy: Any) -> Any:
    xp = array_module(gy)
    term, shape = terms[i], operands[i].shape
    spare = iter(c for c in _LETTERS if c not in "".join(terms) + out)
    target, seen, ties, eyes = [], set(), [], []
    for pos, letter in enumerate(term):
        if letter in seen:  # a diagonal: a new letter, tied to the old by the identity
            new = next(spare)
            ties.append(letter + new)
            eyes.append(xp.eye(shape[pos], dtype=gy.dtype))
            letter = new
        seen.add(letter)
        target.append(letter)
    others = [t for j, t in enumerate(terms) if j != i]
    known = set(out + "".join(others) + "".join(ties))
    kept = "".join(c for c in target if c in known)
    spec = ",".join([out, *others, *ties]) + "->" + kept
    g = xp.einsum(spec, gy, *[o for j, o in enumerate(operands) if j != i], *eyes)
    if len(kept) < len(target):  # letters summed out of this operand alone: broadcast back
        g = xp.broadcast_to(g.reshape([s if c in known else 1
                                       for c, s in zip(target, shape, strict=True)]), shape)
    return g


def einsum(equation: str, *operands: Any) -> Any:
    """Sum of products over the letters left out of the output, NumPy's and PyTorch's way.

    ``operands`` may also be given as one list. Letters repeated within one operand take
    its diagonal; ``...`` stands for broadcast dims; without ``->`` the output is the
    letters seen once, in alphabetical order.

    >>> import chainrule as cr
    >>> cr.einsum("ii", cr.eye(3))
    tensor(3.)
    >>> tuple(cr.einsum("bij,bjk->bik", cr.ones(2, 3, 4), cr.ones(2, 4, 5)).shape)
    (2, 3, 5)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: give at least one operand")
    if len({t.dtype for t in operands}) > 1:
        raise DtypeError(f"einsum: the operands' dtypes differ: {_describe(operands)}; "
                         "convert them to one dtype (e.g. t.to(cr.float32))")
    terms, out = parse_einsum(equation, [tuple(t.shape) for t in operands])
    return Einsum.apply(terms, out, *operands)
