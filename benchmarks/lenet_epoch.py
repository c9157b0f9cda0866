"""One MNIST epoch of LeNet-5: chainrule (eager, captured) vs PyTorch eager, in one process.

LeNet-5 as ``chainrule train --model lenet`` builds it (conv 6@5x5 pad 2, ReLU, max-pool 2,
conv 16@5x5, ReLU, max-pool 2, 400-120-84-10 with ReLU), batch 64, SGD lr 0.01 momentum 0.9,
cross-entropy. Every framework starts from the same weights (PyTorch's default init drawn
once with NumPy) and sees the same data order.

All frameworks live in this one process. Each trains ``--warmup`` steps (default 50), then
the timed epoch (938 steps, or ``--steps``) is cut into ``--rounds`` chunks; each round runs
one chunk with every framework in turn (the order rotating), so a slow spell of a shared
machine falls on all of them alike. It prints each framework's total time, the median
round's time per step, the ratio to PyTorch (of the totals, and the median of the rounds'
ratios), the test accuracy after the epoch, the threads each uses and the load average.

The ``gemm`` framework runs only the matrix products of chainrule's step, at its shapes and
with its BLAS thread policy (``lenet_numpy.py``): gemm / chainrule is the GEMM share of
chainrule's step. ``numpy`` (not run by default) is a hand-written NumPy loop with the same
algorithm; it keeps a step's arrays until the step ends, and in a process with glibc's
default heap trimming it then pays page faults every step (run it with
``MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_MMAP_THRESHOLD_=1073741824`` in the environment).

``--profile`` instead runs 200 eager chainrule steps with every op's ``forward`` and
``backward`` timed, and prints where a step's time goes.

Run:  CHAINRULE_DATA=... python benchmarks/lenet_epoch.py [--threads N] [--steps S] [--profile]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.bench import load_mnist

sys.path.insert(0, str(Path(__file__).resolve().parent))  # lenet_numpy beside this file
from lenet_numpy import (  # noqa: E402
    BATCH,
    LR,
    MOMENTUM,
    Stepper,
    _gemm_operands,
    _gemm_step,
    _load,
    _numpy_step,
    initial_weights,
    lenet,
    make_numpy,
)

__all__ = ["BATCH", "LR", "MOMENTUM", "_gemm_operands", "_gemm_step", "_load",
           "_numpy_step", "initial_weights", "lenet"]  # what tests/test_lenet_bench.py uses

FRAMEWORKS = ("chainrule", "chainrule-capture", "torch", "gemm")  # "numpy": see the docstring


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


def make_chainrule(data: tuple[np.ndarray, ...], capture: bool = False) -> Stepper:
    """The user's plain loop (or ``chainrule.compile``'s captured step) on chainrule."""
    import chainrule as cr
    from chainrule import nn

    X, Y, Xt, Yt = data
    model = lenet(nn)
    _load(model, cr, cr.tensor)
    opt = cr.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = nn.CrossEntropyLoss()
    captured = cr.compile(model, loss_fn, opt) if capture else None

    def step(index: np.ndarray) -> None:
        xb, yb = cr.from_numpy(X[index]), cr.from_numpy(Y[index])
        if captured is not None:
            captured(xb, yb)
        else:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()

    def evaluate() -> float:
        model.eval()
        with cr.no_grad():
            logits = np.concatenate([model(cr.from_numpy(Xt[i:i + 1000])).numpy()
                                     for i in range(0, len(Xt), 1000)])
        return float((logits.argmax(1) == Yt).mean())

    return step, evaluate


def make_torch(data: tuple[np.ndarray, ...]) -> Stepper:
    """PyTorch's eager loop, with its own threads (or ``--threads``)."""
    import torch

    X, Y, Xt, Yt = (torch.from_numpy(a) for a in data)
    model = lenet(torch.nn)
    _load(model, torch, torch.from_numpy)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(index: np.ndarray) -> None:
        index_t = torch.from_numpy(index)
        opt.zero_grad()
        loss_fn(model(X[index_t]), Y[index_t]).backward()
        opt.step()

    def evaluate() -> float:
        with torch.no_grad():
            return float((model(Xt).argmax(1) == Yt).float().mean())

    return step, evaluate



MAKERS = {"chainrule": make_chainrule,
          "chainrule-capture": lambda data: make_chainrule(data, capture=True),
          "torch": make_torch, "numpy": make_numpy,
          "gemm": lambda data: make_numpy(data, gemm_only=True)}


# ---- the profile -------------------------------------------------------------------------


