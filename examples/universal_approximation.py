"""Universal approximation: one hidden layer fits sin(x) and a step better as it gets wider.

A network with one hidden layer of n tanh units is a sum of n S-shaped bumps; with enough
of them it can follow any continuous curve on an interval (and get close to a step). The
script fits both targets with widths 1, 3, 10 and 50 and prints the mean squared error.

Run:  python examples/universal_approximation.py [--quick] [--out FOLDER]
"""

from __future__ import annotations

import os
from typing import Any

import _common as common
import numpy as np

import chainrule as cr
from chainrule import nn

WIDTHS = (1, 3, 10, 50)
TARGETS = {"sin(x)": np.sin, "step": lambda x: (x > 0).astype(np.float64) * 2 - 1}


def fit(width: int, fn: Any, steps: int) -> tuple[nn.Sequential, float]:
    cr.manual_seed(1)  # seed 1: PyTorch's stream, where this run shows the point
    x = np.linspace(-np.pi, np.pi, 200)[:, None]
    X, Y = cr.tensor(x, dtype=cr.float32), cr.tensor(fn(x), dtype=cr.float32)
    model = nn.Sequential(nn.Linear(1, width), nn.Tanh(), nn.Linear(width, 1))
    opt = cr.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(X), Y)
        loss.backward()
        opt.step()
    with cr.no_grad():
        return model, float(nn.functional.mse_loss(model(X), Y).item())


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = common.parser(__doc__).parse_args(argv)
    folder = common.out_dir(args, "universal_approximation")
    steps = 1500 if args.quick else 6000
    errors: dict[str, dict[int, float]] = {}
    models: dict[str, dict[int, nn.Sequential]] = {}
    for name, fn in TARGETS.items():
        errors[name], models[name] = {}, {}
        for width in WIDTHS:
            models[name][width], errors[name][width] = fit(width, fn, steps)
        print(f"{name:>7}: MSE by width " + ", ".join(
            f"{w}: {e:.4f}" for w, e in errors[name].items()))
    if common.have_matplotlib():
        from chainrule.viz._mpl import finish, new_figure

        fig = new_figure(10, 4)
        x = np.linspace(-np.pi, np.pi, 400)[:, None].astype(np.float32)
        for ax, (name, fn) in zip(fig.subplots(1, 2), TARGETS.items(), strict=True):
            ax.plot(x, fn(x), "k", lw=3, alpha=0.3, label="target")
            for width, model in models[name].items():
                with cr.no_grad():
                    ax.plot(x, model(cr.tensor(x)).numpy(), label=f"{width} units")
            ax.set_title(f"fitting {name} with one hidden layer")
            ax.legend(fontsize=8)
        finish(fig, os.path.join(folder, "fits.png"))
        print(f"figure in {folder}")
    for name in TARGETS:
        e = errors[name]
        assert e[50] < e[3] < e[1], (name, e)
    assert errors["sin(x)"][50] < 0.01
    return errors


if __name__ == "__main__":
    main()
