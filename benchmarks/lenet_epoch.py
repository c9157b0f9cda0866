"""One MNIST epoch of LeNet-5: chainrule (eager, captured) vs PyTorch eager vs plain NumPy.

LeNet-5 as ``chainrule train --model lenet`` builds it (conv 6@5x5 pad 2, ReLU, max-pool 2,
conv 16@5x5, ReLU, max-pool 2, 400-120-84-10 with ReLU), batch 64, SGD lr 0.01 momentum 0.9,
cross-entropy. Every framework starts from the same weights (PyTorch's default init drawn
once with NumPy) and sees the same data order.

Each measurement is a fresh process that trains ``--warmup`` steps (default 200), then
times one full epoch (938 steps) and reports the test accuracy after it. Frameworks run in
rounds (each round runs every framework once) and each time is the median over the rounds,
so a slow spell of the machine falls on all of them alike; the ratios are what to read.

* ``numpy``: a hand-written forward/backward with the same algorithm as chainrule
  (im2col by stride tricks and one GEMM per conv layer, col2im by slice-adds, 2x2
  max-pooling by a reshape): the arithmetic without a framework.
* ``gemm``: only the matrix products of those passes, on arrays of the same shapes:
  the floor any im2col implementation pays. gemm / chainrule is the GEMM share of
  chainrule's step.

``--profile`` instead runs 200 eager chainrule steps in this process with every op's
``forward`` and ``backward`` timed, and prints where a step's time goes.

Run:  CHAINRULE_DATA=... python benchmarks/lenet_epoch.py [--repeats 5] [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from chainrule.bench import load_mnist

FRAMEWORKS = ("chainrule", "chainrule-capture", "torch", "numpy", "gemm")
BATCH, LR, MOMENTUM = 64, 0.01, 0.9
# (name, shape) of each layer's weight, in order; biases have shape[0]
LAYERS = (("conv1", (6, 1, 5, 5)), ("conv2", (16, 6, 5, 5)), ("fc1", (120, 400)),
          ("fc2", (84, 120)), ("fc3", (10, 84)))


def initial_weights(seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """PyTorch's default Conv2d/Linear init (U(+-1/sqrt(fan_in)) for weight and bias)."""
    rng = np.random.default_rng(seed)
    out = []
    for _, shape in LAYERS:
        bound = 1 / np.sqrt(np.prod(shape[1:]))
        out.append((rng.uniform(-bound, bound, shape).astype(np.float32),
                    rng.uniform(-bound, bound, shape[0]).astype(np.float32)))
    return out


def images() -> tuple[np.ndarray, ...]:
    X, Y, Xt, Yt = load_mnist()
    return X.reshape(-1, 1, 28, 28), Y, Xt.reshape(-1, 1, 28, 28), Yt


def batches(n: int, warmup: int) -> list[tuple[int, np.ndarray]]:
    """(warm-up steps, then one epoch): (step index, sample indices) of every step."""
    rng = np.random.default_rng(1)
    first, second = rng.permutation(n), rng.permutation(n)
    steps = [first[i:i + BATCH] for i in range(0, warmup * BATCH, BATCH)]
    steps += [second[i:i + BATCH] for i in range(0, n, BATCH)]
    return list(enumerate(steps))


# ---- the frameworks ----------------------------------------------------------------------


def lenet(nn: Any) -> Any:
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


def _load(model: Any, lib: Any, convert: Any) -> None:
    layers = [m for m in model if hasattr(m, "weight")]
    with lib.no_grad():
        for layer, (w, b) in zip(layers, initial_weights(), strict=True):
            layer.weight.copy_(convert(w))
            layer.bias.copy_(convert(b))


def run_chainrule(data: tuple[np.ndarray, ...], warmup: int, capture: bool
                  ) -> tuple[float, float]:
    import chainrule as cr
    from chainrule import nn

    X, Y, Xt, Yt = data
    model = lenet(nn)
    _load(model, cr, cr.tensor)
    opt = cr.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = nn.CrossEntropyLoss()
    step = cr.compile(model, loss_fn, opt) if capture else None
    start = 0.0
    for i, index in batches(len(X), warmup):
        if i == warmup:
            start = time.perf_counter()
        xb, yb = cr.from_numpy(X[index]), cr.from_numpy(Y[index])
        if step is not None:
            step(xb, yb)
        else:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
    seconds = time.perf_counter() - start
    model.eval()
    with cr.no_grad():
        logits = np.concatenate([model(cr.from_numpy(Xt[i:i + 1000])).numpy()
                                 for i in range(0, len(Xt), 1000)])
    return seconds, float((logits.argmax(1) == Yt).mean())


