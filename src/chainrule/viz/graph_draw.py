"""``draw_graph``: the computational graph of a tensor drawn with matplotlib (no Graphviz).

The layout is layered, as Graphviz's ``dot`` does it in miniature: every op sits one layer
above the highest of its inputs (the longest path from the leaves), every leaf one layer
below the first op that uses it, and a few sweeps order each layer by the mean position of
its neighbours so arrows cross less. Data flows upwards: leaves at the bottom, the op that
made the tensor at the top, as in ``to_dot()`` and ``to_mermaid()``.
"""

from __future__ import annotations

import os
from typing import Any

from chainrule.i18n import Messages
from chainrule.viz._mpl import new_figure, suptitle
from chainrule.viz.fonts import figure_language
from chainrule.viz.graph import GradRecord, Graph, graph_of

LEAF_COLOUR = "#add8e6"
OP_COLOUR = "#e0e0e0"
ROOT_COLOUR = "#caff70"


def draw_graph(tensor: Any, params: Any = None, show_grads: bool | GradRecord = False,
               save: str | os.PathLike[str] | None = None, max_nodes: int = 300,
               lang: str | None = None) -> Any:
    """Draw the graph that made ``tensor``: ops with output shapes, leaves with names.

    Args:
        tensor: a Tensor with a ``grad_fn``, such as a loss (or a :class:`Graph` from
            ``graph_of``).
        params: names for the leaves: ``dict(model.named_parameters())`` or the model.
        show_grads: after ``backward()``, write each leaf's gradient norm on its edge;
            pass the record of ``watch_grads(tensor)``, made before ``backward()``, to
            write the gradient norms on the edges between ops too.
        save: a path; the suffix picks the format (``.png``, ``.svg``, ``.pdf``).
        max_nodes: larger graphs raise ValueError (a picture of them is unreadable; use
            ``graph_of(tensor).to_dot()`` and Graphviz instead).
        lang: the language of the title ("en", "zh"; default ``$CHAINRULE_LANG`` or the
            locale; Chinese needs a CJK font, see :mod:`chainrule.viz.fonts`).

    Returns:
        the matplotlib Figure (``fig.savefig("graph.svg")`` writes it in any format).

    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    >>> loss = model(cr.ones(5, 2)).pow(2).mean()
    >>> fig = draw_graph(loss, params=model)
    >>> sorted(t.get_text() for t in fig.axes[0].texts)[:3]
    ['0.bias\\n(3,)', '0.weight\\n(3, 2)', '2.bias\\n(1,)']
    """
    graph = tensor if isinstance(tensor, Graph) else graph_of(tensor, params, show_grads)
    if len(graph.nodes) > max_nodes:
        raise ValueError(
            f"this graph has {len(graph.nodes)} nodes, more than max_nodes={max_nodes} that "
            "draw_graph draws readably; pass a larger max_nodes, or write "
            "chainrule.viz.graph_of(tensor).to_dot() to a file and render it with Graphviz")
    layers = layer_of(graph)
    rows = order_layers(graph, layers)
    language = figure_language(lang)
    with language.fonts():
        fig = _render(graph, rows, language.words)
        if save is not None:
            folder = os.path.dirname(os.fspath(save))
            if folder:
                os.makedirs(folder, exist_ok=True)
            fig.savefig(save)
        return fig


def layer_of(graph: Graph) -> dict[str, int]:
    """Each node's layer: ops by the longest path from the leaves, leaves just below their
    lowest consumer. Iterative: the walk's order lists every op after the ops it feeds."""
    inputs: dict[str, list[str]] = {node.id: [] for node in graph.nodes}
    consumers: dict[str, list[str]] = {node.id: [] for node in graph.nodes}
    for edge in graph.edges:
        inputs[edge.target].append(edge.source)
        consumers[edge.source].append(edge.target)
    kinds = {node.id: node.kind for node in graph.nodes}
    order = _inputs_first([node.id for node in graph.nodes], inputs, kinds)
    layer: dict[str, int] = {}
    for node_id in order:
        op_inputs = [layer[i] for i in inputs[node_id] if kinds[i] == "op"]
        has_leaf = any(kinds[i] == "leaf" for i in inputs[node_id])
        if kinds[node_id] == "op":
            layer[node_id] = max(op_inputs + [0]) + 1 if (op_inputs or has_leaf) else 0
    for node_id, kind in kinds.items():
        if kind == "leaf":
            layer[node_id] = min(layer[c] for c in consumers[node_id]) - 1
    return layer


