"""``Function``: one differentiable operation, forward and backward side by side.

chainrule's ops (``chainrule.ops``) are subclasses with two static methods working on
raw arrays (NumPy or CuPy), never on Tensors::

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

Functions users define (outside ``chainrule.ops``) get Tensors in ``forward`` and
``backward`` instead, as in PyTorch (see :mod:`chainrule.autograd.custom`), unless they
set ``raw_arrays = True``.
"""

from __future__ import annotations

import itertools
from typing import Any, ClassVar

import numpy as np

from chainrule.autograd import anomaly
from chainrule.autograd.capture import STATE as CAPTURE
from chainrule.autograd.grad_mode import STATE as GRAD_MODE


class _Recording:
    """``on`` while the engine records a backward pass (``create_graph=True``)."""

    on = False


RECORDING = _Recording()

_ARRAY = np.ndarray
_SCALAR = np.generic
_asarray = np.asarray

_seq = itertools.count()


class Node:
    """A recorded op in the graph (``tensor.grad_fn``), also the ``ctx`` of its Function.

    Attributes used by the engine:
      * ``inputs``: per forward input, ``(target, output_index, shape, dtype, data_id)`` when
        it requires grad, else ``None``. ``target`` is the input's node (``output_index`` says
        which of its outputs) or, for a leaf, the leaf tensor itself; ``shape`` and
        ``dtype`` are the input's, used to un-broadcast and cast its gradient. One tuple
        per input keeps recording and the backward walk to one object per edge.
      * ``seq``: creation order; a node is always newer than its inputs.
      * ``saved_versions``: the in-place check's record of the saved tensors (see
        :func:`_versions`).

    Rarely used attributes have class-level defaults, so creating a node costs
    only the few assignments an op actually makes (this is the hot path).
    """

    function: ClassVar[type[Function]]
    inputs: list[Any]
    seq: int
    needs_input_grad: tuple[bool, ...]
    to_save: tuple[Any, ...] = ()
    saved_versions: tuple[Any, ...] = ()
    freed = False
    n_outputs = 1
    out_meta: tuple[Any, ...] = ()
    out_hooks: dict[int, list[Any]] | None = None
    retained: dict[int, Any] | None = None
    non_differentiable: tuple[Any, ...] = ()
    module_path: str | None = None

    # --- the ctx API used inside forward/backward -------------------------------------
    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for backward (inputs or outputs of forward; version-checked)."""
        self.to_save = arrays

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The arrays given to ``save_for_backward`` (raw arrays, like forward's inputs).

        While a backward is recorded (``create_graph=True``) each saved input or output
        comes back as a :class:`~chainrule.autograd.traced.Traced` array tied to the graph,
        so the gradient formula that reads it can be differentiated in turn."""
        if self.freed:
            raise RuntimeError(
                f"{self.name()}: its saved arrays were freed after the first backward; "
                "call backward(retain_graph=True) the first time to backward twice"
            )
        if RECORDING.on:
            from chainrule.autograd.traced import recorded_saves

            return recorded_saves(self)
        return self.to_save

    def mark_non_differentiable(self, *arrays: Any) -> None:
        """Mark outputs (e.g. argmax indices) that get no gradient and never require grad."""
        self.non_differentiable = arrays

    # --- introspection ----------------------------------------------------------------
    @property
    def edges(self) -> list[Any]:
        """Per input ``(node or leaf, output_index)``, or ``None`` where no gradient flows."""
        return [None if i is None else (i[0], i[1]) for i in self.inputs]

    @property
    def in_meta(self) -> list[Any]:
        """Per input ``(shape, dtype)``, or ``None`` where no gradient flows."""
        return [None if i is None else (i[2], i[3]) for i in self.inputs]

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
        """As PyTorch prints a node: ``<AddBackward0 object at 0x7f...>`` (PyTorch's name)."""
        from chainrule.tensor_str import grad_fn_name

        return f"<{grad_fn_name(self)} object at {id(self):#x}>"


class AccumulateGrad:
    """Stand-in node for a leaf in ``next_functions`` (``.variable`` is the leaf)."""

    def __init__(self, variable: Any) -> None:
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


