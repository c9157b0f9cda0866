"""A tour of autograd: requires_grad, grad_fn, backward with a vector, accumulation (and why
zero_grad exists), detach, no_grad, a custom Function, and the ``total_loss += loss`` trap.

The trap: summing loss *tensors* over a training loop keeps every step's graph alive
(each sum links to the previous one), so memory grows with the number of steps. Summing
``loss.item()`` (a Python float) keeps memory flat. The script measures both.

Run:  python examples/autograd_tour.py [--quick]
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import _common as common
import numpy as np

import chainrule as cr
from chainrule.autograd import Function


class Square(Function):
    """A user-defined op: forward and backward get Tensors, as in PyTorch."""

    @staticmethod
    def forward(ctx: Any, x: cr.Tensor) -> cr.Tensor:
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx: Any, gy: cr.Tensor) -> cr.Tensor:
        (x,) = ctx.saved_tensors
        return 2 * x * gy


def graph_retention(steps: int, keep_graph: bool) -> int:
    """Bytes still allocated after accumulating ``steps`` losses (tensors or floats)."""
    w = cr.randn(64, 64, requires_grad=True)
    x = cr.randn(32, 64)
    tracemalloc.start()
    total: Any = 0.0
    for _ in range(steps):
        loss = (x @ w).tanh().mean()
        total = total + (loss if keep_graph else loss.item())
    used = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return used


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = common.parser(__doc__).parse_args(argv)
    out: dict[str, Any] = {}
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x + 1
    print(f"1. requires_grad: x = {x}")
    print(f"   y = x * x + 1 = {y}; y.grad_fn = {y.grad_fn.name()}, inputs "
          f"{[f.name() if f else None for f, _ in y.grad_fn.next_functions]}")
    y.backward(cr.tensor([1.0, 0.1, 0.01]))
    print(f"2. y.backward(v) with v = [1, 0.1, 0.01] gives the vector-Jacobian product "
          f"v * dy/dx = v * 2x = {x.grad.tolist()}")
    out["vjp"] = x.grad.tolist()
    (x * x).sum().backward()
    print(f"3. a second backward ADDS: x.grad = {x.grad.tolist()} (2x was added again); "
          "that is why training loops call zero_grad() every step")
    out["accumulated"] = x.grad.tolist()
    x.grad = None
    d = (x * 2).detach()
    print(f"4. detach(): {d} has requires_grad={d.requires_grad}: cut from the graph")
    with cr.no_grad():
        z = x * 2
    print(f"5. no_grad(): z = x * 2 records nothing: z.requires_grad = {z.requires_grad}")
    s = Square.apply(x)
    s.sum().backward()
    print(f"6. custom Function Square: grad_fn = {s.grad_fn.name()}, d(sum x^2)/dx = "
          f"{x.grad.tolist()}; gradcheck: {cr.gradcheck(Square.apply, (x.double(),))}")
    out["custom"] = x.grad.tolist()
    steps = 200 if args.quick else 2000
    kept = graph_retention(steps, keep_graph=True)
    flat = graph_retention(steps, keep_graph=False)
    print(f"7. total_loss += loss over {steps} steps keeps every graph: {kept / 1e6:.1f} MB; "
          f"total_loss += loss.item(): {flat / 1e6:.2f} MB")
    out["memory"] = (kept, flat)
    assert np.allclose(out["vjp"], [2.0, 0.4, 0.06])
    assert np.allclose(out["accumulated"], [4.0, 4.4, 6.06])
    assert out["custom"] == [2.0, 4.0, 6.0]
    assert kept > 20 * flat, "keeping loss tensors must hold on to the graphs"
    return out


if __name__ == "__main__":
    main()
