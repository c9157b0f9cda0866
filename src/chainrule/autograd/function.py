"""``Function``: one differentiable operation, forward and backward side by side.

An op is a subclass with two static methods working on raw arrays (NumPy or
CuPy), never on Tensors::

    class Mul(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, gy):
            a, b = ctx.saved_tensors
            return gy * b, gy * a          # one gradient per forward input

    z = Mul.apply(x, y)                     # Tensors in, Tensor out

``apply`` unwraps the Tensors, runs ``forward`` and, when grad mode is on and
an input requires grad, records a graph node. The node *is* the ``ctx``: it
holds what ``forward`` saved and the edges to the inputs' nodes::

        x ──┐
            ├─ MulBackward ── z
        y ──┘

``backward`` may return a gradient with the broadcast shape of the output; the
engine sums it back to each input's shape, so ops never un-broadcast by hand.
Return ``None`` for inputs that need no gradient (check ``ctx.needs_input_grad``).
"""

from __future__ import annotations

import itertools
import sys
from typing import Any, ClassVar

from chainrule.autograd import anomaly
from chainrule.autograd.grad_mode import STATE as GRAD_MODE

_seq = itertools.count()


class Node:
    """A recorded op in the graph (``tensor.grad_fn``), also the ``ctx`` of its Function.

    Attributes used by the engine:
      * ``edges``: per forward input, ``(node, output_index)`` for a non-leaf,
        ``(leaf_tensor, 0)`` for a leaf that requires grad, or ``None``.
      * ``in_meta``: per input, ``(shape, dtype)`` used to un-broadcast and cast.
      * ``seq``: creation order; a node is always newer than its inputs.
    """

    __slots__ = (
        "edges",
        "in_meta",
        "seq",
        "needs_input_grad",
        "to_save",
        "saved_versions",
        "freed",
        "n_outputs",
        "out_meta",
        "out_hooks",
        "retained",
        "non_differentiable",
        "module_path",
        "__dict__",
        "__weakref__",
    )

    function: ClassVar[type[Function]]
    edges: tuple[Any, ...]
    in_meta: tuple[Any, ...]
    seq: int
    out_meta: tuple[Any, ...]

    def __init__(self) -> None:
        self.to_save: tuple[Any, ...] = ()
        self.saved_versions: tuple[Any, ...] | None = None
        self.freed = False
        self.out_hooks: dict[int, list[Any]] | None = None
        self.retained: dict[int, Any] | None = None
        self.non_differentiable: tuple[Any, ...] = ()
        self.module_path: str | None = None
        self.needs_input_grad: tuple[bool, ...] = ()
        self.n_outputs = 1

    # --- the ctx API used inside forward/backward -------------------------------------
    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for backward (inputs or outputs of forward; version-checked)."""
        self.to_save = arrays

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The arrays given to ``save_for_backward`` (raw arrays, like forward's inputs)."""
        if self.freed:
            raise RuntimeError(
                f"{self.name()}: its saved arrays were freed after the first backward; "
                "call backward(retain_graph=True) the first time to backward twice"
            )
        return self.to_save

    def mark_non_differentiable(self, *arrays: Any) -> None:
        """Mark outputs (e.g. argmax indices) that get no gradient and never require grad."""
        self.non_differentiable = arrays

    # --- introspection ----------------------------------------------------------------
    def name(self) -> str:
        """Name like PyTorch's: ``MulBackward``."""
        return type(self).__name__

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """The inputs' nodes as ``(node, index)``; leaves appear as ``AccumulateGrad``."""
        out: list[tuple[Any, int]] = []
        for edge in self.edges:
            if edge is None:
                out.append((None, 0))
            elif isinstance(edge[0], Node):
                out.append(edge)
            else:
                out.append((AccumulateGrad(edge[0]), 0))
        return tuple(out)

    def register_hook(self, fn: Any) -> None:
        """Call ``fn(grad)`` on this node's output gradient before backward runs."""
        self.out_hooks = self.out_hooks or {}
        self.out_hooks.setdefault(0, []).append(fn)

    def __repr__(self) -> str:
        return f"<{self.name()}>"