class Function:
    """Base class of every differentiable op and of user-defined functions.

    Subclass it, write ``forward(ctx, *inputs)`` and ``backward(ctx, *grads)`` as static
    methods, and call ``MyFn.apply(*tensors)``. They get Tensors (PyTorch's way) or, with
    ``raw_arrays = True`` (chainrule's own ops, in ``chainrule.ops``), raw arrays.

    >>> import chainrule as cr
    >>> class Cube(cr.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, gy):
    ...         (x,) = ctx.saved_tensors
    ...         return 3 * x.square() * gy
    >>> x = cr.tensor([2.0], requires_grad=True)
    >>> Cube.apply(x).backward(cr.ones(1))
    >>> x.grad
    tensor([12.])
    """

    node_class: ClassVar[type[Node]] = Node
    # True for ops whose output shape can depend on the input values (a boolean mask): a
    # captured step's replay then checks the shape and falls back to eager when it changed.
    replay_checks_shape: ClassVar[bool] = False
    # forward/backward get raw arrays (True) or Tensors (False); when a subclass does not
    # say, True for chainrule's ops (defined in chainrule.ops), False for everyone else's.
    raw_arrays: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.node_class = type(f"{cls.__name__}Backward", (Node,), {"function": cls})
        if "raw_arrays" not in cls.__dict__:
            cls.raw_arrays = cls.__module__.startswith("chainrule.ops.")
        if not cls.raw_arrays:  # apply goes through a raw-array op that wraps and unwraps
            from chainrule.autograd.custom import tensor_function

            cls.apply = tensor_function(cls).apply  # type: ignore[method-assign]

    @staticmethod
    def forward(ctx: Any, *args: Any) -> Any:
        raise NotImplementedError("a Function subclass must define forward(ctx, *arrays)")

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        raise NotImplementedError("a Function subclass must define backward(ctx, *grads)")

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run forward on the inputs' arrays and record the graph when needed.

        Written as one flat loop: this is the per-op overhead every user pays, and each
        object it keeps in the graph is one more for Python's collector to walk.
        """
        arrays = []
        needs = []
        inputs: list[Any] = []
        record = False
        for a in args:
            if isinstance(a, Tensor):
                data = a._data
                arrays.append(data)
                if a._requires_grad:  # an edge to its node (or to the leaf itself)
                    record = True
                    needs.append(True)
                    inputs.append((a.grad_fn or a, a._out_index, data.shape, data.dtype,
                                   id(data)))
                    continue
            else:
                arrays.append(a)
            needs.append(False)
            inputs.append(None)
        ctx = cls.node_class()
        if record and GRAD_MODE.enabled:
            key = tuple(needs)  # one shared tuple per pattern, not one per node
            ctx.needs_input_grad = _NEEDS.get(key) or _NEEDS.setdefault(key, key)
        else:
            record = False
            ctx.needs_input_grad = (False,) * len(args)
        raw = cls.forward(ctx, *arrays)
        if type(raw) is tuple:
            return _finish_multi(cls, ctx, args, arrays, raw, record, inputs)
        checking = anomaly.STATE.enabled
        if checking:
            _check_forward(cls, arrays, (raw,))
        if not record:
            out = Tensor._wrap(raw)
            if CAPTURE.tape is not None:
                CAPTURE.tape.append((cls, args, ctx, (out,), False))
            return out
        ctx.inputs = inputs
        ctx.seq = next(_seq)
        if checking:
            ctx.module_path = anomaly.current_module_path()
        # Tensor._wrap(raw, ctx, 0) and _versions(...), written out: a call is a tenth of
        # this whole method, and a scalar program runs it for every + and *
        out = object.__new__(Tensor)
        out._data = raw if type(raw) is _ARRAY or not isinstance(raw, _SCALAR) \
            else _asarray(raw)  # NumPy's 0-d results are scalars: keep 0-d arrays
        out.grad_fn = ctx
        out._out_index = 0
        out._counter = None
        out._hooks = None
        out._requires_grad = True
        saved = ctx.to_save
        if saved:  # the in-place check's record (see _versions)
            versions: tuple[Any, ...] = ()
            position = 0
            for data in arrays:
                for s in saved:
                    if s is data:
                        a = args[position]
                        if isinstance(a, Tensor):
                            counter = a._counter
                            if counter is None:
                                counter = a._counter = [0]
                            versions += (counter, counter[0], id(data), position)
                        break
                position += 1
            for s in saved:
                if s is raw:
                    out._counter = counter = [0]
                    versions += (counter, 0, id(raw), -1)
                    break
            ctx.saved_versions = versions
        if CAPTURE.tape is not None:
            CAPTURE.tape.append((cls, args, ctx, (out,), False))
        return out


_NEEDS: dict[tuple[bool, ...], tuple[bool, ...]] = {}


def _versions(args: tuple[Any, ...], arrays: list[Any], saved: tuple[Any, ...],
              outs: tuple[Any, ...], raws: tuple[Any, ...]) -> tuple[Any, ...]:
    """The in-place check's record for an op that saved arrays: for each tensor input and
    output whose array is among ``saved``, four entries in one flat tuple: its version
    counter, the counter's value now, the array's id and where it sits (input position
    ``i``, or ``-1 - k`` for output ``k``). Forward changes no input, so reading the inputs'
    counters after it is reading them before it. Only ids are kept, never the arrays; an
    output is matched by the array forward returned (``raws``), which is what it saved.

    Backward compares each counter with its value and raises if one moved. Tensors whose
    arrays were not saved are not recorded: changing them cannot change the gradient.
    ``Function.apply`` writes this loop out for single-output ops (its hot path); this
    function serves the ops with several outputs."""
    versions: tuple[Any, ...] = ()
    for position, data in enumerate(arrays):
        a = args[position]
        if isinstance(a, Tensor) and any(s is data for s in saved):
            counter = a._version
            versions += (counter, counter[0], id(data), position)
    for k, raw in enumerate(raws):
        if any(s is raw for s in saved):
            versions += (outs[k]._version, 0, id(raw), -1 - k)
    return versions


def _link(ctx: Node, inputs: list[Any]) -> None:
    """Record the inputs' edges, shapes and dtypes, and the creation order."""
    ctx.inputs = inputs
    ctx.seq = next(_seq)
    if anomaly.STATE.enabled:
        ctx.module_path = anomaly.current_module_path()


