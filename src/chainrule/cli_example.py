"""``chainrule example NAME``: a tutorial calculation or idea, run with real numbers.

Each example prints what it computed or measured; with ``--plot`` (always, for the picture
examples) it writes its figures as PNGs into ``--out`` (default: the current folder) and
prints their paths. ``--quick`` runs a smaller version (fewer steps, seeds and depths),
the one the tests run.

    chainrule example backprop --plot    # the worked 2-2-2 network, every number; figures
    chainrule example cycle              # forward -> loss -> backward -> update, one figure
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from chainrule.cli_lang import error
from chainrule.cli_run import UsageError, need_matplotlib
from chainrule.i18n import Messages, UnknownLanguage, messages


def _figure_path(args: argparse.Namespace, name: str) -> str:
    """Where the figure ``name`` goes: ``--out`` (a folder, made when missing)."""
    folder = args.out or "."
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise error(UsageError, "cli.example.out_file", folder=folder)
    return os.path.join(folder, name)


def _words(args: argparse.Namespace) -> Messages:
    """The catalogue of ``--lang`` (else $CHAINRULE_LANG or the locale); an unknown
    language is a usage error (one line listing the available ones, exit 2)."""
    try:
        return messages(getattr(args, "lang", None))
    except UnknownLanguage as exc:
        raise UsageError(str(exc)) from None


def _wrote(args: argparse.Namespace, path: str) -> None:
    print(_words(args)("cli.wrote", path=path))


def run_backprop(args: argparse.Namespace) -> int:
    """The worked 2-2-2 example: every number, the bias gradients, figures with --plot."""
    from chainrule.explain import backprop, fmt, worked
    from chainrule.explain.biases import bias_walkthrough

    words = _words(args)
    if args.plot:
        need_matplotlib()
    print(words("worked.intro") + "\n")
    model = worked.build()
    x, target = worked.data()
    backprop(model, x, target, lr=worked.LR, lang=words.lang)
    print()
    bias_walkthrough(steps=100 if args.quick else 1000, lr=worked.LR, lang=words.lang)
    correct = worked.run(steps=1)["error_after_1"]
    published = worked.run(steps=1, as_published=True)["error_after_1"]
    print("\n" + words("worked.after_one", error=fmt(correct)))
    printed = fmt(float(worked.PUBLISHED["error_after_1"]))
    variant = (words("worked.reproduces") if fmt(published) == printed
               else words("worked.gives", error=fmt(published)))
    print(words("worked.tutorial_prints", printed=printed, variant=variant))
    if args.plot:
        _plot_worked(args, words.lang)
    return 0


def _figure_lang(lang: str) -> str:
    """The language the figures can speak: Chinese only with a CJK font; else English,
    with a notice on stderr saying what to install."""
    from chainrule.viz.fonts import figure_language

    language = figure_language(lang)
    if language.notice is not None:
        print(messages(lang)("cli.note", notice=language.notice), file=sys.stderr)
    return language.words.lang


def _plot_worked(args: argparse.Namespace, lang: str) -> None:
    from chainrule.explain import worked
    from chainrule.viz.cycle import draw_cycle
    from chainrule.viz.fonts import figure_language
    from chainrule.viz.network import draw_network

    lang = _figure_lang(lang)
    x, target = worked.data()
    path = _figure_path(args, "backprop_network.png")
    draw_network(worked.build(), x, target, save=path, lang=lang,
                 title=figure_language(lang).words("figure.worked_title"))
    _wrote(args, path)
    path = _figure_path(args, "backprop_cycle.png")
    draw_cycle(worked.build(), x, target, lr=worked.LR, save=path, lang=lang)
    _wrote(args, path)


def run_cycle(args: argparse.Namespace) -> int:
    """One real training step of the worked example as the four-stage figure."""
    from chainrule.explain import fmt, worked
    from chainrule.viz.cycle import draw_cycle

    need_matplotlib()
    lang = _figure_lang(_words(args).lang)
    model = worked.build()
    x, target = worked.data()
    path = _figure_path(args, "cycle.png")
    draw_cycle(model, x, target, lr=worked.LR, save=path, lang=lang)
    with_new = worked.total_error(model(x), target).item()
    print(_words(args)("cycle.done", error=fmt(with_new)))
    _wrote(args, path)
    return 0


def run_error_split(args: argparse.Namespace) -> int:
    from chainrule.explain import error_split

    error_split(lang=_words(args).lang)
    return 0


def run_convolution(args: argparse.Namespace) -> int:
    from chainrule.explain.convolution import convolution

    convolution(lang=_words(args).lang)
    return 0


def run_follow_one_digit(args: argparse.Namespace) -> int:
    """One training "2" through the tutorials' 784-16-16-10 net trained on mini-MNIST."""
    from chainrule.explain.pictures_digit import follow_one_digit

    need_matplotlib()
    path = _figure_path(args, "follow_one_digit.png")
    network = _figure_path(args, "follow_one_digit_network.png")
    lang = _words(args).lang
    _figure_lang(lang)
    follow_one_digit(quick=args.quick, save=path, save_network=network, lang=lang)
    _wrote(args, path)
    _wrote(args, network)
    return 0


