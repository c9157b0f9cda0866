"""One training step of config (a), three ways, against the hand-written NumPy loop.

The tutorials' 784-16-16-10 sigmoid network, batch 32, plain SGD (lr 0.5), cross-entropy,
on MNIST (the embedded mini-MNIST when the full set is not found). Each round times 600
steps of each loop in turn, interleaved in one process so that a slow spell of a shared
machine hits all three alike:

  * numpy: the hand-written forward, backward and update (no loss value, no checks);
  * captured: ``chainrule.compile(model, loss_fn, opt)``, the step ``Trainer`` runs;
  * eager: ``opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()``.

It prints each loop's median time per step and the median over rounds of its ratio to the
NumPy loop of the same round (issue 21's goals: captured <= 1.0x, eager <= 1.6x).

Run:  CHAINRULE_DATA=../shared/data python benchmarks/step_vs_numpy.py [rounds]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

import chainrule as cr
from chainrule.bench import CONFIGS, chainrule_mlp, load_mnist, numpy_training

CFG = CONFIGS["a"]
BATCH = CFG["batch"]


def numpy_loop(x: np.ndarray, y: np.ndarray, steps: int) -> Callable[[], None]:
    train, _ = numpy_training(CFG)

    def run() -> None:
        train(x[:steps * BATCH], y[:steps * BATCH])
    return run


def chainrule_loop(x: np.ndarray, y: np.ndarray, steps: int, captured: bool
                   ) -> Callable[[], None]:
    model, opt, loss_fn = chainrule_mlp(CFG)
    step = cr.compile(model, loss_fn, opt)

    def run() -> None:  # batches sliced inside the loop, as the NumPy loop does
        for i in range(0, steps * BATCH, BATCH):
            xb, yb = cr.from_numpy(x[i:i + BATCH]), cr.from_numpy(y[i:i + BATCH])
            if captured:
                step(xb, yb)
            else:
                opt.zero_grad()
                loss_fn(model(xb), yb).backward()
                opt.step()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("rounds", type=int, nargs="?", default=5)
    parser.add_argument("--steps", type=int, default=600, help="steps per loop and round")
    args = parser.parse_args()
    x, y = load_mnist()[:2]
    steps = min(args.steps, len(x) // BATCH)  # (the mini-MNIST has 10,000 images)
    runs = {"numpy": numpy_loop(x, y, steps),
            "captured": chainrule_loop(x, y, steps, captured=True),
            "eager": chainrule_loop(x, y, steps, captured=False)}
    for run in runs.values():  # warm up (and record the captured step)
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - start) / steps * 1e6)
    for name, t in times.items():
        ratio = statistics.median(a / b for a, b in zip(t, times["numpy"], strict=True))
        print(f"{name:8} {statistics.median(t):6.1f} us  x numpy {ratio:.2f}")


if __name__ == "__main__":
    main()
