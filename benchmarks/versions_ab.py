"""A/B of two versions of chainrule on the tutorials' training step, in fresh processes.

Each version is a source folder (a ``git archive`` of a commit, say); every process imports
one of them and times the step of the 784-16-16-10 sigmoid network on one batch of 32
(``zero_grad``, forward, cross-entropy, ``backward``, SGD ``step``), eager and captured by
``chainrule.compile``: the median of ``--steps`` steps after a warm-up. Processes alternate
A, B, B, A, ... so drifts of a busy machine fall on both; a repeat of A ("A again") shows
the noise floor. Reported: each version's median step time and the median of the per-pair
ratios B / A.

Run:  python benchmarks/versions_ab.py OLD_SRC NEW_SRC [--pairs 12] [--steps 300]
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

def step_times(steps, captured):
    cr.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.Sigmoid(), nn.Linear(16, 16),
                          nn.Sigmoid(), nn.Linear(16, 10))
    opt = cr.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.random((32, 1, 28, 28), dtype=np.float32))
    y = cr.tensor(rng.integers(0, 10, 32))
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
steps = int(sys.argv[1])
print(json.dumps({"eager": step_times(steps, False), "captured": step_times(steps, True)}))
"""


def run(src: str, steps: int) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=src, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", WORKER, str(steps)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--pairs", type=int, default=12)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"A": [], "B": [], "A again": []}
    for pair in range(args.pairs):
        order = [("A", args.old), ("B", args.new), ("A again", args.old)]
        if pair % 2:
            order.reverse()
        for name, src in order:
            results[name].append(run(src, args.steps))
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
