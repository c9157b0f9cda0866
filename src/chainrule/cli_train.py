"""The ``chainrule train`` command: its flags, the config file, resuming, the training run.

Settings come from three places, later ones winning: the defaults of
:mod:`chainrule.train.recipe`, a TOML file (``--config``: any setting but ``resume`` and
``config``, at the top level and in a ``[train]`` table, merged) and the flags. A resumed run
(``--resume``) starts from the settings saved in its checkpoint, and only
:data:`recipe.RESUMABLE` ones (``--epochs``, ``--data-dir``, ``--download``, ``--device``,
``--threads``) may differ from them; ``--out`` and ``--plot`` are not settings of the run
and may too.

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
from chainrule.distributed.training import distributed_run
from chainrule.limits import ENV as MEMORY_ENV
from chainrule.paths import what_is_at
from chainrule.random import default_generator
from chainrule.train import models, recipe, split
from chainrule.train.checkpoint import CheckpointError, read_checkpoint
from chainrule.train.evaluation import test_best_and_last
from chainrule.train.recipe import ConfigError
from chainrule.train.threads import busy_hint, limit_threads, thread_report
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
    add("--loss", help="cross_entropy (default: softmax, then -ln p of the true class, mean "
        "over the batch) | mse (network.py's quadratic cost: sigmoid outputs a against the "
        "one-hot target y, 1/2 * sum over the classes of (a - y)^2, mean over the batch) | "
        "bce (network2.py's cross-entropy cost: sigmoid outputs, -[y ln a + (1 - y) ln(1 - a)] "
        "summed over the classes, mean over the batch) | multi_margin (multiclass hinge). "
        "mse and bce runs give each class its own sigmoid probability in eval and predict")
    add("--optimizer", help=" | ".join(recipe.OPTIMIZERS) + " (default sgd)")
    add("--lr", help="learning rate (default 0.5 for sgd, 0.01 momentum, 0.001 adam)")
    add("--momentum", help="momentum for momentum/nesterov (default 0.9)")
    add("--weight-decay", dest="weight_decay", help="L2 weight decay wd: wd * w is added to "
        "every step's gradient (sgd: w -= lr * (grad + wd * w)); adamw subtracts lr * wd * w "
        "apart from the gradient. It is network2.py's lambda/n: lambda 5.0 with n = 50,000 "
        "training images is --weight-decay 1e-4. Biases decay too unless --no-bias-decay "
        "(default 0)")
    add("--no-bias-decay", dest="no_bias_decay", action="store_true", default=None,
        help="decay only the weights: biases and BatchNorm/LayerNorm parameters get weight "
        "decay 0 (a second optimizer parameter group), as network2.py does")
    add("--dropout", help="dropout probability after each hidden layer (default 0)")
    add("--augment", help="distort every training batch anew (image data sets; validation "
        "and test images never): a comma list of shift (whole pixels, up to 2 each way), "
        "rotate (up to 15 degrees), elastic (Simard et al. 2003: smoothed random "
        "displacements, sigma 4, alpha 34); drawn from --seed, so --resume repeats them "
        "(default none)")
    add("--init", help="how weights start (gain g from --activation: tanh 5/3, relu and "
        "leaky_relu about sqrt(2), others 1): default (PyTorch's: weights and biases "
        "U(-1/sqrt(fan_in), 1/sqrt(fan_in))) | xavier_uniform (U(-a, a), a = g * "
        "sqrt(6 / (fan_in + fan_out))) | xavier_normal (N(0, g^2 * 2 / (fan_in + fan_out))) "
        "| kaiming_uniform (U(-b, b), b = g * sqrt(3 / fan_in)) | kaiming_normal (N(0, g^2 / "
        "fan_in)) | orthogonal (orthogonal matrix times g) | normal (N(0, S^2) for the weights "
        "AND the biases, S = --init-std, default 1: network.py's N(0, 1)) | normal_fan_in "
        "(weights N(0, 1 / fan_in), biases N(0, 1): network2.py's default_weight_initializer)."
        " All but default, normal and normal_fan_in set the biases to 0")
    add("--init-std", dest="init_std", help="the standard deviation S of --init normal "
        "(default 1.0); only with --init normal")
    add("--schedule", help=" | ".join(recipe.SCHEDULES) + " (default none)")
    add("--batch-size", dest="batch_size", help="mini-batch size (default 32)")
    add("--epochs", help="number of epochs (default 5)")
    add("--seed", help="random seed (default 0)")
    add("--val-split", dest="val_split", help="hold out N training images as a validation "
        "set: a count (--val-split 10000: Nielsen's 50,000 training / 10,000 validation) or a "
        "fraction in (0, 1); drawn from --seed and saved with the run, so --resume keeps it. "
        "The per-epoch val columns and best.safetensors then use it, and the test set is "
        "evaluated once after training, for the best and for the last model. Default: none, "
        "and then the per-epoch columns (labelled test) and best.safetensors use the test set")
    add("--dtype", help="float32 (default) | float64: the dtype of the model and the data, "
        "saved with the run (eval, predict and --resume use it); float64 takes about twice "
        "the memory and time")
    add("--threads", help="BLAS (and OpenMP) threads for NumPy's matrix products (default: "
        "the library's, usually one per core); on a busy machine --threads 1 is often "
        "several times faster. The run's header and chainrule info show the count; it may "
        "change on --resume")
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
                 ) -> tuple[str, dict[str, Any], Any]:
    """The checkpoint to resume, the run's config with ``changes`` (only the allowed) and
    the training images it holds out (its ``validation`` metadata; None without)."""
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
    return path, recipe.resume_config(saved, changes, args.resume), meta.get("validation")


def cmd_train(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    run = distributed_run()  # under mpiexec: rank 0 prints and writes, the others train too
    if run is not None:
        run.quiet()
    file_config = read_config_file(args.config) if args.config is not None else {}
    out, plot = file_config.pop("out", None), file_config.pop("plot", False)
    out = args.out if args.out is not None else out
    plot = args.plot if args.plot is not None else plot
    changes = {**file_config, **_flags(args)}
    resume_path, validation = None, None
    if args.resume is not None:
        resume_path, config, validation = _resume_from(args, changes)
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
    folder: Any
    if run is not None and run.rank:
        folder = run.scratch(resume_path)  # the other ranks write nothing in the run
    elif resume_path and out is None:
        folder = claim(os.path.dirname(resume_path) or ".", "", resume_path, flag="--resume")
    else:
        default = os.path.join("runs", f"{name}-{time.strftime('%Y%m%d-%H%M%S')}")
        folder = claim(out, default, resume_path)
    wrote = False  # a run that trained nothing (--epochs 0) leaves no folder behind
    try:
        if folder.removed:
            print(f"notice: {folder.path} held {', '.join(folder.removed)} of a run that "
                  "stopped before its first checkpoint; starting them over", file=sys.stderr)
        with limit_threads(config["threads"]):
            wrote = _train(config, data, folder.path, (resume_path, validation), plot, start)
    finally:
        folder.release(keep=wrote)
    return 0


def _held_out(config: dict[str, Any], n: int, saved: Any, resume_path: str | None
              ) -> np.ndarray:
    """The training images ``--val-split`` holds out: those saved with a resumed run, or
    drawn from the seed for a new one (an impossible split is a ConfigError)."""
    if resume_path is not None:
        if saved is None:
            raise CheckpointError(f"{resume_path}: the run has --val-split "
                                  f"{config['val_split']} but no saved validation indices")
        try:
            return split.check_saved_indices(saved, n, config["val_split"])
        except ValueError as exc:
            raise CheckpointError(f"{resume_path}: {exc}") from None
    try:
        return split.validation_indices(n, config["val_split"], config["seed"])
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _relabel_test_columns(trainer: Trainer) -> None:
    """An older run's per-epoch val_* columns were computed on the test set: resumed
    without a validation split, they are named test_* like the new rows."""
    rows = trainer.metrics.rows
    if not any("val_loss" in row and "test_loss" not in row for row in rows):
        return
    renamed = [{key.replace("val_", "test_", 1) if key.startswith("val_") else key: value
                for key, value in row.items()} for row in rows]
    trainer.metrics.rewrite(renamed)


def _train(config: dict[str, Any], data: tuple[Any, Any, int, int], out: str,
           resumed: tuple[str | None, Any], plot: bool, start: float) -> bool:
    """Train and evaluate; whether a checkpoint (or a figure) was written. ``resumed``: the
    checkpoint to continue from (or None) and its saved validation indices."""
    train_set, test_set, features, classes = data
    resume_path, saved_validation = resumed
    total, val_set, held_out = len(train_set), None, None
    if config["val_split"] is not None:
        held_out = _held_out(config, total, saved_validation, resume_path)
        train_set, val_set = split.split(train_set, held_out)
    cr.manual_seed(config["seed"])
    model = recipe.build_model(config, features, classes)
    loss_fn = recipe.build_loss(config, classes)
    optimizer = recipe.build_optimizer(config, model)
    augment = Augment(config["augment"]) if config["augment"] else None
    loader = DataLoader(train_set, batch_size=config["batch_size"], shuffle=True,
                        generator=cr.Generator(config["seed"] + 1), augment=augment)
    run = distributed_run()
    if run is not None:  # this rank's shard of every batch
        loader = run.train_loader(train_set, config["batch_size"], config["seed"], augment)
    test_loader = DataLoader(test_set, batch_size=recipe.EVAL_BATCH)
    val_loader = None if val_set is None else DataLoader(val_set, batch_size=recipe.EVAL_BATCH)
    scheduler, per_batch = recipe.build_scheduler(config, optimizer, len(loader))
    device = None if config["device"] == "cpu" else config["device"]
    if device:
        model.to(device)
    print(nn.summary(model, models.sample_shape(features)))
    if val_set is not None:
        sets = (f"{len(train_set):,} training, {len(val_set):,} validation (held out of the "
                f"{total:,} training samples by --val-split) and {len(test_set):,} test "
                "samples")
    else:
        sets = (f"{len(train_set):,} training and {len(test_set):,} test samples (no "
                "--val-split: the per-epoch columns and best.safetensors use the test set)")
    print(f"data: {config['dataset']}, {sets}; {config['optimizer']} lr {config['lr']:g}, "
          f"batch {config['batch_size']}, {plural(config['epochs'], 'epoch')}, "
          f"seed {config['seed']}, "
          f"{config['dtype']}")
    threads_line, threads = thread_report(config["threads"])
    print(threads_line)
    hint = busy_hint(threads["load_average_at_start"], threads["cores_usable"],
                     threads["blas_threads"])
    if hint:  # on stdout with the header: stderr keeps its one line per error
        print(hint)
    trainer = (Trainer if run is None else run.trainer_class)(
        model, loss_fn, optimizer, scheduler, out_dir=out,
        config={**config, "environment": {**_environment(), **threads}},
        step_scheduler_per_batch=per_batch, device=device, log=sys.stderr,
        eval_name="val" if val_set is not None else "test")
    if held_out is not None:
        trainer.extra["validation"] = {"of": total, "indices": held_out.tolist()}
    if resume_path:
        trainer.resume(resume_path, loader)
        if val_set is None:
            _relabel_test_columns(trainer)
        print(f"resumed from {resume_path} at epoch {trainer.epoch}, step {trainer.step}")
        if trainer.epoch >= config["epochs"]:
            print(f"notice: the run has already trained {trainer.epoch} of --epochs "
                  f"{config['epochs']}: nothing to train, only the test set is evaluated; pass "
                  f"--epochs {trainer.epoch + 1} or more to train on", file=sys.stderr)
    trainer.fit(loader, val_loader or test_loader, epochs=config["epochs"])
    # the final test draws from the default generator (each pass over a loader takes its
    # base seed, as in PyTorch): the checkpoint keeps the stream where training left it,
    # so that a resumed run continues as one that never stopped
    stream = default_generator.get_state()
    if val_set is not None:
        result, tested = test_best_and_last(trainer, test_loader, classes)
    else:
        result = trainer.evaluate(test_loader, classes)
        tested = {"last": {"epoch": trainer.epoch, "loss": result["loss"],
                           "accuracy": result["accuracy"], "count": result["count"]}}
    saved = trainer.checkpoint_path
    wrote = bool(saved and os.path.exists(saved))
    default_generator.set_state(stream)
    if wrote:  # the test results join the run's record (chainrule info shows them)
        trainer.extra["test"] = tested
        trainer.save()
    elapsed = time.perf_counter() - start
    if plot and (run is None or run.rank == 0):  # other ranks' figures would go unseen
        plot_figures(out, model, test_set, features, classes, config["augment"], config["seed"])
    where = saved if wrote else "none (no epoch trained: nothing kept)"
    best = tested.get("best")
    if best is not None:
        print(f"best model (epoch {best['epoch']}, validation accuracy "
              f"{best['chosen_value']:.2%}): test accuracy {best['accuracy']:.2%} | test loss "
              f"{best['loss']:.4f}")
    print(f"test accuracy {result['accuracy']:.2%} (last model, epoch {trainer.epoch}) | test "
          f"loss {result['loss']:.4f} | time {elapsed:.1f}s | checkpoint {where}")
    return wrote or plot
