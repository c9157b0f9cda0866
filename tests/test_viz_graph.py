"""The computational graph of a tensor: the model, its DOT and Mermaid text, the drawing."""

import re
import sys
from pathlib import Path

import pytest

import chainrule as cr
from chainrule import nn

pytest.importorskip("matplotlib")
from chainrule import viz  # noqa: E402
from chainrule.viz.graph_draw import layer_of  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def _mlp_loss() -> tuple[nn.Module, cr.Tensor]:
    """The tutorials' 784-16-16-10 sigmoid MLP and its cross-entropy loss on a batch."""
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 16), nn.Sigmoid(), nn.Linear(16, 16), nn.Sigmoid(),
                          nn.Linear(16, 10))
    x = cr.randn(32, 784)
    y = cr.randint(0, 10, (32,))
    return model, nn.functional.cross_entropy(model(x), y)


def _dot_parts(text: str) -> tuple[set[str], list[tuple[str, str]], dict[str, str]]:
    declared = dict(re.findall(r'^    (n\d+) \[label="((?:[^"\\]|\\.)*)"', text, re.M))
    edges = re.findall(r"^    (n\d+) -> (n\d+)", text, re.M)
    return set(declared), edges, declared


def _mermaid_parts(text: str) -> tuple[set[str], list[tuple[str, str]], dict[str, str]]:
    declared = dict(re.findall(r'^    (n\d+)\(?\[?\["([^"]*)"\]', text, re.M))
    edges = re.findall(r"^    (n\d+) -->(?:\|\"[^\"]*\"\|)? (n\d+)$", text, re.M)
    return set(declared), edges, declared


def test_the_mlp_graph_has_the_ops_in_order_and_the_six_named_parameters() -> None:
    model, loss = _mlp_loss()
    graph = viz.graph_of(loss, params=dict(model.named_parameters()))
    ops = [node for node in graph.nodes if node.kind == "op"]
    assert [op.label for op in ops] == ["NllLossBackward0", "AddmmBackward0", "SigmoidBackward0",
                                        "AddmmBackward0", "SigmoidBackward0", "AddmmBackward0"]
    assert [op.shapes for op in ops] == [((),), ((32, 10),), ((32, 16),), ((32, 16),),
                                         ((32, 16),), ((32, 16),)]
    assert ops[0].root and not any(op.root for op in ops[1:])
    leaves = {node.label: node.shapes[0] for node in graph.nodes if node.kind == "leaf"}
    assert leaves == {"0.weight": (16, 784), "0.bias": (16,), "2.weight": (16, 16),
                      "2.bias": (16,), "4.weight": (10, 16), "4.bias": (10,)}
    assert len(graph.edges) == 11  # 5 op-to-op links and one per parameter
    # the Module itself names the leaves the same way; without names, leaves show shapes
    assert [n.label for n in viz.graph_of(loss, params=model).nodes] == \
        [n.label for n in graph.nodes]
    unnamed = viz.graph_of(loss)
    assert {n.lines()[0] for n in unnamed.nodes if n.kind == "leaf"} == \
        {"(16, 784)", "(16,)", "(16, 16)", "(10, 16)", "(10,)"}
    # layers: longest path from the leaves, each leaf just below its op
    layer = layer_of(graph)
    by_label = {n.label: layer[n.id] for n in graph.nodes if n.kind == "leaf"}
    assert by_label == {"0.weight": 0, "0.bias": 0, "2.weight": 2, "2.bias": 2,
                        "4.weight": 4, "4.bias": 4}
    assert sorted(layer[op.id] for op in ops) == [1, 2, 3, 4, 5, 6]


def test_names_survive_backward_and_grads_label_the_leaf_edges() -> None:
    model, loss = _mlp_loss()
    before = [n.label for n in viz.graph_of(loss).nodes]
    loss.backward()
    graph = viz.graph_of(loss, params=model, show_grads=True)
    assert [n.label for n in viz.graph_of(loss).nodes] == before  # saved arrays freed
    weight = model[0].weight
    assert weight.grad is not None
    labelled = {graph.node(e.source).label: e.label for e in graph.edges if e.label}
    assert set(labelled) == {name for name, _ in model.named_parameters()}
    norm = float(weight.grad.double().norm().item())
    assert labelled["0.weight"] == f"|grad| {norm:.3g}"
    assert graph.node(next(n.id for n in graph.nodes if n.label == "0.weight")).grad_norm == \
        pytest.approx(norm)


