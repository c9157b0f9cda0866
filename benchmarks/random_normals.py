"""Issue 20's speed bar: drawing 10**7 normals with chainrule (PyTorch's CPU stream, bit for
bit) costs at most 2x NumPy's own ``standard_normal`` in the same process.

One process, one round = each contender once, in turn: NumPy's
``default_rng().standard_normal(n, dtype)``, chainrule's ``randn(n, dtype=...)`` transformed
in the calling thread (serial) and on ``--threads`` worker threads (chainrule's default:
``min(os.cpu_count(), 4)``; the words are drawn in order, the numbers are the same bits), and
``torch.randn(n, dtype=...)`` when torch is installed (its time is shown, not part of the
bar). The median of ``--rounds`` rounds is reported per contender, and the ratio of the
medians; a slow spell of the machine falls on all contenders of its round alike. The
first round of each dtype is a warm-up and is not counted. The check at the end draws the
same seed in chainrule and torch and compares the bits.

Run:  python benchmarks/random_normals.py [--size 10000000] [--rounds 7] [--threads N]

The load average (from /proc/loadavg) is printed before and after: on a machine shared with
other work, the threaded column only gains what idle cores there are.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import chainrule as cr
from chainrule import random_draws


def _time(draw: Callable[[], Any]) -> float:
    start = time.perf_counter()
    draw()
    return time.perf_counter() - start


def _chainrule(size: int, dtype: str, threads: int) -> Callable[[], Any]:
    def draw() -> Any:
        random_draws.set_normal_threads(threads)
        return cr.randn(size, dtype=getattr(cr, dtype))
    return draw


def contenders(size: int, dtype: str, threads: int) -> dict[str, Callable[[], Any]]:
    """name -> a call drawing ``size`` normals of ``dtype``."""
    numpy_rng = np.random.default_rng(0)
    draws: dict[str, Callable[[], Any]] = {
        "numpy": lambda: numpy_rng.standard_normal(size, dtype=np.dtype(dtype)),
        "serial": _chainrule(size, dtype, 1),
        "threaded": _chainrule(size, dtype, threads),
    }
    if importlib.util.find_spec("torch") is not None:
        import torch
        torch_dtype = getattr(torch, dtype)
        draws["torch"] = lambda: torch.randn(size, dtype=torch_dtype)
    return draws


def measure(size: int, dtype: str, rounds: int, threads: int) -> dict[str, float]:
    """Median seconds per contender over ``rounds`` interleaved rounds (after a warm-up)."""
    draws = contenders(size, dtype, threads)
    times: dict[str, list[float]] = {name: [] for name in draws}
    for round_index in range(rounds + 1):
        for name, draw in draws.items():
            seconds = _time(draw)
            if round_index:
                times[name].append(seconds)
    return {name: statistics.median(values) for name, values in times.items()}


def bit_identical(size: int, dtype: str, threads: int) -> bool | None:
    """Whether chainrule (serial and threaded) and torch draw the same bits for seed 0 and
    leave the same generator state (None without torch)."""
    if importlib.util.find_spec("torch") is None:
        return None
    import torch
    torch.manual_seed(0)
    theirs = torch.randn(size, dtype=getattr(torch, dtype)).numpy()
    their_next = float(torch.rand(()))
    same = True
    for count in (1, threads):
        random_draws.set_normal_threads(count)
        cr.manual_seed(0)
        ours = cr.randn(size, dtype=getattr(cr, dtype)).numpy()
        same &= bool(np.array_equal(ours, theirs)) and float(cr.rand(()).item()) == their_next
    return same


def _load() -> str:
    with open("/proc/loadavg") as file:
        return " ".join(file.read().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10**7)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--threads", type=int, default=random_draws.default_normal_threads())
    args = parser.parse_args()
    previous = random_draws.set_normal_threads(args.threads)
    print(f"{args.size:,} normals, median of {args.rounds} interleaved rounds, "
          f"{args.threads} threads, {os.cpu_count()} CPUs; load average {_load()}")
    print("| dtype | NumPy s | serial s | threaded s | torch s | serial / NumPy "
          "| threaded / NumPy | torch / NumPy | bits = torch |")
    print("|---|---|---|---|---|---|---|---|---|")
    for dtype in args.dtypes.split(","):
        median = measure(args.size, dtype, args.rounds, args.threads)
        torch_seconds = median.get("torch", float("nan"))
        numpy_seconds = median["numpy"]
        print(f"| {dtype} | {numpy_seconds:.3f} | {median['serial']:.3f} | "
              f"{median['threaded']:.3f} | {torch_seconds:.3f} | "
              f"{median['serial'] / numpy_seconds:.2f} | "
              f"{median['threaded'] / numpy_seconds:.2f} | "
              f"{torch_seconds / numpy_seconds:.2f} | "
              f"{bit_identical(args.size, dtype, args.threads)} |")
    print(f"load average after: {_load()}")
    random_draws.set_normal_threads(previous)


if __name__ == "__main__":
    main()
