"""How :mod:`chainrule.compile` records a training step and writes its replay.

:func:`record` turns the ops a captured eager step ran (the forward tape and the backward
engine's order) into a :class:`Program`: for every op, where its inputs come from (an earlier
op's output, a step input, a parameter, a constant) and where each gradient goes.
:func:`generate` writes that program out as one Python function of the step's inputs that
calls the ops' ``forward`` and ``backward`` on raw arrays in the recorded order (the hot ops
written out by :mod:`chainrule.compile_inline`), hands the gradients to the parameters, and
frees every array after its last use (:func:`release_after_last_use`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule import compile_inline
from chainrule.autograd import capture
from chainrule.autograd.engine import accumulate_leaf, fill_missing, sum_to_shape
from chainrule.autograd.function import Node
from chainrule.backend import array_module
from chainrule.tensor import Tensor

SLOT, INPUT, PARAM, CONST = 0, 1, 2, 3  # an op's output, a step input, a leaf, a constant


class Op:
    """One recorded forward op: how to find its inputs, and where its gradients go."""

    __slots__ = ("function", "args", "needs", "n_out", "multi", "edges", "in_meta", "out_meta",
                 "out_shapes", "arg_meta")

    def __init__(self, function: Any, args: list[tuple[int, Any]], needs: tuple[bool, ...],
                 outs: Sequence[Tensor], multi: bool) -> None:
        self.function, self.args, self.needs, self.n_out = function, args, needs, len(outs)
        self.multi = multi  # forward returned a tuple
        self.edges: list[Any] = []
        self.in_meta: list[Any] = []
        self.out_meta: tuple[Any, ...] = ()
        self.out_shapes = tuple(o._data.shape for o in outs)  # as recorded
        self.arg_meta: list[Any] = []  # per argument (shape, dtype) as recorded, or None


class Program:
    def __init__(self, ops: list[Op], loss_slot: tuple[int, int], output_slot: Any,
                 backward: list[int], loss: Any) -> None:
        self.ops, self.loss_slot, self.output_slot = ops, loss_slot, output_slot
        self.backward = backward
        xp = array_module(loss)
        self.root = xp.ones(loss.shape, dtype=loss.dtype)  # what backward() starts from
        if xp is np:
            self.root.flags.writeable = False
        self.code: Callable[[Sequence[Tensor]], tuple[Any, Any]] | None = None


class CaptureError(Exception):
    """The step cannot be recorded (the message says why); it runs eagerly instead."""


class ShapeChanged(Exception):
    """A replayed op's output shape differs from the recording (a boolean mask picked a
    different number of items): the replay stops and the step runs eagerly."""

    def __init__(self, op: str, recorded: Any, now: Any) -> None:
        super().__init__(f"{op} gave shape {now} where the recording had {recorded}")


def record(tape: list[Any], backward: list[Node], inputs: list[Tensor],
            loss: Tensor, output: Tensor | None) -> Program:
    slot_of: dict[int, tuple[int, int]] = {}  # id(tensor or array) -> (op index, output index)
    input_of: dict[int, int] = {}
    for i, t in enumerate(inputs):
        input_of[id(t)] = i
        input_of[id(t._data)] = i
    op_of_node: dict[int, int] = {}
    linked: list[tuple[int, Node]] = []
    ops = []
    for index, (function, args, ctx, outs, multi) in enumerate(tape):
        specs: list[tuple[int, Any]] = []
        for a in args:
            key = id(a)
            if key in slot_of:
                specs.append((SLOT, slot_of[key]))
            elif key in input_of:
                specs.append((INPUT, input_of[key]))
            elif isinstance(a, Tensor):
                if a.grad_fn is not None:
                    raise CaptureError(f"{function.__name__} reads a tensor computed before "
                                       "the step started")
                # a leaf (a parameter, a buffer, a tensor made in the step): the replay
                # reads its ._data each time, so new values assigned to it are seen
                specs.append((PARAM, a))
            elif isinstance(a, np.ndarray) and id(a) in slot_of:
                specs.append((SLOT, slot_of[id(a)]))
            else:
                specs.append((CONST, a))
        op = Op(function, specs, ctx.needs_input_grad, outs, multi)
        for a in args:
            data = a._data if isinstance(a, Tensor) else a
            op.arg_meta.append((data.shape, data.dtype) if isinstance(data, np.ndarray) else None)
        for i, out in enumerate(outs):
            slot_of[id(out)] = (index, i)
            slot_of[id(out._data)] = (index, i)
        if isinstance(ctx, Node) and hasattr(ctx, "inputs"):  # recorded for backward
            op_of_node[id(ctx)] = index
            linked.append((index, ctx))
            op.in_meta = list(ctx.in_meta)
            op.out_meta = tuple((o._data.shape, o._data.dtype) for o in outs)
        ops.append(op)
    for index, node in linked:
        edges: list[Any] = []
        for edge in node.edges:
            if edge is None:
                edges.append(None)
            elif isinstance(edge[0], Node):
                if id(edge[0]) not in op_of_node:
                    raise CaptureError("the graph reaches ops recorded before the step")
                edges.append((SLOT, (op_of_node[id(edge[0])], edge[1])))
            elif id(edge[0]) in input_of:
                raise CaptureError("the step needs the gradient of one of its inputs (an "
                                   "input requires grad): each step's input is a new tensor")
            else:
                edges.append((PARAM, edge[0]))
        ops[index].edges = edges
    if id(loss) not in slot_of:
        raise CaptureError("the loss was not computed by chainrule ops inside the step")
    order = [op_of_node[id(node)] for node in backward]
    output_slot = None if output is None else slot_of.get(id(output._data))  # detach shares data
    if output is not None and output_slot is None:
        raise CaptureError("the model's output was not computed by chainrule ops")
    return Program(ops, slot_of[id(loss)], output_slot, order, loss._data)


def generate(program: Program) -> Callable[[Sequence[Tensor]], tuple[Any, Any]]:
    """Write the replay as one flat Python function and compile it.

    The function calls each op's ``forward`` in recorded order, then each node's
    ``backward`` in the engine's recorded order, fitting and summing gradients exactly as
    the engine does (same order of additions, same leaf accumulation), so the numbers are
    bit-identical. What it leaves out is the interpretation: no Tensors, no graph nodes, no
    heap or dictionaries of pending gradients, no version counters.
    """
    ns: dict[str, Any] = {"np": np, "sum_to_shape": sum_to_shape, "fill_missing": fill_missing,
                          "accumulate_leaf": accumulate_leaf, "wrap": Tensor._wrap,
                          "as_tuple": as_tuple, "ShapeChanged": ShapeChanged,
                          **compile_inline.NAMESPACE}
    # NumPy arrays carry a writeable flag (False for broadcast views); CuPy's are always
    numpy = array_module(program.root) is np
    inlined: set[int] = set()  # ops whose array calls are written out (compile_inline)
    lines = ["def replay(inputs):"]
    n_inputs = 1 + max([p for op in program.ops for k, p in op.args if k == INPUT], default=-1)
    for k in range(n_inputs):
        lines.append(f"    in{k} = inputs[{k}]._data")
    params: dict[int, str] = {}

    def param(t: Tensor) -> str:
        if id(t) not in params:
            params[id(t)] = f"P{len(params)}"
            ns[params[id(t)]] = t
            capture.hold(t)  # its requires_grad changing makes the next step record afresh
        return params[id(t)]

    def value(j: int, o: int) -> str:
        return f"v{j}[{o}]" if program.ops[j].multi else f"v{j}"

    for i, op in enumerate(program.ops):
        ns[f"F{i}"], ns[f"N{i}"], ns[f"NE{i}"] = op.function.forward, op.function.node_class, \
            op.needs
        args = []
        for a, (kind, payload) in enumerate(op.args):
            if kind == SLOT:
                args.append(value(*payload))
            elif kind == INPUT:
                args.append(f"in{payload}")
            elif kind == PARAM:
                args.append(f"{param(payload)}._data")
            else:
                ns[f"K{i}_{a}"] = payload
                args.append(f"K{i}_{a}")
        written_out = compile_inline.forward(op, i, args, ns) if numpy else None
        if written_out is not None:
            lines.extend(written_out)
            inlined.add(i)
        else:
            lines.append(f"    c{i} = N{i}(); c{i}.needs_input_grad = NE{i}")
            lines.append(f"    v{i} = F{i}(c{i}{''.join(', ' + x for x in args)})")
        if op.function.replay_checks_shape:  # the output's shape may depend on the values
            ns[f"OS{i}"] = op.out_shapes if op.multi else op.out_shapes[0]
            got = f"tuple(o.shape for o in v{i})" if op.multi else f"v{i}.shape"
            lines.append(f"    if {got} != OS{i}: raise ShapeChanged({op.function.__name__!r}, "
                         f"OS{i}, {got})")
    lines.append(f"    loss = {value(*program.loss_slot)}")
    # The root gradient dL/dL = 1, made once: a read-only array (ops never change the
    # gradients they are given; one that tried would fail and the step would run eagerly).
    ns["ROOT"] = program.root
    grads = {(i, o) for i in program.backward for o in range(program.ops[i].n_out)}
    for i, o in sorted(grads):
        lines.append(f"    a{i}_{o} = None")
    lines.append(f"    a{program.loss_slot[0]}_{program.loss_slot[1]} = ROOT")
    init_at = len(lines)  # the leaves' accumulators are declared here, once all are known
    leaf_order: list[str] = []
    written: set[str] = set()  # accumulators some earlier line may already hold a value in
    for i in program.backward:
        op = program.ops[i]
        ins = ", ".join(f"a{i}_{o}" for o in range(op.n_out))
        if op.n_out > 1:
            ns[f"OM{i}"] = op.out_meta
            lines.append(f"    gs = [{ins}]")
            lines.append(f"    fill_missing(OM{i}, gs)")
            ins = "*gs"
        ns[f"B{i}"] = op.function.backward
        n_in = len(op.edges)
        names = [f"g{k}" if edge is not None else "_" for k, edge in enumerate(op.edges)]
        if i in inlined:
            lines.extend(compile_inline.backward(op, i, ins, ns) or [])
        elif n_in == 1:  # most ops: one input, backward returns a bare array
            lines.append(f"    g0 = B{i}(c{i}, {ins})")
            lines.append("    if type(g0) is tuple: g0, = as_tuple(g0, 1)")
        else:
            lines.append(f"    r = B{i}(c{i}, {ins})")
            lines.append(f"    if type(r) is not tuple or len(r) != {n_in}:")
            lines.append(f"        r = as_tuple(r, {n_in})")
            lines.append(f"    {', '.join(names)} = r")
        for k, edge in enumerate(op.edges):
            if edge is None:
                continue
            ns[f"SH{i}_{k}"], ns[f"DT{i}_{k}"] = op.in_meta[k]
            if edge[0] == SLOT:
                target = f"a{edge[1][0]}_{edge[1][1]}"
            else:
                target = f"l{param(edge[1])}"
                if target not in leaf_order:
                    leaf_order.append(target)
            g, shape, dtype = f"g{k}", f"SH{i}_{k}", f"DT{i}_{k}"
            lines.append(f"    if {g} is not None:")
            lines.append(f"        if {g}.shape != {shape}: {g} = sum_to_shape({g}, {shape})")
            lines.append(f"        if {g}.dtype is not {dtype} and {g}.dtype != {dtype}: "
                         f"{g} = {g}.astype({dtype})")  # (the same object, mostly)
            if target in written:  # the engine's accumulation: earlier gradient + this one
                lines.append(f"        {target} = g{k} if {target} is None else {target} + g{k}")
            else:
                lines.append(f"        {target} = g{k}")
                written.add(target)
    lines[init_at:init_at] = [f"    {target} = None" for target in leaf_order]
    lines.append("    handed = {id(ROOT)}")
    for target in leaf_order:  # accumulate_leaf, with its common case (a fresh array) inline
        leaf = target[1:]
        lines.append(f"    if {target} is not None:")
        writable = f" and {target}.flags.writeable" if numpy else ""
        lines.append(f"        if ({leaf}.grad is None and not {leaf}._hooks and "
                     f"{target}.base is None and id({target}) not in handed{writable}):")
        lines.append(f"            handed.add(id({target})); {leaf}.grad = wrap({target})")
        lines.append(f"        else: accumulate_leaf({leaf}, {target}, handed)")
    out = "None" if program.output_slot is None else value(*program.output_slot)
    lines.append(f"    return loss, {out}")
    source = "\n".join(release_after_last_use(lines))
    exec(compile_source(source), ns)  # noqa: S102 - our own generated code, no user input
    replay: Callable[[Sequence[Tensor]], tuple[Any, Any]] = ns["replay"]
    replay.source = source  # type: ignore[attr-defined]
    return replay


# forward values, contexts, gradients, and what written-out ops keep (compile_inline)
_RELEASED = re.compile(r"\b(?:v\d+|c\d+|a\d+_\d+|s\d+_[a-z]+)\b")


def release_after_last_use(lines: list[str]) -> list[str]:
    r"""The replay's lines with a ``del`` after the last use of each forward value
    (``v3``), op context (``c3``, holding what the op saved for backward) and pending
    gradient (``a3_0``).

    Without it every value and gradient of the step stayed alive until the replay
    returned, as if the graph were never freed: a LeNet step held all its activations and
    gradients at once, and NumPy's large buffers went back to the OS and were faulted in
    again every step (about 1,800 minor page faults per step, against none eager). The eager
    engine frees each node's saved arrays once its backward has run; this does the same.

    A name last used inside an indented block (``if g0 is not None: ... a3_0 = g0``) is
    released after that block, before the next top-level line; names read by the final
    ``return`` are kept. The uses are found once, when the replay is generated.

    >>> print("\n".join(release_after_last_use([
    ...     "def replay(inputs):", "    v0 = F0(c0, in0)", "    v1 = F1(c1, v0)",
    ...     "    if v1 is not None:", "        a1_0 = v1", "    return v1, None"])))
    def replay(inputs):
        v0 = F0(c0, in0)
        del c0
        v1 = F1(c1, v0)
        del v0, c1
        if v1 is not None:
            a1_0 = v1
        del a1_0
        return v1, None
    """
    last: dict[str, int] = {}
    for index, line in enumerate(lines):
        for name in _RELEASED.findall(line):
            last[name] = index
    releases: dict[int, list[str]] = {}
    end = len(lines) - 1  # the return line: what it reads is kept
    for name, index in last.items():
        at = index + 1
        while at < end and (lines[at].startswith("        ")  # inside the block: after it
                            or lines[at].startswith("    else:")):
            at += 1
        if at <= end and index < end:
            releases.setdefault(at, []).append(name)
    out: list[str] = []
    for index, line in enumerate(lines):
        if index in releases:
            out.append("    del " + ", ".join(releases[index]))
        out.append(line)
    return out


def as_tuple(result: Any, n_inputs: int) -> tuple[Any, ...]:
    """A backward's result as one entry per input (missing entries are None), as the
    engine reads it."""
    if type(result) is not tuple:
        result = (result,)
    return result[:n_inputs] + (None,) * (n_inputs - len(result))


def compile_source(source: str) -> Any:
    import builtins

    return builtins.compile(source, "<chainrule captured step>", "exec")


def replay(program: Program, inputs: Sequence[Tensor]) -> tuple[Any, Any]:
    """Forward and backward from the recording; fills ``.grad``; returns (loss, output)."""
    if program.code is None:
        program.code = generate(program)
    return program.code(inputs)
