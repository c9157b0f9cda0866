"""A small CNN trains like PyTorch's, step for step; the step capture replays it bit for bit
(or falls back to eager, saying why); memory stays within the activations plus one im2col
buffer."""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.ops import conv as conv_ops

from nnref import torch


def make_net(lib: Any) -> Any:
    """The same model written the PyTorch way for ``lib`` = chainrule or torch:
    Conv2d, F.max_pool2d, flatten(x, 1), F.log_softmax (pair with F.nll_loss)."""
    lnn, lF = lib.nn, lib.nn.functional

    class Net(lnn.Module):  # type: ignore[name-defined, misc]
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = lnn.Conv2d(1, 4, 3, 1)
            self.conv2 = lnn.Conv2d(4, 8, 3, 1, padding=1)
            self.fc1 = lnn.Linear(8 * 3 * 3, 10)

        def forward(self, x: Any) -> Any:
            x = lF.max_pool2d(lF.relu(self.conv1(x)), 2)
            x = lF.max_pool2d(lF.relu(self.conv2(x)), 2)
            x = lib.flatten(x, 1)
            return lF.log_softmax(self.fc1(x), dim=1)

    return Net()


def _batches(n: int = 4, batch: int = 16) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(7)
    return [(rng.normal(size=(batch, 1, 14, 14)).astype(np.float32),
             rng.integers(0, 10, batch)) for _ in range(n)]


@pytest.mark.skipif(torch is None, reason="torch oracle not installed")
def test_small_cnn_trains_like_torch_step_for_step() -> None:
    cr.manual_seed(0)
    ours, theirs = make_net(cr), make_net(torch)
    theirs.load_state_dict({k: torch.tensor(v.detach().numpy())
                            for k, v in ours.state_dict().items()})
    opt = cr.optim.SGD(ours.parameters(), lr=0.05, momentum=0.9)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for x, y in _batches() * 2:
        opt.zero_grad()
        loss = F.nll_loss(ours(cr.tensor(x)), cr.tensor(y))
        loss.backward()
        opt.step()
        topt.zero_grad()
        tloss = torch.nn.functional.nll_loss(theirs(torch.tensor(x)), torch.tensor(y))
        tloss.backward()
        topt.step()
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=2e-5)
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(ours.state_dict()[name].numpy(), p.detach().numpy(),
                                   rtol=1e-4, atol=2e-5, err_msg=name)


def _train(model: Any, compiled: bool, steps: int = 3) -> tuple[list[float], Any, Any]:
    opt = cr.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    step = cr.compile(model, loss_fn, opt)
    losses = []
    for _ in range(steps):
        for x, y in _batches():
            if compiled:
                losses.append(step(cr.tensor(x), cr.tensor(y)).item())
                continue
            opt.zero_grad()
            loss = loss_fn(model(cr.tensor(x)), cr.tensor(y))
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return losses, [p.detach().numpy().copy() for p in model.parameters()], step


def _cnn(*extra: nn.Module) -> nn.Sequential:
    cr.manual_seed(1)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding="same", padding_mode="reflect"),
                         *extra, nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, 2, groups=2),
                         nn.ReLU(), nn.AvgPool2d(2, ceil_mode=True),
                         nn.AdaptiveAvgPool2d((2, 2)), nn.Flatten(), nn.Linear(24, 10))


def test_step_capture_replays_a_cnn_bit_for_bit() -> None:
    eager_losses, eager_weights, _ = _train(_cnn(), compiled=False)
    losses, weights, step = _train(_cnn(), compiled=True)
    assert losses == eager_losses
    for a, b in zip(weights, eager_weights, strict=True):
        assert np.array_equal(a, b)
    assert step.stats["replayed"] >= 8 and not step.reasons


@pytest.mark.parametrize(("layer", "reason"), [(lambda: nn.BatchNorm2d(4), "running statistics"),
                                               (lambda: nn.Dropout2d(0.2), "random")])
