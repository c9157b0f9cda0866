"""The classic training-loop bugs are caught: ``total_loss += loss`` (every step's graph kept
alive) and reading ``.grad`` of a non-leaf (always None without ``retain_grad()``)."""

from __future__ import annotations

import collections
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.autograd import retention
from chainrule.data import DataLoader, TensorDataset
from chainrule.train import Trainer


@pytest.fixture(autouse=True)
def _fresh_watch() -> Iterator[None]:
    retention.reset()  # the warning is given once per process: each test starts over
    yield
    retention.reset()


def tutorial_net() -> tuple[nn.Module, Any, Any, cr.Tensor, cr.Tensor]:
    """The tutorials' 784-16-16-10 sigmoid network, SGD lr 0.5, one fixed batch of 32."""
    model = nn.Sequential(nn.Linear(784, 16), nn.Sigmoid(), nn.Linear(16, 16), nn.Sigmoid(),
                          nn.Linear(16, 10))
    optimizer = cr.optim.SGD(model.parameters(), lr=0.5)
    x = cr.rand(32, 784)
    y = cr.tensor(np.arange(32) % 10)
    return model, nn.CrossEntropyLoss(), optimizer, x, y


def run_loop(steps: int, accumulate: str) -> tuple[list[warnings.WarningMessage], int]:
    """The usual loop plus one way of keeping the losses; returns the warnings (recorded
    with the "always" filter, so a repeated one would show) and the step of the first."""
    model, loss_fn, optimizer, x, y = tutorial_net()
    total: Any = 0
    kept: Any = collections.deque(maxlen=20) if accumulate == "window" else []
    first = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for step in range(1, steps + 1):
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            if accumulate == "sum before backward":
                total += loss
            if accumulate == "retain_graph":  # two backward calls on one graph
                loss.backward(retain_graph=True)
            loss.backward()
            optimizer.step()
            if accumulate == "sum after backward":
                total += loss
            elif accumulate == "item":
                total += loss.item()
            elif accumulate == "detach":
                total += loss.detach()
            elif accumulate in ("list", "window"):
                kept.append(loss)
            if caught and not first:
                first = step
    return list(caught), first


@pytest.mark.parametrize("accumulate", ["sum after backward", "sum before backward", "list"])
def test_keeping_every_step_loss_warns_once_within_100_steps(accumulate: str) -> None:
    caught, first = run_loop(300, accumulate)
    assert len(caught) == 1, [str(w.message) for w in caught]
    assert 0 < first <= 100
    warning = caught[0]
    assert warning.category is UserWarning
    message = str(warning.message)
    assert "total_loss += loss.item()" in message and "total_loss += loss" in message
    assert warning.filename == __file__  # points at the loop's backward() line


@pytest.mark.parametrize("accumulate", ["none", "item", "detach", "retain_graph", "window"])
def test_the_usual_loops_do_not_warn(accumulate: str) -> None:
    """300 steps: a fresh graph each step, numbers or detached tensors kept, two backward
    calls on one graph (retain_graph=True), or only the last 20 losses kept (bounded)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        caught, _ = run_loop(300, accumulate)
    assert caught == []


def test_the_watch_stops_once_it_warned() -> None:
    run_loop(100, "list")
    assert retention.WATCH.countdown < 0  # the engine never calls it again
    retention.reset()
    assert retention.WATCH.countdown == retention.PERIOD


def test_two_losses_per_step_one_kept_warns() -> None:
    """Two graphs and two backward() calls per step; only the second loss is summed."""
    model, loss_fn, optimizer, x, y = tutorial_net()
    total: Any = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(100):
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            loss = loss_fn(model(x * 0.5), y)
            loss.backward()
            total = total + loss
            optimizer.step()
    assert len(caught) == 1 and "loss.item()" in str(caught[0].message)


def test_captured_step_does_not_warn() -> None:
    model, loss_fn, optimizer, x, y = tutorial_net()
    step = cr.compile(model, loss_fn, optimizer)
    losses = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(300):
            losses.append(float(step(x, y)))
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("fast", [True, False])
def test_trainer_does_not_warn(fast: bool) -> None:
    model, loss_fn, optimizer, _, _ = tutorial_net()
    images = cr.rand(3200, 784)
    labels = cr.tensor(np.arange(3200) % 10)
    loader = DataLoader(TensorDataset(images, labels), batch_size=32, shuffle=True)
    trainer = Trainer(model, loss_fn, optimizer, progress=False, log=None, fast=fast)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = trainer.fit(loader, epochs=2)  # 200 steps
    assert len(rows) == 2


# ---- .grad of a non-leaf -------------------------------------------------------------------


def test_grad_of_a_non_leaf_warns_and_points_at_retain_grad() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    (y * y).sum().backward()
    with pytest.warns(UserWarning, match=r"not a leaf.*MulBackward.*\.retain_grad\(\)") as rec:
        assert y.grad is None
    assert rec[0].filename == __file__


def test_retain_grad_keeps_the_gradient_without_warning() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert y.grad is None  # asked for, not computed yet: no warning
        (y * y).sum().backward()
        assert y.grad.tolist() == [6.0, 12.0]
        assert x.grad.tolist() == [18.0, 36.0]
        assert cr.ones(2).grad is None  # a leaf that needs no grad
        assert nn.Linear(2, 2).weight.grad is None  # a parameter before backward
        assert x.detach().grad is None


def test_other_missing_attributes_are_attribute_errors() -> None:
    y = cr.ones(2, requires_grad=True) * 2
    with pytest.raises(AttributeError, match="'Tensor' object has no attribute 'gard'"):
        y.gard  # noqa: B018
    assert getattr(y, "no_such_thing", 7) == 7


def test_which_reads_warn_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")

    def cases(lib: Any) -> dict[str, Any]:
        leaf = lib.ones(2, requires_grad=True)
        plain = lib.ones(2)
        non_leaf = leaf * 2
        kept = leaf * 3
        kept.retain_grad()
        (non_leaf.sum() + kept.sum()).backward()
        return {"leaf": leaf, "plain": plain, "non-leaf": non_leaf, "retained": kept,
                "detached": non_leaf.detach()}

    def warns(tensor: Any) -> bool:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tensor.grad  # noqa: B018
        return any(issubclass(w.category, UserWarning) for w in caught)

    ours = {name: warns(t) for name, t in cases(cr).items()}
    theirs = {name: warns(t) for name, t in cases(torch).items()}
    assert ours == theirs
    assert ours["non-leaf"] and not ours["retained"] and not ours["leaf"]
