"""The benchmark and the memory bound of long runs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chainrule.cli import main


def test_chainrule_bench_quick_runs_and_agrees(capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    monkeypatch.delenv("CHAINRULE_DATA", raising=False)  # the embedded mini-MNIST: fast
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert main(["bench"]) == 0
    out = capsys.readouterr().out
    for name in ("chainrule ", "chainrule-capture", "numpy", "(gemm only)"):
        assert name in out
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
