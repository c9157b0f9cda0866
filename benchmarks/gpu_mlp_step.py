"""Training steps of the MLP configs on a GPU: chainrule (CuPy) vs PyTorch (CUDA), one process.

Each framework trains the same network (784-16-16-10 sigmoid batch 32, 784-256-256-10 ReLU
batch 128, 784-1024-1024-10 ReLU batch 256; SGD with momentum) on random data that lives on
the GPU, in interleaved rounds (every framework once per round, the order rotating), and
the time of a round is taken after synchronising the device. The ratio printed is the
median over rounds of chainrule's time over PyTorch's. Needs CuPy and a CUDA device; with
``--device cpu`` it runs the same loop on the CPU (a check that the script works).

Run:  python benchmarks/gpu_mlp_step.py [--rounds 7] [--steps 200] [--device cuda]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import chainrule as cr

CONFIGS = {
    "a": ([784, 16, 16, 10], "sigmoid", 32),
    "b": ([784, 256, 256, 10], "relu", 128),
    "c": ([784, 1024, 1024, 10], "relu", 256),
}


def _layers(nn: Any, sizes: list[int], act: str) -> list[Any]:
    layers: list[Any] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.Sigmoid() if act == "sigmoid" else nn.ReLU())
    return layers


def chainrule_step(sizes: list[int], act: str, batch: int, device: str,
                   captured: bool) -> tuple[Callable[[], None], Callable[[], None]]:
    model = cr.nn.Sequential(*_layers(cr.nn, sizes, act)).to(device)
    opt = cr.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = cr.nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.random((batch, sizes[0]), dtype=np.float32)).to(device)
    y = cr.tensor(rng.integers(0, sizes[-1], batch)).to(device)
    if captured:
        compiled = cr.compile(model, loss_fn, opt)

        def step() -> None:
            compiled(x, y)
    else:
        def step() -> None:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()

    def sync() -> None:
        if device != "cpu":
            import cupy

            cupy.cuda.Device().synchronize()
    return step, sync


def torch_step(sizes: list[int], act: str, batch: int,
               device: str) -> tuple[Callable[[], None], Callable[[], None]]:
    import torch

    model = torch.nn.Sequential(*_layers(torch.nn, sizes, act)).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.rand(batch, sizes[0], device=device)
    y = torch.randint(0, sizes[-1], (batch,), device=device)

    def step() -> None:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    def sync() -> None:
        if device != "cpu":
            torch.cuda.synchronize()
    return step, sync


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--configs", default="abc")
    args = parser.parse_args(argv)
    print(f"device {args.device}; {args.rounds} rounds of {args.steps} steps; us per step")
    for name in args.configs:
        sizes, act, batch = CONFIGS[name]
        runners = {
            "chainrule eager": chainrule_step(sizes, act, batch, args.device, False),
            "chainrule captured": chainrule_step(sizes, act, batch, args.device, True),
            "torch": torch_step(sizes, act, batch, args.device),
        }
        times: dict[str, list[float]] = {k: [] for k in runners}
        for step, sync in runners.values():
            for _ in range(20):
                step()
            sync()
        keys = list(runners)
        for r in range(args.rounds):
            for key in keys[r % len(keys):] + keys[:r % len(keys)]:
                step, sync = runners[key]
                sync()
                start = time.perf_counter()
                for _ in range(args.steps):
                    step()
                sync()
                times[key].append((time.perf_counter() - start) / args.steps * 1e6)
        torch_us = times["torch"]
        parts = []
        for key in keys:
            ratio = statistics.median(a / b for a, b in zip(times[key], torch_us, strict=True))
            parts.append(f"{key} {statistics.median(times[key]):.0f} us ({ratio:.2f}x torch)")
        print(f"({name}) {'-'.join(map(str, sizes))} {act} batch {batch}: " + "; ".join(parts))


if __name__ == "__main__":
    main()
