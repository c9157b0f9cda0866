"""What ``--augment`` costs: milliseconds per batch of each kind, next to a training step.

For batches of 32 and 128 MNIST-sized images (and CIFAR-10-sized ones with ``--cifar``),
times :class:`chainrule.data.Augment` for shift, rotate, elastic and all three, and one
training step (forward, backward, SGD momentum update) of the 784-800-10 ReLU network
(3072-800-10 with ``--cifar``) on the same batch. The timings are CPU time of this process
(``time.process_time``), measured in interleaved rounds and reported as the median, so
other processes on a busy machine inflate them less than wall-clock time would; BLAS runs
on one thread (set before NumPy is imported) so that CPU time is the step's work.

Run:  python benchmarks/augment_cost.py [--rounds 7] [--cifar]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy starts its thread pool
os.environ.setdefault("OMP_NUM_THREADS", "1")

import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule import nn  # noqa: E402
from chainrule.data import Augment  # noqa: E402

KINDS = (["shift"], ["rotate"], ["elastic"], ["shift", "rotate", "elastic"])


def _per_call(fn: Callable[[], object], calls: int) -> float:
    """CPU milliseconds per call of ``fn`` over ``calls`` calls."""
    start = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - start) / calls * 1e3


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=20, help="calls per timing")
    parser.add_argument("--cifar", action="store_true", help="3x32x32 images")
    args = parser.parse_args(argv)
    shape = (3, 32, 32) if args.cifar else (28, 28)
    features = int(np.prod(shape))
    cr.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(features, 800), nn.ReLU(), nn.Linear(800, 10))
    optimizer = cr.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    step = cr.compile(model, nn.CrossEntropyLoss(), optimizer)
    rng = np.random.default_rng(0)
    print(f"images {'x'.join(map(str, shape))}, CPU ms per batch (median of {args.rounds} "
          f"rounds of {args.calls} calls), BLAS threads: {os.environ['OPENBLAS_NUM_THREADS']}")
    for batch in (32, 128):
        images = rng.random((batch, *shape), dtype=np.float32)
        labels = cr.tensor(rng.integers(0, 10, batch))
        x = cr.tensor(images)
        timings: dict[str, list[float]] = {"step": []}
        augments = {",".join(kinds): Augment(kinds) for kinds in KINDS}
        for _ in range(args.rounds):
            timings["step"].append(_per_call(lambda x=x, y=labels: step(x, y), args.calls))
            for name, augment in augments.items():
                timings.setdefault(name, []).append(
                    _per_call(lambda a=augment, b=images: a(b, rng), args.calls))
        step_ms = statistics.median(timings["step"])
        print(f"batch {batch}: training step {step_ms:.2f} ms (784-800-10 ReLU, momentum)"
              if not args.cifar else f"batch {batch}: training step {step_ms:.2f} ms "
              "(3072-800-10 ReLU, momentum)")
        for name in augments:
            ms = statistics.median(timings[name])
            print(f"  {name:<22} {ms:6.2f} ms  ({ms / step_ms:.0%} of the step)")


if __name__ == "__main__":
    main()
