"""One training step of the wide networks (b) and (c) against the GEMM-only floor.

(b) 784-256-256-10 ReLU, batch 128; (c) 784-1024-1024-10 ReLU, batch 256; SGD momentum 0.9,
lr 0.01, cross-entropy, on MNIST (the embedded mini-MNIST when the full set is not found).
Each round times ``steps`` steps of each loop in turn, interleaved in one process so that a
slow spell of a shared machine hits all of them alike:

  * gemm: only the step's matrix products (3 forward, 5 backward) of the same shapes: the
    floor any implementation on NumPy's BLAS pays;
  * numpy: the hand-written forward, backward and momentum update;
  * captured: ``chainrule.compile(model, loss_fn, opt)``;
  * eager: ``opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()``;
  * captured-1t, eager-1t: the same with ``chainrule.backend.parallel.set_threads(1)`` (the
    optimizer's update of large parameters on the calling thread only).

It prints each loop's median time per step and the medians over rounds of its ratios to the
GEMM-only loop and to the NumPy loop of the same round (issue 21's goal: captured and eager
within 1.1x the GEMM-only floor), and the load average before and after. Then the eager
loop once more, ``opt.step()`` timed alone inside it with the threaded update and with one
thread, interleaved: the part of the step that ``backend.parallel`` changes, measured where
it runs (after the backward's products, caches and cores as the step leaves them).

Run:  CHAINRULE_DATA=../shared/data python benchmarks/wide_step.py [c|b] [rounds] [steps]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import chainrule as cr
from chainrule.backend import parallel
from chainrule.bench import CONFIGS, chainrule_mlp, load_mnist, numpy_training


def numpy_loop(cfg: dict[str, Any], x: np.ndarray, y: np.ndarray, steps: int,
               gemm_only: bool = False) -> Callable[[], None]:
    """The hand-written loop (``bench.numpy_training``), or only its matrix products."""
    train, _ = numpy_training(cfg, gemm_only)
    rows = steps * cfg["batch"]

    def run() -> None:
        train(x[:rows], y[:rows])
    return run


def chainrule_loop(cfg: dict[str, Any], x: np.ndarray, y: np.ndarray, steps: int,
                   capture: bool, threads: int | None) -> Callable[[], None]:
    model, opt, loss_fn = chainrule_mlp(cfg)
    step = cr.compile(model, loss_fn, opt) if capture else None
    batch = cfg["batch"]

    def run() -> None:
        parallel.set_threads(threads)
        try:
            for i in range(0, steps * batch, batch):
                xb, yb = cr.from_numpy(x[i:i + batch]), cr.from_numpy(y[i:i + batch])
                if step is not None:
                    step(xb, yb)
                else:
                    opt.zero_grad()
                    loss_fn(model(xb), yb).backward()
                    opt.step()
        finally:
            parallel.set_threads(None)
    return run


def optimizer_share(cfg: dict[str, Any], x: np.ndarray, y: np.ndarray, rounds: int,
                    steps: int) -> dict[int | None, list[float]]:
    """Microseconds per ``opt.step()`` in each round of the eager loop, by thread count."""
    model, opt, loss_fn = chainrule_mlp(cfg)
    batch = cfg["batch"]
    times: dict[int | None, list[float]] = {None: [], 1: []}
    for r in range(rounds + 1):  # round 0 warms up
        for threads, spent in times.items():
            parallel.set_threads(threads)
            total = 0.0
            for i in range(0, steps * batch, batch):
                opt.zero_grad()
                loss_fn(model(cr.from_numpy(x[i:i + batch])), cr.from_numpy(y[i:i + batch])
                        ).backward()
                start = time.perf_counter()
                opt.step()
                total += time.perf_counter() - start
            if r:
                spent.append(total / steps * 1e6)
    parallel.set_threads(None)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("config", nargs="?", default="c", choices=["b", "c"])
    parser.add_argument("rounds", nargs="?", type=int, default=9)
    parser.add_argument("steps", nargs="?", type=int, default=20, help="steps per round")
    args = parser.parse_args()
    cfg = CONFIGS[args.config]
    x, y = load_mnist()[:2]
    loops = {"gemm": numpy_loop(cfg, x, y, args.steps, gemm_only=True),
             "numpy": numpy_loop(cfg, x, y, args.steps)}
    for name, capture in (("captured", True), ("eager", False)):
        loops[name] = chainrule_loop(cfg, x, y, args.steps, capture, None)
        loops[f"{name}-1t"] = chainrule_loop(cfg, x, y, args.steps, capture, 1)
    load = os.getloadavg()
    for run in loops.values():  # warm-up: the first step records, buffers are created
        run()
    times: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(args.rounds):
        for name, run in loops.items():
            start = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - start) / args.steps * 1e6)
    print(f"config ({args.config}), {args.rounds} rounds of {args.steps} steps, "
          f"{parallel.usable_cores()} cores, load average {load[0]:.2f} -> "
          f"{os.getloadavg()[0]:.2f}")
    for name, values in times.items():
        to_gemm = statistics.median(t / g for t, g in zip(values, times["gemm"], strict=True))
        to_numpy = statistics.median(t / n for t, n in zip(values, times["numpy"], strict=True))
        print(f"{name:12} {statistics.median(values):9.1f} us/step  {to_gemm:5.3f}x gemm  "
              f"{to_numpy:5.3f}x numpy")
    spent = optimizer_share(cfg, x, y, args.rounds, args.steps)
    ratio = statistics.median(t / s for t, s in zip(spent[None], spent[1], strict=True))
    print(f"opt.step() in the eager loop: threaded {statistics.median(spent[None]):.1f} us, "
          f"one thread {statistics.median(spent[1]):.1f} us, ratio {ratio:.3f} "
          f"(load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
