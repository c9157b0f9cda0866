"""chainrule.autograd.collector: large graphs make Python's full collections rarer (only
when the thresholds are Python's defaults), cycles are still freed, memory stays flat."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

import chainrule as cr
from chainrule.autograd import collector
from chainrule.autograd.function import _seq


@pytest.fixture()
def fresh_policy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Python's default thresholds and a policy that has not acted yet; restored after."""
    saved = gc.get_threshold()
    monkeypatch.setattr(collector, "POLICY", collector._Policy())
    collector.POLICY.enabled = True
    collector.POLICY.last_seq = next(_seq)  # count from here, not from the session's start
    gc.set_threshold(*collector.PYTHON_DEFAULT)
    try:
        yield
    finally:
        gc.set_threshold(*saved)


def _scalar_graph(nodes: int) -> cr.Tensor:
    w = cr.tensor(0.5, dtype=cr.float64, requires_grad=True)
    total = w * 0.0
    for _ in range(nodes // 2):
        total = total + w * 1.0
    return total


@pytest.mark.parametrize("nodes, user_threshold, expected", [
    (40_000, None, (700, 10, collector.RELAXED_FULL)),  # a large graph: relaxed
    (200, None, collector.PYTHON_DEFAULT),  # a small one: Python's own
    (40_000, (1000, 20, 5), (1000, 20, 5)),  # the user's thresholds are never touched
])
def test_a_large_backward_relaxes_only_pythons_default(fresh_policy, nodes: int,
                                                        user_threshold, expected) -> None:
    if user_threshold is not None:
        gc.set_threshold(*user_threshold)
    _scalar_graph(nodes).backward()
    assert gc.get_threshold() == expected


def test_the_policy_can_be_turned_off_and_undoes_its_change(fresh_policy) -> None:
    _scalar_graph(collector.LARGE + 10).backward()
    assert gc.get_threshold()[2] == collector.RELAXED_FULL
    cr.autograd.set_gc_policy("python")
    assert gc.get_threshold() == collector.PYTHON_DEFAULT
    _scalar_graph(collector.LARGE + 10).backward()
    assert gc.get_threshold() == collector.PYTHON_DEFAULT  # off stays off
    with pytest.raises(ValueError, match="expected 'relaxed' or 'python'"):
        cr.autograd.set_gc_policy("never")


def test_relaxed_full_collections_still_free_cycles(fresh_policy) -> None:
    """Garbage cycles made while training are freed without gc.collect(): no leak."""
    _scalar_graph(collector.LARGE + 10).backward()
    assert gc.get_threshold()[2] == collector.RELAXED_FULL
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(200_000):
        a: list = []
        b = [a]
        a.append(b)  # a cycle that reference counting alone cannot free
        del a, b
    assert len(gc.get_objects()) < before + 2_000  # at most a young generation's worth


def test_a_scalar_training_loop_keeps_its_memory_flat(fresh_policy) -> None:
    w = [cr.tensor(0.1 * i, dtype=cr.float64, requires_grad=True) for i in range(50)]
    counts = []
    for _ in range(4):
        loss = sum(((wi * wi) for wi in w for _ in range(250)), cr.tensor(0.0))
        for wi in w:
            wi.grad = None
        loss.backward()
        with cr.no_grad():
            for wi in w:
                wi -= 0.001 * wi.grad
        del loss
        counts.append(len(gc.get_objects()))
    assert gc.get_threshold()[2] == collector.RELAXED_FULL
    assert max(counts[1:]) - min(counts[1:]) < 1_000  # the graph is freed each step
