"""The ``chainrule train`` command: the config file, resuming, the training run (its flags
are in :mod:`chainrule.cli_train_flags`).

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
from chainrule.cli_lang import Text, error, path_kind, say_of
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
from chainrule.i18n import Messages
from chainrule.paths import what_is_at
from chainrule.random import default_generator
from chainrule.train import models, recipe, rundata, split
from chainrule.train.checkpoint import CheckpointError, read_checkpoint
from chainrule.train.evaluation import test_best_and_last
from chainrule.train.recipe import ConfigError
from chainrule.train.threads import busy_hint, limit_threads, thread_report
from chainrule.train.trainer import Trainer

CONFIG_MAX_BYTES = 1 << 20  # a config file is a few lines; this stops --config /dev/zero


def read_config_file(path: str) -> dict[str, Any]:
    """The settings of a TOML config file, keys as in config: the top-level keys and a
    ``[train]`` table merged (a key set in both is an error). Values are checked like the
    flags', and an error names the file and the key."""
    if not path:
        raise error(UsageError, "cli.config.empty")
    try:
        mode: int | None = os.stat(path).st_mode
    except OSError:
        mode = None  # open says why
    if mode is not None and not stat.S_ISREG(mode):  # a FIFO would block open and read
        raise error(UsageError, "cli.config.not_toml", path=path, found=path_kind(what_is_at(path)))
    try:
        with open(path, "rb") as f:
            raw = f.read(CONFIG_MAX_BYTES + 1)
    except FileNotFoundError:
        found = what_is_at(path)
        if found == "nothing":
            raise error(UsageError, "cli.config.missing", path=path) from None
        raise error(UsageError, "cli.config.not_toml", path=path, found=path_kind(found)
                    ) from None
    except OSError as exc:
        raise error(UsageError, "cli.config.unreadable", path=path,
                    reason=exc.strerror or str(exc)) from None
    if len(raw) > CONFIG_MAX_BYTES:
        raise error(UsageError, "cli.config.too_large", path=path, mib=CONFIG_MAX_BYTES >> 20)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(UsageError, "cli.config.invalid_toml", path=path, detail=str(exc)) from None
    settings = _merged(path, data)
    for key in ("resume", "config"):
        if key in settings:
            raise error(UsageError, "cli.config.not_here", path=path, key=key)
    known = sorted([*recipe.DEFAULTS, "out", "plot"])
    unknown = sorted(set(settings) - set(known))
    if unknown:
        raise error(UsageError, "cli.config.unknown", path=path, keys=", ".join(unknown),
                    known=", ".join(known))
    if "out" in settings and (not isinstance(settings["out"], str) or not settings["out"]):
        raise error(UsageError, "cli.config.out", path=path, value=repr(settings["out"]))
    if "plot" in settings and not isinstance(settings["plot"], bool):
        raise error(UsageError, "cli.config.plot", path=path, value=repr(settings["plot"]))
    try:  # the file's values on their own, so that an error names the file and the key
        recipe.resolve({k: v for k, v in settings.items() if k in recipe.DEFAULTS})
    except ConfigError as exc:
        raise error(UsageError, "cli.config.value", path=path, detail=_as_key(str(exc))
                    ) from None
    return settings


def _merged(path: str, data: dict[str, Any]) -> dict[str, Any]:
    """The top-level settings and the [train] table's in one dict (keys with '_')."""
    table = data.get("train", {})
    if not isinstance(table, dict):
        raise error(UsageError, "cli.config.train_table", path=path, value=repr(table))
    settings: dict[str, Any] = {}
    where: dict[str, str] = {}
    for place, section in (("cli.config.top", data), ("cli.config.in_train", table)):
        for key, value in section.items():
            if section is data and key == "train":
                continue
            name = key.replace("-", "_")
            if name in settings:
                both = (Text("cli.config.both", first=Text(where[name]), second=Text(place))
                        if where[name] != place else Text("cli.config.twice", place=Text(place)))
                raise error(UsageError, "cli.config.set_twice", path=path, name=name,
                            where=both)
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
        raise error(UsageError, "cli.train.best_only", resume=args.resume,
                    folder=os.path.dirname(path) or ".", path=path)
    finite_weights(path, arrays, prefix="")  # NaN weights or optimizer state: nothing to resume
    saved, _ = saved_config(path, meta)
    return path, recipe.resume_config(saved, changes, args.resume), meta.get("validation")


