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


@pytest.mark.parametrize("nodes, user_threshold, relaxed", [
    (40_000, None, True),  # a large graph: relaxed
    (200, None, False),  # a small one: Python's own
    (40_000, (1000, 20, 5), False),  # the user's thresholds are never touched
])
def test_a_large_backward_relaxes_only_pythons_default(fresh_policy, nodes: int,
                                                        user_threshold, relaxed: bool) -> None:
    if user_threshold is not None:
        gc.set_threshold(*user_threshold)
    before = gc.get_threshold()
    _scalar_graph(nodes).backward()
    if relaxed:
        first, second, third = gc.get_threshold()
        assert (first, second) == collector.PYTHON_DEFAULT[:2]
        assert collector.RELAXED_FULL <= third <= collector.MOST_RELAXED
        assert third == collector.POLICY.applied
    else:
        assert gc.get_threshold() == before


@pytest.mark.parametrize("young_per_step, expected", [
    (0, collector.RELAXED_FULL),  # nothing reached generation 1: the floor
    (3, collector.RELAXED_FULL),
    (30, 30 * collector.STEPS_PER_FULL),  # a full collection every STEPS_PER_FULL steps
    (70, 70 * collector.STEPS_PER_FULL),
    (500, collector.MOST_RELAXED),  # the ceiling
])
def test_the_third_threshold_follows_the_steps_young_collections(
        fresh_policy, monkeypatch: pytest.MonkeyPatch, young_per_step: int,
        expected: int) -> None:
    count = iter([1000, 1000 + young_per_step, 1000 + 2 * young_per_step])
    monkeypatch.setattr(collector, "_young_collections", lambda: next(count))
    collector.POLICY.last_young = collector._young_collections()
    collector.note_backward(collector.POLICY.last_seq + collector.LARGE)
    assert gc.get_threshold() == (700, 10, expected)
    # the next large step sets it again from its own count (here the same)
    collector.note_backward(collector.POLICY.last_seq + collector.LARGE)
    assert gc.get_threshold() == (700, 10, expected)


def test_a_full_collection_in_between_restarts_the_count(
        fresh_policy, monkeypatch: pytest.MonkeyPatch) -> None:
    count = iter([50, 12])  # 50 since the last full one; then one ran, and 12 since
    monkeypatch.setattr(collector, "_young_collections", lambda: next(count))
    collector.POLICY.last_young = collector._young_collections()
    collector.note_backward(collector.POLICY.last_seq + collector.LARGE)
    assert gc.get_threshold() == (700, 10, 12 * collector.STEPS_PER_FULL)


def test_pythons_thresholds_come_back_when_large_graphs_stop(fresh_policy) -> None:
    _scalar_graph(collector.LARGE + 10).backward()
    relaxed = gc.get_threshold()
    assert relaxed[2] >= collector.RELAXED_FULL
    for _ in range(collector.RESTORE_AFTER - 1):
        _scalar_graph(20).backward()
    assert gc.get_threshold() == relaxed  # a few small steps (an evaluation, say) keep it
    _scalar_graph(collector.LARGE + 10).backward()  # a large one restarts the count
    for _ in range(collector.RESTORE_AFTER - 1):
        _scalar_graph(20).backward()
    assert gc.get_threshold()[2] >= collector.RELAXED_FULL
    _scalar_graph(20).backward()  # RESTORE_AFTER small ones in a row: Python's own again
    assert gc.get_threshold() == collector.PYTHON_DEFAULT
    assert not collector.POLICY.applied
    gc.set_threshold(700, 10, 50)  # the user's own from here on: never touched
    for _ in range(collector.RESTORE_AFTER + 1):
        _scalar_graph(20).backward()
    _scalar_graph(collector.LARGE + 10).backward()
    assert gc.get_threshold() == (700, 10, 50)


def _full_collections_in_scalar_training(steps: int, nodes: int) -> int:
    """Full collections during ``steps`` SGD steps of a scalar program (``nodes`` per step)."""
    w = [cr.tensor(0.1 * i, dtype=cr.float64, requires_grad=True) for i in range(50)]
    full = [0]

    def count(phase: str, info: dict) -> None:
        if phase == "start" and info["generation"] == 2:
            full[0] += 1

    gc.callbacks.append(count)
    try:
        for _ in range(steps):
            loss = sum((wi * wi for wi in w for _ in range(nodes // 100)), cr.tensor(0.0))
            loss.backward()
            with cr.no_grad():
                for wi in w:
                    wi -= 1e-6 * wi.grad
                    wi.grad = None
            del loss
    finally:
        gc.callbacks.remove(count)
    return full[0]


def test_full_collections_become_rare_in_a_scalar_training_loop(fresh_policy) -> None:
    """The point of the policy. With Python's defaults a process holding little else has
    its live graph walked at least once a step here (fewer when it holds a lot: their rule
    also waits for the long-lived objects to grow by a quarter); relaxed, once the first
    large step has set the threshold (about 20 steps' worth), none in the next 6 steps."""
    _full_collections_in_scalar_training(1, 30_000)  # its backward sets the threshold
    gc.collect()  # (which also starts the count of younger collections afresh)
    assert _full_collections_in_scalar_training(6, 30_000) <= 1


def test_relaxed_full_collections_still_free_cycles(fresh_policy) -> None:
    """Garbage cycles made while training are freed without gc.collect(): no leak."""
    _scalar_graph(collector.LARGE + 10).backward()
    assert gc.get_threshold()[2] >= collector.RELAXED_FULL
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
    assert gc.get_threshold()[2] >= collector.RELAXED_FULL
    assert max(counts[1:]) - min(counts[1:]) < 1_000  # the graph is freed each step
