"""benchmarks/lenet_epoch.py compares like with like: its hand-written NumPy LeNet step
trains the same weights as chainrule's (and PyTorch's) from the same start, and its
GEMM-only step runs the products at chainrule's shapes."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

from nnref import torch

PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "lenet_epoch.py"


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("lenet_epoch", PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["lenet_epoch"] = module
    spec.loader.exec_module(module)
    return module


def _batches() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(5)
    return [(rng.random((64, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 64))
            for _ in range(3)]


def _weights(model: Any) -> list[np.ndarray]:
    return [np.asarray(t.detach().numpy()) for m in model if hasattr(m, "weight")
            for t in (m.weight, m.bias)]


def test_the_numpy_lenet_step_trains_like_chainrule() -> None:
    bench = _bench()
    params = bench.initial_weights()
    velocity = [(np.zeros_like(w), np.zeros_like(b)) for w, b in params]
    model = bench.lenet(nn)
    bench._load(model, cr, cr.tensor)
    opt = cr.optim.SGD(model.parameters(), lr=bench.LR, momentum=bench.MOMENTUM)
    loss_fn = nn.CrossEntropyLoss()
    for x, y in _batches():
        bench._numpy_step(params, velocity, x, y)
        opt.zero_grad()
        loss_fn(model(cr.from_numpy(x)), cr.from_numpy(y)).backward()
        opt.step()
    ours = [a for pair in params for a in pair]
    for a, b in zip(ours, _weights(model), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert not np.allclose(ours[0], bench.initial_weights()[0][0])  # it trained


@pytest.mark.skipif(torch is None, reason="torch oracle not installed")
def test_the_torch_lenet_starts_from_the_same_weights() -> None:
    bench = _bench()
    model = bench.lenet(torch.nn)
    bench._load(model, torch, torch.from_numpy)
    start = [a for pair in bench.initial_weights() for a in pair]
    for a, b in zip(start, _weights(model), strict=True):
        assert np.array_equal(a, b)


def test_the_gemm_only_step_uses_chainrules_operand_shapes() -> None:
    bench = _bench()
    operands = bench._gemm_operands(bench.initial_weights())
    assert [o[1].shape for o in operands[:2]] == [(64, 1, 25, 784), (64, 1, 150, 100)]
    assert operands[1][3].shape == (1, 16, 6400)  # conv2's dy, batch-last
    bench._gemm_step(operands)
