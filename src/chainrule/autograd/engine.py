"""The backward engine: one iterative walk over the recorded graph.

Order. Every node carries ``seq``, its creation number, and a node is always
newer than the nodes of its inputs. Popping the newest pending node from a
heap therefore visits every node after all of its consumers (a topological
order), with no recursion and no dependency-counting pre-pass, and the order
never depends on hashing, so the same program gives bit-identical gradients.

Shared work lives here, not in the ops:
  * un-broadcasting: a gradient with the output's broadcast shape is summed
    back to the input's shape (:func:`sum_to_shape`) and cast to its dtype;
  * accumulation: gradients reaching the same node or leaf are added, and leaf
    ``.grad`` is accumulated across backward calls;
  * hooks, ``retain_grad``, freeing saved arrays, version checks, anomaly checks;
  * the watch for graphs kept alive across steps (``total_loss += loss``,
    :mod:`chainrule.autograd.retention`).
"""

from __future__ import annotations

import heapq
import weakref
from collections.abc import Sequence
from typing import Any

from chainrule.autograd import anomaly, collector, retention
from chainrule.autograd.capture import STATE as CAPTURE
from chainrule.autograd.function import RECORDING, Node, _seq
from chainrule.autograd.grad_mode import STATE as GRAD_MODE
from chainrule.backend import array_module, writeable

RETENTION = retention.WATCH
Tensor: Any = None  # chainrule.tensor binds the class here (it imports this module first)


