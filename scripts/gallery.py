"""Write the README gallery's figures into docs/img/ (the same code as the CLI examples).

Run:  python scripts/gallery.py [--quick]
Every figure is one that ``chainrule example NAME`` or a ``chainrule.viz`` function writes;
the PNGs are small (100 dpi) and are committed so the README shows them.
"""

import argparse
import contextlib
import io
from pathlib import Path

import chainrule as cr
from chainrule import nn, viz
from chainrule.explain import worked
from chainrule.explain.pictures_activations import (
    dead_relus,
    linear_collapse,
    saturation,
    zigzag,
)
from chainrule.explain.pictures_capacity import depth, overfitting, seed_spread
from chainrule.explain.pictures_convergence import convergence
from chainrule.explain.pictures_descent import gradient_descent
from chainrule.explain.pictures_digit import follow_one_digit
from chainrule.explain.pictures_vanishing import vanishing_gradients
from chainrule.viz import fonts
from chainrule.viz.cycle import draw_cycle
from chainrule.viz.network import draw_cs231n_nets, draw_network

FOLDER = Path(__file__).resolve().parents[1] / "docs" / "img"
OURS = ("backprop_network.png", "convergence.png", "cs231n_nets.png", "cycle.png", "cycle_zh.png",
        "dead_relus.png", "depth.png", "follow_one_digit.png", "follow_one_digit_network.png",
        "gradient_descent.png", "linear_collapse.png", "mlp_graph.png", "overfitting.png",
        "saturation.png", "seed_spread.png", "vanishing_gradients.png", "zigzag.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the examples' --quick runs")
    quick = parser.parse_args().quick
    FOLDER.mkdir(parents=True, exist_ok=True)
    x, target = worked.data()
    draw_network(worked.build(), x, target, save=FOLDER / "backprop_network.png",
                 title="The worked 2-2-2 example: weights, net inputs, outputs, deltas and "
                       "errors (biases fixed)")
    draw_cycle(worked.build(), x, target, lr=worked.LR, save=FOLDER / "cycle.png")
    if fonts.cjk_font_file() is not None:  # the Chinese figure needs a CJK font
        draw_cycle(worked.build(), x, target, lr=worked.LR, lang="zh",
                   save=FOLDER / "cycle_zh.png")
    draw_cs231n_nets(save=FOLDER / "cs231n_nets.png")
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 16), nn.Sigmoid(), nn.Linear(16, 16), nn.Sigmoid(),
                          nn.Linear(16, 10))
    loss = nn.functional.cross_entropy(model(cr.randn(32, 784)), cr.randint(0, 10, (32,)))
    record = viz.watch_grads(loss)
    loss.backward()
    viz.draw_graph(loss, params=model, show_grads=record, save=FOLDER / "mlp_graph.png")
    with contextlib.redirect_stdout(io.StringIO()):
        gradient_descent(quick, save=FOLDER / "gradient_descent.png")
        vanishing_gradients(quick, save=FOLDER / "vanishing_gradients.png")
        convergence(quick, save=FOLDER / "convergence.png")
        linear_collapse(quick, save=FOLDER / "linear_collapse.png")
        saturation(quick, save=FOLDER / "saturation.png")
        dead_relus(quick, save=FOLDER / "dead_relus.png")
        zigzag(quick, save=FOLDER / "zigzag.png")
        depth(quick, save=FOLDER / "depth.png")
        overfitting(quick, save=FOLDER / "overfitting.png")
        seed_spread(quick, save=FOLDER / "seed_spread.png")
        follow_one_digit(quick, save=FOLDER / "follow_one_digit.png",
                         save_network=FOLDER / "follow_one_digit_network.png")
    for name in sorted(OURS):  # only this script's figures (docs/img holds others too)
        path = FOLDER / name
        if not path.exists():
            continue
        shrink(path)
        print(f"{path.relative_to(FOLDER.parents[1])}: {path.stat().st_size // 1024} KiB")


def shrink(path: Path) -> None:
    """Re-save a PNG with a 256-colour palette (a third of the bytes, looks the same)."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


if __name__ == "__main__":
    main()
