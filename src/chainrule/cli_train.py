"""The ``chainrule train`` command: its flags, the config file, resuming, the training run.

Settings come from three places, later ones winning: the defaults of
:mod:`chainrule.train.recipe`, a TOML file (``--config``: any setting but ``resume`` and
``config``, at the top level and in a ``[train]`` table, merged) and the flags. A resumed run
(``--resume``) starts from the settings saved in its checkpoint, and only
:data:`recipe.RESUMABLE` ones (``--epochs``, ``--data-dir``, ``--download``, ``--device``)
may differ from them; ``--out`` and ``--plot`` are not settings of the run and may too.

Every check that can fail runs before training starts, cheapest first: the settings, the
model's memory estimate, the data, then the run folder (claimed and locked, see
:mod:`chainrule.cli_run`).
"""

from __future__ import annotations

import argparse
import os
import platform
import stat
import sys
import time
import tomllib
from typing import Any

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.cli_run import (
    UsageError,
    checkpoint_of,
    claim,
    finite_weights,
    need_matplotlib,
    plot_figures,
    refuse_unread_data,
    saved_config,
)
from chainrule.data import Augment, DataLoader
from chainrule.limits import ENV as MEMORY_ENV
from chainrule.paths import what_is_at
from chainrule.train import models, recipe
from chainrule.train.checkpoint import read_checkpoint
from chainrule.train.recipe import ConfigError
from chainrule.train.trainer import Trainer
from chainrule.wording import plural

CONFIG_MAX_BYTES = 1 << 20  # a config file is a few lines; this stops --config /dev/zero


TRAIN_EPILOG = f"""A resumed run keeps every setting it was trained with; only {", ".join(
    "--" + k.replace("_", "-") for k in recipe.RESUMABLE)} (and --out, --plot) may change,
and --epochs not when a step, cosine, warmup or onecycle schedule is laid out over them.
The model's memory (parameters, gradients, optimizer state, a batch's activations) is
estimated before it is built and refused over 4 GiB; set {MEMORY_ENV}=SIZE (e.g. 16G) to
allow more."""


def add_train_flags(parser: argparse.ArgumentParser) -> None:
    """The train command's flags (all default to None: unset flags do not override)."""
    parser.epilog = TRAIN_EPILOG
    add = parser.add_argument
    add("--model", help="mlp (default: Flatten and the --hidden layers) | lenet (LeNet-5: conv "
        "6@5x5 pad 2, max-pool, conv 16@5x5, max-pool, 120, 84, 10; 61,706 parameters) | cnn "
        "(two conv 3x3 blocks with BatchNorm, ReLU and max-pool, dropout 0.25, linear). lenet "
        "and cnn default to --activation relu --optimizer momentum --lr 0.05 --batch-size 64 "
        "--schedule cosine and take images only (28x28, or CIFAR-10's 3x32x32)")
    add("--dataset", help=" | ".join(recipe.IMAGE_SETS + recipe.TOY_SETS) + " (default: mnist "
        "when found or asked for with --data-dir or --download, else the embedded mini-MNIST)")
    add("--data-dir", dest="data_dir", help="folder with the data set's files: IDX files, or "
        "CIFAR-10's .bin files or cifar-10-binary.tar.gz (read from it, or its subfolder "
        "named after the data set, and nowhere else)")
    add("--download", action="store_true", default=None, help="download the data set (mnist "
        "without --dataset) into --data-dir or the cache when none of its files is there")
    add("--hidden", help="hidden layer sizes of --model mlp, e.g. 16,16 (default)")
    add("--activation", help=" | ".join(recipe.ACTIVATIONS) + " (default sigmoid)")
    add("--loss", help=" | ".join(recipe.LOSSES) + " (default cross_entropy)")
    add("--optimizer", help=" | ".join(recipe.OPTIMIZERS) + " (default sgd)")
    add("--lr", help="learning rate (default 0.5 for sgd, 0.01 momentum, 0.001 adam)")
    add("--momentum", help="momentum for momentum/nesterov (default 0.9)")
    add("--weight-decay", dest="weight_decay", help="L2 penalty (default 0)")
    add("--dropout", help="dropout probability after each hidden layer (default 0)")
    add("--augment", help="distort every training batch anew (image data sets; validation "
        "and test images never): a comma list of shift (whole pixels, up to 2 each way), "
        "rotate (up to 15 degrees), elastic (Simard et al. 2003: smoothed random "
        "displacements, sigma 4, alpha 34); drawn from --seed, so --resume repeats them "
        "(default none)")
    add("--init", help=" | ".join(recipe.INITS))
    add("--schedule", help=" | ".join(recipe.SCHEDULES) + " (default none)")
    add("--batch-size", dest="batch_size", help="mini-batch size (default 32)")
    add("--epochs", help="number of epochs (default 5)")
    add("--seed", help="random seed (default 0)")
    add("--device", help="cpu (default) or cuda")
    add("--out", help="run folder (default runs/<dataset>-<YYYYmmdd-HHMMSS>, with -2, -3, "
        "... when taken); refused if it holds another run's checkpoint")
    add("--resume", help="continue a run from its folder (or its checkpoint.safetensors); "
        "only " + ", ".join("--" + k.replace("_", "-") for k in recipe.RESUMABLE)
        + " may differ from the run's settings")
    add("--config", help="TOML file with any of these settings but --resume and --config; "
        "flags override it")
    add("--plot", action="store_true", default=None, help="write the standard figures next "
        "to the run (PNG: curves, confusion matrix, weights, ...)")


