"""Per-op overhead on small tensors: chainrule vs plain NumPy vs PyTorch, in one run.

Measures, for 16x16 float32 inputs that require grad:
  * ``mul``: one elementwise multiply recorded for autograd (forward only);
  * ``matmul``: one 16x16 @ 16x16 product recorded for autograd (forward only);
  * ``mul+sum+backward``: a two-op graph and its backward pass.
NumPy has no autograd: its column is the bare arithmetic, the floor any framework pays.

Run:  python benchmarks/overhead.py        (prints a table of microseconds and ratios)
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable

import numpy as np

import chainrule as cr


def best_us(fn: Callable[[], object], number: int, repeat: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    a_np = rng.standard_normal((16, 16)).astype(np.float32)
    b_np = rng.standard_normal((16, 16)).astype(np.float32)
    a = cr.tensor(a_np, requires_grad=True)
    b = cr.tensor(b_np)

    def cr_graph() -> None:
        (a * b).sum().backward()
        a.grad = None

    def np_graph() -> None:
        y = a_np * b_np
        y.sum()
        _ = np.ones_like(y) * b_np

    cases: dict[str, dict[str, Callable[[], object]]] = {
        "mul": {"chainrule": lambda: a * b, "numpy": lambda: a_np * b_np},
        "matmul": {"chainrule": lambda: a @ b, "numpy": lambda: a_np @ b_np},
        "mul+sum+backward": {"chainrule": cr_graph, "numpy": np_graph},
    }
    try:
        import torch

        torch.set_num_threads(1)
        ta = torch.tensor(a_np, requires_grad=True)
        tb = torch.tensor(b_np)

        def torch_graph() -> None:
            (ta * tb).sum().backward()
            ta.grad = None

        cases["mul"]["torch"] = lambda: ta * tb
        cases["matmul"]["torch"] = lambda: ta @ tb
        cases["mul+sum+backward"]["torch"] = torch_graph
    except ImportError:
        print("torch not installed: its column is left out")

    print(f"{'case':<20}{'chainrule us':>14}{'numpy us':>10}{'torch us':>10}"
          f"{'cr/numpy':>10}{'cr/torch':>10}")
    for name, fns in cases.items():
        times = {k: best_us(f, args.number, args.repeat) for k, f in fns.items()}
        torch_us = times.get("torch", float("nan"))
        print(f"{name:<20}{times['chainrule']:>14.2f}{times['numpy']:>10.2f}{torch_us:>10.2f}"
              f"{times['chainrule'] / times['numpy']:>10.2f}"
              f"{times['chainrule'] / torch_us:>10.2f}")


if __name__ == "__main__":
    main()