def run_second_derivatives(args: argparse.Namespace) -> int:
    """sigmoid/tanh/ReLU with f' and f'' from autograd; Newton's method vs gradient descent."""
    from chainrule.explain.second_derivatives import run

    need_matplotlib()
    path = _figure_path(args, "second_derivatives.png")
    run(save=path, points=301 if args.quick else 1201, lang=_words(args).lang)
    _wrote(args, path)
    return 0


def _picture(name: str, figure: str, module: str = "pictures_activations"
             ) -> Callable[[argparse.Namespace], int]:
    """An example that is one function ``name`` of ``chainrule.explain.<module>``, called
    with ``quick``, ``save`` and ``lang`` (the no-font note printed first when needed)."""

    def run(args: argparse.Namespace) -> int:
        import importlib

        need_matplotlib()
        path = _figure_path(args, figure)
        pictures = importlib.import_module(f"chainrule.explain.{module}")
        lang = _words(args).lang
        _figure_lang(lang)
        getattr(pictures, name)(quick=args.quick, save=path, lang=lang)
        _wrote(args, path)
        return 0

    return run


def run_networks(args: argparse.Namespace) -> int:
    """The CS231n notes' 3-4-2 and 3-4-4-1 nets and the tutorials' 784-16-16-10, counted
    and drawn neuron by neuron."""
    from chainrule import nn, random
    from chainrule.viz.network import (
        count_parameters,
        cs231n_nets,
        draw_cs231n_nets,
        draw_network,
        layers_of,
    )

    need_matplotlib()
    nets = dict(cs231n_nets())
    random.manual_seed(0)
    nets["784-16-16-10"] = nn.Sequential(nn.Linear(784, 16), nn.Sigmoid(), nn.Linear(16, 16),
                                         nn.Sigmoid(), nn.Linear(16, 10))
    words = _words(args)
    print(words("networks.title"))
    for name, model in nets.items():
        weights, biases = count_parameters(layers_of(model))
        sizes = [int(size) for size in name.split("-")]
        sums = " + ".join(f"{a} x {b}" for a, b in zip(sizes, sizes[1:], strict=False))
        print(words("networks.row", name=f"{name:<13}", sums=sums, weights=f"{weights:,}",
                    bias_sums=" + ".join(map(str, sizes[1:])), biases=f"{biases:,}",
                    total=f"{weights + biases:,}"))
    path = _figure_path(args, "cs231n_nets.png")
    draw_cs231n_nets(save=path)
    _wrote(args, path)
    path = _figure_path(args, "network_784.png")
    draw_network(nets["784-16-16-10"], save=path)
    _wrote(args, path)
    return 0