def read_config_file(path: str) -> dict[str, Any]:
    """The settings of a TOML config file, keys as in config: the top-level keys and a
    ``[train]`` table merged (a key set in both is an error). Values are checked like the
    flags', and an error names the file and the key."""
    if not path:
        raise UsageError("--config: expected a file name, got an empty string")
    try:
        mode: int | None = os.stat(path).st_mode
    except OSError:
        mode = None  # open says why
    if mode is not None and not stat.S_ISREG(mode):  # a FIFO would block open and read
        raise UsageError(f"--config {path}: expected a TOML file, found {what_is_at(path)}")
    try:
        with open(path, "rb") as f:
            raw = f.read(CONFIG_MAX_BYTES + 1)
    except FileNotFoundError:
        found = what_is_at(path)
        raise UsageError(f"--config {path}: no such file" if found == "nothing" else
                         f"--config {path}: expected a TOML file, found {found}") from None
    except OSError as exc:
        raise UsageError(f"--config {path}: cannot read it ({exc.strerror or exc})") from None
    if len(raw) > CONFIG_MAX_BYTES:
        raise UsageError(f"--config {path}: larger than {CONFIG_MAX_BYTES >> 20} MiB, not a "
                         "config file")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"--config {path}: not valid TOML ({exc})") from None
    settings = _merged(path, data)
    for key in ("resume", "config"):
        if key in settings:
            raise UsageError(f"--config {path}: {key} cannot be set in a config file; pass "
                             f"--{key} on the command line")
    known = sorted([*recipe.DEFAULTS, "out", "plot"])
    unknown = sorted(set(settings) - set(known))
    if unknown:
        raise UsageError(f"--config {path}: unknown config keys: {', '.join(unknown)} (known: "
                         f"{', '.join(known)})")
    if "out" in settings and (not isinstance(settings["out"], str) or not settings["out"]):
        raise UsageError(f"--config {path}: out: expected a folder name, got "
                         f"{settings['out']!r}")
    if "plot" in settings and not isinstance(settings["plot"], bool):
        raise UsageError(f"--config {path}: plot: expected true or false, got "
                         f"{settings['plot']!r}")
    try:  # the file's values on their own, so that an error names the file and the key
        recipe.resolve({k: v for k, v in settings.items() if k in recipe.DEFAULTS})
    except ConfigError as exc:
        raise UsageError(f"--config {path}: {_as_key(str(exc))}") from None
    return settings


def _merged(path: str, data: dict[str, Any]) -> dict[str, Any]:
    """The top-level settings and the [train] table's in one dict (keys with '_')."""
    table = data.get("train", {})
    if not isinstance(table, dict):
        raise UsageError(f"--config {path}: train: expected a [train] table of settings, "
                         f"got {table!r}")
    settings: dict[str, Any] = {}
    where: dict[str, str] = {}
    for place, section in (("at the top level", data), ("in [train]", table)):
        for key, value in section.items():
            if section is data and key == "train":
                continue
            name = key.replace("-", "_")
            if name in settings:
                both = (f"both {where[name]} and {place}" if where[name] != place
                        else f"twice {place}")
                raise UsageError(f"--config {path}: {name} is set {both}; set it once")
            settings[name], where[name] = value, place
    return settings


def _as_key(message: str) -> str:
    """A flag's error as the config key's: '--batch-size: ...' -> 'batch_size: ...'."""
    if not message.startswith("--"):
        return message
    flag, sep, rest = message.partition(" ")
    colon = flag.endswith(":")
    key = flag[2:].rstrip(":").replace("-", "_")
    return f"{key}{':' if colon else ''}{sep}{rest}"


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    keys = set(recipe.DEFAULTS)
    return {k: v for k, v in vars(args).items() if k in keys and v is not None}


def _environment() -> dict[str, Any]:
    return {"chainrule": cr.__version__, "python": platform.python_version(),
            "numpy": np.__version__, "platform": platform.platform(),
            "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M:%S")}


# ---- train --------------------------------------------------------------------------------


