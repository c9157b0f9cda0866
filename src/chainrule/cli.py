"""The ``chainrule`` command: train, eval, predict, info, plot, example and bench.

    chainrule train                     # the tutorials' 784-16-16-10 sigmoid net on MNIST
    chainrule train --hidden 800,800 --activation relu --optimizer momentum --epochs 20
    chainrule train --model lenet --epochs 10   # LeNet-5 (or --model cnn)
    chainrule eval runs/NAME            # test accuracy, loss and confusion matrix
    chainrule predict runs/NAME digit.png
    chainrule info runs/NAME            # config, metrics, environment
    chainrule example backprop          # the worked 2-2-2 example, every number
    chainrule example convolution       # a 3x3 kernel over a 5x5 image, its gradient by hand
    chainrule plot runs/NAME            # curves, confusion matrix, weights, boundaries (PNG)
    chainrule plot runs/A runs/B        # both runs' curves in one figure (runs/compare.png)
    chainrule bench                     # one epoch: chainrule vs PyTorch vs plain NumPy

Bad input (flags, data, config files, checkpoints) and every OS error (an unreadable
file, an unwritable folder, a full disk) print one line to stderr and exit with status 2;
a NaN loss exits 1; Ctrl-C (or SIGTERM, SIGHUP) during training saves a checkpoint and
exits 128 + the signal's number (130, 143, 129). When stdout is a pipe that closes early
(``chainrule info RUN | head -1``) the command stops quietly with status 141, like a tool
killed by SIGPIPE; a closed, full or ASCII-only stdout or stderr never ends in a traceback
(:mod:`chainrule.cli_streams`).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import Any, NoReturn

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.cli_example import add_example_parser
from chainrule.cli_info import cmd_info
from chainrule.cli_launch import add_launch_parser
from chainrule.cli_playground import add_playground_parser
from chainrule.cli_run import (
    UsageError,
    checkpoint_of,
    finite_weights,
    need_matplotlib,
    plot_figures,
    refuse_unread_data,
    saved_config,
)
from chainrule.cli_streams import standard_streams
from chainrule.cli_train import add_train_flags, cmd_train
from chainrule.data import DataLoader, DatasetError
from chainrule.data.images import read_images
from chainrule.limits import MemoryLimitError
from chainrule.nn.layers import ShapeError
from chainrule.nn.module import StateDictError
from chainrule.ops.linalg import DtypeError
from chainrule.train import recipe
from chainrule.train.checkpoint import CheckpointError, apply_checkpoint, read_checkpoint
from chainrule.train.costs import SIGMOID_LOSSES, probabilities
from chainrule.train.recipe import ConfigError
from chainrule.train.trainer import Trainer, TrainingDiverged, TrainingInterrupted

EXIT_USAGE, EXIT_DIVERGED, EXIT_INTERRUPTED, EXIT_PIPE = 2, 1, 130, 141

# every error the library raises for bad input: one line on stderr, exit status 2
BAD_INPUT = (UsageError, ConfigError, DatasetError, CheckpointError, StateDictError,
             MemoryLimitError, ShapeError, DtypeError)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Lists the subcommands one per line, without argparse's '{train,eval,...}' line."""

    def _format_action(self, action: argparse.Action) -> str:
        if isinstance(action, argparse._SubParsersAction):
            return "".join(self._format_action(sub) for sub in action._get_subactions())
        return super()._format_action(action)


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one 'chainrule: error: ...' line like all the others."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"chainrule: error: {message} (see {self.prog} --help)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def cmd_bench(args: argparse.Namespace) -> int:
    from chainrule.bench import main as bench_main

    bench_main([] if args.full else ["--quick"])
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    need_matplotlib()  # before anything is loaded
    if len(args.run) > 1:
        from chainrule.cli_plot import compare_runs

        compare_runs(args.run, args.out)
        return 0
    if args.out is not None:
        raise UsageError(f"--out {args.out}: names the figure of several runs compared; one "
                         "run's figures are written into its folder")
    run = args.run[0]
    model, config, features, classes = _load_run(run)
    name = config["dataset"] or "mnist"
    _, test_set, _, _ = recipe.load_data(config, name, train=False)
    folder = run if os.path.isdir(run) else os.path.dirname(run)
    plot_figures(folder, model, test_set, features, classes, config["augment"], config["seed"])
    return 0


# ---- eval / predict / info ----------------------------------------------------------------