def test_step_capture_falls_back_to_eager_and_says_why(layer: Any, reason: str) -> None:
    cr.manual_seed(2)
    eager_losses, eager_weights, _ = _train(_cnn(layer()), compiled=False, steps=1)
    cr.manual_seed(2)
    losses, weights, step = _train(_cnn(layer()), compiled=True, steps=1)
    assert losses == eager_losses
    assert all(np.array_equal(a, b) for a, b in zip(weights, eager_weights, strict=True))
    assert step.stats["replayed"] == 0
    assert any(reason in why for why in step.reasons.values()), step.reasons


def _lenet() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


def test_training_memory_is_activations_plus_kept_columns_plus_one_im2col_buffer() -> None:
    """Peak NumPy memory of training steps (tracemalloc sees NumPy's allocations; RSS would
    also count the interpreter and BLAS) stays within 2x the activations, the columns kept
    from forward for the weight gradients (each layer's, when at most KEEP_COLUMNS bytes)
    and the largest layer's im2col buffer."""
    model, batch = _lenet(), 64
    x = cr.randn(batch, 1, 28, 28)
    y = cr.randint(0, 10, (batch,))
    opt = cr.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    activations, h = 0, x
    with cr.no_grad():
        for layer in model:
            h = layer(h)
            activations += h.numel() * h.dtype.itemsize
    im2col = batch * 25 * 28 * 28 * 4  # conv1: (N, 1*5*5, 28*28) float32, the largest
    kept = im2col + batch * 150 * 10 * 10 * 4  # and conv2's: (N, 6*5*5, 10*10)
    assert kept <= 2 * conv_ops.KEEP_COLUMNS
    loss_fn = nn.CrossEntropyLoss()

    def train_step() -> None:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    train_step()  # the optimizer's momentum buffers exist from here on
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(3):
            train_step()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert peak <= 2 * activations + kept + im2col, (peak, activations, kept, im2col)


def _peak_bytes(train_step: Any) -> int:
    """Peak NumPy memory (tracemalloc) over three steps, after three warm-up steps."""
    for _ in range(3):
        train_step()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(3):
            train_step()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def test_a_replayed_step_frees_values_after_their_last_use_like_eager() -> None:
    """The replay drops each activation, saved array and gradient once nothing later reads
    it, as the eager engine frees the graph; keeping them all until the step returned took
    1.85x the eager step's peak (13.1 MB against 7.1 MB for LeNet at batch 64)."""
    x, y = cr.randn(64, 1, 28, 28), cr.randint(0, 10, (64,))
    loss_fn = nn.CrossEntropyLoss()
    peaks = []
    for compiled in (False, True):
        cr.manual_seed(0)
        model = _lenet()
        opt = cr.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        step = cr.compile(model, loss_fn, opt)

        def train_step(model: Any = model, opt: Any = opt, step: Any = step,
                       compiled: bool = compiled) -> None:
            if compiled:
                step(x, y)
                return
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()

        peaks.append(_peak_bytes(train_step))
        if compiled:
            assert step.stats["replayed"] >= 4
    eager, replayed = peaks
    assert replayed <= 1.25 * eager, (replayed, eager)


def test_a_checkpoint_keeps_batch_norms_counter_a_0d_buffer(tmp_path: Any) -> None:
    """BatchNorm2d's num_batches_tracked has shape (); it came back as (1,) and the model
    refused its own checkpoint (``chainrule eval`` of a ``--model cnn`` run)."""
    from chainrule.train import load_checkpoint, save_checkpoint

    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    model(cr.randn(4, 1, 5, 5))
    save_checkpoint(tmp_path / "c.safetensors", model)
    again = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    load_checkpoint(tmp_path / "c.safetensors", again)
    counter = again.state_dict()["1.num_batches_tracked"]
    assert counter.shape == () and counter.item() == 1
