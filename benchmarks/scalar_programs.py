"""Scalar-heavy programs: chainrule vs PyTorch in one process, the same code for both.

1. micrograd's demo written with 0-d tensors: MLP(2, [16, 16, 1]) with every weight its own
   scalar tensor, 100 points, max-margin loss + L2, SGD: about 65,000 scalar graph nodes
   per step. Both libraries print the same losses (float64).
2. A manual-backprop loop over scalars (makemore part 4's embedding gradient)::

       for k in range(32):
           for j in range(3):
               ix = Xb[k, j]
               dC[ix] += demb[k, j]

Rounds are interleaved (chainrule, chainrule with Python's own collector thresholds,
PyTorch, ...) and the median of each is reported with the ratios, the load average and how
often Python's full garbage collection ran per timed micrograd step (the first step of each
round is not timed: for chainrule, its backward is where chainrule.autograd.collector sets
the threshold, after a round that ran with Python's own).

    python benchmarks/scalar_programs.py [--rounds 5] [--steps 3]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import time
from types import ModuleType
from typing import Any

import numpy as np


class MicrogradMLP:
    """micrograd's MLP with a tensor library's 0-d tensors as its scalars."""

    def __init__(self, lib: ModuleType, sizes: list[int], seed: int = 0) -> None:
        draw = random.Random(seed)
        self.lib = lib
        self.layers = []
        for i in range(len(sizes) - 1):
            neurons = []
            for _ in range(sizes[i + 1]):
                w = [lib.tensor(draw.uniform(-1, 1), dtype=lib.float64, requires_grad=True)
                     for _ in range(sizes[i])]
                b = lib.tensor(0.0, dtype=lib.float64, requires_grad=True)
                neurons.append((w, b))
            self.layers.append((neurons, i != len(sizes) - 2))

    def parameters(self) -> list[Any]:
        return [p for neurons, _ in self.layers for w, b in neurons for p in [*w, b]]

    def __call__(self, x: list[Any]) -> Any:
        for neurons, nonlinear in self.layers:
            out = []
            for w, b in neurons:
                act = sum((wi * xi for wi, xi in zip(w, x, strict=True)), b)
                out.append(act.relu() if nonlinear else act)
            x = out
        return x[0]


def micrograd_program(lib: ModuleType, steps: int
                      ) -> tuple[list[float], list[float], list[int]]:
    """Seconds per step, the losses and the full collections per step, for ``steps`` SGD
    steps."""
    rng = np.random.default_rng(0)
    points = rng.normal(size=(100, 2))
    labels = np.where(points[:, 0] * points[:, 1] > 0, 1.0, -1.0).tolist()
    model = MicrogradMLP(lib, [2, 16, 16, 1])
    params = model.parameters()
    inputs = [[lib.tensor(float(v), dtype=lib.float64) for v in row] for row in points]
    times, losses, full = [], [], []
    for k in range(steps):
        before = FULL[0]
        start = time.perf_counter()
        scores = [model(x) for x in inputs]
        margins = [(1 + -yi * si).relu() for yi, si in zip(labels, scores, strict=True)]
        total = sum(margins) * (1.0 / len(margins)) + 1e-4 * sum(p * p for p in params)
        for p in params:
            p.grad = None
        total.backward()
        with lib.no_grad():
            for p in params:
                p -= (1.0 - 0.9 * k / 100) * p.grad
        times.append(time.perf_counter() - start)
        full.append(FULL[0] - before)
        losses.append(total.item())
    return times, losses, full


def embedding_loop(lib: ModuleType, repeats: int = 20) -> float:
    """Seconds per inner iteration of the manual embedding-gradient loop (best of repeats)."""
    lib.manual_seed(0)
    C = lib.randn(27, 10)
    Xb = lib.randint(0, 27, (32, 3))
    demb = lib.randn(32, 3, 10)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        dC = lib.zeros_like(C)
        for k in range(Xb.shape[0]):
            for j in range(Xb.shape[1]):
                ix = Xb[k, j]
                dC[ix] += demb[k, j]
        best = min(best, time.perf_counter() - start)
    return best / 96


FULL = [0]  # generation-2 collections so far (counted by the callback main() installs)


def _count_full(phase: str, info: dict[str, int]) -> None:
    if phase == "start" and info["generation"] == 2:
        FULL[0] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=3, help="micrograd steps per round")
    args = parser.parse_args()
    import torch

    import chainrule

    torch.set_num_threads(1)
    libs = {"chainrule": chainrule, "chainrule, gc python": chainrule, "torch": torch}
    step_times: dict[str, list[float]] = {name: [] for name in libs}
    loop_times: dict[str, list[float]] = {name: [] for name in libs}
    gen2: dict[str, list[int]] = {name: [] for name in libs}
    losses: dict[str, list[float]] = {}
    gc.callbacks.append(_count_full)
    for _ in range(args.rounds):
        for name, lib in libs.items():
            chainrule.autograd.set_gc_policy("python" if name.endswith("python") else "relaxed")
            times, seen, full = micrograd_program(lib, args.steps)
            step_times[name].append(statistics.median(times[1:] or times))
            gen2[name].extend(full[1:] or full)  # the timed steps'
            losses[name] = seen
            loop_times[name].append(embedding_loop(lib))
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}, "
          f"gc thresholds now {gc.get_threshold()}, {args.rounds} interleaved rounds")
    same = np.allclose(losses["chainrule"], losses["torch"], rtol=1e-12, atol=0)
    print(f"micrograd losses {', '.join(f'{v:.9f}' for v in losses['chainrule'])} "
          f"({'same as' if same else 'DIFFERENT from'} PyTorch's)")
    for label, table, unit, scale in (("micrograd step", step_times, "ms", 1e3),
                                      ("embedding loop", loop_times, "us/iter", 1e6)):
        theirs = statistics.median(table["torch"])
        cells = [f"PyTorch {theirs * scale:.1f} {unit}"]
        for name in ("chainrule", "chainrule, gc python"):
            ours = statistics.median(table[name])
            cells.append(f"{name} {ours * scale:.1f} {unit} ({ours / theirs:.2f}x)")
        print(f"{label:15s} " + "; ".join(cells))
    per_step = {name: sum(v) / len(v) for name, v in gen2.items()}
    print("full collections per timed micrograd step: " + ", ".join(
        f"{name} {value:.2f}" for name, value in per_step.items()))


if __name__ == "__main__":
    main()