def _load_run(run: str) -> tuple[nn.Sequential, dict[str, Any], int, int]:
    """Rebuild a run's model from the config in its checkpoint and load the weights."""
    path = checkpoint_of(run)
    arrays, meta = read_checkpoint(path)
    if "playground" in meta and not meta.get("config"):
        raise CheckpointError(f"{path}: exported from the playground with a setup chainrule "
                              "train cannot make (regression, CSV data, features beyond x and "
                              f"y, or a linear net); open it with: chainrule playground --load "
                              f"{run}")
    try:
        config = recipe.resolve(saved_config(path, meta)[0])
    except ConfigError as exc:
        raise CheckpointError(f"{path}: the config saved in it is not valid ({exc})") from None
    features = recipe.data_shape(config["dataset"] or "mnist")[0]
    biases = [k for k in arrays if k.startswith("model/") and k.endswith(".bias")]
    if not biases:
        raise CheckpointError(f"{path}: no layer biases found: not a chainrule classifier")
    # the output layer's bias: the one of the last layer ("model/5.bias"), whatever the order
    last = max(biases, key=lambda k: int(k[6:].split(".")[0]) if k[6].isdigit() else -1)
    classes = int(arrays[last].shape[0])
    finite_weights(path, arrays)  # NaN weights would only predict NaN
    model = recipe.build_model(config, features, classes, training=False)
    apply_checkpoint(path, arrays, meta, model)
    model.eval()
    return model, config, features, classes


def cmd_eval(args: argparse.Namespace) -> int:
    model, config, features, classes = _load_run(args.run)
    if args.data_dir is not None:
        recipe.check_data_dir(args.data_dir)
        config["data_dir"] = args.data_dir
    name = config["dataset"] or "mnist"
    if args.dataset is not None:
        name = recipe.resolve({"dataset": args.dataset})["dataset"]
        if recipe.data_shape(name)[0] != features:
            kind = {2: "2-D points", 3072: "3x32x32 colour images"}.get(features,
                                                                         "28x28 images")
            raise UsageError(f"--dataset {name}: the model in {args.run} takes {kind} "
                             f"(trained on {config['dataset']}); choose a data set of that kind")
    refuse_unread_data(name, args.data_dir, None, None if args.dataset else args.run,
                       evaluate=True)
    _, test_set, _, set_classes = recipe.load_data(config, name, train=False)
    if set_classes > classes:
        raise UsageError(f"--dataset {name} has {set_classes} classes, the model in {args.run} "
                         f"has {classes} outputs")
    trainer = Trainer(model, recipe.build_loss(config, classes), None, progress=False, log=None)
    result = trainer.evaluate(DataLoader(test_set, batch_size=recipe.EVAL_BATCH), classes)
    print(f"{name} test set: accuracy {result['accuracy']:.2%}, loss {result['loss']:.4f}, "
          f"{result['count']:,} samples")
    print("confusion matrix (rows: true class, columns: predicted):")
    for i, row in enumerate(result["confusion"]):
        print(f"  {i:>2} " + " ".join(f"{v:>5}" for v in row))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    model, config, features, _ = _load_run(args.run)
    if features != 784:
        kind = "3x32x32 colour images" if features == 3072 else "2-D points"
        raise UsageError(f"{args.run}: predict needs an image model of 28x28 grey images, this "
                         f"one was trained on {config['dataset']} ({kind}); chainrule eval "
                         "tests it on its test set")
    if config["loss"] in SIGMOID_LOSSES:
        print(f"(a --loss {config['loss']} run: each class has its own sigmoid probability; "
              "they need not sum to 100%)")
    for path in args.images:
        images = read_images(path)
        with cr.no_grad():
            output = model(cr.tensor(images.astype(config["dtype"])))
            probs = probabilities(config["loss"], output).numpy()
        shown = probs[:args.limit]
        for i, p in enumerate(shown):
            top = np.argsort(-p)[:3]
            label = path if len(probs) == 1 else f"{path}[{i}]"
            print(f"{label}: " + ", ".join(f"{int(c)} ({p[c]:.1%})" for c in top))
        if len(probs) > len(shown):
            print(f"... {len(probs) - len(shown)} more images (use --limit)")
    return 0


# ---- entry point --------------------------------------------------------------------------


DESCRIPTION = ("Train, evaluate and look inside neural networks written with PyTorch's API on "
               "NumPy.")
