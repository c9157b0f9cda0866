"""PyTorch programs' idioms, run under PyTorch and under ``import chainrule as torch``.

One table: each idiom is a few lines of PyTorch code run twice, with ``torch`` bound to
PyTorch (the oracle) and to chainrule. What it prints must be the same text (PyTorch's with
``torch`` read as ``chainrule``: ``torch.Size([3])`` is ``chainrule.Size([3])``), and the
value it leaves in ``result`` the same values and dtypes. The few idioms whose answer
depends on the machine (CUDA) run only where chainrule has no GPU, as PyTorch's CPU build
used here. Separate tables check the layers' positional parameters against PyTorch's
(``inspect.signature``), ``save``/``load`` round trips and the refusal of PyTorch's files.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import chainrule as cr

from nnref import torch

pytestmark = pytest.mark.skipif(torch is None, reason="needs PyTorch as the oracle")

NO_GPU = not cr.cuda.is_available()

# (name, program); a program prints and may set ``result``
IDIOMS: list[tuple[str, str]] = [
    # ---- devices -------------------------------------------------------------------
    ("device objects", """
        print(torch.device("cpu"), torch.device("cuda"), torch.device("cuda:1"))
        print(repr(torch.device("cpu")), repr(torch.device("cuda", 1)))
        print(torch.device("cpu").type, torch.device("cpu").index, torch.device("cuda:2").index)
        print(torch.device("cpu") == torch.device("cpu"), torch.device("cuda") != "cpu")
     """),
    ("the usual device line", """
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        print(device, torch.cuda.is_available(), torch.cuda.device_count())
        device = torch.accelerator.current_accelerator().type \\
            if torch.accelerator.is_available() else "cpu"
        print(device, torch.accelerator.is_available(), torch.accelerator.current_accelerator())
        print(torch.backends.mps.is_available(), torch.backends.mps.is_built())
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        print(torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
        torch.cuda.manual_seed(0)
        torch.cuda.manual_seed_all(0)
     """),
    ("default device", """
        torch.set_default_device("cpu")
        print(torch.get_default_device(), torch.zeros(2).device)
        torch.set_default_device(None)
        print(torch.get_default_device())
     """),
    ("device= when making tensors", """
        d = torch.device("cpu")
        for t in [torch.zeros(2, device=d), torch.ones(2, 3, device="cpu"),
                  torch.tensor([1.0, 2.0], device=d), torch.arange(3, device=d),
                  torch.full((2,), 7, device=d), torch.eye(2, device=d),
                  torch.empty(2, device=d), torch.zeros_like(torch.ones(2), device=d),
                  torch.randn(2, device=d), torch.rand(2, device=d),
                  torch.randint(0, 5, (3,), device=d), torch.randperm(4, device=d),
                  torch.linspace(0, 1, 5, device=d)]:
            print(t.device, dtname(t.dtype), t.shape, t.is_cuda, t.get_device())
     """),
    ("layers made on a device with a dtype", """
        layers = [torch.nn.Linear(3, 2, True, "cpu", torch.float64),
                  torch.nn.Linear(3, 2, device="cpu", dtype=torch.float64),
                  torch.nn.Conv2d(1, 2, 3, device="cpu", dtype=torch.float64),
                  torch.nn.BatchNorm1d(3, device="cpu", dtype=torch.float64),
                  torch.nn.LayerNorm(3, device="cpu", dtype=torch.float64),
                  torch.nn.Embedding(4, 3, device="cpu", dtype=torch.float64),
                  torch.nn.PReLU(device="cpu", dtype=torch.float64)]
        for layer in layers:
            print([(name, dtname(p.dtype), str(p.device), tuple(p.shape))
                   for name, p in layer.named_parameters()])
     """),
    ("moving and casting with to()", """
        x = torch.tensor([1.5, -2.0])
        y = torch.zeros(1, dtype=torch.float64)
        print(x.to("cpu"), x.to(torch.float64), x.to("cpu", torch.int64))
        print(x.to(y), x.to(device="cpu", dtype=torch.float64, non_blocking=True))
        print(x.cpu(), x.to(torch.device("cpu")), x.to(x) is x, x.to("cpu", copy=True) is x)
        model = torch.nn.Linear(2, 1).to(torch.device("cpu")).to(torch.float64)
        print(dtname(model.weight.dtype), dtname(model.to(y).bias.dtype),
              dtname(model.to("cpu", torch.float32, non_blocking=True).weight.dtype),
              model.cpu().weight.device)
        result = x.to(y)
     """),
    # ---- dtypes ----------------------------------------------------------------------
    ("dtype names", """
        for dt in [torch.float, torch.double, torch.half, torch.long, torch.int, torch.short,
                   torch.bool, torch.float32, torch.float64, torch.float16, torch.int64,
                   torch.int32, torch.int16, torch.int8, torch.uint8]:
            t = torch.zeros(2, dtype=dt)
            print(t, t.type(), dtname(t.dtype), isinstance(t.dtype, torch.dtype), dt == t.dtype)
        print(torch.get_default_dtype() == torch.float32)
     """),
    ("casting methods and type()", """
        x = torch.tensor([1.7, -2.2, 0.0])
        for t in [x.float(), x.double(), x.half(), x.long(), x.int(), x.short(), x.byte(),
                  x.bool(), x.type(torch.float64), x.type("torch.DoubleTensor"),
                  x.type(torch.int32), x.type_as(torch.tensor([1]))]:
            print(t, t.type())
        result = x.double()
     """),
    # ---- torch.utils.data -------------------------------------------------------------
    ("TensorDataset items are tensors", """
        from torch.utils.data import TensorDataset
        X = torch.arange(12.0).reshape(6, 2)
        y = torch.tensor([0, 1, 0, 1, 1, 0])
        ds = TensorDataset(X, y)
        x0, y0 = ds[0]
        print(len(ds), x0, y0, x0 * 2 + 1, (x0.sum() + y0).item())
        xs, ys = ds[1:3]
        print(xs, ys, xs.mean(dim=0))
        print([t.shape for t in ds.tensors])
        result = ds[2][0]
     """),
    ("DataLoader with samplers", """
        from torch.utils.data import (BatchSampler, DataLoader, RandomSampler, Sampler,
                                      SequentialSampler, SubsetRandomSampler, TensorDataset,
                                      WeightedRandomSampler)
        ds = TensorDataset(torch.arange(10.0).reshape(5, 2), torch.arange(5))
        print([y.tolist() for _, y in DataLoader(ds, batch_size=2)])
        print([y.tolist() for _, y in DataLoader(ds, batch_size=2,
                                                 sampler=SequentialSampler(ds))])
        print([y.tolist() for _, y in DataLoader(ds, batch_size=2, drop_last=True)])
        batches = BatchSampler(SequentialSampler(ds), batch_size=3, drop_last=False)
        print(list(batches), len(batches))
        print([y.tolist() for _, y in DataLoader(ds, batch_sampler=batches)])
        loader = DataLoader(ds, batch_size=2, sampler=RandomSampler(ds))
        print(len(loader), sorted(i for _, y in loader for i in y.tolist()))
        loader = DataLoader(ds, batch_size=4, sampler=SubsetRandomSampler([0, 3, 4]))
        print(len(loader), sorted(i for _, y in loader for i in y.tolist()))
        picks = list(WeightedRandomSampler([0.0, 0.0, 1.0, 1.0, 0.0], 6))
        print(len(picks), set(picks) <= {2, 3})
        print(sorted(WeightedRandomSampler([1, 1, 1], 3, replacement=False)))
        print(len(RandomSampler(ds, replacement=True, num_samples=7)),
              isinstance(SequentialSampler(ds), Sampler))
        loader = DataLoader(ds, batch_size=2, shuffle=True, num_workers=2)
        print(len(loader), sorted(i for _, y in loader for i in y.tolist()))
     """),
    # ---- t() and .data ---------------------------------------------------------------
    ("t()", """
        a = torch.arange(6.0).reshape(2, 3)
        print(a.t(), a.t().shape, torch.tensor([1.0, 2.0]).t(), torch.tensor(3.0).t())
        result = a.t() @ a
     """),
    ("updating weights through .data", """
        w = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
        loss = (w * w).sum()
        loss.backward()
        lr = 0.1
        w.data -= lr * w.grad.data
        print(w)
        w.data -= lr * w.grad
        print(w)
        w.data.add_(1.0)
        print(w, w.requires_grad, w.data.requires_grad, w.data.is_leaf)
        w.data.mul_(2).sub_(0.5)
        w.data[0] = 10.0
        print(w, w.grad)
        w.data = torch.tensor([0.5, 0.25, 0.125])
        print(w, w.shape)
        w.grad.data.zero_()
        print(w.grad)
        result = w.data
     """),
    ("an MLP trained by hand with .data", """
        torch.manual_seed(0)
        x = torch.linspace(-1, 1, 8).reshape(8, 1)
        y = 3 * x + 1
        W = torch.tensor([[0.5]], requires_grad=True)
        b = torch.tensor([0.0], requires_grad=True)
        for step in range(5):
            loss = ((x @ W + b - y) ** 2).mean()
            loss.backward()
            with torch.no_grad():
                W.data -= 0.1 * W.grad
                b.data -= 0.1 * b.grad.data
            W.grad.zero_()
            b.grad.zero_()
            print(f"{step} {loss.item():.6f} {loss:.6f}")
        result = W
     """),
    # ---- printing --------------------------------------------------------------------
    ("printing floats", """
        for values in [[0.06, 0.0], [1.0, 2.0], [1e-5, 1.0], [1e9, 1.0], [123456.789, 1.5],
                       [-1.5, 2.25, 1000.0], [0.1, 0.2, 0.30000001], [1e-3, 1.0],
                       [float("nan"), 1.0, float("inf"), -float("inf")], [-0.0, 0.0],
                       [1e20, -3.0], [100.0, 1.0], [1.0, 1001.0], [0.0001, 0.001], []]:
            print(torch.tensor(values))
        print(torch.tensor(3.14159), torch.tensor(2.0), torch.tensor(-0.5), torch.tensor(1e-7))
        print(torch.tensor([[1.5, -2.0], [3.0, 4.25]]), torch.zeros(2, 3, 2))
        print(torch.tensor([1.0, 2.0], dtype=torch.float64), torch.tensor([0.5], dtype=torch.half))
        print(torch.arange(2000.0), torch.arange(1200.0).reshape(30, 40))
        print(torch.linspace(0, 1, 30), torch.zeros(0, 3), torch.zeros(0, dtype=torch.int64))
        result = torch.tensor([0.06, 0.0])
     """),
    ("printing integers and booleans", """
        print(torch.tensor([1, 2, 3]), torch.tensor([[1, -20], [300, 4]]), torch.tensor(7))
        print(torch.tensor([1, 2], dtype=torch.int32), torch.tensor([1], dtype=torch.uint8))
        print(torch.tensor([True, False]), torch.tensor([1.0, 2.0]) > 1.5, torch.arange(40))
     """),
    ("printing the graph", """
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        W = torch.ones(2, 2, requires_grad=True)
        print(x, x + 1, x * 2, x - 1, x / 2, -x, x ** 2, x.exp(), x.log(), x.sqrt())
        print(x.sum(), x.mean(), x.sigmoid(), x.tanh(), x.relu(), x.abs())
        print(W @ x, W.matmul(W), x @ x, x @ W, W.view(4), W.permute(1, 0), x.unsqueeze(0))
        print(W[0], W[:, 1:], W[torch.tensor([1, 0])], W.sum(dim=1), W.mean(0), torch.cat([x, x]))
        print(torch.nn.functional.linear(W, W), torch.nn.functional.linear(W, W, x), 1 - x,
              2 ** x, x ** x, x.clamp(min=0), x.unsqueeze(0).squeeze(0), W.reshape(-1))
        print(torch.nn.functional.mse_loss(x, torch.zeros(2)), x.clone(), x.double())
        print(torch.nn.functional.cross_entropy(W, torch.tensor([0, 1])))
        with torch.no_grad():
            print(x * 2)
        print(x.detach(), torch.nn.Parameter(torch.ones(2)))
     """),
    ("printing a graph node itself", """
        import re

        def node(fn):  # '<AddBackward0 object at 0x...>' with the address left out
            assert re.fullmatch(r"<\\w+ object at 0x[0-9a-f]+>", str(fn)), str(fn)
            return str(fn).split(" object at")[0] + ">"

        x, y = torch.ones(5), torch.zeros(3)
        w = torch.linspace(-1, 1, 15).reshape(5, 3).requires_grad_()
        b = torch.tensor([0.1, -0.2, 0.3], requires_grad=True)
        z = torch.matmul(x, w) + b
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
        print(node(z.grad_fn), node(loss.grad_fn), loss)
        print([node(fn) for fn, _ in z.grad_fn.next_functions])
        X = torch.ones(2, 4, 5)
        print([node(t.grad_fn) for t in (x @ w, w.t() @ x, X @ w, w.sum(), w.sum(0), w.mean(),
                                         w.view(15), w[0], w[:, 1:], w.clamp(min=0), 1 - w,
                                         torch.nn.functional.linear(X, w.t(), b),
                                         torch.nn.functional.linear(x, w.t()))])
        loss.backward()
        total = torch.nn.functional.binary_cross_entropy_with_logits(
            z, torch.ones(3), reduction="sum", pos_weight=torch.tensor([1.0, 2.0, 0.5]))
        print(node(total.grad_fn), total)
        result = [round(v, 6) for v in (loss.item(), *w.grad.flatten().tolist(), *b.grad.tolist())]
     """),
    ("Variable and the old loss flags (size_average, reduce)", """
        import warnings
        from torch.autograd import Variable

        x = Variable(torch.tensor([[1.0, 0.5, -1.0], [2.0, -0.5, 0.25]]))
        y = Variable(torch.ones(2, 1), requires_grad=False)
        w = Variable(torch.full((3, 1), 0.5), requires_grad=True)
        print(x.requires_grad, w.requires_grad, w.is_leaf, isinstance(x, Variable))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            flags = [torch.nn.MSELoss(size_average=False), torch.nn.MSELoss(reduce=False),
                     torch.nn.L1Loss(size_average=True, reduce=True)]
        print([loss_fn.reduction for loss_fn in flags], [str(c.message) for c in caught])
        loss = flags[0](x @ w, y)
        loss.backward()
        try:
            loss.data[0]  # old programs' loss.data[0] fails on a 0-d tensor in both
        except IndexError as e:
            print(str(e).split(".")[0])  # 'invalid index of a 0-dim tensor'
        result = [loss, w.grad, flags[1](x @ w, y)]
     """),
    ("sizes", """
        x = torch.zeros(3, 4)
        print(x.shape, x.size(), x.size(1), x.size(-1), x.shape[0], len(x.shape))
        print(x.shape == (3, 4), x.shape == torch.Size([3, 4]), torch.Size([2, 3]))
        print(torch.tensor(1.0).shape, x.shape.numel(), tuple(x.shape), list(x.size()))
        print(f"{x.shape}", "shape: {}".format(x.shape), [x.shape])
        rows, cols = x.shape
        print(rows * cols, x.view(x.size(0), -1).shape, torch.zeros(x.shape).shape)
        result = list(x.shape)
     """),
    ("formatting numbers", """
        loss = torch.tensor(0.123456)
        print(f"{loss:+.2f} {loss:.4f} {loss:8.3f} {loss:e} {loss}")
        print("{}".format(loss), "{:.3f}".format(loss), "loss: {:>10.4f}".format(loss))
        print("%.3f" % loss.item(), f"{torch.tensor(3):d} {torch.tensor(3):03d}")
        print(f"{torch.tensor([1.0, 2.0])}", "{}".format(torch.tensor([1, 2])))
     """),
    ("print options", """
        torch.set_printoptions(precision=2)
        print(torch.tensor([1.23456, 2.5]))
        torch.set_printoptions(sci_mode=False)
        print(torch.tensor([1e-5, 1.0]))
        torch.set_printoptions(threshold=5)
        print(torch.arange(10))
        torch.set_printoptions(profile="default")
        print(torch.tensor([1.23456, 2.5]), torch.arange(10))
     """),
    ("modules print as in PyTorch", """
        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.flatten = torch.nn.Flatten()
                self.stack = torch.nn.Sequential(
                    torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                    torch.nn.Linear(512, 10, bias=False), torch.nn.ReLU(inplace=True),
                    torch.nn.BatchNorm1d(10), torch.nn.LayerNorm(10), torch.nn.LeakyReLU(0.2),
                    torch.nn.Softmax(dim=1))
        print(Net())
        print(torch.nn.Conv2d(1, 6, 5), torch.nn.MaxPool2d(2), torch.nn.Embedding(10, 3))
        m = torch.nn.Linear(2, 2)
        print(m.load_state_dict(m.state_dict()))
     """),
]


class _Cuda:
    """Idioms whose answer is the machine's: compared only where chainrule has no GPU."""

    NAMES = {"the usual device line"}


def _dtype_name(dtype: Any) -> str:
    """'float32' for torch.float32 and for chainrule's (NumPy's) float32: printing a dtype
    itself is the one documented difference (README, "Differences from PyTorch")."""
    return str(dtype).rsplit(".", maxsplit=1)[-1]


def _plain(value: Any) -> Any:
    """Values comparable across the two libraries (tensors as (dtype name, nested lists))."""
    if isinstance(value, (cr.Tensor, torch.Tensor)):
        return (_dtype_name(value.dtype), value.detach().cpu().tolist())
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def _run(module: Any, program: str) -> tuple[str, Any]:
    out = io.StringIO()
    scope: dict[str, Any] = {"torch": module, "np": np, "dtname": _dtype_name}
    with contextlib.redirect_stdout(out):
        exec(textwrap.dedent(program), scope)  # noqa: S102 (the table's own programs)
    module.set_printoptions(profile="default")
    return out.getvalue(), _plain(scope.get("result"))


@pytest.mark.parametrize(("name", "program"), IDIOMS, ids=[name for name, _ in IDIOMS])
def test_idiom_prints_and_computes_as_under_pytorch(name: str, program: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    if name in _Cuda.NAMES and not NO_GPU:
        pytest.skip("PyTorch here is the CPU build; chainrule has a GPU")
    monkeypatch.setitem(__import__("sys").modules, "torch.utils.data", torch.utils.data)
    theirs, their_result = _run(torch, program)
    monkeypatch.setitem(__import__("sys").modules, "torch", cr)
    monkeypatch.setitem(__import__("sys").modules, "torch.utils", cr.utils)
    monkeypatch.setitem(__import__("sys").modules, "torch.utils.data", cr.utils.data)
    monkeypatch.setitem(__import__("sys").modules, "torch.autograd", cr.autograd)
    ours, our_result = _run(cr, program)
    expected = theirs.replace("torch.", "chainrule.")
    assert ours == expected, "\n".join(
        f"{'  ' if a == b else '! '}{b!r}\n  {a!r}"
        for a, b in zip(ours.splitlines(), expected.splitlines(), strict=False))
    assert our_result == their_result


# ---- layers' positional parameters: those of PyTorch, in PyTorch's order --------------
LAYERS = ["Linear", "Conv1d", "Conv2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
          "Embedding", "Dropout", "Dropout2d", "Flatten", "Unflatten", "MaxPool2d",
          "AvgPool2d", "AdaptiveAvgPool2d", "ReLU", "LeakyReLU", "ELU", "GELU", "Softplus",
          "Softmax", "LogSoftmax", "PReLU", "Identity", "Fold", "Unfold"]


@pytest.mark.parametrize("name", LAYERS)
def test_layer_parameters_are_pytorchs_in_its_order(name: str) -> None:
    def names(cls: Any) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    assert names(getattr(cr.nn, name)) == names(getattr(torch.nn, name))


def test_cuda_requests_fail_like_pytorch_on_a_machine_without_one() -> None:
    if not NO_GPU:
        pytest.skip("chainrule has a GPU here")
    attempts = [lambda lib: lib.zeros(2, device="cuda"), lambda lib: lib.ones(2).to("cuda"),
                lambda lib: lib.ones(2).cuda(), lambda lib: lib.nn.Linear(2, 2).to("cuda"),
                lambda lib: lib.nn.Linear(2, 2).cuda(), lambda lib: lib.cuda.current_device()]
    for attempt in attempts:
        with pytest.raises((AssertionError, RuntimeError)):
            attempt(torch)
        with pytest.raises(RuntimeError, match="CUDA is not available here"):
            attempt(cr)


# ---- save / load ---------------------------------------------------------------------
def _trained(lib: Any, optimizer: str) -> tuple[Any, Any]:
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(),
                              lib.nn.Linear(4, 2))
    opt = getattr(lib.optim, optimizer)(model.parameters(), lr=0.1)
    x = lib.tensor(np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32))
    for _ in range(2):
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()
    return model, opt


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_save_and_load_round_trip_model_and_optimizer_state(tmp_path: Path,
                                                            optimizer: str) -> None:
    path = tmp_path / "model.pth"  # the exact name the program gives, no suffix added
    model, opt = _trained(cr, optimizer)
    extra = {"epoch": 3, "loss": float("nan"), "name": "mlp", "none": None,
             "sizes": [3, (4, 2)], 7: "int key"}
    cr.save({"model": model.state_dict(), "optimizer": opt.state_dict(), **extra}, path)
    assert path.is_file() and sorted(p.name for p in tmp_path.iterdir()) == ["model.pth"]
    loaded = cr.load(path, weights_only=True, map_location="cpu")
    assert loaded["epoch"] == 3 and np.isnan(loaded["loss"]) and loaded[7] == "int key"
    assert loaded["name"] == "mlp" and loaded["none"] is None
    assert loaded["sizes"] == [3, (4, 2)]
    for key, value in model.state_dict().items():
        assert isinstance(loaded["model"][key], cr.Tensor)
        assert loaded["model"][key].dtype == value.dtype
        np.testing.assert_array_equal(loaded["model"][key].numpy(), value.numpy())
    fresh, fresh_opt = _trained(cr, optimizer)
    for p in fresh.parameters():
        p.data.zero_()
    fresh.load_state_dict(loaded["model"])
    fresh_opt.load_state_dict(loaded["optimizer"])
    # one more step from the loaded state is the original's next step, bit for bit
    x = cr.tensor(np.random.default_rng(1).normal(size=(8, 3)).astype(np.float32))
    for m, o in ((model, opt), (fresh, fresh_opt)):
        o.zero_grad()
        m(x).pow(2).mean().backward()
        o.step()
    for a, b in zip(model.parameters(), fresh.parameters(), strict=True):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_a_saved_state_dict_loads_in_pytorch_through_safetensors(tmp_path: Path) -> None:
    from safetensors.torch import load_file

    model, _ = _trained(cr, "SGD")
    cr.save(model.state_dict(), tmp_path / "weights.safetensors")
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                                 torch.nn.ReLU(), torch.nn.Linear(4, 2))
    theirs.load_state_dict(load_file(tmp_path / "weights.safetensors"))
    x = np.random.default_rng(2).normal(size=(5, 3)).astype(np.float32)
    model.eval()
    theirs.eval()
    np.testing.assert_allclose(theirs(torch.tensor(x)).detach().numpy(),
                               model(cr.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("zip_format", [True, False])
def test_loading_a_pytorch_file_says_why_not_and_how_to_convert(tmp_path: Path,
                                                                zip_format: bool) -> None:
    path = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(2)}, path, _use_new_zipfile_serialization=zip_format)
    with pytest.raises(RuntimeError) as err:
        cr.load(path, weights_only=True)
    message = str(err.value)
    assert "torch.save" in message and "pickle" in message and "save_file" in message
    assert str(path) in message


@pytest.mark.parametrize(("obj", "complaint"), [
    (cr.nn.Linear(2, 2), "Save its state instead"),
    ({"f": print}, "builtin_function_or_method at f"),
    ({(1, 2): cr.zeros(1)}, "keys must be strings or numbers"),
])
def test_what_cannot_be_saved_without_pickle_is_named(tmp_path: Path, obj: Any,
                                                      complaint: str) -> None:
    with pytest.raises(TypeError, match=complaint):
        cr.save(obj, tmp_path / "x.pt")
    assert not (tmp_path / "x.pt").exists()
