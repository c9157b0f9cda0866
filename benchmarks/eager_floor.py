"""How fast could the eager loop of config (a) be? An experiment, not a mode of the library.

Times the ordinary eager training step of the tutorials' 784-16-16-10 sigmoid network
(batch 32, 30,000 MNIST images per pass, best of 4 passes) in one process, next to the
hand-written NumPy loop of ``chainrule.bench``, and then again after taking chainrule's
bookkeeping out one layer at a time by monkeypatching this process only:

  1. modules: layers call the ops directly (no ``Module.__call__``, no shape or label
     checks, no probability warning);
  2. apply: ``Function.apply`` records only edges (no version counters, anomaly or capture
     hooks);
  3. engine: a backward walk with no hooks, version checks, anomaly or capture support;
  4. optimizer: a bare ``p -= lr * grad`` loop.

What is left after step 4 is the arithmetic plus the least Python any define-by-run
framework needs (one object per op, a heap walk, the leaves' gradients). Compare the ratios
with PyTorch's ratio to NumPy from ``benchmarks/mlp_epoch.py``: eager at half PyTorch's time
means eager / NumPy <= (torch / NumPy) / 2.

Run:  CHAINRULE_DATA=../shared/data python benchmarks/eager_floor.py [--images 30000]
"""

from __future__ import annotations

import argparse
import heapq
import importlib
import itertools
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.autograd.function import Function, Node
from chainrule.bench import CONFIGS, initial_weights, load_mnist, run_numpy
from chainrule.ops.activation import Sigmoid as SigmoidOp
from chainrule.ops.linalg import Linear as LinearOp
from chainrule.ops.loss import CrossEntropy as CrossEntropyOp

# the module itself: ``import chainrule.tensor as m`` would bind the function cr.tensor
tensor_module = importlib.import_module("chainrule.tensor")
BATCH, LR = 32, 0.5


def _model() -> tuple[nn.Sequential, Any, nn.CrossEntropyLoss]:
    layers: list[nn.Module] = []
    for i, (w, b) in enumerate(initial_weights(CONFIGS["a"]["sizes"])):
        linear = nn.Linear(w.shape[1], w.shape[0])
        with cr.no_grad():
            linear.weight.copy_(cr.tensor(w))
            linear.bias.copy_(cr.tensor(b))
        layers.append(linear)
        if i < 2:
            layers.append(nn.Sigmoid())
    model = nn.Sequential(*layers)
    return model, cr.optim.SGD(model.parameters(), lr=LR), nn.CrossEntropyLoss()


def _best_us_per_step(run: Callable[[], object], steps: int) -> float:
    run()  # warm-up
    best = float("inf")
    for _ in range(4):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best / steps * 1e6


def _strip_modules() -> None:
    nn.Module.__call__ = lambda self, *args, **kwargs: self.forward(*args, **kwargs)

    def sequential(self: nn.Sequential, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    nn.Sequential.forward = sequential
    nn.Linear.forward = lambda self, x: LinearOp.apply(x, self.weight, self.bias)
    nn.Sigmoid.forward = lambda self, x: SigmoidOp.apply(x)
    nn.CrossEntropyLoss.forward = lambda self, x, t: CrossEntropyOp.apply(
        x, t._data, None, -100, "mean", 0.0)


def _strip_apply() -> None:
    seq = itertools.count()
    tensor = cr.Tensor

    def apply(cls: type[Function], *args: Any) -> Any:
        arrays, needs, inputs = [], [], []
        for a in args:
            if isinstance(a, tensor):
                data = a._data
                arrays.append(data)
                if a._requires_grad:
                    needs.append(True)
                    inputs.append((a.grad_fn or a, a._out_index, data.shape, data.dtype,
                                   id(data)))
                    continue
            else:
                arrays.append(a)
            needs.append(False)
            inputs.append(None)
        ctx = cls.node_class()
        ctx.needs_input_grad = tuple(needs)
        raw = cls.forward(ctx, *arrays)
        ctx.inputs, ctx.seq = inputs, next(seq)
        return tensor._wrap(raw, ctx, 0)

    Function.apply = classmethod(apply)  # type: ignore[assignment, method-assign]


def _strip_engine() -> None:
    tensor = cr.Tensor

    def run_backward(roots: Any, root_grads: Any, retain_graph: bool = False,
                     capture: Any = None) -> None:
        root = roots[0].grad_fn
        heap = [(-root.seq, root)]
        pending: dict[Any, list[Any]] = {root: [root_grads[0]]}
        leaves: dict[int, list[Any]] = {}
        while heap:
            node = heapq.heappop(heap)[1]
            result = node.function.backward(node, *pending.pop(node))
            if type(result) is not tuple:
                result = (result,)
            node.to_save = ()
            for item, g in zip(node.inputs, result, strict=False):
                if item is None or g is None:
                    continue
                target = item[0]
                if isinstance(target, Node):
                    slots = pending.get(target)
                    if slots is None:
                        pending[target] = [g]
                        heapq.heappush(heap, (-target.seq, target))
                    else:
                        slots[0] = slots[0] + g
                else:
                    entry = leaves.get(id(target))
                    if entry is None:
                        leaves[id(target)] = [target, g]
                    else:
                        entry[1] = entry[1] + g
        for leaf, g in leaves.values():
            if leaf.grad is None:
                leaf.grad = tensor._wrap(g)
            else:
                leaf.grad._data += g

    tensor_module.run_backward = run_backward  # type: ignore[assignment]


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=30_000)
    images = parser.parse_args(argv).images
    X, Y, Xt, Yt = load_mnist()
    X, Y = np.ascontiguousarray(X[:images]), np.ascontiguousarray(Y[:images])
    images = len(X) - len(X) % BATCH
    steps = images // BATCH
    model, opt, loss_fn = _model()

    def eager() -> None:
        for i in range(0, images, BATCH):
            x, y = cr.from_numpy(X[i:i + BATCH]), cr.from_numpy(Y[i:i + BATCH])
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()

    # the hand-written loop times its own epochs (two per call, the data shuffled outside)
    data = (X[:images], Y[:images], Xt[:1], Yt[:1])
    numpy_us = min(min(run_numpy(CONFIGS["a"], data)[0]) for _ in range(2)) / steps * 1e6
    results = {"numpy": numpy_us}
    print(f"{'variant':<44}{'us/step':>9}{'/numpy':>8}")
    print(f"{'hand-written NumPy loop':<44}{numpy_us:>9.1f}{1.0:>8.2f}")
    params = list(model.parameters())

    def bare_step(closure: Any = None) -> None:
        for p in params:
            p._data -= LR * p.grad._data

    for name, strip in [("chainrule eager, as shipped", None),
                        ("  - modules and functional checks", _strip_modules),
                        ("  - apply's versions, anomaly, capture", _strip_apply),
                        ("  - engine's hooks, checks, capture", _strip_engine),
                        ("  - optimizer's groups and state", None)]:
        if strip is not None:
            strip()
        if name.endswith("state"):
            opt.step = bare_step  # type: ignore[method-assign]
        us = _best_us_per_step(eager, steps)
        results[name.strip(" -")] = us
        print(f"{name:<44}{us:>9.1f}{us / numpy_us:>8.2f}")
    return results


if __name__ == "__main__":
    main()
