"""Write the README gallery's figures into docs/img/ (the same code as the CLI examples).

Run:  python scripts/gallery.py [--quick]
Every figure is one that ``chainrule example NAME`` or a ``chainrule.viz`` function writes,
in English (NAME.png, README.md's gallery) and in Chinese (NAME_zh.png, README.zh-CN.md's);
the PNGs are small (100 dpi, 256 colours) and are committed so the READMEs show them.
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
from chainrule.i18n import messages
from chainrule.viz.cycle import draw_cycle
from chainrule.viz.network import draw_cs231n_nets, draw_network

FOLDER = Path(__file__).resolve().parents[1] / "docs" / "img"
PICTURES = (("gradient_descent", gradient_descent), ("vanishing_gradients", vanishing_gradients),
            ("convergence", convergence), ("linear_collapse", linear_collapse),
            ("saturation", saturation), ("dead_relus", dead_relus), ("zigzag", zigzag),
            ("depth", depth), ("overfitting", overfitting), ("seed_spread", seed_spread))
NAMES = ("backprop_network", "cs231n_nets", "cycle", "mlp_graph", "follow_one_digit",
         "follow_one_digit_network") + tuple(name for name, _ in PICTURES)
# only this script's figures (docs/img holds others too): English NAME.png, Chinese NAME_zh.png
OURS = tuple(f"{name}{suffix}.png" for name in NAMES for suffix in ("", "_zh"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the examples' --quick runs")
    quick = parser.parse_args().quick
    FOLDER.mkdir(parents=True, exist_ok=True)
    for lang in ("en", "zh"):  # Chinese with the font chainrule ships, if no other is found
        draw_all(quick, lang, "" if lang == "en" else "_zh")
    for name in sorted(OURS):
        path = FOLDER / name
        if not path.exists():
            continue
        shrink(path)
        print(f"{path.relative_to(FOLDER.parents[1])}: {path.stat().st_size // 1024} KiB")


def draw_all(quick: bool, lang: str, suffix: str) -> None:
    """Every gallery figure in ``lang``, written as NAME{suffix}.png."""
    words = messages(lang)
    x, target = worked.data()
    draw_network(worked.build(), x, target, save=FOLDER / f"backprop_network{suffix}.png",
                 title=words("figure.worked_title"), lang=lang)
    draw_cycle(worked.build(), x, target, lr=worked.LR, save=FOLDER / f"cycle{suffix}.png",
               lang=lang)
    draw_cs231n_nets(save=FOLDER / f"cs231n_nets{suffix}.png", lang=lang)
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 16), nn.Sigmoid(), nn.Linear(16, 16), nn.Sigmoid(),
                          nn.Linear(16, 10))
    loss = nn.functional.cross_entropy(model(cr.randn(32, 784)), cr.randint(0, 10, (32,)))
    record = viz.watch_grads(loss)
    loss.backward()
    viz.draw_graph(loss, params=model, show_grads=record, save=FOLDER / f"mlp_graph{suffix}.png",
                   lang=lang)
    with contextlib.redirect_stdout(io.StringIO()):
        for name, example in PICTURES:
            example(quick, save=FOLDER / f"{name}{suffix}.png", lang=lang)
        follow_one_digit(quick, save=FOLDER / f"follow_one_digit{suffix}.png",
                         save_network=FOLDER / f"follow_one_digit_network{suffix}.png",
                         lang=lang)


def shrink(path: Path) -> None:
    """Re-save a PNG with a 256-colour palette (a third of the bytes, looks the same)."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


if __name__ == "__main__":
    main()
