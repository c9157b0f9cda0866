"""The worked 2-2-2 backpropagation example from the tutorials, computed by chainrule's autograd.

Two inputs (0.05, 0.10), two sigmoid hidden neurons, two sigmoid outputs with targets
(0.01, 0.99), weights w1..w8 = 0.15 .. 0.55, biases 0.35 and 0.60 (not trained),
E = sum 1/2 (target - out)^2, plain gradient descent with lr 0.5.

It prints the forward pass, the updated weights after one step, and E_total after one
and after 10,000 steps. The tutorial's own code feeds the hidden layer's error back
through the output weights it has *already updated* in the same step; ``--as-published``
reproduces that variant so its numbers (0.291027924, 0.000035085) can be checked too.

Run:  python examples/worked_example.py [--as-published] [--steps 10000]
"""

from __future__ import annotations

import argparse
from typing import Any

from chainrule.explain.worked import DIFFERENCE, run


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as-published", action="store_true",
                        help="reproduce the tutorial's published numbers (see the docstring)")
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="1,000 steps (for CI)")
    args = parser.parse_args(argv)
    steps = 1_000 if args.quick else args.steps
    r = run(steps, args.as_published)
    w1, w2, w3, w4 = (w for row in r["w_hidden_after_1"] for w in row)
    w5, w6, w7, w8 = (w for row in r["w_output_after_1"] for w in row)
    print(f"forward: out_o1 = {r['out_before'][0]:.8f}, out_o2 = {r['out_before'][1]:.9f}")
    print(f"E_total before the step = {r['error_before']:.9f}")
    print(f"after one step: w5..w8 = {w5:.8f}, {w6:.9f}, {w7:.9f}, {w8:.9f}")
    print(f"                w1..w4 = {w1:.9f}, {w2:.8f}, {w3:.8f}, {w4:.8f}")
    print(f"E_total after 1 step = {r['error_after_1']:.9f}")
    print(f"E_total after {steps:,} steps = {r['error_after']:.6g}, outputs "
          f"{r['out_after'][0]:.9f}, {r['out_after'][1]:.9f}")
    variant = "the tutorial's published variant" if args.as_published else "correct backprop"
    print(f"({variant}) {DIFFERENCE}")
    return r


if __name__ == "__main__":
    main()