def sum_to_shape(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum a broadcast gradient back to ``shape`` (the reverse of broadcasting).

    >>> import numpy as np
    >>> sum_to_shape(np.ones((4, 2, 3)), (2, 1)).tolist()
    [[12.0], [12.0]]
    """
    if grad.shape == shape:
        return grad
    ndiff = grad.ndim - len(shape)
    if ndiff < 0 or any(
        s != 1 and g != s for s, g in zip(shape, grad.shape[ndiff:], strict=True)
    ):
        xp = array_module(grad)
        return xp.ascontiguousarray(xp.broadcast_to(grad, shape))
    axes = tuple(range(ndiff)) + tuple(
        i + ndiff for i, s in enumerate(shape) if s == 1 and grad.shape[i + ndiff] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def _check_versions(node: Node) -> None:
    """Raise if an array saved for backward was changed in place since forward."""
    versions = node.saved_versions
    for k in range(0, len(versions), 4):
        counter, version, array_id = versions[k], versions[k + 1], versions[k + 2]
        if counter[0] == version:
            continue
        for i, saved in enumerate(node.to_save):
            if id(saved) == array_id:
                raise RuntimeError(
                    f"{node.name()}: one of the arrays saved for backward was modified by an "
                    f"in-place operation (saved array {i}, shape {tuple(saved.shape)} "
                    f"{saved.dtype}, version {version} at save time, now {counter[0]}). "
                    "Fix: use the out-of-place op (x = x + 1 instead of x += 1) or .clone() "
                    "the tensor before changing it"
                )


def _call_hooks(hooks: list[Any], grad: Any) -> Any:
    if RECORDING.on:  # hooks see the recorded gradient Tensor and may return another
        from chainrule.autograd.traced import as_tensor, traced

        for hook in hooks:
            result = hook(as_tensor(traced(grad)))
            if result is not None:
                grad = traced(result)
        return grad
    for hook in hooks:
        result = hook(Tensor._wrap(grad))
        if result is not None:
            grad = result._data if isinstance(result, Tensor) else result
    return grad


def capture_key(t: Any) -> tuple[int, int]:
    """How the walk knows a tensor whose gradient ``autograd.grad`` returns: its node and
    output index, or the leaf itself."""
    return (id(t.grad_fn), t._out_index) if t.grad_fn is not None else (id(t), -1)


def run_backward(
    roots: Sequence[Any],
    root_grads: Sequence[Any],
    retain_graph: bool = False,
    capture: Sequence[Any] | None = None,
    create_graph: bool = False,
) -> list[Any] | None:
    """Backpropagate ``root_grads`` (arrays) from ``roots`` (Tensors).

    With ``capture`` (a list of tensors) nothing is accumulated into ``.grad``;
    the gradients reaching those tensors are returned instead (for
    :func:`chainrule.autograd.grad`). With ``create_graph`` the walk itself is recorded
    (:mod:`chainrule.autograd.higher_order`): the gradients are Tensors with a graph.
    """
    if create_graph:
        from chainrule.autograd.higher_order import run_recorded

        return run_recorded(roots, root_grads, capture)
    collector.note_backward(next(_seq))  # large graphs: fewer futile full collections
    heap: list[tuple[int, Node]] = []
    pending: dict[Node, list[Any]] = {}  # node -> one pending gradient per output
    leaves: dict[int, list[Any]] = {}  # id(leaf) -> [leaf, pending gradient]
    handed_out: set[int] = set()  # arrays someone else holds: never accumulate into them
    for root, grad in zip(roots, root_grads, strict=True):
        handed_out.add(id(grad))
        _add(heap, pending, leaves, root.grad_fn if root.grad_fn is not None else root,
             root._out_index, grad)

    captured: dict[tuple[int, int], Any] = {}
    capture_keys: set[tuple[int, int]] = set()
    if capture is not None:
        for t in capture:
            capture_keys.add(capture_key(t))

    # leaves with hooks (a DistributedDataParallel's, say) get their gradient as soon as
    # its last part has arrived, not after the walk: their uses are counted first
    early = _leaf_uses(roots) if LEAF_HOOKS.count and capture is None else None
    enabled = GRAD_MODE.enabled
    GRAD_MODE.enabled = False  # what no_grad() does, without its cost on every backward
    try:
        _walk(heap, pending, leaves, retain_graph, capture is None, handed_out, captured,
              capture_keys, early)
        if capture is not None:
            for leaf, grad in leaves.values():
                captured[(id(leaf), -1)] = grad
            out = []
            for t in capture:
                out.append(captured.get(capture_key(t)))
            return out
        for leaf, grad in leaves.values():
            accumulate_leaf(leaf, grad, handed_out)
    finally:
        GRAD_MODE.enabled = enabled
    if not retain_graph:  # the graph is freed: does something still hold it? (sampled)
        RETENTION.countdown -= 1
        if not RETENTION.countdown:
            retention.note(roots[0])
    return None


def _walk(heap: list[tuple[int, Node]], pending: dict[Node, list[Any]],
          leaves: dict[int, list[Any]], retain_graph: bool, retain: bool, handed_out: set[int],
          captured: dict[tuple[int, int], Any], capture_keys: set[tuple[int, int]],
          early: dict[int, int] | None = None) -> None:
    """The walk itself, one flat loop (it runs for every node of every training step): pop
    the newest pending node, run its ``backward``, fit each input's gradient to the input's
    shape and dtype, and add it to what that input's node (or leaf) has pending."""
    check_anomaly = anomaly.STATE.enabled
    recorder = CAPTURE.backward
    heappop = heapq.heappop
    heappush = heapq.heappush
    counting = None if early is None else _counting_add(early, handed_out)
    while heap:
        node = heappop(heap)[1]
        grads = pending.pop(node)
        if node.freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time ({node.name()} "
                "was already freed). Pass retain_graph=True to the first backward() "
                "if you need to backward through the same graph again, or recompute "
                "the forward pass"
            )
        if node.out_hooks or (node.retained and retain) or capture_keys:
            grads = _visit_outputs(node, grads, handed_out, captured, capture_keys,
                                   retain=retain)
        if node.n_outputs > 1:
            fill_missing(node.out_meta, grads)
        versions = node.saved_versions
        if versions:  # (counter, version at save, id, position) per saved tensor
            for k in range(0, len(versions), 4):
                if versions[k][0] != versions[k + 1]:
                    _check_versions(node)  # raises if it was a saved array that changed
                    break
        if recorder is not None:
            recorder.append(node)
        try:  # (free in Python 3.11 unless something raises)
            result = node.function.backward(node, *grads)
        except Exception as exc:
            if RECORDING.on and not isinstance(exc, RuntimeError):
                from chainrule.autograd.traced import double_backward_error

                raise double_backward_error(node, exc) from exc
            raise
        if type(result) is not tuple:
            result = (result,)
        if not retain_graph:
            node.freed = True
            node.to_save = ()
        if check_anomaly:
            _check_gradients(node, result)
        # zip stops at the shorter: a backward may leave out trailing inputs' gradients
        for item, g in zip(node.inputs, result, strict=False):
            if item is None or g is None:
                continue
            target, index, shape, dtype, _ = item
            if g.shape != shape:  # broadcast in forward: sum back to the input's shape
                g = sum_to_shape(g, shape)
            if g.dtype is not dtype and g.dtype != dtype:  # (the same object, mostly)
                g = g.astype(dtype)
            if counting is not None:
                counting(heap, pending, leaves, target, index, g)
            elif isinstance(target, Node):  # _add, written out (the walk's hottest call)
                slots = pending.get(target)
                if slots is None:  # first gradient for this node: schedule it
                    pending[target] = slots = [None] * target.n_outputs
                    heappush(heap, (-target.seq, target))
                current = slots[index]
                slots[index] = g if current is None else current + g
            else:
                entry = leaves.get(id(target))
                if entry is None:
                    leaves[id(target)] = [target, g]
                else:
                    entry[1] = entry[1] + g


def _add(heap: list[Any], pending: dict[Node, list[Any]], leaves: dict[int, list[Any]],
         target: Any, index: int, grad: Any) -> None:
    """Add ``grad`` to what ``target`` (a node's output ``index``, or a leaf) has pending.
    (``_walk`` writes this out for its edges; keep the two the same.)"""
    if isinstance(target, Node):
        slots = pending.get(target)
        if slots is None:  # first gradient for this node: schedule it
            pending[target] = slots = [None] * target.n_outputs
            heapq.heappush(heap, (-target.seq, target))
        current = slots[index]
        slots[index] = grad if current is None else current + grad
    else:
        entry = leaves.get(id(target))
        if entry is None:
            leaves[id(target)] = [target, grad]
        else:
            entry[1] = entry[1] + grad


class _LeafHooks:
    """How many leaf tensors have hooks (Tensor.register_hook counts them): while none
    has, backward skips counting the leaves' uses."""

    count = 0


LEAF_HOOKS = _LeafHooks()


def _leaf_uses(roots: Sequence[Any]) -> dict[int, int]:
    """For each leaf with hooks: how many edges of the graph below ``roots`` lead to it (one
    iterative pass over the nodes)."""
    counts: dict[int, int] = {}
    seen: set[int] = set()
    stack = [root.grad_fn for root in roots if root.grad_fn is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for item in node.inputs:
            if item is None:
                continue
            target = item[0]
            if isinstance(target, Node):
                if id(target) not in seen:
                    stack.append(target)
            elif target._hooks:
                counts[id(target)] = counts.get(id(target), 0) + 1
    return counts


def _counting_add(early: dict[int, int], handed_out: set[int]) -> Any:
    """``_add`` that also hands a hooked leaf its gradient once its last use has sent it
    (the rest wait for the end of the walk, as before; a use that sends no gradient leaves
    its leaf to the end too)."""
    def add(heap: list[Any], pending: dict[Node, list[Any]], leaves: dict[int, list[Any]],
            target: Any, index: int, grad: Any) -> None:
        _add(heap, pending, leaves, target, index, grad)
        key = id(target)
        if key in early:
            early[key] -= 1
            if not early[key]:
                leaf, total = leaves.pop(key)
                accumulate_leaf(leaf, total, handed_out)
    return add


def _check_gradients(node: Node, result: tuple[Any, ...]) -> None:
    """The NaN guard on the input gradients of ``node`` (when anomaly detection is on)."""
    for i, (item, g) in enumerate(zip(node.inputs, result, strict=False)):
        what = None if item is None or g is None else anomaly.bad_value(g)
        if what:
            shapes = anomaly.describe_arrays(
                [_Meta(*m) for m in node.in_meta if m is not None])
            anomaly.raise_backward(node.name(), i, what, shapes, node.module_path)


def fill_missing(out_meta: tuple[Any, ...], grads: list[Any]) -> None:
    """Zeros for outputs of a multi-output op that received no gradient."""
    xp = array_module(next(g for g in grads if g is not None))
    for i, g in enumerate(grads):
        if g is None:
            shape, dtype = out_meta[i]
            grads[i] = xp.zeros(shape, dtype)


class _Meta:
    """Shape/dtype pair that prints like an array in error messages."""

    def __init__(self, shape: tuple[int, ...], dtype: Any) -> None:
        self.shape, self.dtype = shape, dtype


def _visit_outputs(
    node: Node,
    grads: list[Any],
    handed_out: set[int],
    captured: dict[tuple[int, int], Any],
    capture_keys: set[tuple[int, int]],
    retain: bool = True,
) -> list[Any]:
    """Run a non-leaf's tensor hooks, fill retained ``.grad`` (only in ``backward()``, as
    PyTorch does; ``autograd.grad`` leaves ``.grad`` alone), capture for autograd.grad."""
    for i, g in enumerate(grads):
        if g is None:
            continue
        if node.out_hooks and i in node.out_hooks:
            g = grads[i] = _call_hooks(node.out_hooks[i], g)
        if (id(node), i) in capture_keys:
            captured[(id(node), i)] = g
        if retain and node.retained and i in node.retained:
            tensor = node.retained[i]()
            if tensor is not None and RECORDING.on:
                from chainrule.autograd.traced import as_tensor, traced

                tensor.grad = (as_tensor(traced(g)) if tensor.grad is None
                               else tensor.grad + as_tensor(traced(g)))
            elif tensor is not None:
                handed_out.add(id(g))
                if tensor.grad is None:
                    tensor.grad = Tensor._wrap(g)
                else:
                    tensor.grad = Tensor._wrap(tensor.grad._data + g)
    return grads


def accumulate_leaf(leaf: Any, grad: Any, handed_out: set[int]) -> None:
    """Add ``grad`` into ``leaf.grad``, copying when the array is shared."""
    if leaf._hooks:
        grad = _call_hooks(leaf._hooks, grad)
    if leaf.grad is None:
        if grad.base is not None or id(grad) in handed_out or not writeable(grad):
            grad = grad.copy()
        handed_out.add(id(grad))
        leaf.grad = Tensor._wrap(grad)
        return
    current = leaf.grad._data
    if current.shape == grad.shape and writeable(current):
        current += grad
        leaf.grad._bump_version()
    else:
        leaf.grad = Tensor._wrap(current + grad)


def register_retain(node: Node, index: int, tensor: Any) -> None:
    """Keep ``tensor.grad`` for a non-leaf (a weak reference: no cycle)."""
    if node.retained is None:
        node.retained = {}
    node.retained[index] = weakref.ref(tensor)
