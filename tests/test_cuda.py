"""The CuPy backend: every op of the table, the layers, a training step, the CLI on CUDA.

Skipped as a whole where CuPy or a CUDA device is missing (CI has none). Where one is
present, each check runs the same computation on the CPU (NumPy) and on the GPU (CuPy) from
the same inputs and compares values and gradients in float64 (1e-9: the GPU's libraries
sum in other orders) and float32 training within float32 rounding.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

from clirun import run_cli
from optable import CASES, OpCase, make_inputs

pytestmark = pytest.mark.skipif(not cr.cuda_available(), reason="needs CuPy and a CUDA device")

CUDA = "cuda"


def _numpy(t: Any) -> np.ndarray:
    return np.asarray(t.detach().cpu().numpy())


def _run(case: OpCase, arrays: list[np.ndarray], device: str) -> tuple[Any, list[Any]]:
    inputs = [cr.tensor(a, dtype=cr.float64).to(device).requires_grad_(True) for a in arrays]
    out = case.fn(*inputs, **case.extra)
    out = out[0] if isinstance(out, tuple) else out
    if out.requires_grad:
        gy = np.random.default_rng(3).normal(size=tuple(out.shape))
        out.backward(cr.tensor(gy, dtype=cr.float64).to(device))
    return out, inputs


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_op_gives_the_cpus_values_and_gradients_on_cuda(case: OpCase) -> None:
    for shapes in case.shapes:
        if any(0 in s for s in shapes):
            continue
        arrays = make_inputs(case, shapes, seed=0)
        out_cpu, in_cpu = _run(case, arrays, "cpu")
        out_gpu, in_gpu = _run(case, arrays, CUDA)
        assert out_gpu.device.type == "cuda", case.name
        np.testing.assert_allclose(_numpy(out_gpu), _numpy(out_cpu), rtol=1e-9, atol=1e-9,
                                   err_msg=f"{case.name} {shapes} forward")
        for i, (a, b) in enumerate(zip(in_cpu, in_gpu, strict=True)):
            if a.grad is None:
                assert b.grad is None
                continue
            assert b.grad.device.type == "cuda"
            np.testing.assert_allclose(_numpy(b.grad), _numpy(a.grad), rtol=1e-9, atol=1e-9,
                                       err_msg=f"{case.name} {shapes} grad {i}")


def _cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, stride=2, dilation=1, groups=2), nn.AvgPool2d(2, ceil_mode=True),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.0), nn.Linear(6, 10))


def _mlp() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.Sigmoid(), nn.Linear(16, 16),
                         nn.Sigmoid(), nn.Linear(16, 10))


@pytest.mark.parametrize("build", [_mlp, _cnn], ids=["mlp", "cnn"])
@pytest.mark.parametrize("captured", [False, True], ids=["eager", "captured"])
def test_training_steps_on_cuda_follow_the_cpu(build: Any, captured: bool) -> None:
    cr.manual_seed(0)
    cpu_model = build().double()
    gpu_model = build().double()
    gpu_model.load_state_dict(cpu_model.state_dict())
    gpu_model.to(CUDA)
    rng = np.random.default_rng(1)
    batches = [(rng.random((8, 1, 28, 28)), rng.integers(0, 10, 8)) for _ in range(4)]
    losses: dict[str, list[float]] = {}
    for name, model, device in (("cpu", cpu_model, "cpu"), ("gpu", gpu_model, CUDA)):
        opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        loss_fn = nn.CrossEntropyLoss()
        step = cr.compile(model, loss_fn, opt) if captured else None
        losses[name] = []
        for x, y in batches:
            xt = cr.tensor(x, dtype=cr.float64).to(device)
            yt = cr.tensor(y).to(device)
            if step is not None:
                losses[name].append(float(step(xt, yt)))
                continue
            opt.zero_grad()
            loss = loss_fn(model(xt), yt)
            loss.backward()
            opt.step()
            losses[name].append(loss.item())
    np.testing.assert_allclose(losses["gpu"], losses["cpu"], rtol=1e-9)
    for (name, a), b in zip(cpu_model.state_dict().items(), gpu_model.state_dict().values(),
                            strict=True):
        assert b.device.type == "cuda", name
        np.testing.assert_allclose(_numpy(b), _numpy(a), rtol=1e-8, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("model_flags", [["--hidden", "16,16"], ["--model", "lenet"]],
                         ids=["mlp", "lenet"])
def test_cli_trains_evaluates_and_resumes_on_cuda(tmp_path: Path, model_flags: list[str]) -> None:
    run = tmp_path / "run"

    def cli(*args: str) -> Any:
        return run_cli(list(args), timeout=600)

    base = ["--dataset", "mini-mnist", "--device", "cuda", "--out", str(run), "--schedule", "none",
            *model_flags]
    done = cli("train", *base, "--epochs", "1")
    assert done.code == 0, done.err
    assert "test accuracy" in done.out + done.err
    resumed = cli("train", "--resume", str(run), "--epochs", "2", "--device", "cuda")
    assert resumed.code == 0, resumed.err
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows if "epoch" in r][-2:] == [1, 2]
    evaluated = cli("eval", str(run))  # the checkpoint of a CUDA run evaluates on the CPU
    assert evaluated.code == 0, evaluated.err


def test_pytorch_compat_layer_on_cuda() -> None:
    """Type promotion, in-place math, out=, a user Function on Tensors, multinomial and the
    newer optimizers keep CUDA tensors on the GPU and give the CPU's numbers."""

    class Cube(cr.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            (x,) = ctx.saved_tensors
            return 3 * x.square() * g

    def run(device: str) -> list[Any]:
        x = cr.tensor([[0.5, -1.5, 2.0], [1.0, 0.25, -0.75]], dtype=cr.float64).to(device)
        ints = cr.tensor([[3, -1, 4], [1, 5, -9]]).to(device)
        out = cr.zeros(2, 3, dtype=cr.float64).to(device)
        w = cr.nn.Parameter(x.clone())
        opts = [cr.optim.NAdam([w], lr=0.1), cr.optim.RAdam([w], lr=0.1),
                cr.optim.Adadelta([w]), cr.optim.Adamax([w], lr=0.1)]
        for opt in opts:
            opt.zero_grad()
            (Cube.apply(w) * w.sin()).sum().backward()
            opt.step()
        y = x.clone()
        y.floor_()
        samples = cr.multinomial(x.abs() + 0.1, 2, generator=cr.Generator().manual_seed(0))
        return [ints / 2, ints * 2.5, ints // 2, ints % 3, x.round(decimals=1),
                cr.mul(x, 2, out=out), y, w.detach(), samples, cr.sort(x, 1).indices,
                x.isclose(x).all(dim=1), cr.einsum("ij,kj->ik", x, x)]

    for a, b in zip(run("cpu"), run(CUDA), strict=True):
        assert b.device.type == "cuda" and b.dtype == a.dtype
        np.testing.assert_allclose(_numpy(b), _numpy(a), rtol=1e-9, atol=1e-12)


def test_device_api_on_cuda(tmp_path: Path) -> None:
    """torch.cuda / accelerator / device answers, device= and .to(), the default device,
    .data updates, type() and printing, and save/load of GPU state on a machine with CUDA."""
    assert cr.cuda.is_available() and cr.cuda.device_count() >= 1
    assert cr.accelerator.is_available() and cr.accelerator.current_accelerator() == "cuda"
    assert cr.cuda.current_device() == 0 and isinstance(cr.cuda.get_device_name(), str)
    cr.cuda.synchronize()
    cr.cuda.empty_cache()
    device = cr.device("cuda" if cr.cuda.is_available() else "cpu")
    x = cr.tensor([1.5, -2.0], device=device)
    assert x.is_cuda and x.get_device() == 0 and str(x.device) == "cuda:0"
    assert x.type() == "chainrule.cuda.FloatTensor"
    assert repr(x) == "tensor([ 1.5000, -2.0000], device='cuda:0')"
    assert x.to("cpu", cr.float64).device.type == "cpu"
    assert x.to(cr.zeros(1, dtype=cr.float64)).device.type == "cpu"
    assert cr.zeros(1).to(x).is_cuda and x.cpu().cuda().is_cuda
    for made in [cr.zeros(2, device="cuda"), cr.randn(2, device=device),
                 cr.arange(3, device=device), cr.zeros_like(x), cr.randperm(3, device=device)]:
        assert made.is_cuda
    cr.set_default_device("cuda")
    try:
        assert cr.get_default_device() == cr.device("cuda", 0) and cr.ones(2).is_cuda
        assert cr.nn.Linear(2, 2).weight.is_cuda
    finally:
        cr.set_default_device(None)
    assert not cr.ones(2).is_cuda
    model = cr.nn.Linear(2, 1).to(device)
    assert model.weight.is_cuda and cr.nn.Linear(2, 1).cuda().bias.is_cuda
    w = cr.tensor([1.0, -2.0], device=device, requires_grad=True)
    (w * w).sum().backward()
    w.data -= 0.1 * w.grad
    w.data.add_(1.0)
    assert w.is_cuda and w.requires_grad
    np.testing.assert_allclose(_numpy(w), [1.8, -0.6], rtol=1e-6)
    path = tmp_path / "state.pt"
    cr.save({"model": model.state_dict(), "w": w.detach()}, path)
    back = cr.load(path)
    assert back["model"]["weight"].is_cuda and back["w"].is_cuda
    on_cpu = cr.load(path, map_location="cpu")
    assert not on_cpu["model"]["weight"].is_cuda
    np.testing.assert_array_equal(on_cpu["model"]["weight"].numpy(), _numpy(model.weight))