class AccumulateGrad:
    """Stand-in node for a leaf in ``next_functions`` (``.variable`` is the leaf)."""

    def __init__(self, variable: Any) -> None:
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


class Function:
    """Base class of every differentiable op and of user-defined functions.

    Subclass it, write ``forward(ctx, *arrays)`` and ``backward(ctx, *grads)``
    as static methods on raw arrays, and call ``MyFn.apply(*tensors)``.

    >>> import numpy as np, chainrule as cr
    >>> class Cube(cr.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, gy):
    ...         (x,) = ctx.saved_tensors
    ...         return 3 * x ** 2 * gy
    >>> x = cr.tensor([2.0], requires_grad=True)
    >>> Cube.apply(x).backward(cr.ones(1))
    >>> x.grad
    tensor([12.])
    """

    node_class: ClassVar[type[Node]] = Node

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.node_class = type(f"{cls.__name__}Backward", (Node,), {"function": cls})

    @staticmethod
    def forward(ctx: Any, *args: Any) -> Any:
        raise NotImplementedError("a Function subclass must define forward(ctx, *arrays)")

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        raise NotImplementedError("a Function subclass must define backward(ctx, *grads)")

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run forward on the inputs' arrays and record the graph when needed."""
        Tensor = sys.modules["chainrule.tensor"].Tensor  # noqa: N806
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        record = GRAD_MODE.enabled and any(
            isinstance(a, Tensor) and a._requires_grad for a in args
        )
        ctx = cls.node_class()
        if record:
            ctx.needs_input_grad = tuple(
                isinstance(a, Tensor) and a._requires_grad for a in args
            )
        else:
            ctx.needs_input_grad = (False,) * len(args)
        raw = cls.forward(ctx, *arrays)
        multi = isinstance(raw, tuple)
        outs = raw if multi else (raw,)
        if anomaly.STATE.enabled:
            for out in outs:
                what = anomaly.bad_value(out)
                if what:
                    anomaly.raise_forward(
                        cls.__name__, arrays, what, anomaly.current_module_path()
                    )
        if not record:
            results = tuple(Tensor._wrap(o) for o in outs)
            return results if multi else results[0]
        ctx.edges = tuple(
            (a if a.grad_fn is None else a.grad_fn, a._out_index) if need else None
            for a, need in zip(args, ctx.needs_input_grad, strict=True)
        )
        ctx.in_meta = tuple(
            (a.data.shape, a.data.dtype) if need else None
            for a, need in zip(args, ctx.needs_input_grad, strict=True)
        )
        ctx.seq = next(_seq)
        ctx.n_outputs = len(outs)
        nondiff = ctx.non_differentiable
        results = tuple(
            Tensor._wrap(o)
            if any(o is n for n in nondiff)
            else Tensor._wrap(o, ctx, i)
            for i, o in enumerate(outs)
        )
        if multi:
            ctx.out_meta = tuple((o.shape, o.dtype) for o in outs)
        if ctx.to_save:
            ctx.saved_versions = _saved_versions(ctx.to_save, args, results)
        if anomaly.STATE.enabled:
            ctx.module_path = anomaly.current_module_path()
        return results if multi else results[0]


def _saved_versions(saved: tuple[Any, ...], args: Any, results: tuple[Any, ...]) -> Any:
    """For each saved array, (version counter, version now) of the tensor that owns it."""
    versions = []
    for arr in saved:
        owner = None
        for t in itertools.chain(args, results):
            if isinstance(t, sys.modules["chainrule.tensor"].Tensor) and t.data is arr:
                owner = t
                break
        versions.append(None if owner is None else (owner._version, owner._version[0]))
    return tuple(versions)

