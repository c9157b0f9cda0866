"""The benchmark and the memory bound of long runs."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chainrule import bench
from chainrule.cli import main


def test_chainrule_bench_quick_runs_and_agrees(capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    """Run as on a machine without PyTorch (its import fails): it says so, prints no nan."""
    monkeypatch.delenv("CHAINRULE_DATA", raising=False)  # the embedded mini-MNIST: fast
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    assert main(["bench"]) == 0
    out = capsys.readouterr().out
    for name in ("chainrule ", "chainrule-capture", "chainrule-trainer", "numpy",
                 "(gemm only)", "PyTorch is not installed", "peak RSS MiB", "NumPy "):
        assert name in out
    header = next(line for line in out.splitlines() if line.startswith("config"))
    assert "nan" not in out and "/torch" not in header
    rows = [line.split() for line in out.splitlines() if line.startswith("a ")]
    accuracies = {row[3] for row in rows if row[1] != "(gemm"}
    assert len(rows) == 5 and len(accuracies) == 1, out  # the Trainer trains the same weights
    assert all(20 < float(row[-1]) < 4000 for row in rows[:-1]), out  # peak RSS in MiB
    agree = float(out.split("accuracies agree within ")[1].split("%")[0])
    assert agree <= 0.5


MEMORY_SCRIPT = """
import sys, numpy as np, chainrule as cr
from chainrule import nn
cr.manual_seed(0)
model = nn.Sequential(nn.Linear(784, 16), nn.Sigmoid(), nn.Linear(16, 16), nn.Sigmoid(),
                      nn.Linear(16, 10))
opt = cr.optim.SGD(model.parameters(), lr=0.5)
loss_fn = nn.CrossEntropyLoss()
step = cr.compile(model, loss_fn, opt) if sys.argv[1] == "capture" else None
rng = np.random.default_rng(0)
X = rng.random((3200, 784), dtype=np.float32)
Y = rng.integers(0, 10, 3200)

def status_kb(key):  # VmHWM is this process image's peak RSS (ru_maxrss survives exec)
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])

for i in range(10_000):
    j = (i % 100) * 32
    x, y = cr.from_numpy(X[j:j + 32]), cr.from_numpy(Y[j:j + 32])
    if step is not None:
        step(x, y)
    else:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    if i == 100:
        at_100 = status_kb("VmRSS")
print(at_100, status_kb("VmHWM"))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc")
@pytest.mark.parametrize("mode", ["eager", "capture"])
def test_peak_rss_of_10000_steps_within_10_percent_of_step_100(mode: str) -> None:
    out = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, mode], capture_output=True,
                         text=True, check=True, timeout=300)
    at_100, peak = map(int, out.stdout.split())
    assert peak <= at_100 * 1.10, f"RSS after step 100 {at_100} kB, peak {peak} kB"


def test_eager_floor_experiment_runs_every_variant(tmp_path: Path) -> None:
    """benchmarks/eager_floor.py patches chainrule's internals: this fails when they move."""
    script = Path(__file__).parent.parent / "benchmarks" / "eager_floor.py"
    env = {k: v for k, v in os.environ.items() if k != "CHAINRULE_DATA"}  # mini-MNIST
    env["XDG_CACHE_HOME"] = str(tmp_path)
    out = subprocess.run([sys.executable, str(script), "--images", "320"], env=env,
                         capture_output=True, text=True, check=True, timeout=300).stdout
    rows = [line.rsplit(None, 2) for line in out.splitlines()[1:]]
    assert [name.strip(" -") for name, _, _ in rows] == [
        "hand-written NumPy loop", "chainrule eager, as shipped",
        "modules and functional checks", "apply's versions, anomaly, capture",
        "engine's hooks, checks, capture", "optimizer's groups and state"]
    assert all(float(us) > 0 and float(ratio) > 0 for _, us, ratio in rows)


def test_bench_without_torch_says_so_and_prints_no_nan(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    assert not bench._has_torch()
    assert "PyTorch is not installed" in capsys.readouterr().out
    row = {"seconds": 2.0, "accuracy": 0.9, "steps": 100}
    res = {"chainrule": row, "chainrule-capture": dict(row, seconds=1.0),
           "numpy": dict(row, seconds=1.0), "gemm": dict(row, seconds=0.5)}
    text = "\n".join(bench.table("a", res))
    assert "nan" not in text and "/torch" not in text
    assert "/torch" in "\n".join(bench.table("a", dict(res, torch=row)))


def test_torch_is_pinned_to_numpys_threads() -> None:
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    rng = np.random.default_rng(0)
    data = (rng.random((64, 784), dtype=np.float32), rng.integers(0, 10, 64),
            rng.random((16, 784), dtype=np.float32), rng.integers(0, 10, 16))
    try:
        torch.set_num_threads(bench.numpy_threads() + 1)
        bench.run_torch(bench.CONFIGS["a"], data)
        assert torch.get_num_threads() == bench.numpy_threads()
    finally:
        torch.set_num_threads(before)


def test_numpy_threads_reads_the_environment_without_threadpoolctl(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    assert bench.numpy_threads() == 3