def _inputs_first(ids: list[str], inputs: dict[str, list[str]], kinds: dict[str, str]
                  ) -> list[str]:
    """The ops in an order where each comes after all its op inputs (Kahn's algorithm)."""
    waiting = {i: sum(1 for s in inputs[i] if kinds[s] == "op") for i in ids if kinds[i] == "op"}
    feeds: dict[str, list[str]] = {i: [] for i in waiting}
    for target in waiting:
        for source in inputs[target]:
            if kinds[source] == "op":
                feeds[source].append(target)
    ready = [i for i, n in waiting.items() if n == 0]
    order: list[str] = []
    while ready:
        node_id = ready.pop()
        order.append(node_id)
        for target in feeds[node_id]:
            waiting[target] -= 1
            if waiting[target] == 0:
                ready.append(target)
    return order


def order_layers(graph: Graph, layer: dict[str, int], sweeps: int = 4) -> list[list[str]]:
    """The nodes of each layer, bottom layer first, ordered to cut down crossings
    (alternate sweeps place each node at the mean position of its neighbours below/above)."""
    low = min(layer.values())
    rows: list[list[str]] = [[] for _ in range(max(layer.values()) - low + 1)]
    for node in graph.nodes:  # the walk's order to start with: an op before its inputs
        rows[layer[node.id] - low].append(node.id)
    below: dict[str, list[str]] = {node.id: [] for node in graph.nodes}
    above: dict[str, list[str]] = {node.id: [] for node in graph.nodes}
    for edge in graph.edges:
        below[edge.target].append(edge.source)
        above[edge.source].append(edge.target)
    for sweep in range(sweeps):
        upwards = sweep % 2 == 0
        neighbours = below if upwards else above
        sequence = rows[1:] if upwards else rows[-2::-1]
        for row in sequence:
            where = _positions(rows)
            row.sort(key=lambda n: _mean([where[m] for m in neighbours[n]], where[n]))
    return rows


def _positions(rows: list[list[str]]) -> dict[str, float]:
    """Each node's x: its row centred on 0, one unit between neighbours."""
    where: dict[str, float] = {}
    for row in rows:
        for i, node_id in enumerate(row):
            where[node_id] = i - (len(row) - 1) / 2
    return where


def _mean(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default


def _render(graph: Graph, rows: list[list[str]], words: Messages) -> Any:
    from matplotlib.patches import FancyArrowPatch

    widest = max(len(row) for row in rows)
    fig = new_figure(max(4.0, 2.1 * widest + 0.6), max(3.0, 0.95 * len(rows) + 0.8))
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_xlim(-widest / 2 - 0.1, widest / 2 + 0.1)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    where = _positions(rows)
    height = {node_id: float(y) for y, row in enumerate(rows) for node_id in row}
    boxes = {}
    for node in graph.nodes:
        colour = LEAF_COLOUR if node.kind == "leaf" else ROOT_COLOUR if node.root else OP_COLOUR
        style = "square,pad=0.35" if node.kind == "leaf" else "round,pad=0.35"
        boxes[node.id] = ax.text(
            where[node.id], height[node.id], "\n".join(node.lines()), ha="center",
            va="center", fontsize=8, zorder=3,
            bbox={"boxstyle": style, "facecolor": colour, "edgecolor": "#555555"})
    for edge in graph.edges:
        start = (where[edge.source], height[edge.source])
        end = (where[edge.target], height[edge.target])
        arrow = FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10,
                                color="#444444", linewidth=0.9, zorder=2,
                                patchA=boxes[edge.source].get_bbox_patch(),
                                patchB=boxes[edge.target].get_bbox_patch())
        ax.add_patch(arrow)
        if edge.label:
            ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, edge.label, fontsize=7,
                    ha="center", va="center", color="#8b0000", zorder=4,
                    bbox={"boxstyle": "round,pad=0.1", "facecolor": "white",
                          "edgecolor": "none", "alpha": 0.85})
    shape = graph.nodes[0].lines()[-1]
    what = (words("viz.graph.scalar") if shape == "()"
            else words("viz.graph.tensor", shape=shape))
    suptitle(fig, words("viz.graph.title", what=what, count=len(graph.nodes)), fontsize=10)
    return fig
