"""The computational graph of a tensor as a small model: ops and leaves, and the edges between.

``graph_of(loss)`` walks the graph that autograd recorded, from ``loss.grad_fn`` back to the
leaves, without recursion (a 10,000-deep chain is fine). Ops carry PyTorch's names
(``AddmmBackward0``) and their output shapes; leaves carry their parameter names when
``params=`` is given (``dict(model.named_parameters())`` or the model itself), else their
shapes, as torchviz's ``make_dot`` does. Edges run the way data flows, from input to op.

The text forms need nothing installed: ``to_dot()`` is Graphviz's language (``dot -Tpng``),
``to_mermaid()`` renders on GitHub and in Markdown viewers. ``chainrule.viz.draw_graph``
draws the same model with matplotlib.

>>> import chainrule as cr
>>> from chainrule import nn
>>> model = nn.Sequential(nn.Linear(3, 2), nn.Sigmoid())
>>> loss = model(cr.ones(4, 3)).sum()
>>> graph = graph_of(loss, params=model)
>>> [node.label for node in graph.nodes]
['SumBackward0', 'SigmoidBackward0', 'AddmmBackward0', '0.weight', '0.bias']
>>> print(graph.to_mermaid())
flowchart BT
    n0["SumBackward0<br/>()"]
    n1["SigmoidBackward0<br/>(4, 2)"]
    n2["AddmmBackward0<br/>(4, 2)"]
    n3(["0.weight<br/>(2, 3)"])
    n4(["0.bias<br/>(2,)"])
    n1 --> n0
    n2 --> n1
    n3 --> n2
    n4 --> n2
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from chainrule.autograd.function import Node


@dataclass
class GraphNode:
    """One box of the graph: an op (``kind="op"``) or a leaf tensor (``kind="leaf"``).

    ``label`` is the op's PyTorch name or the leaf's parameter name (``""`` for an unnamed
    leaf), ``shapes`` the output shape(s), ``grad_norm`` the L2 norm of a leaf's ``.grad``
    (when ``show_grads`` and backward has run), ``root`` marks the op that made the tensor.
    """

    id: str
    kind: str
    label: str
    shapes: tuple[tuple[int, ...], ...]
    grad_norm: float | None = None
    root: bool = False

    def lines(self) -> list[str]:
        """The box's text, one entry per line: the name, then the shape(s)."""
        shapes = [_shape_text(s) for s in self.shapes]
        return [self.label, *shapes] if self.label else shapes


@dataclass
class GraphEdge:
    """Data flows from ``source`` to ``target`` (node ids); ``label`` is the text on it."""

    source: str
    target: str
    label: str = ""


@dataclass
class Graph:
    """The nodes (the root op first, then in the order the walk found them) and edges."""

    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[GraphEdge] = field(default_factory=list)

    def node(self, node_id: str) -> GraphNode:
        """The node with this id."""
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def to_dot(self) -> str:
        """Graphviz DOT text (render with ``dot -Tpng graph.dot -o graph.png``)."""
        out = ["digraph chainrule {", '    graph [rankdir=BT, fontname="Helvetica"];',
               '    node [fontname="Helvetica", fontsize=11, style=filled];']
        for node in self.nodes:
            label = "\\n".join(_dot_escape(line) for line in node.lines())
            if node.kind == "leaf":
                look = 'shape=box, fillcolor="lightblue"'
            elif node.root:
                look = 'shape=box, style="rounded,filled", fillcolor="darkolivegreen1"'
            else:
                look = 'shape=box, style="rounded,filled", fillcolor="lightgrey"'
            out.append(f'    {node.id} [label="{label}", {look}];')
        for edge in self.edges:
            extra = f' [label="{_dot_escape(edge.label)}"]' if edge.label else ""
            out.append(f"    {edge.source} -> {edge.target}{extra};")
        out.append("}")
        return "\n".join(out)

    def to_mermaid(self) -> str:
        """Mermaid flowchart text (GitHub renders it in a ```` ```mermaid ```` block)."""
        out = ["flowchart BT"]
        for node in self.nodes:
            label = "<br/>".join(_mermaid_escape(line) for line in node.lines())
            if node.kind == "leaf":
                out.append(f'    {node.id}(["{label}"])')
            else:
                out.append(f'    {node.id}["{label}"]')
        for edge in self.edges:
            if edge.label:
                out.append(f'    {edge.source} -->|"{_mermaid_escape(edge.label)}"| {edge.target}')
            else:
                out.append(f"    {edge.source} --> {edge.target}")
        return "\n".join(out)


class GradRecord:
    """The gradient norms at every op's outputs during a backward (see :func:`watch_grads`).

    ``norms`` maps ``(id(node), output index)`` to the L2 norm of the gradient of the loss
    with respect to that output (summed over all its uses, as backward sums it).
    """

    def __init__(self) -> None:
        self.norms: dict[tuple[int, int], float] = {}

    def hook(self, key: tuple[int, int]) -> Any:
        def record(grad: Any) -> None:
            self.norms[key] = float(grad.detach().double().norm().item())

        return record


def watch_grads(tensor: Any) -> GradRecord:
    """Before ``backward()``: record the gradient norm at every op of ``tensor``'s graph, so
    ``draw_graph(tensor, show_grads=record)`` writes them on every edge, not only on the
    leaves' (their ``.grad`` is kept anyway; the ops' gradients are not).

    >>> import chainrule as cr
    >>> x = cr.tensor([3.0, 4.0], requires_grad=True)
    >>> loss = (2 * x).sum()
    >>> record = watch_grads(loss)
    >>> loss.backward()
    >>> [edge.label for edge in graph_of(loss, show_grads=record).edges]
    ['|grad| 1.41', '|grad| 2.83']
    """
    record = GradRecord()
    for node in _ops(_root(tensor)):
        hooks = dict(node.out_hooks or {})
        for index in range(node.n_outputs):
            hooks[index] = [*hooks.get(index, []), record.hook((id(node), index))]
        node.out_hooks = hooks
    return record


