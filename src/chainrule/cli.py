"""The ``chainrule`` command: train, eval, predict and info.

    chainrule train                     # the tutorials' 784-16-16-10 sigmoid net on MNIST
    chainrule train --hidden 800,800 --activation relu --optimizer momentum --epochs 20
    chainrule eval runs/NAME            # test accuracy, loss and confusion matrix
    chainrule predict runs/NAME digit.png
    chainrule info runs/NAME            # config, metrics, environment
    chainrule example backprop          # the worked 2-2-2 example, every number
    chainrule plot runs/NAME            # curves, confusion matrix, weights, boundaries (PNG)
    chainrule bench                     # one epoch: chainrule vs PyTorch vs plain NumPy

Bad input (flags, data, config files, checkpoints) prints one message to stderr and exits
with status 2; Ctrl-C during training saves a checkpoint and exits 130.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.data import DataLoader, DatasetError
from chainrule.data.images import read_images
from chainrule.nn.module import StateDictError
from chainrule.train import recipe
from chainrule.train.checkpoint import CheckpointError, apply_checkpoint, read_checkpoint
from chainrule.train.metrics import read_metrics
from chainrule.train.recipe import ConfigError
from chainrule.train.trainer import Trainer, TrainingDiverged, TrainingInterrupted

EXIT_USAGE, EXIT_DIVERGED, EXIT_INTERRUPTED = 2, 1, 130


class UsageError(Exception):
    """Wrong use of a command: printed as one line, exit status 2."""


# ---- configuration -------------------------------------------------------------------------


def _train_flags(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--dataset", help="mnist | fashion-mnist | kmnist | mini-mnist | circles | moons | xor | "
        "spiral (default: mnist when found, else the embedded mini-MNIST)")
    add("--data-dir", dest="data_dir", help="folder with the IDX files")
    add("--download", action="store_true", default=None, help="download the data set if missing")
    add("--hidden", help="hidden layer sizes, e.g. 16,16 (default)")
    add("--activation", help=" | ".join(recipe.ACTIVATIONS) + " (default sigmoid)")
    add("--loss", help=" | ".join(recipe.LOSSES) + " (default cross_entropy)")
    add("--optimizer", help=" | ".join(recipe.OPTIMIZERS) + " (default sgd)")
    add("--lr", help="learning rate (default 0.5 for sgd, 0.01 momentum, 0.001 adam)")
    add("--momentum", help="momentum for momentum/nesterov (default 0.9)")
    add("--weight-decay", dest="weight_decay", help="L2 penalty (default 0)")
    add("--dropout", help="dropout probability after each hidden layer (default 0)")
    add("--init", help=" | ".join(recipe.INITS))
    add("--schedule", help=" | ".join(recipe.SCHEDULES) + " (default none)")
    add("--batch-size", dest="batch_size", help="mini-batch size (default 32)")
    add("--epochs", help="number of epochs (default 5)")
    add("--seed", help="random seed (default 0)")
    add("--device", help="cpu (default) or cuda")
    add("--out", help="run folder (default runs/<dataset>-<time>)")
    add("--resume", help="continue from a run folder or checkpoint file")
    add("--config", help="TOML file with any of these settings; flags override it")
    add("--plot", action="store_true", help="write the standard figures next to the run "
        "(needs matplotlib: pip install 'chainrule[viz]')")


def _read_toml(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise UsageError(f"--config {path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"--config {path}: not valid TOML ({exc})") from None
    section = data.get("train", data)
    if not isinstance(section, dict):
        raise UsageError(f"--config {path}: expected settings as key = value pairs")
    return {k.replace("-", "_"): v for k, v in section.items()}


def _checkpoint_of(run: str) -> str:
    path = Path(run)
    if path.is_dir():
        path = path / "checkpoint.safetensors"
    if not path.is_file():
        raise UsageError(f"{run}: expected a run folder or a checkpoint file, found nothing")
    return str(path)


def _saved_config(meta: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A checkpoint's training config and, apart, the environment it was trained in."""
    config = dict(meta.get("config") or {})
    return config, config.pop("environment", {})


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    keys = set(recipe.DEFAULTS)
    return {k: v for k, v in vars(args).items() if k in keys and v is not None}


def _environment() -> dict[str, Any]:
    return {"chainrule": cr.__version__, "python": platform.python_version(),
            "numpy": np.__version__, "platform": platform.platform(),
            "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M:%S")}


# ---- train --------------------------------------------------------------------------------