def cmd_train(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    say = say_of(args)
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
        raise error(ConfigError, "cli.train.no_cuda", device=config["device"])
    if plot:
        need_matplotlib()
    name, notice = recipe.choose_dataset(config)
    refuse_unread_data(name, changes.get("data_dir"), changes.get("download"), args.resume)
    config["dataset"] = name
    recipe.check_model_memory(config, *recipe.data_shape(name))  # before loading anything
    if notice:  # the fall-back to mini-MNIST, said in the command's language
        folders = ", ".join(map(str, rundata.folders("mnist", None)))
        print(say("cli.train.mini_mnist", folders=folders), file=sys.stderr)
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
            print(say("cli.train.stale_removed", path=folder.path,
                      names=", ".join(folder.removed)), file=sys.stderr)
        with limit_threads(config["threads"]):
            wrote = _train(config, data, folder.path, (resume_path, validation), plot,
                           (start, say))
    finally:
        folder.release(keep=wrote)
    return 0


def _held_out(config: dict[str, Any], n: int, saved: Any, resume_path: str | None
              ) -> np.ndarray:
    """The training images ``--val-split`` holds out: those saved with a resumed run, or
    drawn from the seed for a new one (an impossible split is a ConfigError)."""
    if resume_path is not None:
        if saved is None:
            raise error(CheckpointError, "cli.train.no_saved_indices", path=resume_path,
                        split=config["val_split"])
        try:
            return split.check_saved_indices(saved, n, config["val_split"])
        except ValueError as exc:
            raise error(CheckpointError, "cli.train.bad_saved_indices", path=resume_path,
                        detail=str(exc)) from None
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
           resumed: tuple[str | None, Any], plot: bool, started: tuple[float, Messages]) -> bool:
    """Train and evaluate; whether a checkpoint (or a figure) was written. ``resumed``: the
    checkpoint to continue from (or None) and its saved validation indices; ``started``:
    when the command started, and the language of its notices."""
    start, say = started
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
    print(nn.summary(model, models.sample_shape(features), say=say))
    _print_header(config, (train_set, val_set, test_set), total, say)
    threads = _print_threads(config["threads"], say)
    trainer = (Trainer if run is None else run.trainer_class)(
        model, loss_fn, optimizer, scheduler, out_dir=out,
        config={**config, "environment": {**_environment(), **threads}},
        step_scheduler_per_batch=per_batch, device=device, log=sys.stderr,
        eval_name="val" if val_set is not None else "test", say=say)
    if held_out is not None:
        trainer.extra["validation"] = {"of": total, "indices": held_out.tolist()}
    if resume_path:
        trainer.resume(resume_path, loader)
        if val_set is None:
            _relabel_test_columns(trainer)
        print(say("cli.train.resumed", path=resume_path, epoch=trainer.epoch, step=trainer.step))
        if trainer.epoch >= config["epochs"]:
            print(say("cli.train.already_trained", epoch=trainer.epoch, epochs=config["epochs"],
                      next=trainer.epoch + 1), file=sys.stderr)
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
        plot_figures(out, model, test_set, features, classes, config["augment"], config["seed"],
                     say=say)
    where = saved if wrote else say("cli.train.nothing_kept")
    best = tested.get("best")
    if best is not None:
        print(say("cli.train.best", epoch=best["epoch"], chosen=f"{best['chosen_value']:.2%}",
                  accuracy=f"{best['accuracy']:.2%}", loss=f"{best['loss']:.4f}"))
    print(say("cli.train.result", accuracy=f"{result['accuracy']:.2%}", epoch=trainer.epoch,
              loss=f"{result['loss']:.4f}", time=f"{elapsed:.1f}", where=where))
    return wrote or plot


def _print_header(config: dict[str, Any], sets: tuple[Any, Any, Any], total: int,
                  say: Messages) -> None:
    """The run's data line: the sets' sizes, the optimizer, lr, batch, epochs, seed, dtype."""
    train_set, val_set, test_set = sets
    if val_set is not None:
        described = say("cli.train.sets_val", train=f"{len(train_set):,}",
                        val=f"{len(val_set):,}", total=f"{total:,}", test=f"{len(test_set):,}")
    else:
        described = say("cli.train.sets", train=f"{len(train_set):,}",
                        test=f"{len(test_set):,}")
    epochs = say("cli.train.epoch" if config["epochs"] == 1 else "cli.train.epochs",
                 count=config["epochs"])
    print(say("cli.train.data", dataset=config["dataset"], sets=described,
              optimizer=config["optimizer"], lr=f"{config['lr']:g}", batch=config["batch_size"],
              epochs=epochs, seed=config["seed"], dtype=config["dtype"]))


def _print_threads(setting: int | None, say: Messages) -> dict[str, Any]:
    """The run's threads line (and the busy machine's hint); the facts for the run's saved
    environment. Both on stdout with the header: stderr keeps its one line per error."""
    _, threads = thread_report(setting)
    count, load = threads["blas_threads"], threads["load_average_at_start"]
    fields = {"shown": say("cli.train.threads_unknown") if count is None else str(count),
              "library": threads["blas"], "cores": threads["cores_usable"],
              "how": say("cli.train.threads_set" if setting is not None
                         else "cli.train.threads_default")}
    if load is None:
        print(say("cli.train.threads", **fields))
    else:
        print(say("cli.train.threads_load", load=f"{load:.2f}", **fields))
    if busy_hint(load, threads["cores_usable"], count):
        print(say("cli.train.busy", load=f"{load:.1f}", cores=threads["cores_usable"],
                  threads=count))
    return threads