def _resume_from(args: argparse.Namespace, changes: dict[str, Any]
                 ) -> tuple[str, dict[str, Any]]:
    """The checkpoint to resume and the run's config with ``changes`` (only the allowed)."""
    path = checkpoint_of(args.resume, "--resume")
    arrays, meta = read_checkpoint(path)
    if "step" not in meta:  # best.safetensors: weights, config and metrics of one epoch
        folder = os.path.dirname(path) or "."
        raise UsageError(f"--resume {args.resume}: this file holds only the best epoch's "
                         "weights, config and metrics, not the optimizer state and data order "
                         f"needed to continue training; pass --resume {folder} to continue "
                         f"from the last checkpoint, or evaluate it with chainrule eval {path}")
    finite_weights(path, arrays, prefix="")  # NaN weights or optimizer state: nothing to resume
    saved, _ = saved_config(path, meta)
    return path, recipe.resume_config(saved, changes, args.resume)


def cmd_train(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    file_config = read_config_file(args.config) if args.config is not None else {}
    out, plot = file_config.pop("out", None), file_config.pop("plot", False)
    out = args.out if args.out is not None else out
    plot = args.plot if args.plot is not None else plot
    changes = {**file_config, **_flags(args)}
    resume_path = None
    if args.resume is not None:
        resume_path, config = _resume_from(args, changes)
    else:
        config = recipe.resolve(changes)
    if config["device"] != "cpu" and not cr.cuda_available():
        raise ConfigError(f"--device {config['device']}: no CUDA device (install "
                          "chainrule[gpu] on a machine with an NVIDIA GPU) ")
    if plot:
        need_matplotlib()
    name, notice = recipe.choose_dataset(config)
    refuse_unread_data(name, changes.get("data_dir"), changes.get("download"), args.resume)
    config["dataset"] = name
    recipe.check_model_memory(config, *recipe.data_shape(name))  # before loading anything
    if notice:
        print(notice, file=sys.stderr)
    data = recipe.load_data(config, name)
    if resume_path and out is None:
        folder = claim(os.path.dirname(resume_path) or ".", "", resume_path, flag="--resume")
    else:
        default = os.path.join("runs", f"{name}-{time.strftime('%Y%m%d-%H%M%S')}")
        folder = claim(out, default, resume_path)
    wrote = False  # a run that trained nothing (--epochs 0) leaves no folder behind
    try:
        if folder.removed:
            print(f"notice: {folder.path} held {', '.join(folder.removed)} of a run that "
                  "stopped before its first checkpoint; starting them over", file=sys.stderr)
        wrote = _train(config, data, folder.path, resume_path, plot, start)
    finally:
        folder.release(keep=wrote)
    return 0


def _train(config: dict[str, Any], data: tuple[Any, Any, int, int], out: str,
           resume_path: str | None, plot: bool, start: float) -> bool:
    """Train and evaluate; whether a checkpoint (or a figure) was written."""
    train_set, test_set, features, classes = data
    cr.manual_seed(config["seed"])
    model = recipe.build_model(config, features, classes)
    loss_fn = recipe.build_loss(config, classes)
    optimizer = recipe.build_optimizer(config, model)
    augment = Augment(config["augment"]) if config["augment"] else None
    loader = DataLoader(train_set, batch_size=config["batch_size"], shuffle=True,
                        generator=cr.Generator(config["seed"] + 1), augment=augment)
    test_loader = DataLoader(test_set, batch_size=recipe.EVAL_BATCH)
    scheduler, per_batch = recipe.build_scheduler(config, optimizer, len(loader))
    device = None if config["device"] == "cpu" else config["device"]
    if device:
        model.to(device)
    print(nn.summary(model, models.sample_shape(features)))
    print(f"data: {config['dataset']}, {len(train_set):,} training and {len(test_set):,} test "
          f"samples; {config['optimizer']} lr {config['lr']:g}, batch {config['batch_size']}, "
          f"{plural(config['epochs'], 'epoch')}, seed {config['seed']}")
    trainer = Trainer(model, loss_fn, optimizer, scheduler, out_dir=out,
                      config={**config, "environment": _environment()},
                      step_scheduler_per_batch=per_batch, device=device, log=sys.stderr)
    if resume_path:
        trainer.resume(resume_path, loader)
        print(f"resumed from {resume_path} at epoch {trainer.epoch}, step {trainer.step}")
        if trainer.epoch >= config["epochs"]:
            print(f"notice: the run has already trained {trainer.epoch} of --epochs "
                  f"{config['epochs']}: nothing to train, only the test set is evaluated; pass "
                  f"--epochs {trainer.epoch + 1} or more to train on", file=sys.stderr)
    trainer.fit(loader, test_loader, epochs=config["epochs"])
    result = trainer.evaluate(test_loader, classes)
    elapsed = time.perf_counter() - start
    if plot:
        plot_figures(out, model, test_set, features, classes, config["augment"], config["seed"])
    saved = trainer.checkpoint_path
    wrote = bool(saved and os.path.exists(saved))
    where = saved if wrote else "none (no epoch trained: nothing kept)"
    print(f"test accuracy {result['accuracy']:.2%} | test loss {result['loss']:.4f} | "
          f"time {elapsed:.1f}s | checkpoint {where}")
    return wrote or plot
