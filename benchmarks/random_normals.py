"""Issue 20's speed bar: drawing 10**7 normals with chainrule (PyTorch's CPU stream, bit for
bit) costs at most 2x NumPy's own ``standard_normal`` in the same process.

One process, one round = each contender once, in turn: NumPy's
``default_rng().standard_normal(n, dtype)``, chainrule's ``randn(n, dtype=...)``, and
``torch.randn(n, dtype=...)`` when torch is installed (its time is shown, not part of the
bar). The median of ``--rounds`` rounds is reported per contender, and the ratio of the
medians; a slow spell of the machine falls on all contenders of its round alike. The
first round of each dtype is a warm-up and is not counted. The check at the end draws the
same seed in chainrule and torch and compares the bits.

Run:  python benchmarks/random_normals.py [--size 10000000] [--rounds 5]
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


def _time(draw: Callable[[], Any]) -> float:
    start = time.perf_counter()
    draw()
    return time.perf_counter() - start


def contenders(size: int, dtype: str) -> dict[str, Callable[[], Any]]:
    """name -> a call drawing ``size`` normals of ``dtype``."""
    numpy_rng = np.random.default_rng(0)
    draws: dict[str, Callable[[], Any]] = {
        "numpy": lambda: numpy_rng.standard_normal(size, dtype=np.dtype(dtype)),
        "chainrule": lambda: cr.randn(size, dtype=getattr(cr, dtype)),
    }
    if importlib.util.find_spec("torch") is not None:
        import torch
        torch_dtype = getattr(torch, dtype)
        draws["torch"] = lambda: torch.randn(size, dtype=torch_dtype)
    return draws


def measure(size: int, dtype: str, rounds: int) -> dict[str, float]:
    """Median seconds per contender over ``rounds`` interleaved rounds (after a warm-up)."""
    draws = contenders(size, dtype)
    times: dict[str, list[float]] = {name: [] for name in draws}
    for round_index in range(rounds + 1):
        for name, draw in draws.items():
            seconds = _time(draw)
            if round_index:
                times[name].append(seconds)
    return {name: statistics.median(values) for name, values in times.items()}


def bit_identical(size: int, dtype: str) -> bool | None:
    """Whether chainrule and torch draw the same bits for seed 0 (None without torch)."""
    if importlib.util.find_spec("torch") is None:
        return None
    import torch
    cr.manual_seed(0)
    torch.manual_seed(0)
    ours = cr.randn(size, dtype=getattr(cr, dtype)).numpy()
    return bool(np.array_equal(ours, torch.randn(size, dtype=getattr(torch, dtype)).numpy()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10**7)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dtypes", default="float32,float64")
    args = parser.parse_args()
    print(f"{args.size:,} normals, median of {args.rounds} interleaved rounds; load average "
          f"{' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    print("| dtype | NumPy s | chainrule s | torch s | chainrule / NumPy | torch / NumPy "
          "| bits = torch |")
    print("|---|---|---|---|---|---|---|")
    for dtype in args.dtypes.split(","):
        median = measure(args.size, dtype, args.rounds)
        torch_seconds = median.get("torch", float("nan"))
        print(f"| {dtype} | {median['numpy']:.3f} | {median['chainrule']:.3f} | "
              f"{torch_seconds:.3f} | {median['chainrule'] / median['numpy']:.2f} | "
              f"{torch_seconds / median['numpy']:.2f} | {bit_identical(args.size, dtype)} |")


if __name__ == "__main__":
    main()