def profile(steps: int = 200) -> None:
    """Eager chainrule steps with every op's forward and backward timed, in CPU time of this
    thread (on a shared machine wall time also counts the waits for a core): run it with
    one BLAS thread (``OPENBLAS_NUM_THREADS=1``), so that all the work is on this thread."""
    import chainrule as cr
    from chainrule import nn
    from chainrule.autograd.function import Function

    totals: dict[str, float] = defaultdict(float)

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any) -> Any:
            t = time.thread_time()
            try:
                return fn(*args)
            finally:
                totals[name] += time.thread_time() - t
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
            start, wall = time.thread_time(), time.perf_counter()
        opt.zero_grad()
        loss_fn(model(cr.from_numpy(X[index])), cr.from_numpy(Y[index])).backward()
        opt.step()
    step = (time.thread_time() - start) / steps
    wall = (time.perf_counter() - wall) / steps
    print(f"eager step {step * 1e3:.2f} ms CPU, {wall * 1e3:.2f} ms wall (mean of {steps}, "
          f"load average {os.getloadavg()[0]:.2f}); per op, ms CPU per step and share:")
    for name, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<28}{seconds / steps * 1e3:8.3f}{seconds / steps / step:8.1%}")
    ops = sum(totals.values()) / steps
    print(f"  {'all ops':<28}{ops * 1e3:8.3f}{ops / step:8.1%}  (the rest: graph, modules, "
          "optimizer)")


# ---- the driver --------------------------------------------------------------------------


def threads_used() -> tuple[str, int]:
    """(NumPy's BLAS and its threads, PyTorch's intra-op threads) as they are now."""
    import torch

    from chainrule.train.threads import blas_threads

    count, library = blas_threads()
    return f"{library} {count}", torch.get_num_threads()


def interleave(steppers: dict[str, Any], chunks: list[list[Any]]) -> dict[str, list[float]]:
    """Run each chunk of steps with every framework in turn (the order rotating by round);
    the seconds each framework took per chunk."""
    names = list(steppers)
    times: dict[str, list[float]] = {f: [] for f in names}
    for r, chunk in enumerate(chunks):
        for f in names[r % len(names):] + names[:r % len(names)]:
            step = steppers[f][0]
            start = time.perf_counter()
            for index in chunk:
                step(index)
            times[f].append(time.perf_counter() - start)
        print(f"round {r + 1}/{len(chunks)} ({len(chunk)} steps, load {os.getloadavg()[0]:.2f}): "
              + ", ".join(f"{f} {times[f][-1] / len(chunk) * 1e3:.2f}" for f in names)
              + " ms/step", flush=True)
    return times


def report(times: dict[str, list[float]], accuracy: dict[str, float], steps: int) -> None:
    """Total seconds, median ms per step, x torch (totals and round by round), GEMM share."""
    total = {f: sum(t) for f, t in times.items()}
    print(f"{'framework':<19}{'seconds':>9}{'ms/step':>9}{'accuracy':>10}{'x torch':>9}"
          f"{'median x':>10}{'GEMM share':>12}")
    for f, t in times.items():
        per_step = statistics.median(t) * len(times[f]) / steps * 1e3
        ratio = median_x = share = float("nan")
        if "torch" in times:
            ratio = total[f] / total["torch"]
            median_x = statistics.median(a / b for a, b in zip(t, times["torch"], strict=True))
        if "gemm" in times:
            share = total["gemm"] / total[f]
        print(f"{f:<19}{total[f]:>9.2f}{per_step:>9.2f}{accuracy[f]:>10.2%}{ratio:>9.2f}"
              f"{median_x:>10.2f}{share:>12.0%}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="chunks the timed steps are "
                        "cut into; each round runs one chunk with every framework")
    parser.add_argument("--steps", type=int, default=None, help="time this many steps of "
                        "the epoch instead of all 938 (accuracy is then after those)")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--threads", type=int, default=None, help="cap NumPy's BLAS and "
                        "PyTorch at N threads (default: theirs)")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    if args.profile:
        profile()
        return
    import torch
    from threadpoolctl import threadpool_limits

    if args.threads:
        threadpool_limits(limits=args.threads, user_api="blas")
        torch.set_num_threads(args.threads)
    data = images()
    schedule = [index for _, index in batches(len(data[0]), args.warmup)]
    warm, timed = schedule[:args.warmup], schedule[args.warmup:][:args.steps]
    chunks = [list(c) for c in np.array_split(np.arange(len(timed)), args.rounds)]
    chunks = [[timed[i] for i in c] for c in chunks if len(c)]
    steppers = {f: MAKERS[f](data) for f in args.frameworks.split(",")}
    blas, torch_threads = threads_used()
    print(f"LeNet-5, batch {BATCH}, SGD lr {LR} momentum {MOMENTUM}, one process; "
          f"{len(timed)} timed steps after {args.warmup} warm-up steps, in {len(chunks)} "
          f"interleaved rounds; {os.cpu_count()} cores, NumPy BLAS {blas} thread(s), torch "
          f"{torch_threads} thread(s); load average {os.getloadavg()}")
    for step, _ in steppers.values():
        for index in warm:
            step(index)
    times = interleave(steppers, chunks)
    accuracy = {f: evaluate() for f, (_, evaluate) in steppers.items()}
    print(f"load average {os.getloadavg()}")
    report(times, accuracy, len(timed))


if __name__ == "__main__":
    main()
