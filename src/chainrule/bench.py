"""One epoch of MNIST MLP training: chainrule (eager and captured) vs PyTorch vs plain NumPy.

Configurations (all SGD on real MNIST, cross-entropy, same initial weights and data order):
  (a) 784-16-16-10 sigmoid, batch 32, lr 0.5
  (b) 784-256-256-10 ReLU, batch 128, momentum 0.9, lr 0.01
  (c) 784-1024-1024-10 ReLU, batch 256, momentum 0.9, lr 0.01

PyTorch computes with as many threads as NumPy's BLAS library (``torch.set_num_threads``),
so neither gets more cores than the other. Without PyTorch installed its rows and the
/torch column are left out, saying so.

Each measurement is a fresh process that trains a warm-up epoch and then times one epoch;
the reported time is the median of 5 processes (two slow processes, common on a shared
machine, cannot move it). All frameworks run in the same invocation, in rounds (each round
runs every framework once), so the ratios are comparable even on a noisy machine. The
per-step overhead is
(epoch time - GEMM-only time) / steps, where GEMM-only runs just the matrix products of
the same forward and backward passes in NumPy.

Run:  python benchmarks/mlp_epoch.py            (needs $CHAINRULE_DATA/mnist and torch)
      chainrule bench                           (the quick version: config a, one process
                                                 each; mini-MNIST when MNIST is not found)

What it prints is English unless a catalogue is passed (``chainrule --lang zh bench``):

>>> from chainrule.i18n import messages
>>> row = {"seconds": 2.0, "accuracy": 0.9, "steps": 100, "peak_mb": 612.4}
>>> res = {"chainrule": row, "numpy": dict(row, seconds=1.0), "gemm": dict(row, seconds=0.5)}
>>> for line in table("a", res, say=messages("zh")):
...     print(line)
配置    框架                      秒    准确率  /numpy       每步开销 us  峰值内存 MiB
a       chainrule              2.000    90.00%    2.00           15000.0           612
a       numpy                  1.000    90.00%    1.00            5000.0           612
a       （仅矩阵乘法）         0.500   各框架的准确率相差不超过 0.00%
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.i18n import Messages, pad

CONFIGS: dict[str, dict[str, Any]] = {
    "a": {"sizes": [784, 16, 16, 10], "act": "sigmoid", "batch": 32, "lr": 0.5, "momentum": 0.0},
    "b": {"sizes": [784, 256, 256, 10], "act": "relu", "batch": 128, "lr": 0.01,
          "momentum": 0.9},
    "c": {"sizes": [784, 1024, 1024, 10], "act": "relu", "batch": 256, "lr": 0.01,
          "momentum": 0.9},
}
FRAMEWORKS = ("chainrule", "chainrule-capture", "chainrule-trainer", "torch", "numpy", "gemm")


def load_mnist() -> tuple[np.ndarray, ...]:
    """Full MNIST when it is found, else the embedded mini-MNIST."""
    from chainrule.data import MNIST, DatasetError, MiniMNIST
    from chainrule.data.datasets import MNISTLike

    train: MNISTLike
    test: MNISTLike
    try:
        train, test = MNIST(train=True), MNIST(train=False)
    except DatasetError:
        train, test = MiniMNIST(train=True), MiniMNIST(train=False)
    return (train.images.reshape(-1, 784).astype(np.float32) / np.float32(255), train.targets,
            test.images.reshape(-1, 784).astype(np.float32) / np.float32(255), test.targets)


def initial_weights(sizes: list[int], seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """PyTorch's default Linear init, drawn once with NumPy so every framework starts equal."""
    rng = np.random.default_rng(seed)
    out = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        bound = 1 / np.sqrt(fan_in)
        out.append((rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
                    rng.uniform(-bound, bound, fan_out).astype(np.float32)))
    return out


def epoch_orders(n: int, epochs: int, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.permutation(n) for _ in range(epochs)]


# ---- the frameworks ----------------------------------------------------------------------