def cmd_train(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    resume_path = _checkpoint_of(args.resume) if args.resume else None
    if resume_path:
        saved, _ = _saved_config(read_checkpoint(resume_path)[1])
        config = recipe.resolve({**saved, **_flags(args)})
    else:
        file_config = _read_toml(args.config) if args.config else {}
        config = recipe.resolve({**file_config, **_flags(args)})
    if config["device"] != "cpu" and not cr.cuda_available():
        raise ConfigError(f"--device {config['device']}: no CUDA device (install "
                          "chainrule[gpu] on a machine with an NVIDIA GPU) ")
    name, notice = recipe.choose_dataset(config)
    config["dataset"] = name
    if notice:
        print(notice, file=sys.stderr)
    train_set, test_set, features, classes = recipe.load_data(config, name)

    cr.manual_seed(config["seed"])
    model = recipe.build_model(config, features, classes)
    loss_fn = recipe.build_loss(config, classes)
    optimizer = recipe.build_optimizer(config, model)
    loader = DataLoader(train_set, batch_size=config["batch_size"], shuffle=True,
                        generator=cr.Generator(config["seed"] + 1))
    test_loader = DataLoader(test_set, batch_size=1000)
    scheduler, per_batch = recipe.build_scheduler(config, optimizer, len(loader))
    device = None if config["device"] == "cpu" else config["device"]
    if device:
        model.to(device)

    out = args.out or (str(Path(resume_path).parent) if resume_path else
                       os.path.join("runs", f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"))
    existing = Path(out) / "checkpoint.safetensors"
    if existing.exists() and (resume_path is None or Path(resume_path).resolve()
                              != existing.resolve()):
        raise UsageError(f"--out {out} already holds a run ({existing}); choose another "
                         f"folder, or continue it with --resume {out}")
    print(nn.summary(model, (28, 28) if features == 784 else (features,)))
    print(f"data: {name}, {len(train_set):,} training and {len(test_set):,} test samples; "
          f"{config['optimizer']} lr {config['lr']:g}, batch {config['batch_size']}, "
          f"{config['epochs']} epochs, seed {config['seed']}")
    trainer = Trainer(model, loss_fn, optimizer, scheduler, out_dir=out,
                      config={**config, "environment": _environment()},
                      step_scheduler_per_batch=per_batch, device=device)
    if resume_path:
        trainer.resume(resume_path, loader)
        print(f"resumed from {resume_path} at epoch {trainer.epoch}, step {trainer.step}")
    trainer.fit(loader, test_loader, epochs=config["epochs"])
    result = trainer.evaluate(test_loader, classes)
    elapsed = time.perf_counter() - start
    if args.plot:
        _plot(out, model, test_set, features, classes)
    print(f"test accuracy {result['accuracy']:.2%} | test loss {result['loss']:.4f} | "
          f"time {elapsed:.1f}s | checkpoint {trainer.checkpoint_path}")
    return 0


def _plot(folder: str, model: Any, test_set: Any, features: int, classes: int) -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError("plotting needs matplotlib: pip install 'chainrule[viz]'") from None
    from chainrule.viz.run import plot_run

    for path in plot_run(folder, model, test_set, features, classes):
        print(f"wrote {path}")


def cmd_bench(args: argparse.Namespace) -> int:
    from chainrule.bench import main as bench_main

    bench_main([] if args.full else ["--quick"])
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    model, config, features, classes = _load_run(args.run)
    name = config["dataset"] or "mnist"
    _, test_set, _, _ = recipe.load_data(config, name, train=False)
    folder = args.run if os.path.isdir(args.run) else os.path.dirname(args.run)
    _plot(folder, model, test_set, features, classes)
    return 0


# ---- eval / predict / info ----------------------------------------------------------------


def _load_run(run: str) -> tuple[nn.Sequential, dict[str, Any], int, int]:
    """Rebuild a run's model from the config in its checkpoint and load the weights."""
    path = _checkpoint_of(run)
    arrays, meta = read_checkpoint(path)
    config = recipe.resolve(_saved_config(meta)[0])
    features = 2 if config["dataset"] in recipe.TOY_SETS else 784
    biases = [k for k in arrays if k.startswith("model/") and k.endswith(".bias")]
    if not biases:
        raise CheckpointError(f"{path}: no layer biases found: not a chainrule classifier")
    classes = int(arrays[biases[-1]].shape[0])
    model = recipe.build_model(config, features, classes)
    apply_checkpoint(path, arrays, meta, model)
    model.eval()
    return model, config, features, classes


def cmd_eval(args: argparse.Namespace) -> int:
    model, config, _, classes = _load_run(args.run)
    if args.data_dir:
        config["data_dir"] = args.data_dir
    name = args.dataset or config["dataset"] or "mnist"
    _, test_set, _, _ = recipe.load_data(config, name, train=False)
    trainer = Trainer(model, recipe.build_loss(config, classes), None, progress=False, log=None)
    result = trainer.evaluate(DataLoader(test_set, batch_size=1000), classes)
    print(f"{name} test set: accuracy {result['accuracy']:.2%}, loss {result['loss']:.4f}, "
          f"{result['count']:,} samples")
    print("confusion matrix (rows: true class, columns: predicted):")
    for i, row in enumerate(result["confusion"]):
        print(f"  {i:>2} " + " ".join(f"{v:>5}" for v in row))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    model, config, features, _ = _load_run(args.run)
    if features != 784:
        raise UsageError(f"{args.run}: predict needs an image model, this one was trained on "
                         f"{config['dataset']}")
    for path in args.images:
        images = read_images(path)
        with cr.no_grad():
            probs = cr.softmax(model(cr.tensor(images)), dim=1).numpy()
        shown = probs[:args.limit]
        for i, p in enumerate(shown):
            top = np.argsort(-p)[:3]
            label = path if len(probs) == 1 else f"{path}[{i}]"
            print(f"{label}: " + ", ".join(f"{int(c)} ({p[c]:.1%})" for c in top))
        if len(probs) > len(shown):
            print(f"... {len(probs) - len(shown)} more images (use --limit)")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    path = _checkpoint_of(args.run)
    _, meta = read_checkpoint(path)
    config, env = _saved_config(meta)
    print(f"checkpoint: {path} (epoch {meta.get('epoch')}, step {meta.get('step')}, best "
          f"epoch {meta.get('best_epoch')})")
    print("config:")
    for key in sorted(config):
        print(f"  {key}: {config[key]}")
    rows = read_metrics(os.path.dirname(path)) or meta.get("metrics") or []
    if rows:
        print("metrics:")
        print("  epoch  train_loss  train_acc  val_loss  val_acc        lr  samples/s")
        for r in rows:
            print(f"  {r['epoch']:>5}  {r['train_loss']:>10.4f}  {r['train_accuracy']:>9.2%}  "
                  f"{r.get('val_loss', float('nan')):>8.4f}  "
                  f"{r.get('val_accuracy', float('nan')):>7.2%}  {r['lr']:>8.4g}  "
                  f"{r['samples_per_second']:>9,.0f}")
    print("environment:")
    for key, value in env.items():
        print(f"  {key}: {value}")
    return 0


# ---- entry point --------------------------------------------------------------------------


def cmd_example(args: argparse.Namespace) -> int:
    from chainrule.explain import backprop, error_split, fmt, worked

    if args.name == "error-split":
        error_split()
        return 0
    print("The worked 2-2-2 example: inputs (0.05, 0.10), targets (0.01, 0.99), sigmoid, "
          "E = sum 1/2 (target - out)^2, lr 0.5; biases are not trained.\n")
    model = worked.build()
    x, target = worked.data()
    backprop(model, x, target, lr=worked.LR)
    correct = worked.run(steps=1)["error_after_1"]
    published = worked.run(steps=1, as_published=True)["error_after_1"]
    print(f"\nAFTER ONE STEP: E_total = {fmt(correct)} (was 0.298371109).")
    print(f"The tutorial prints {fmt(published)}; its published value is "
          f"{fmt(float(worked.PUBLISHED['error_after_1']))}. {worked.DIFFERENCE}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chainrule", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"chainrule {cr.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a network (default: the tutorials' MNIST MLP)")
    _train_flags(train)
    train.set_defaults(func=cmd_train)
    ev = sub.add_parser("eval", help="evaluate a trained run on its test set")
    ev.add_argument("run", help="run folder or checkpoint file")
    ev.add_argument("--dataset", help="evaluate on another data set of the same shape")
    ev.add_argument("--data-dir", dest="data_dir")
    ev.set_defaults(func=cmd_eval)
    pr = sub.add_parser("predict", help="top-3 classes for images (PNG, PGM or IDX)")
    pr.add_argument("run", help="run folder or checkpoint file")
    pr.add_argument("images", nargs="+", help="image.png, image.pgm or an IDX file")
    pr.add_argument("--limit", type=int, default=10, help="images to show from an IDX file")
    pr.set_defaults(func=cmd_predict)
    info = sub.add_parser("info", help="config, metrics and environment of a run")
    info.add_argument("run", help="run folder or checkpoint file")
    info.set_defaults(func=cmd_info)
    bench = sub.add_parser("bench", help="time one epoch of the tutorials' MNIST net: "
                           "chainrule (eager, captured) vs PyTorch vs plain NumPy")
    bench.add_argument("--full", action="store_true", help="all three configurations, median "
                       "of 3 processes (minutes)")
    bench.set_defaults(func=cmd_bench)
    pl = sub.add_parser("plot", help="write a run's standard figures as PNGs next to it")
    pl.add_argument("run", help="run folder or checkpoint file")
    pl.set_defaults(func=cmd_plot)
    ex = sub.add_parser("example", help="walk through a tutorial calculation with real numbers")
    ex.add_argument("name", choices=["backprop", "error-split"],
                    help="backprop: the worked 2-2-2 example; error-split: errors split by "
                    "weights")
    ex.set_defaults(func=cmd_example)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # NaN/Inf are caught by the trainer's loss check and named by detect_anomaly; NumPy's
    # own RuntimeWarnings would only repeat that without saying where, so silence them here
    previous = np.seterr(over="ignore", invalid="ignore", divide="ignore")
    try:
        return int(args.func(args))
    except TrainingInterrupted as exc:
        print(f"chainrule: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except TrainingDiverged as exc:
        print(f"chainrule: {exc}", file=sys.stderr)
        return EXIT_DIVERGED
    except (UsageError, ConfigError, DatasetError, CheckpointError, StateDictError) as exc:
        print(f"chainrule: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        np.seterr(**previous)


if __name__ == "__main__":
    sys.exit(main())