EXAMPLES: dict[str, tuple[str, Callable[[argparse.Namespace], int]]] = {
    "backprop": ("the worked 2-2-2 example, every number, the bias gradients and what "
                 "training the biases changes (--plot: the network and the step's cycle)",
                 run_backprop),
    "cycle": ("forward -> loss -> backward -> update of one real step, as one figure",
              run_cycle),
    "networks": ("the CS231n notes' 3-4-2 and 3-4-4-1 nets (26 and 41 parameters) and "
                 "784-16-16-10 (13,002), counted and drawn neuron by neuron", run_networks),
    "error-split": ("errors split by weights", run_error_split),
    "gradient-descent": ("paths on a 1-D and a 2-D loss surface from several starts (global "
                         "vs local minimum) and with several learning rates",
                         _picture("gradient_descent", "gradient_descent.png",
                                  "pictures_descent")),
    "vanishing-gradients": ("a depth sweep (2 to 20 layers) of per-layer gradient norms for "
                            "sigmoid, tanh and ReLU, at init and after training",
                            _picture("vanishing_gradients", "vanishing_gradients.png",
                                     "pictures_vanishing")),
    "follow-one-digit": ("one training 2 through 784-16-16-10 trained on the embedded "
                         "mini-MNIST: every layer's activations, the outputs 0-9, the ranked "
                         "gradient, the first layer's weight gradients as 28x28 maps",
                         run_follow_one_digit),
    "convergence": ("steps to a training-loss threshold for sigmoid, tanh and ReLU at several "
                    "learning rates: the notes' 'ReLU about 6x faster than tanh', measured",
                    _picture("convergence", "convergence.png", "pictures_convergence")),
    "linear-collapse": ("without a non-linearity two layers are one matrix: numerically, and "
                        "as a straight boundary on the circles", _picture(
                            "linear_collapse", "linear_collapse.png")),
    "saturation": ("large initial weights saturate sigmoid units: the saturated share and "
                   "the accuracy after one epoch, vs Xavier's init", _picture(
                       "saturation", "saturation.png")),
    "dead-relus": ("ReLU units dead after one epoch, per layer, across learning rates",
                   _picture("dead_relus", "dead_relus.png")),
    "zigzag": ("sigmoid's outputs are not centred on 0: every step moves the next layer's "
               "weights the same way, a zig-zag path", _picture("zigzag", "zigzag.png")),
    "depth": ("1, 2 and 4 hidden layers (and one wide layer with as many parameters) on the "
              "spiral: accuracies and boundaries",
              _picture("depth", "depth.png", "pictures_capacity")),
    "overfitting": ("20 hidden units on 60 noisy points: the training loss falls, the test "
                    "loss turns up", _picture("overfitting", "overfitting.png",
                                              "pictures_capacity")),
    "seed-spread": ("a 3-unit net trained from 20 seeds ends at different losses",
                    _picture("seed_spread", "seed_spread.png", "pictures_capacity")),
    "convolution": ("a 3x3 kernel over a 5x5 image, and its gradient by hand vs autograd",
                    run_convolution),
    "second-derivatives": ("sigmoid, tanh and ReLU with their first and second derivatives "
                           "from autograd (create_graph=True), and Newton's method vs "
                           "gradient descent on a 1-D loss", run_second_derivatives),
}


def _listing(width: int = 88) -> str:
    """The examples, one entry each, their descriptions wrapped under the name."""
    import textwrap

    lines = ["examples:"]
    for name, (text, _) in EXAMPLES.items():
        wrapped = textwrap.wrap(text, width - 22, break_on_hyphens=False)
        lines.append(f"  {name:<19} {wrapped[0]}")
        lines.extend(f"  {'':<19} {rest}" for rest in wrapped[1:])
    return "\n".join(lines)


def add_example_parser(sub: argparse._SubParsersAction) -> None:
    """The ``example`` subcommand and its flags."""
    ex = sub.add_parser("example", help="walk through a tutorial calculation or idea with "
                        "real numbers and pictures", epilog=_listing(),
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    ex.add_argument("name", choices=list(EXAMPLES), metavar="NAME",
                    help="which example (the list below)")
    ex.add_argument("--plot", action="store_true", help="also write the example's figures "
                    "(PNG) into --out")
    ex.add_argument("--out", metavar="DIR", help="folder for the figures (default: the "
                    "current folder)")
    ex.add_argument("--quick", action="store_true", help="a smaller, faster run (fewer "
                    "steps, seeds and depths), as the tests run it")
    ex.add_argument("--lang", metavar="LANG", default=argparse.SUPPRESS,
                    help="language of the explanations: en or zh "
                    "(default: $CHAINRULE_LANG, else the locale, else en); backprop (and its "
                    "figures) and cycle's figure, and the printed text of every example "
                    "speak both (the other figures stay English; Chinese "
                    "figures need a CJK font: pip install noto-cjk-sans-otc)")
    ex.set_defaults(func=cmd_example)


def cmd_example(args: argparse.Namespace) -> int:
    """Run the example ``args.name`` (after checking the language, whichever it is)."""
    _words(args)
    return EXAMPLES[args.name][1](args)