def chainrule_mlp(cfg: dict[str, Any]) -> tuple[Any, Any, Any]:
    """(model, optimizer, loss) of a configuration in chainrule, from :func:`initial_weights`.

    >>> model, opt, loss_fn = chainrule_mlp(CONFIGS["a"])
    >>> [type(m).__name__ for m in model], opt.param_groups[0]["lr"]
    (['Linear', 'Sigmoid', 'Linear', 'Sigmoid', 'Linear'], 0.5)
    """
    import chainrule as cr
    from chainrule import nn

    act = nn.Sigmoid if cfg["act"] == "sigmoid" else nn.ReLU
    layers: list[nn.Module] = []
    for i, (w, b) in enumerate(initial_weights(cfg["sizes"])):
        linear = nn.Linear(w.shape[1], w.shape[0])
        with cr.no_grad():
            linear.weight.copy_(cr.tensor(w))
            linear.bias.copy_(cr.tensor(b))
        layers.append(linear)
        if i < len(cfg["sizes"]) - 2:
            layers.append(act())
    model = nn.Sequential(*layers)
    opt = cr.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"])
    return model, opt, nn.CrossEntropyLoss()


def run_chainrule(cfg: dict[str, Any], data: tuple[np.ndarray, ...], capture: str
                  ) -> tuple[list[float], float]:
    """``capture``: "eager" (the user's loop), "captured" (``chainrule.compile``) or
    "trainer" (``Trainer.fit`` over a ``DataLoader``, its default captured step)."""
    import chainrule as cr
    from chainrule.data import DataLoader, TensorDataset
    from chainrule.train import Trainer

    X, Y, Xt, Yt = data
    model, opt, loss_fn = chainrule_mlp(cfg)
    step = cr.compile(model, loss_fn, opt) if capture == "captured" else None
    trainer = Trainer(model, loss_fn, opt, log=None, progress=False,
                      divergence=None) if capture == "trainer" else None
    times = []
    for epoch, order in enumerate(epoch_orders(len(X), 2)):
        Xs, Ys = X[order], Y[order]
        start = time.perf_counter()
        if trainer is not None:  # the user's DataLoader over this epoch's order
            loader = DataLoader(TensorDataset(Xs, Ys), batch_size=cfg["batch"])
            trainer.fit(loader, epochs=epoch + 1)
            times.append(time.perf_counter() - start)
            continue
        for i in range(0, len(Xs), cfg["batch"]):
            xb = cr.from_numpy(Xs[i:i + cfg["batch"]])
            yb = cr.from_numpy(Ys[i:i + cfg["batch"]])
            if step is not None:
                step(xb, yb)
            else:
                opt.zero_grad()
                loss_fn(model(xb), yb).backward()
                opt.step()
        times.append(time.perf_counter() - start)
    with cr.no_grad():
        acc = float((model(cr.from_numpy(Xt)).numpy().argmax(1) == Yt).mean())
    return times, acc


def numpy_threads() -> int:
    """The threads NumPy's BLAS computes with: threadpoolctl's count when it is installed,
    else the usual environment variables, else the cores (OpenBLAS's and MKL's default)."""
    threads = None
    try:
        from chainrule.train.threads import blas_threads

        threads = blas_threads()[0]
    except ImportError:
        pass
    for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        if threads is None and os.environ.get(name, "").strip().isdigit():
            threads = int(os.environ[name]) or None
    return threads or os.cpu_count() or 1


