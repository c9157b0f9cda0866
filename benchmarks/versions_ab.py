"""A/B of two versions of chainrule on the tutorials' training step, in fresh processes.

Each version is a source folder (a ``git archive`` of a commit, say); every process imports
one of them and times the step of the 784-16-16-10 sigmoid network on one batch of 32
(``zero_grad``, forward, cross-entropy, ``backward``, SGD ``step``), eager and captured by
``chainrule.compile``: the median of ``--steps`` steps after a warm-up. Processes alternate
A, B, B, A, ... so drifts of a busy machine fall on both; a repeat of A ("A again") shows
the noise floor. Reported: each version's median step time and the median of the per-pair
ratios B / A.

``--config b`` or ``c`` times the wider networks of ``chainrule bench`` instead (784-256-256-10
ReLU batch 128, 784-1024-1024-10 ReLU batch 256, SGD momentum 0.9); ``--blas-threads`` sets
NumPy's BLAS threads (default 1, so a busy second core does not decide the result).

Run:  python benchmarks/versions_ab.py OLD_SRC NEW_SRC [--pairs 12] [--steps 300]
      [--config a|b|c] [--blas-threads 1]
      (e.g. git archive HEAD~1 | tar -x -C /tmp/old, then /tmp/old/src)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

WORKER = r"""
import json, time, statistics
import numpy as np
import chainrule as cr
from chainrule import nn

CONFIGS = {"a": (16, nn.Sigmoid, 32, 0.5, 0.0), "b": (256, nn.ReLU, 128, 0.01, 0.9),
           "c": (1024, nn.ReLU, 256, 0.01, 0.9)}

def step_times(steps, captured, config):
    width, act, batch, lr, momentum = CONFIGS[config]
    cr.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, width), act(), nn.Linear(width, width),
                          act(), nn.Linear(width, 10))
    opt = cr.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.random((batch, 1, 28, 28), dtype=np.float32))
    y = cr.tensor(rng.integers(0, 10, batch))
    if captured:
        step = cr.compile(model, loss_fn, opt)
    else:
        def step(x, y):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss
    times = []
    for i in range(steps + 50):
        start = time.perf_counter()
        step(x, y)
        if i >= 50:
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6

import sys
steps, config = int(sys.argv[1]), sys.argv[2]
print(json.dumps({"eager": step_times(steps, False, config),
                  "captured": step_times(steps, True, config)}))
"""


def run(src: str, steps: int, config: str = "a", blas_threads: int = 1) -> dict[str, float]:
    threads = str(blas_threads)
    env = dict(os.environ, PYTHONPATH=src, OMP_NUM_THREADS=threads,
               OPENBLAS_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    out = subprocess.run([sys.executable, "-c", WORKER, str(steps), config], env=env,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--pairs", type=int, default=12)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--config", default="a", choices=["a", "b", "c"])
    parser.add_argument("--blas-threads", type=int, default=1)
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"A": [], "B": [], "A again": []}
    for pair in range(args.pairs):
        order = [("A", args.old), ("B", args.new), ("A again", args.old)]
        if pair % 2:
            order.reverse()
        for name, src in order:
            results[name].append(run(src, args.steps, args.config, args.blas_threads))
    for mode in ("eager", "captured"):
        a = [r[mode] for r in results["A"]]
        b = [r[mode] for r in results["B"]]
        again = [r[mode] for r in results["A again"]]
        ratio = statistics.median(y / x for x, y in zip(a, b, strict=True))
        noise = statistics.median(y / x for x, y in zip(a, again, strict=True))
        print(f"{mode:9s} A {statistics.median(a):7.1f} us  B {statistics.median(b):7.1f} us  "
              f"B/A {ratio:.3f}  (A again/A {noise:.3f}, {args.pairs} pairs)")


if __name__ == "__main__":
    main()
