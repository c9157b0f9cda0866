"""Where one training step of an MLP config goes: each op's forward and backward, the
optimizer, and the rest (graph, modules, Python glue), in wall-clock time per step.

Every ``Function`` subclass's ``forward`` and ``backward`` is wrapped with a timer before
the model is built (a captured step replays the wrapped ones too), and so are
``optimizer.step`` and ``optimizer.zero_grad``. The step runs on real MNIST batches (the
embedded mini-MNIST without ``$CHAINRULE_DATA``) after ``--warmup`` steps. Wall time, not
CPU time: BLAS runs the large products on worker threads. Runs against any chainrule on
``sys.path``, so an older version can be profiled the same way (``PYTHONPATH=old/src``):
that is why it builds its model itself rather than through ``chainrule.bench.chainrule_mlp``,
which older versions lack.

Run:  python benchmarks/mlp_profile.py [--config c] [--mode eager|captured] [--steps 40]
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import chainrule as cr
from chainrule import nn
from chainrule.autograd.function import Function
from chainrule.bench import CONFIGS, initial_weights, load_mnist

TOTALS: dict[str, float] = defaultdict(float)


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TOTALS[name] += time.perf_counter() - start
    return wrapper


def wrap_ops() -> None:
    classes = list(Function.__subclasses__())
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        for part in ("forward", "backward"):
            if isinstance(vars(cls).get(part), staticmethod):
                function = vars(cls)[part].__func__
                setattr(cls, part, staticmethod(timed(f"{cls.__name__}.{part}", function)))


def build(config: str) -> tuple[Any, Any, Any]:
    cfg = CONFIGS[config]
    layers: list[Any] = []
    for i, (w, b) in enumerate(initial_weights(cfg["sizes"])):
        linear = nn.Linear(w.shape[1], w.shape[0])
        with cr.no_grad():
            linear.weight.copy_(cr.tensor(w))
            linear.bias.copy_(cr.tensor(b))
        layers.append(linear)
        if i < len(cfg["sizes"]) - 2:
            layers.append(nn.Sigmoid() if cfg["act"] == "sigmoid" else nn.ReLU())
    model = nn.Sequential(*layers)
    opt = cr.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"])
    opt.step = timed("optimizer.step", opt.step)
    opt.zero_grad = timed("optimizer.zero_grad", opt.zero_grad)
    return model, opt, nn.CrossEntropyLoss()


def gemm_floor(config: str, steps: int) -> float:
    """Seconds per step of only the step's matrix products (NumPy, the same shapes: three
    forward products, three weight gradients, two input gradients)."""
    import numpy as np

    cfg = CONFIGS[config]
    rng = np.random.default_rng(0)
    weights = [w for w, _ in initial_weights(cfg["sizes"])]
    x = rng.random((cfg["batch"], cfg["sizes"][0]), dtype=np.float32)
    start = time.perf_counter()
    for _ in range(steps):
        acts = [x]
        for w in weights:
            acts.append(acts[-1].dot(w.T))
        g = acts[-1]
        for layer in range(len(weights) - 1, -1, -1):
            g.T.dot(acts[layer])
            if layer:
                g = g.dot(weights[layer])
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="c", choices=sorted(CONFIGS))
    parser.add_argument("--mode", default="eager", choices=["eager", "captured"])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    wrap_ops()
    model, opt, loss_fn = build(args.config)
    step = cr.compile(model, loss_fn, opt) if args.mode == "captured" else None
    X, Y, _, _ = load_mnist()
    batch = CONFIGS[args.config]["batch"]
    for i in range(args.warmup + args.steps):
        if i == args.warmup:
            TOTALS.clear()
            start = time.perf_counter()
        j = (i * batch) % (len(X) - batch)
        x, y = cr.from_numpy(X[j:j + batch]), cr.from_numpy(Y[j:j + batch])
        if step is not None:
            step(x, y)
        else:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
    per_step = (time.perf_counter() - start) / args.steps
    print(f"chainrule {cr.__version__}, config ({args.config}) {args.mode}: "
          f"{per_step * 1e3:.2f} ms per step (mean of {args.steps}, load average "
          f"{os.getloadavg()[0]:.2f}); ms per step and share:")
    for name, seconds in sorted(TOTALS.items(), key=lambda kv: -kv[1]):
        ms = seconds / args.steps
        print(f"  {name:<28}{ms * 1e3:8.3f}{ms / per_step:8.1%}")
    rest = per_step - sum(TOTALS.values()) / args.steps
    print(f"  {'the rest (graph, modules)':<28}{rest * 1e3:8.3f}{rest / per_step:8.1%}")
    floor = gemm_floor(args.config, args.steps)
    print(f"  {'(GEMM only, the same shapes)':<28}{floor * 1e3:8.3f}{floor / per_step:8.1%}"
          "  (measured after the steps; inside Linear.forward and .backward)")


if __name__ == "__main__":
    main()