def _root(tensor: Any) -> Node:
    root = getattr(tensor, "grad_fn", None)
    if not isinstance(root, Node):
        raise ValueError(_no_graph_message(tensor))
    return root


def _ops(root: Node) -> list[Node]:
    """Every op node that ``root`` depends on (``root`` first), found without recursion."""
    found = {id(root)}
    order = [root]
    stack = [root]
    while stack:
        for item in stack.pop().inputs:
            if item is not None and isinstance(item[0], Node) and id(item[0]) not in found:
                found.add(id(item[0]))
                order.append(item[0])
                stack.append(item[0])
    return order


def graph_of(tensor: Any, params: Any = None, show_grads: bool | GradRecord = False) -> Graph:
    """The recorded graph that made ``tensor``, as a :class:`Graph`.

    Args:
        tensor: a Tensor made by ops on tensors that require grad (it has a ``grad_fn``).
        params: names for the leaves: a mapping name -> tensor
            (``dict(model.named_parameters())``) or a Module; other leaves are shown by shape.
        show_grads: label each edge from a leaf with the L2 norm of the leaf's ``.grad``
            (run ``backward()`` first; leaves without a gradient get no label); the
            record of :func:`watch_grads` labels the edges between ops too, each with the
            norm of the gradient at its source op's output.

    Returns:
        a Graph; its ``to_dot()`` and ``to_mermaid()`` give the text forms.
    """
    root = _root(tensor)
    names = _leaf_names(params)
    graph = Graph()
    ids: dict[int, str] = {}
    out_shapes: dict[int, dict[int, tuple[int, ...]]] = {id(root): {0: tuple(tensor.shape)}}
    found: list[Any] = [root]  # ops and leaves in the order the walk meets them
    ids[id(root)] = "n0"
    stack = [root]
    edges: list[tuple[Any, Any, int]] = []
    while stack:
        node = stack.pop()
        for item in node.inputs:
            if item is None:
                continue
            target, index, shape = item[0], item[1], tuple(item[2])
            if id(target) not in ids:
                ids[id(target)] = f"n{len(ids)}"
                found.append(target)
                if isinstance(target, Node):
                    stack.append(target)
            if isinstance(target, Node):
                out_shapes.setdefault(id(target), {})[index] = shape
            edges.append((target, node, index))
    for obj in found:
        graph.nodes.append(_make_node(obj, ids[id(obj)], out_shapes, names, bool(show_grads)))
    graph.nodes[0].root = True
    seen_edges: set[tuple[str, str]] = set()
    for source, target, index in edges:
        key = (ids[id(source)], ids[id(target)])
        if key in seen_edges:  # x * x: one arrow is enough
            continue
        seen_edges.add(key)
        norm = None
        if isinstance(source, Node) and isinstance(show_grads, GradRecord):
            norm = show_grads.norms.get((id(source), index))
        elif show_grads and not isinstance(source, Node):
            norm = _grad_norm(source)
        label = "" if norm is None else f"|grad| {norm:.3g}"
        graph.edges.append(GraphEdge(key[0], key[1], label))
    return graph


def _make_node(obj: Any, node_id: str, out_shapes: dict[int, dict[int, tuple[int, ...]]],
               names: dict[int, str], show_grads: bool) -> GraphNode:
    from chainrule.tensor_str import grad_fn_name

    if isinstance(obj, Node):
        known = out_shapes.get(id(obj), {})
        if obj.n_outputs > 1 and obj.out_meta:
            shapes = tuple(tuple(meta[0]) for meta in obj.out_meta)
        else:
            shapes = tuple(known[i] for i in sorted(known))
        # the output's shape names some ops (Addmm vs Mm) once backward freed the saved arrays
        out = SimpleNamespace(_data=SimpleNamespace(shape=shapes[0])) if shapes else None
        return GraphNode(node_id, "op", grad_fn_name(obj, out), shapes)
    norm = _grad_norm(obj) if show_grads else None
    return GraphNode(node_id, "leaf", names.get(id(obj), ""), (tuple(obj.shape),), norm)


def _leaf_names(params: Any) -> dict[int, str]:
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        params = dict(params.named_parameters())
    if not isinstance(params, Mapping):
        raise TypeError("params= takes a mapping of names to tensors, such as "
                        f"dict(model.named_parameters()), or a Module; got {type(params).__name__}")
    return {id(value): str(name) for name, value in params.items()}


def _grad_norm(leaf: Any) -> float | None:
    grad = getattr(leaf, "grad", None)
    if grad is None:
        return None
    return float(grad.detach().double().norm().item())


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + (",)" if len(shape) == 1 else ")")


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _mermaid_escape(text: str) -> str:
    """Mermaid labels sit in double quotes; its entity codes stand for the awkward characters."""
    for char, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(char, code)
    return text


def _no_graph_message(tensor: Any) -> str:
    what = type(tensor).__name__
    if getattr(tensor, "requires_grad", False):
        return ("this tensor is a leaf (it requires grad but no op made it), so it has no "
                "graph to draw; draw a tensor computed from it, such as the loss")
    if hasattr(tensor, "grad_fn"):
        return ("this tensor has no grad_fn: no op that made it took an input with "
                "requires_grad=True (or it was computed under no_grad()); draw the loss of a "
                "model whose parameters require grad")
    return f"draw_graph takes a Tensor with a grad_fn, such as a loss; got {what}"