EPILOG = """examples:
  chainrule train                      the tutorials' 784-16-16-10 sigmoid net on MNIST
  chainrule train --dataset spiral --hidden 20 --activation tanh --epochs 40 --plot
  chainrule eval runs/NAME             test accuracy, loss and confusion matrix
  chainrule plot runs/NAME             curves, confusion matrix, weights (PNG files)
  chainrule example backprop           the worked 2-2-2 example, every number
  chainrule playground                 train a network in the browser and watch it learn

'chainrule COMMAND --help' lists a command's flags."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand (``chainrule --help`` lists them all)."""
    parser = _Parser(prog="chainrule", description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=_HelpFormatter)
    parser.add_argument("--version", action="version", version=f"chainrule {cr.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, title="commands",
                                metavar="COMMAND")
    train = sub.add_parser("train", help="train a network (default: the tutorials' MNIST MLP)")
    add_train_flags(train)
    train.set_defaults(func=cmd_train)
    ev = sub.add_parser("eval", help="evaluate a trained run on its test set")
    ev.add_argument("run", help="run folder or checkpoint file")
    ev.add_argument("--dataset", help="evaluate on another data set of the same shape")
    ev.add_argument("--data-dir", dest="data_dir", metavar="DIR",
                    help="folder with the data set's files, read as train --data-dir reads it "
                    "(default: the run's own --data-dir, else $CHAINRULE_DATA, then the cache)")
    ev.set_defaults(func=cmd_eval)
    pr = sub.add_parser("predict", help="top-3 classes for images (PNG, JPEG, PGM, BMP, GIF, "
                        "TIFF, WebP or IDX)")
    pr.add_argument("run", help="run folder or checkpoint file")
    pr.add_argument("images", nargs="+", help="picture files (scaled to 28x28 grey, inverted "
                    "when the background is light) or IDX files of images")
    pr.add_argument("--limit", type=_positive_int, default=10,
                    help="images to show from an IDX file (at least 1)")
    pr.set_defaults(func=cmd_predict)
    info = sub.add_parser("info", help="config, metrics and environment of a run")
    info.add_argument("run", help="run folder or checkpoint file")
    info.set_defaults(func=cmd_info)
    bench = sub.add_parser("bench", help="time one epoch of the tutorials' MNIST net: "
                           "chainrule (eager, captured) vs PyTorch vs plain NumPy")
    bench.add_argument("--full", action="store_true", help="all three configurations, median "
                       "of 3 processes (minutes)")
    bench.set_defaults(func=cmd_bench)
    pl = sub.add_parser("plot", help="write a run's standard figures as PNGs next to it, or "
                        "overlay several runs' curves in one figure")
    pl.add_argument("run", nargs="+", help="run folder or checkpoint file; two or more: their "
                    "loss and accuracy curves in one figure, the legend naming each run and "
                    "the settings that differ")
    pl.add_argument("--out", help="where the figure of several runs goes (default: "
                    "compare.png in the folder holding the runs)")
    pl.set_defaults(func=cmd_plot)
    add_example_parser(sub)
    add_playground_parser(sub)
    add_launch_parser(sub)
    return parser


def _one_line(exc: BaseException) -> str:
    return " ".join(part.strip() for part in str(exc).splitlines() if part.strip())


def _os_error(exc: OSError) -> str:
    """'PATH: reason' for an OS error nothing else caught (the last resort: no traceback)."""
    names = [name for name in (exc.filename, exc.filename2) if name is not None]
    where = " -> ".join(os.fsdecode(name) if isinstance(name, str | bytes) else str(name)
                        for name in names)
    reason = exc.strerror or _one_line(exc) or type(exc).__name__
    return f"{where}: {reason}" if where else reason


def _stdout_closed() -> int:
    """The reader of stdout went away (``| head -1``): stop quietly, like a tool on SIGPIPE."""
    try:  # later writes, and the interpreter's final flush, go nowhere instead of failing
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return EXIT_PIPE


def main(argv: list[str] | None = None) -> int:
    with standard_streams():  # escapes what stdout cannot encode; stderr failures dropped
        return _run(argv)


def _run(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # NaN/Inf are caught by the trainer's loss check and named by detect_anomaly; NumPy's
    # own RuntimeWarnings would only repeat that without saying where, so silence them here
    previous = np.seterr(over="ignore", invalid="ignore", divide="ignore")
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # a closed pipe shows up here, not in the interpreter's last flush
        return code
    except TrainingInterrupted as exc:  # Ctrl-C, SIGTERM, SIGHUP: 128 + the signal's number
        print(f"chainrule: {exc}", file=sys.stderr)
        return 128 + int(getattr(exc, "signum", signal.SIGINT))
    except TrainingDiverged as exc:
        print(f"chainrule: {exc}", file=sys.stderr)
        return EXIT_DIVERGED
    except BAD_INPUT as exc:
        print(f"chainrule: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return _stdout_closed()
    except OSError as exc:
        print(f"chainrule: error: {_os_error(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except MemoryError as exc:
        print(f"chainrule: error: out of memory ({_one_line(exc) or 'an allocation failed'}); "
              "try a smaller model or batch", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        np.seterr(**previous)


if __name__ == "__main__":
    sys.exit(main())