def _check_forward(cls: type[Function], arrays: list[Any], outs: tuple[Any, ...]) -> None:
    for out in outs:
        what = anomaly.bad_value(out)
        if what:
            anomaly.raise_forward(cls.__name__, arrays, what, anomaly.current_module_path())


def _finish_multi(cls: type[Function], ctx: Node, args: tuple[Any, ...], arrays: list[Any],
                  outs: tuple[Any, ...], record: bool, inputs: list[Any]) -> tuple[Any, ...]:
    """``apply`` for ops with several outputs (split, max with indices, user Functions)."""
    if anomaly.STATE.enabled:
        _check_forward(cls, arrays, outs)
    if not record:
        plain = tuple(Tensor._wrap(o) for o in outs)
        if CAPTURE.tape is not None:
            CAPTURE.tape.append((cls, args, ctx, plain, True))
        return plain
    _link(ctx, inputs)
    ctx.n_outputs = len(outs)
    ctx.out_meta = tuple((o.shape, o.dtype) for o in outs)
    nondiff = ctx.non_differentiable
    results = tuple(
        Tensor._wrap(o) if any(o is n for n in nondiff) else Tensor._wrap(o, ctx, i)
        for i, o in enumerate(outs)
    )
    if ctx.to_save:
        ctx.saved_versions = _versions(args, arrays, ctx.to_save, results, outs)
    if CAPTURE.tape is not None:
        CAPTURE.tape.append((cls, args, ctx, results, True))
    return results


Tensor: Any = None  # set by chainrule.tensor once the class exists (the two modules import
#                     each other; a module global keeps the hot path free of lookups)


def tensor_class() -> Any:
    """chainrule.tensor.Tensor, for the modules it imports (bound when it is defined, which
    ``import chainrule`` always does first)."""
    return Tensor


def bind_tensor_class(cls: Any) -> None:
    global Tensor
    Tensor = cls
    from chainrule.autograd import engine

    engine.Tensor = cls
