"""The commands that load a trained run: ``chainrule eval`` (its test set, or another of
the same shape), ``chainrule predict`` (top-3 classes of pictures or IDX images) and
``chainrule plot`` (a run's standard figures, or several runs' curves in one figure).

Each run is rebuilt from the config saved in its checkpoint (:func:`load_run`); their
notices and errors are said in the command's language (:mod:`chainrule.cli_lang`).

>>> import argparse
>>> cmd_eval(argparse.Namespace(run="", data_dir=None, dataset=None))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
chainrule.cli_run.RunFolderError: run: expected a run folder or a checkpoint file, got an empty name
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.cli_lang import Text, error, say_of
from chainrule.cli_run import (
    UsageError,
    checkpoint_of,
    figure_note,
    finite_weights,
    need_matplotlib,
    plot_figures,
    refuse_unread_data,
    saved_config,
)
from chainrule.data import DataLoader, DatasetError
from chainrule.data.images import read_images
from chainrule.train import recipe
from chainrule.train.checkpoint import CheckpointError, apply_checkpoint, read_checkpoint
from chainrule.train.costs import SIGMOID_LOSSES, probabilities
from chainrule.train.recipe import ConfigError
from chainrule.train.trainer import Trainer


def cmd_plot(args: argparse.Namespace) -> int:
    """One run's standard figures next to it, or several runs' curves in one figure."""
    need_matplotlib()  # before anything is loaded
    if len(args.run) > 1:
        from chainrule.cli_plot import compare_runs

        figure_note(say_of(args))
        compare_runs(args.run, args.out, lang=say_of(args).lang)
        return 0
    if args.out is not None:
        raise error(UsageError, "cli.plot.out_one_run", out=args.out)
    run = args.run[0]
    model, config, features, classes = load_run(run)
    name = config["dataset"] or "mnist"
    _, test_set, _, _ = recipe.load_data(config, name, train=False)
    folder = run if os.path.isdir(run) else os.path.dirname(run)
    plot_figures(folder, model, test_set, features, classes, config["augment"], config["seed"],
                 say=say_of(args))
    return 0


def load_run(run: str) -> tuple[nn.Sequential, dict[str, Any], int, int]:
    """Rebuild a run's model from the config in its checkpoint and load the weights: the
    model (in eval mode), its config, its input features and its classes."""
    path = checkpoint_of(run)
    arrays, meta = read_checkpoint(path)
    if "playground" in meta and not meta.get("config"):
        raise error(CheckpointError, "cli.run.playground_export", path=path, run=run)
    try:
        config = recipe.resolve(saved_config(path, meta)[0])
    except ConfigError as exc:
        raise error(CheckpointError, "cli.run.bad_saved_config", path=path,
                    detail=str(exc)) from None
    features = recipe.data_shape(config["dataset"] or "mnist")[0]
    biases = [k for k in arrays if k.startswith("model/") and k.endswith(".bias")]
    if not biases:
        raise error(CheckpointError, "cli.run.no_biases", path=path)
    # the output layer's bias: the one of the last layer ("model/5.bias"), whatever the order
    last = max(biases, key=lambda k: int(k[6:].split(".")[0]) if k[6].isdigit() else -1)
    classes = int(arrays[last].shape[0])
    finite_weights(path, arrays)  # NaN weights would only predict NaN
    model = recipe.build_model(config, features, classes, training=False)
    apply_checkpoint(path, arrays, meta, model)
    model.eval()
    return model, config, features, classes


KINDS = {2: "cli.kind.points", 3072: "cli.kind.colour"}  # else 28x28 images


def cmd_eval(args: argparse.Namespace) -> int:
    """Accuracy, loss and confusion matrix of a run on its test set (or ``--dataset``)."""
    say = say_of(args)
    model, config, features, classes = load_run(args.run)
    if args.data_dir is not None:
        recipe.check_data_dir(args.data_dir)
        config["data_dir"] = args.data_dir
    name = config["dataset"] or "mnist"
    if args.dataset is not None:
        name = recipe.resolve({"dataset": args.dataset})["dataset"]
        if recipe.data_shape(name)[0] != features:
            raise error(UsageError, "cli.eval.other_kind", name=name, run=args.run,
                        kind=Text(KINDS.get(features, "cli.kind.grey")),
                        trained=config["dataset"])
    refuse_unread_data(name, args.data_dir, None, None if args.dataset else args.run,
                       evaluate=True)
    _, test_set, _, set_classes = recipe.load_data(config, name, train=False)
    if set_classes > classes:
        raise error(UsageError, "cli.eval.more_classes", name=name, classes=set_classes,
                    run=args.run, outputs=classes)
    trainer = Trainer(model, recipe.build_loss(config, classes), None, progress=False, log=None)
    result = trainer.evaluate(DataLoader(test_set, batch_size=recipe.EVAL_BATCH), classes)
    print(say("cli.eval.result", name=name, accuracy=f"{result['accuracy']:.2%}",
              loss=f"{result['loss']:.4f}", count=f"{result['count']:,}"))
    print(say("cli.eval.confusion"))
    for line in confusion_lines(result["confusion"]):
        print(line)
    return 0


def confusion_lines(confusion: Any) -> list[str]:
    """The confusion matrix as printed: a header row of predicted classes, then one row per
    true class, each count right-aligned under its column.

    >>> for line in confusion_lines([[5, 1], [0, 12]]):
    ...     print(line)
             0     1
       0     5     1
       1     0    12
    """
    width = max(5, *(len(str(int(v))) for row in confusion for v in row))
    lines = ["     " + " ".join(f"{j:>{width}}" for j in range(len(confusion)))]
    for i, row in enumerate(confusion):
        lines.append(f"  {i:>2} " + " ".join(f"{int(v):>{width}}" for v in row))
    return lines


def cmd_predict(args: argparse.Namespace) -> int:
    """The top-3 classes and their probabilities for each picture (or IDX image)."""
    say = say_of(args)
    model, config, features, _ = load_run(args.run)
    if features != 784:
        kind = Text("cli.kind.colour" if features == 3072 else "cli.kind.points")
        raise error(UsageError, "cli.predict.not_images", run=args.run,
                    dataset=config["dataset"], kind=kind)
    if config["loss"] in SIGMOID_LOSSES:
        print(say("cli.predict.sigmoid", loss=config["loss"]))
    for path in args.images:
        try:
            images = read_images(path)
        except DatasetError as exc:
            raise error(DatasetError, "cli.predict.bad_image", detail=str(exc)) from None
        with cr.no_grad():
            output = model(cr.tensor(images.astype(config["dtype"])))
            probs = probabilities(config["loss"], output).numpy()
        shown = probs[:args.limit]
        for i, p in enumerate(shown):
            top = np.argsort(-p)[:3]
            label = path if len(probs) == 1 else f"{path}[{i}]"
            print(f"{label}: " + ", ".join(f"{int(c)} ({p[c]:.1%})" for c in top))
        if len(probs) > len(shown):
            print(say("cli.predict.more", count=len(probs) - len(shown)))
    return 0