def run_torch(data: tuple[np.ndarray, ...], warmup: int) -> tuple[float, float]:
    import torch

    if os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    X, Y, Xt, Yt = (torch.from_numpy(a) for a in data)
    model = lenet(torch.nn)
    _load(model, torch, torch.from_numpy)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()
    start = 0.0
    for i, index in batches(len(X), warmup):
        if i == warmup:
            start = time.perf_counter()
        index_t = torch.from_numpy(index)
        opt.zero_grad()
        loss_fn(model(X[index_t]), Y[index_t]).backward()
        opt.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        accuracy = float((model(Xt).argmax(1) == Yt).float().mean())
    return seconds, accuracy


def _conv(x: np.ndarray, W: np.ndarray, b: np.ndarray, pad: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """(y, columns): im2col by a strided view and one GEMM."""
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, h, w = x.shape
    o, _, k, _ = W.shape
    ho, wo = h - k + 1, w - k + 1
    cols = sliding_window_view(x, (k, k), axis=(2, 3)).transpose(0, 1, 4, 5, 2, 3)
    cols = cols.reshape(n, c * k * k, ho * wo)
    y = np.matmul(W.reshape(o, -1), cols)
    y += b[:, None]
    return y.reshape(n, o, ho, wo), cols


def _conv_back(gy: np.ndarray, cols: np.ndarray, W: np.ndarray, x_shape: tuple[int, ...],
               pad: int, need_x: bool) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    n, o, ho, wo = gy.shape
    g = gy.reshape(n, o, ho * wo)
    gW = np.matmul(g, cols.transpose(0, 2, 1)).sum(axis=0).reshape(W.shape)
    gb = g.sum(axis=(0, 2))
    if not need_x:
        return None, gW, gb
    c, k = W.shape[1], W.shape[2]
    # batch-last, as chainrule does it: one GEMM, then kH*kW slice-adds over runs of Wo*N
    g_t = gy.transpose(1, 2, 3, 0).reshape(o, ho * wo * n)
    dcols = W.reshape(o, -1).T.dot(g_t).reshape(c, k, k, ho, wo, n)
    gx = np.zeros((c, x_shape[2] + 2 * pad, x_shape[3] + 2 * pad, n), np.float32)
    for i in range(k):
        for j in range(k):
            gx[:, i:i + ho, j:j + wo] += dcols[:, i, j]
    gx = gx[:, pad:pad + x_shape[2], pad:pad + x_shape[3]]
    return np.ascontiguousarray(gx.transpose(3, 0, 1, 2)), gW, gb


QUARTERS = ((0, 0), (0, 1), (1, 0), (1, 1))  # the 2x2 window's pixels, in scan order


def _pool(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2x2 max-pooling: (y, the index 0-3 of each window's first maximum)."""
    views = [x[:, :, i::2, j::2] for i, j in QUARTERS]
    y = views[0].copy()
    for v in views[1:]:
        np.maximum(y, v, out=y)
    index = np.zeros(y.shape, np.uint8)
    found = views[0] == y
    for p, v in enumerate(views[1:], 1):
        hit = v == y
        hit &= ~found
        found |= hit
        index += hit * np.uint8(p)
    return y, index


def _pool_back(g: np.ndarray, index: np.ndarray) -> np.ndarray:
    """The gradient to each window's first maximum (as PyTorch and chainrule send it)."""
    n, c, h, w = g.shape
    gx = np.empty((n, c, 2 * h, 2 * w), np.float32)
    for p, (i, j) in enumerate(QUARTERS):
        np.multiply(g, index == p, out=gx[:, :, i::2, j::2])
    return gx


def _numpy_step(params: list[Any], velocity: list[Any], x: np.ndarray, y: np.ndarray) -> None:
    (W1, b1), (W2, b2), (W3, b3), (W4, b4), (W5, b5) = params
    z1, cols1 = _conv(x, W1, b1, 2)
    a1 = np.maximum(z1, 0)
    p1, m1 = _pool(a1)
    z2, cols2 = _conv(p1, W2, b2, 0)
    a2 = np.maximum(z2, 0)
    p2, m2 = _pool(a2)
    f = p2.reshape(len(x), -1)
    h3 = np.maximum(f.dot(W3.T) + b3, 0)
    h4 = np.maximum(h3.dot(W4.T) + b4, 0)
    out = h4.dot(W5.T) + b5
    e = np.exp(out - out.max(axis=1, keepdims=True))
    g = e / e.sum(axis=1, keepdims=True)
    g[np.arange(len(y)), y] -= 1
    g /= np.float32(len(y))
    grads = [None] * 5
    grads[4] = (g.T.dot(h4), g.sum(0))
    g = g.dot(W5) * (h4 > 0)
    grads[3] = (g.T.dot(h3), g.sum(0))
    g = g.dot(W4) * (h3 > 0)
    grads[2] = (g.T.dot(f), g.sum(0))
    g = g.dot(W3).reshape(p2.shape)
    g = _pool_back(g, m2) * (z2 > 0)
    g, gW, gb = _conv_back(g, cols2, W2, p1.shape, 0, True)
    grads[1] = (gW, gb)
    g = _pool_back(g, m1) * (z1 > 0)
    _, gW, gb = _conv_back(g, cols1, W1, x.shape, 2, False)
    grads[0] = (gW, gb)
    for (w, b), (vw, vb), (gw, gbias) in zip(params, velocity, grads, strict=True):
        vw *= MOMENTUM
        vw += gw
        vb *= MOMENTUM
        vb += gbias
        w -= np.float32(LR) * vw
        b -= np.float32(LR) * vb


def _gemm_operands(params: list[Any]) -> list[tuple[np.ndarray, ...]]:
    """Arrays laid out as chainrule's ops hand them to BLAS (random values, same shapes)."""
    rng = np.random.default_rng(0)
    operands: list[tuple[np.ndarray, ...]] = []
    for (w, _), length in zip(params[:2], (28 * 28, 10 * 10), strict=True):  # output pixels
        o, ckk = w.shape[0], w[0].size
        operands.append((w.reshape(1, o, ckk),  # forward: W @ cols[n], batched over n
                         rng.random((BATCH, 1, ckk, length), np.float32),
                         rng.random((BATCH, 1, o, length), np.float32),  # dy
                         rng.random((1, o, length * BATCH), np.float32)))  # dy batch-last
    for w, _ in params[2:]:
        operands.append((w, rng.random((BATCH, w.shape[1]), np.float32)))
    return operands


def _gemm_step(operands: list[tuple[np.ndarray, ...]]) -> None:
    """The matrix products of one step, as chainrule calls them: per conv layer
    matmul(W, cols) and matmul(dy, cols^T) batched over the images, and (but for the first
    layer, whose input needs no gradient) matmul(W^T, dy) as one product on the batch-last
    dy; per linear layer x.dot(W.T), dy.T.dot(x) and (but for the first) dy.dot(W)."""
    for i, arrays in enumerate(operands):
        if len(arrays) == 4:
            w3, cols, gy4, gy_t = arrays
            np.matmul(w3, cols)
            np.matmul(gy4, cols.swapaxes(-1, -2))
            if i:
                np.matmul(w3.swapaxes(1, 2), gy_t)
        else:
            w, x = arrays
            y = x.dot(w.T)
            y.T.dot(x)
            y.dot(w)


def run_numpy(data: tuple[np.ndarray, ...], warmup: int, gemm_only: bool = False
              ) -> tuple[float, float]:
    X, Y, Xt, Yt = data
    params = initial_weights()
    velocity = [(np.zeros_like(w), np.zeros_like(b)) for w, b in params]
    operands = _gemm_operands(params)
    start = 0.0
    for i, index in batches(len(X), warmup):
        if i == warmup:
            start = time.perf_counter()
        if gemm_only:
            _gemm_step(operands)
        else:
            _numpy_step(params, velocity, X[index], Y[index])
    seconds = time.perf_counter() - start
    if gemm_only:
        return seconds, float("nan")
    h = Xt
    (W1, b1), (W2, b2), (W3, b3), (W4, b4), (W5, b5) = params
    h = _pool(np.maximum(_conv(h, W1, b1, 2)[0], 0))[0]
    h = _pool(np.maximum(_conv(h, W2, b2, 0)[0], 0))[0].reshape(len(h), -1)
    h = np.maximum(np.maximum(h.dot(W3.T) + b3, 0).dot(W4.T) + b4, 0).dot(W5.T) + b5
    return seconds, float((h.argmax(1) == Yt).mean())


def worker(framework: str, warmup: int) -> dict[str, Any]:
    data = images()
    if framework == "torch":
        seconds, accuracy = run_torch(data, warmup)
    elif framework in ("numpy", "gemm"):
        seconds, accuracy = run_numpy(data, warmup, gemm_only=framework == "gemm")
    else:
        seconds, accuracy = run_chainrule(data, warmup, capture=framework == "chainrule-capture")
    return {"seconds": seconds, "accuracy": accuracy, "steps": -(-len(data[0]) // BATCH)}


# ---- the profile -------------------------------------------------------------------------


def profile(steps: int = 200) -> None:
    """Eager chainrule steps with every op's forward and backward timed."""
    import chainrule as cr
    from chainrule import nn
    from chainrule.autograd.function import Function

    totals: dict[str, float] = defaultdict(float)

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args)
            finally:
                totals[name] += time.perf_counter() - t
        return staticmethod(wrapper)

    classes = list(Function.__subclasses__())
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        for part in ("forward", "backward"):
            if part in vars(cls):
                setattr(cls, part, timed(f"{cls.__name__}.{part}", vars(cls)[part].__func__))
    X, Y, _, _ = images()
    model = lenet(nn)
    _load(model, cr, cr.tensor)
    opt = cr.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = nn.CrossEntropyLoss()
    for i, index in batches(len(X), 0)[:steps + 20]:
        if i == 20:
            totals.clear()
            start = time.perf_counter()
        opt.zero_grad()
        loss_fn(model(cr.from_numpy(X[index])), cr.from_numpy(Y[index])).backward()
        opt.step()
    step = (time.perf_counter() - start) / steps
    print(f"eager step {step * 1e3:.2f} ms (mean of {steps}); per op, ms per step and share:")
    for name, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<28}{seconds / steps * 1e3:8.3f}{seconds / steps / step:8.1%}")
    ops = sum(totals.values()) / steps
    print(f"  {'all ops':<28}{ops * 1e3:8.3f}{ops / step:8.1%}  (the rest: graph, modules, "
          "optimizer)")


# ---- the driver --------------------------------------------------------------------------


# The hand-written loop holds a step's arrays until the step ends; glibc then gives the freed
# top of the heap back to the OS and faults it in again next step (about 3,800 minor page
# faults and 9 ms per step, measured). Its process keeps the memory instead, so the baseline
# is the arithmetic; chainrule frees arrays as it goes and has no such faults.
NUMPY_ENV = {"MALLOC_TRIM_THRESHOLD_": str(1 << 30), "MALLOC_MMAP_THRESHOLD_": str(1 << 30)}


def run_worker(framework: str, warmup: int, threads: int | None = None) -> dict[str, Any]:
    env = dict(os.environ)
    if framework in ("numpy", "gemm"):
        env.update(NUMPY_ENV)
    if threads:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(threads)
    out = subprocess.run([sys.executable, __file__, "--worker", framework, str(warmup)],
                         capture_output=True, text=True, check=True, env=env)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--threads", type=int, default=None, help="BLAS/OpenMP threads of "
                        "every framework (default: theirs, here 2)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]))))
        return
    if args.profile:
        profile()
        return
    frameworks = args.frameworks.split(",")
    runs: dict[str, list[dict[str, Any]]] = {f: [] for f in frameworks}
    threads = f"{args.threads} thread(s)" if args.threads else "default threads"
    print(f"LeNet-5, one MNIST epoch after {args.warmup} warm-up steps, batch {BATCH}, SGD lr "
          f"{LR} momentum {MOMENTUM}; median of {args.repeats} rounds; {os.cpu_count()} cores, "
          f"{threads}")
    for r in range(args.repeats):
        for f in frameworks:
            runs[f].append(run_worker(f, args.warmup, args.threads))
        print(f"round {r + 1}: " + ", ".join(f"{f} {runs[f][-1]['seconds']:.2f}s"
                                             for f in frameworks), flush=True)
    med = {f: statistics.median(r["seconds"] for r in rs) for f, rs in runs.items()}
    print(f"{'framework':<19}{'seconds':>9}{'accuracy':>10}{'/torch':>8}{'/numpy':>8}"
          f"{'GEMM share':>12}")
    for f in frameworks:
        accuracy = runs[f][0]["accuracy"]
        vs_torch = med[f] / med["torch"] if "torch" in med else float("nan")
        vs_numpy = med[f] / med["numpy"] if "numpy" in med else float("nan")
        share = med["gemm"] / med[f] if "gemm" in med else float("nan")
        print(f"{f:<19}{med[f]:>9.2f}{accuracy:>10.2%}{vs_torch:>8.2f}{vs_numpy:>8.2f}"
              f"{share:>12.0%}")
    if "torch" in runs:  # the same ratio round by round: how much it moves
        for f in ("chainrule", "chainrule-capture"):
            if f in runs:
                ratios = [a["seconds"] / b["seconds"] for a, b in zip(runs[f], runs["torch"],
                                                                    strict=True)]
                print(f"{f} / torch per round: " + ", ".join(f"{x:.2f}" for x in ratios))


if __name__ == "__main__":
    main()