def run_torch(cfg: dict[str, Any], data: tuple[np.ndarray, ...]) -> tuple[list[float], float]:
    import torch

    torch.set_num_threads(numpy_threads())  # the same cores as NumPy's matrix products
    X, Y, Xt, Yt = data
    layers: list[torch.nn.Module] = []
    for i, (w, b) in enumerate(initial_weights(cfg["sizes"])):
        linear = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if i < len(cfg["sizes"]) - 2:
            layers.append(torch.nn.Sigmoid() if cfg["act"] == "sigmoid" else torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"])
    loss_fn = torch.nn.CrossEntropyLoss()
    times = []
    for order in epoch_orders(len(X), 2):
        Xs, Ys = torch.from_numpy(X[order]), torch.from_numpy(Y[order])
        start = time.perf_counter()
        for i in range(0, len(Xs), cfg["batch"]):
            opt.zero_grad()
            loss_fn(model(Xs[i:i + cfg["batch"]]), Ys[i:i + cfg["batch"]]).backward()
            opt.step()
        times.append(time.perf_counter() - start)
    with torch.no_grad():
        acc = float((model(torch.from_numpy(Xt)).argmax(1).numpy() == Yt).mean())
    return times, acc


def numpy_training(cfg: dict[str, Any], gemm_only: bool = False
                   ) -> tuple[Callable[[np.ndarray, np.ndarray], None], list[Any]]:
    """A hand-written forward/backward/update: what the arithmetic costs without a framework.

    Returns ``(train, params)``: ``train(xs, ys)`` runs one SGD step per batch of the
    configuration's size, in order; ``params`` are the (weight, bias) arrays it updates in
    place (from :func:`initial_weights`). With ``gemm_only`` only the matrix products of the
    same passes run (no activations, no loss, no updates): the floor that any
    implementation pays.

    >>> train, params = numpy_training(CONFIGS["a"])
    >>> before = params[0][0].copy()
    >>> train(np.ones((32, 784), np.float32), np.zeros(32, np.int64))
    >>> bool((params[0][0] != before).any())
    True
    """
    params = [(w.copy(), b.copy()) for w, b in initial_weights(cfg["sizes"])]
    velocity = [(np.zeros_like(w), np.zeros_like(b)) for w, b in params]
    sigmoid = cfg["act"] == "sigmoid"
    lr, mom, n_layers = np.float32(cfg["lr"]), np.float32(cfg["momentum"]), len(params)
    batch = cfg["batch"]

    def train(xs: np.ndarray, ys: np.ndarray) -> None:
        for i in range(0, len(xs), batch):
            a, y = xs[i:i + batch], ys[i:i + batch]
            acts = [a]
            for layer, (w, b) in enumerate(params):
                a = a @ w.T
                if not gemm_only:
                    a += b
                    if layer < n_layers - 1:
                        a = 1 / (1 + np.exp(-a)) if sigmoid else np.maximum(a, 0)
                acts.append(a)
            g = a
            if not gemm_only:  # softmax cross-entropy gradient, mean over the batch
                e = np.exp(a - a.max(axis=1, keepdims=True))
                g = e / e.sum(axis=1, keepdims=True)
                g[np.arange(len(y)), y] -= 1
                g /= np.float32(len(y))
            for layer in range(n_layers - 1, -1, -1):
                w, b = params[layer]
                gw = g.T @ acts[layer]
                gb = g.sum(axis=0)
                if layer:
                    g = g @ w
                    if not gemm_only:
                        h = acts[layer]
                        g *= h * (1 - h) if sigmoid else (h > 0)
                if gemm_only:
                    continue
                if mom:
                    vw, vb = velocity[layer]
                    vw *= mom
                    vw += gw
                    vb *= mom
                    vb += gb
                    gw, gb = vw, vb
                w -= lr * gw
                b -= lr * gb
    return train, params


def run_numpy(cfg: dict[str, Any], data: tuple[np.ndarray, ...], gemm_only: bool = False
              ) -> tuple[list[float], float]:
    """:func:`numpy_training`'s epochs, timed; the test accuracy after them."""
    X, Y, Xt, Yt = data
    train, params = numpy_training(cfg, gemm_only)
    times = []
    for order in epoch_orders(len(X), 2):
        Xs, Ys = X[order], Y[order]
        start = time.perf_counter()
        train(Xs, Ys)
        times.append(time.perf_counter() - start)
    a = Xt
    for layer, (w, b) in enumerate(params):
        a = a @ w.T + b
        if layer < len(params) - 1:
            a = 1 / (1 + np.exp(-a)) if cfg["act"] == "sigmoid" else np.maximum(a, 0)
    return times, float((a.argmax(1) == Yt).mean())


def worker(framework: str, config: str) -> dict[str, Any]:
    cfg = CONFIGS[config]
    data = load_mnist()
    if framework == "torch":
        times, acc = run_torch(cfg, data)
    elif framework in ("numpy", "gemm"):
        times, acc = run_numpy(cfg, data, gemm_only=framework == "gemm")
    else:
        mode = {"chainrule-capture": "captured", "chainrule-trainer": "trainer"}
        times, acc = run_chainrule(cfg, data, capture=mode.get(framework, "eager"))
    steps = -(-len(data[0]) // cfg["batch"])
    return {"seconds": times[-1], "warmup": times[0], "accuracy": acc, "steps": steps,
            "peak_mb": peak_rss_mb()}


def peak_rss_mb() -> float | None:
    """This process's peak resident memory in MiB (None where the OS does not say): the
    data (the same arrays for every framework), the library and the training's arrays."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, else KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def libraries(with_torch: bool) -> str:
    """NumPy's version and BLAS (threadpoolctl's name, version and kernel), and PyTorch's
    version and BLAS, as the heading prints them."""
    parts = [f"NumPy {np.__version__}"]
    try:
        from threadpoolctl import threadpool_info

        blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if blas:
            info = blas[0]
            kernel = f" {info['architecture']}" if info.get("architecture") else ""
            parts[0] += f" + {info['internal_api']} {info.get('version') or ''}{kernel}".rstrip()
    except ImportError:
        pass
    if with_torch:
        import re

        import torch

        found = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
        parts.append(f"torch {torch.__version__} + {found.group(1) if found else 'its BLAS'}")
    return ", ".join(parts)


def run_worker(framework: str, config: str) -> dict[str, Any]:
    """One fresh process: a warm-up epoch, then the timed one."""
    out = subprocess.run([sys.executable, "-m", "chainrule.bench", "--worker", framework,
                          config], capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def measure(frameworks: list[str], config: str, repeats: int) -> dict[str, dict[str, Any]]:
    """Median epoch time per framework over ``repeats`` rounds.

    Each round runs every framework once, one after another, so a slow spell of a shared
    machine falls on all frameworks alike instead of on one framework's repeats.
    """
    runs: dict[str, list[dict[str, Any]]] = {f: [] for f in frameworks}
    for _ in range(repeats):
        for f in frameworks:
            runs[f].append(run_worker(f, config))
    return {f: {"seconds": statistics.median(r["seconds"] for r in rs),
                "accuracy": rs[0]["accuracy"], "steps": rs[0]["steps"],
                "peak_mb": max((r.get("peak_mb") or 0.0) for r in rs) or None}
            for f, rs in runs.items()}


def main(argv: list[str] | None = None, say: Messages | None = None) -> dict[str, Any]:
    """Measure and print the table (``argv``: this module's flags; ``say``: the catalogue of
    what it prints, None: English); the results by configuration and framework."""
    say = say or Messages("en")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="config (a), one process each")
    parser.add_argument("--configs", default=None, help="e.g. 'ab' (default: all)")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return {}
    configs = args.configs or ("a" if args.quick else "abc")
    repeats = args.repeats or (1 if args.quick else 5)
    frameworks = [f for f in FRAMEWORKS if f != "torch" or _has_torch(say)]
    results: dict[str, Any] = {}
    n_train = len(load_mnist()[0])
    print(say("bench.heading", images=f"{n_train:,}", repeats=repeats, cores=os.cpu_count(),
              threads=numpy_threads(),
              torch=say("bench.torch_pinned") if "torch" in frameworks else "",
              libraries=libraries("torch" in frameworks)))
    for i, config in enumerate(configs):
        res = measure(frameworks, config, repeats)
        results[config] = res
        for line in table(config, res, header=i == 0, say=say):
            print(line)
    return results


def table(config: str, res: dict[str, dict[str, Any]], header: bool = True,
          say: Messages | None = None) -> list[str]:
    """The printed rows of one configuration (``res``: :func:`measure`'s result); the /torch
    column only when PyTorch was measured. ``say``: the catalogue of the headings (None:
    English), aligned in terminal columns."""
    say = say or Messages("en")
    with_torch = "torch" in res
    lines = []
    if header:
        lines.append(pad(say("bench.config"), 8) + pad(say("bench.framework"), 19)
                     + pad(say("bench.seconds"), 9, ">") + pad(say("bench.accuracy"), 10, ">")
                     + (f"{'/torch':>8}" if with_torch else "")
                     + f"{'/numpy':>8}" + pad(say("bench.overhead"), 18, ">")
                     + pad(say("bench.peak"), 14, ">"))
    gemm = res["gemm"]["seconds"]
    for f, r in res.items():
        if f == "gemm":
            continue
        vs_torch = f"{r['seconds'] / res['torch']['seconds']:>8.2f}" if with_torch else ""
        overhead = (r["seconds"] - gemm) / r["steps"] * 1e6
        peak = f"{r['peak_mb']:>14.0f}" if r.get("peak_mb") else f"{'-':>14}"
        lines.append(f"{config:<8}{f:<19}{r['seconds']:>9.3f}{r['accuracy']:>10.2%}{vs_torch}"
                     f"{r['seconds'] / res['numpy']['seconds']:>8.2f}{overhead:>18.1f}{peak}")
    accs = [r["accuracy"] for f, r in res.items() if f != "gemm"]
    lines.append(f"{config:<8}" + pad(say("bench.gemm_only"), 19) + f"{gemm:>9.3f}   "
                 + say("bench.agree", spread=f"{max(accs) - min(accs):.2%}"))
    return lines


def _has_torch(say: Messages | None = None) -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        print((say or Messages("en"))("bench.no_torch"))
        return False
    return True


if __name__ == "__main__":
    main()
