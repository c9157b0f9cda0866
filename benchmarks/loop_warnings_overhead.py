"""What the training-loop bug checks cost: an in-process A/B on the tutorials' network.

The checks are the ``total_loss += loss`` watch in ``backward()``
(:mod:`chainrule.autograd.retention`) and the warning on ``.grad`` of a non-leaf (which
changes how ``Tensor._wrap`` fills a new tensor's ``.grad`` slot). Variant B swaps both for
the code they replaced (the engine's ``run_backward`` without the watch's four lines, a
``_wrap`` that sets ``grad = None`` on every tensor); variant A is the library as it is.
Both time the same eager step (``zero_grad``, forward, cross-entropy, ``backward``, SGD
``step``) of the 784-16-16-10 sigmoid network on one batch of 32, in rounds that rotate
which variant goes first, and report the median of the per-round ratios A / B. A second
copy of A ("A again") measures the noise floor: A again / A would be 1 on a quiet machine.

Run:  python benchmarks/loop_warnings_overhead.py [--rounds 1000] [--steps 20]
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import sys
import time
from typing import Any

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.autograd import engine

# the module (``import chainrule.tensor as m`` gives the function cr.tensor, which shadows it)
tensor_module: Any = sys.modules["chainrule.tensor"]

WATCH_LINES = (
    "    if not retain_graph:  # the graph is freed: does something still hold it? (sampled)\n"
    "        RETENTION.countdown -= 1\n"
    "        if not RETENTION.countdown:\n"
    "            retention.note(roots[0])\n",
)


def backward_without_watch() -> Any:
    """``engine.run_backward`` with the watch's lines taken out (what it was before)."""
    source = inspect.getsource(engine.run_backward)
    for line in WATCH_LINES:
        if line not in source:
            raise SystemExit(f"engine.run_backward changed: cannot find {line.strip()!r}")
        source = source.replace(line, "")
    namespace = dict(vars(engine))
    exec(source, namespace)  # noqa: S102 (our own source, minus the watch)
    return namespace["run_backward"]


def wrap_setting_grad(cls: Any, data: Any, node: Any = None, index: int = 0) -> Any:
    """``Tensor._wrap`` before the non-leaf ``.grad`` warning: every tensor gets grad None."""
    t = object.__new__(cls)
    if type(data) is not np.ndarray and isinstance(data, np.generic):
        data = np.asarray(data)
    t._data = data
    t.grad = None
    t.grad_fn = node
    t._out_index = index
    t._version = [0]
    t._hooks = None
    t._requires_grad = node is not None
    return t


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Time A, A again and B in rotating rounds; print and return the median ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=20, help="steps per timing")
    args = parser.parse_args(argv)
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 16), nn.Sigmoid(), nn.Linear(16, 16), nn.Sigmoid(),
                          nn.Linear(16, 10))
    optimizer = cr.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = nn.CrossEntropyLoss()
    images, labels = cr.rand(32, 784), cr.tensor(np.arange(32) % 10)
    original_wrap = vars(tensor_module.Tensor)["_wrap"]  # the classmethod object itself
    original_backward = tensor_module.run_backward
    variants = {
        "A": (original_backward, original_wrap),
        "A again": (original_backward, original_wrap),  # the control: A / A is noise
        "B": (backward_without_watch(), classmethod(wrap_setting_grad)),
    }

    def timed(name: str) -> float:
        tensor_module.run_backward, tensor_module.Tensor._wrap = variants[name]
        start = time.perf_counter()
        for _ in range(args.steps):
            optimizer.zero_grad()
            loss_fn(model(images), labels).backward()
            optimizer.step()
        return (time.perf_counter() - start) / args.steps * 1e6

    names = list(variants)
    times: dict[str, list[float]] = {name: [] for name in names}
    try:
        for name in names:  # warm-up
            timed(name)
        for r in range(args.rounds):  # each variant goes first, second, third in turn
            for name in names[r % 3:] + names[:r % 3]:
                times[name].append(timed(name))
    finally:
        tensor_module.run_backward, tensor_module.Tensor._wrap = variants["A"]
    for name in names:
        print(f"{name:<8}{statistics.median(times[name]):>8.1f} us/step (median of "
              f"{args.rounds} rounds)")
    ratios = {}
    for top, bottom in (("A", "B"), ("A again", "A")):
        per_round = [a / b for a, b in zip(times[top], times[bottom], strict=True)]
        ratios[f"{top} / {bottom}"] = statistics.median(per_round)
        print(f"{top} / {bottom}: median of the per-round ratios "
              f"{statistics.median(per_round):.4f}")
    return ratios


if __name__ == "__main__":
    main()