def test_watch_grads_labels_every_edge_with_the_gradient_backward_computed() -> None:
    model, _ = _mlp_loss()
    x = cr.randn(32, 784)
    y = cr.randint(0, 10, (32,))
    logits = model(x)
    logits.retain_grad()
    loss = nn.functional.cross_entropy(logits, y)
    record = viz.watch_grads(loss)
    loss.backward()
    graph = viz.graph_of(loss, params=model, show_grads=record)
    assert all(edge.label.startswith("|grad| ") for edge in graph.edges)
    assert logits.grad is not None
    into_root = next(e for e in graph.edges if e.target == graph.nodes[0].id)
    assert into_root.label == f"|grad| {float(logits.grad.double().norm().item()):.3g}"
    assert len(record.norms) == 6 and record.norms[(id(loss.grad_fn), 0)] == 1.0
    # the hooks only look: the same gradients as without them
    watched = [p.grad.numpy().copy() for p in model.parameters() if p.grad is not None]
    assert len(watched) == 6
    model.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    for before, p in zip(watched, model.parameters(), strict=True):
        assert p.grad is not None and (p.grad.numpy() == before).all()


def test_dot_and_mermaid_declare_every_endpoint_and_escape_names() -> None:
    a = cr.ones(2, 3, requires_grad=True)
    b = cr.ones(3, requires_grad=True)
    loss = (a * b + a).exp().sum()  # a is used twice: two edges into different ops
    names = {'odd "name" <x>\\ #1': a, "b": b}
    graph = viz.graph_of(loss, params=names)
    for text, parts in ((graph.to_dot(), _dot_parts), (graph.to_mermaid(), _mermaid_parts)):
        declared, edges, labels = parts(text)
        assert declared == {n.id for n in graph.nodes}
        assert len(edges) == len(graph.edges) == 6
        assert all(s in declared and t in declared for s, t in edges)
    dot = graph.to_dot()
    assert dot.startswith("digraph chainrule {") and dot.endswith("}")
    assert 'label="odd \\"name\\" <x>\\\\ #1\\n(2, 3)"' in dot
    mermaid = graph.to_mermaid()
    assert mermaid.startswith("flowchart BT\n")
    assert '(["odd #quot;name#quot; #lt;x#gt;\\ #35;1<br/>(2, 3)"])' in mermaid
    assert '"' not in _mermaid_parts(mermaid)[2][graph.nodes[-1].id]


def test_a_10000_deep_chain_is_walked_without_recursion() -> None:
    x = cr.ones(3, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # a recursive walk would fail at once
    try:
        graph = viz.graph_of(y.sum(), params={"x": x})
        viz.watch_grads(y)
        layer = layer_of(graph)
        dot, mermaid = graph.to_dot(), graph.to_mermaid()
    finally:
        sys.setrecursionlimit(limit)
    assert len(graph.nodes) == 10_002 and len(graph.edges) == 10_001
    assert max(layer.values()) == 10_001 and layer[graph.nodes[-1].id] == 0
    assert dot.count(" -> ") == 10_001 and mermaid.count(" --> ") == 10_001
    with pytest.raises(ValueError, match="10002 nodes, more than max_nodes=300.*to_dot"):
        viz.draw_graph(y.sum())


def test_the_png_and_svg_are_written(tmp_path: Path) -> None:
    model, loss = _mlp_loss()
    loss.backward()
    fig = viz.draw_graph(loss, params=model, show_grads=True, save=tmp_path / "g" / "mlp.png")
    data = (tmp_path / "g" / "mlp.png").read_bytes()
    assert data.startswith(PNG) and len(data) > 10_000
    fig.savefig(tmp_path / "mlp.svg")
    svg = (tmp_path / "mlp.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and len(svg) > 10_000
    viz.draw_graph(loss, params=model, save=tmp_path / "direct.svg")
    assert "<svg" in (tmp_path / "direct.svg").read_text()
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "0.weight\n(16, 784)" in texts and "NllLossBackward0\n()" in texts
    assert sum(t.startswith("|grad| ") for t in texts) == 6


def test_a_tensor_without_a_graph_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="has no grad_fn: no op that made it took an input "
                                         "with requires_grad=True"):
        viz.draw_graph(cr.ones(3) * 2)
    with pytest.raises(ValueError, match="is a leaf"):
        viz.graph_of(cr.ones(3, requires_grad=True))
    with pytest.raises(ValueError, match="takes a Tensor with a grad_fn.*got list"):
        viz.draw_graph([1.0])
    with cr.no_grad():
        made = cr.ones(3, requires_grad=True) * 2
    with pytest.raises(ValueError, match="no_grad"):
        viz.graph_of(made)
    loss = (cr.ones(3, requires_grad=True) * 2).sum()
    with pytest.raises(TypeError, match="params= takes a mapping"):
        viz.graph_of(loss, params=[1])
