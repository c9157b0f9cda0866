"""From a config (the CLI's flags) to data, model, loss, optimizer and schedule.

The defaults are the tutorials' network: 784-16-16-10, sigmoid, cross-entropy, SGD with
lr 0.5, batch 32, 5 epochs, seed 0. ``model`` picks a convolutional network instead
(:mod:`chainrule.train.models`), with its own defaults (:data:`MODEL_DEFAULTS`).

>>> config = resolve({"dataset": "xor", "epochs": 1})
>>> model = build_model(config, in_features=2, num_classes=2)
>>> model.num_parameters()
354
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

from chainrule import nn, optim
from chainrule.data import toy
from chainrule.data.augment import parse_kinds
from chainrule.data.cifar import CIFAR10
from chainrule.data.dataset import TensorDataset
from chainrule.data.datasets import DATASETS
from chainrule.dtypes import get_default_dtype, set_default_dtype
from chainrule.limits import check_total
from chainrule.nn.init import init_by_name
from chainrule.optim import lr_scheduler as ls
from chainrule.train import models, rundata
from chainrule.train.costs import LOSSES, OneHotMSE, build_loss  # noqa: F401 (the CLI's)

# the memory estimate: memory's, used by the CLI through this module
from chainrule.train.memory import (  # noqa: F401
    EVAL_BATCH,
    OPTIMIZER_COPIES,
    check_model_memory,
    model_memory,
)

# which data set, and where: rundata's, used by the CLI through this module
from chainrule.train.rundata import check_data_dir, choose_dataset, data_shape  # noqa: F401
from chainrule.train.split import with_dtype
from chainrule.train.threads import MAX_THREADS


class ConfigError(ValueError):
    """A config value is invalid; the message names the key, the value and the choices."""


MODELS = ("mlp", "lenet", "cnn")
IMAGE_SETS = ("mnist", "fashion-mnist", "kmnist", "mini-mnist", "cifar10")
TOY_SETS = tuple(toy.TOY_SETS)
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "gelu", "softplus",
               "maxout")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULES = ("none", "step", "cosine", "exponential", "onecycle", "warmup")
INITS = ("default", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
         "orthogonal", "normal", "normal_fan_in")
DTYPES = ("float32", "float64")
DEFAULT_LR = {"sgd": 0.5, "momentum": 0.01, "nesterov": 0.01, "adam": 1e-3, "adamw": 1e-3,
              "rmsprop": 1e-3, "adagrad": 0.05}

DEFAULTS: dict[str, Any] = {
    "model": "mlp", "dataset": None, "data_dir": None, "download": False, "hidden": [16, 16],
    "activation": "sigmoid", "loss": "cross_entropy", "optimizer": "sgd", "lr": None,
    "momentum": 0.9, "weight_decay": 0.0, "dropout": 0.0, "init": "default",
    "schedule": "none", "batch_size": 32, "epochs": 5, "seed": 0, "device": "cpu",
    "val_split": None, "init_std": None, "no_bias_decay": False, "dtype": "float32",
    "threads": None, "augment": [],
}
# the convolutional models' own defaults, used where the config does not set them: ReLU, as
# PyTorch's tutorials train LeNet (--activation tanh gives the classic squashing), SGD with
# momentum 0.9, batch 64 and a cosine schedule (on MNIST, LeNet reached 99.14% in 10 epochs
# with it, 98.94% with --schedule exponential, 98.72% with none); their learning rate is
# MODEL_LR's while the optimizer is theirs
_CNN_DEFAULTS = {"activation": "relu", "optimizer": "momentum", "batch_size": 64,
                 "schedule": "cosine"}
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "lenet": _CNN_DEFAULTS, "cnn": {**_CNN_DEFAULTS, "dropout": 0.25},
}
MODEL_LR = {("lenet", "momentum"): 0.05, ("cnn", "momentum"): 0.05}
# settings of a run rather than of the training recipe: the CLI reads them, resolve() drops them
RUN_KEYS = ("out", "plot", "resume", "config")
MAX_INT = (1 << 63) - 1  # integer settings must fit an int64


def _choice(key: str, value: Any, choices: tuple[str, ...]) -> str:
    value = str(value).replace("-", "_") if key != "dataset" else str(value)
    if value not in choices:
        raise ConfigError(f"--{key.replace('_', '-')}: {value!r} is not one of "
                          f"{', '.join(choices)}")
    return value


def _flag_name(key: str) -> str:
    return "--" + key.replace("_", "-")


def _number(key: str, value: Any, kind: type, low: float, high: float = float("inf")) -> Any:
    """``value`` as an int or a finite float in [low, high], from a flag (a string) or a
    config file (a number): True, 2.7 for an int setting, 'fast' and inf are all errors."""
    expected = "a whole number" if kind is int else "a finite number"
    number: Any = None
    try:
        if isinstance(value, str):
            number = kind(value.strip())
        elif isinstance(value, int | float) and not isinstance(value, bool):
            if kind is float or isinstance(value, int) or float(value).is_integer():
                number = kind(value)
    except (ValueError, OverflowError):
        number = None
    if number is None or (kind is float and not math.isfinite(number)):
        raise ConfigError(f"{_flag_name(key)}: expected {expected}, got {value!r}")
    if not low <= number <= high:
        raise ConfigError(f"{_flag_name(key)}: {number} is out of range [{low}, {high}]")
    return number


def _flag_value(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{_flag_name(key)}: expected true or false, got {value!r}")
    return value


def parse_val_split(value: Any) -> int | float | None:
    """``--val-split``: a count of training images to hold out (a whole number >= 1), a
    fraction of them in (0, 1), or 0 / 'none' for no validation split (None).

    >>> parse_val_split("10000"), parse_val_split("0.1"), parse_val_split(0)
    (10000, 0.1, None)
    """
    expected = ("expected a count of training images to hold out (e.g. 10000), a fraction "
                "in (0, 1) (e.g. 0.1), or 0 for none")
    number: Any = None
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "none":
            return None
        for kind in (int, float):
            try:
                number = kind(text)
                break
            except ValueError:
                continue
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = value
    if number is None or not math.isfinite(number) or not 0 <= number <= MAX_INT:
        raise ConfigError(f"--val-split: {expected}, got {value!r}")
    if number == 0:
        return None
    if number < 1:
        return float(number)
    if not float(number).is_integer():
        raise ConfigError(f"--val-split: {number} is neither a whole count nor a fraction "
                          f"below 1; {expected}")
    return int(number)


def parse_hidden(value: Any) -> list[int]:
    """'16,16' or [16, 16] -> [16, 16] ('' or 'none' for no hidden layer)."""
    if isinstance(value, list | tuple):
        items = list(value)
    else:
        text = str(value).strip()
        items = [] if text.lower() in ("", "none") else text.split(",")
    try:
        sizes = [int(str(v).strip()) for v in items]
    except ValueError:
        raise ConfigError(f"--hidden: expected sizes like 16,16, got {value!r}") from None
    if any(not 1 <= s <= MAX_INT for s in sizes):
        raise ConfigError(f"--hidden: layer sizes must be in [1, {MAX_INT}], got {value!r}")
    return sizes


def resolve(config: dict[str, Any]) -> dict[str, Any]:
    """Fill defaults and validate every value (ConfigError names the bad one)."""
    unknown = set(config) - set(DEFAULTS) - set(RUN_KEYS)
    if unknown:
        raise ConfigError(f"unknown config keys: {', '.join(sorted(unknown))} (known: "
                          f"{', '.join(sorted(DEFAULTS))})")
    given = {k: v for k, v in config.items() if k in DEFAULTS and v is not None}
    model = _choice("model", given.get("model", DEFAULTS["model"]), MODELS)
    c = {**DEFAULTS, **MODEL_DEFAULTS.get(model, {}), **given, "model": model}
    if c["dataset"] is not None:
        c["dataset"] = _choice("dataset", c["dataset"], IMAGE_SETS + TOY_SETS)
    if c["data_dir"] is not None and (not isinstance(c["data_dir"], str) or not c["data_dir"]):
        raise ConfigError(f"--data-dir: expected a folder name, got {c['data_dir']!r}")
    c["download"] = _flag_value("download", c["download"])
    c["hidden"] = parse_hidden(c["hidden"])
    c["activation"] = _choice("activation", c["activation"], ACTIVATIONS)
    c["loss"] = _choice("loss", c["loss"], LOSSES)
    c["optimizer"] = _choice("optimizer", c["optimizer"], OPTIMIZERS)
    c["schedule"] = _choice("schedule", c["schedule"], SCHEDULES)
    c["init"] = _choice("init", c["init"], INITS)
    lr = MODEL_LR.get((model, c["optimizer"]), DEFAULT_LR[c["optimizer"]])
    c["lr"] = _number("lr", c["lr"] if c["lr"] is not None else lr, float, 0.0)
    c["momentum"] = _number("momentum", c["momentum"], float, 0.0, 1.0)
    c["weight_decay"] = _number("weight_decay", c["weight_decay"], float, 0.0)
    c["dropout"] = _number("dropout", c["dropout"], float, 0.0, 0.99)
    c["batch_size"] = _number("batch_size", c["batch_size"], int, 1, MAX_INT)
    c["epochs"] = _number("epochs", c["epochs"], int, 0, MAX_INT)
    c["seed"] = _number("seed", c["seed"], int, 0, MAX_INT)
    c["val_split"] = parse_val_split(c["val_split"])
    c["init_std"] = _init_std(c["init"], c["init_std"])
    c["no_bias_decay"] = _flag_value("no_bias_decay", c["no_bias_decay"])
    c["dtype"] = _choice("dtype", c["dtype"], DTYPES)
    if c["threads"] is not None:
        c["threads"] = _number("threads", c["threads"], int, 1, MAX_THREADS)
    c["device"] = str(c["device"])
    if c["device"] not in ("cpu", "cuda") and not c["device"].startswith("cuda:"):
        raise ConfigError(f"--device: expected cpu, cuda or cuda:N, got {c['device']!r}")
    if model != "mlp":
        _check_cnn(c, given)
    _check_augment(c)
    return c


def _check_augment(c: dict[str, Any]) -> None:
    """``--augment``: a comma list of chainrule.data.augment's kinds, for image sets only."""
    try:
        kinds = parse_kinds(c["augment"])
    except ValueError as exc:
        raise ConfigError(f"--augment {_show(c['augment'])}: {exc}") from None
    if kinds and c["dataset"] in TOY_SETS:
        raise ConfigError(f"--augment {_show(kinds)}: --dataset {c['dataset']} has 2-D points, "
                          f"augmentation moves the pixels of images; leave out --augment or "
                          f"choose one of {', '.join(IMAGE_SETS)}")
    c["augment"] = kinds


def _init_std(init: str, value: Any) -> float | None:
    """``--init-std``: the standard deviation of ``--init normal`` (default 1.0, network.py's
    N(0, 1)); no other initializer takes one."""
    if value is None:
        return 1.0 if init == "normal" else None
    std = _number("init_std", value, float, 0.0)
    if std <= 0:
        raise ConfigError(f"--init-std: expected a standard deviation > 0, got {value!r}")
    if init != "normal":
        raise ConfigError(f"--init-std {std:g}: only --init normal takes a standard deviation "
                          f"(--init {init} sets its own scale, see chainrule train --help); "
                          "pass --init normal, or leave out --init-std")
    return std


def _check_cnn(c: dict[str, Any], given: dict[str, Any]) -> None:
    """A convolutional model takes 28x28 images and has fixed layers: no --hidden (kept
    empty in its config), no maxout, no toy data set."""
    model = c["model"]
    if c["hidden"] and "hidden" in given:
        raise ConfigError(f"--hidden {_show(c['hidden'])}: --model {model} has fixed layers "
                          "(see chainrule train --help); --hidden sets the hidden layers of "
                          "--model mlp")
    c["hidden"] = []
    if c["activation"] == "maxout":
        raise ConfigError(f"--activation maxout: maxout is a linear layer of --model mlp; "
                          f"--model {model} takes one of "
                          f"{', '.join(a for a in ACTIVATIONS if a != 'maxout')}")
    if c["dataset"] in TOY_SETS:
        raise ConfigError(f"--model {model} needs 28x28 images (or CIFAR-10's 3x32x32), "
                          f"--dataset {c['dataset']} has 2-D points: choose one of "
                          f"{', '.join(IMAGE_SETS)}, or --model mlp")


# settings that may differ from the saved ones when a run is resumed: how long to train,
# where the data and the computation live and how many threads compute (the same numbers
# either way); every other one would change the run itself
RESUMABLE = ("epochs", "data_dir", "download", "device", "threads")


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "none"
    return str(value)


def resume_config(saved: dict[str, Any], changes: dict[str, Any], run: str) -> dict[str, Any]:
    """The config of a resumed run: ``saved`` with ``changes`` (flags, config file).

    Only :data:`RESUMABLE` settings may differ from the saved ones; a changed optimizer,
    learning rate, architecture, ... is a ConfigError naming each flag, the run's value
    and the new one (a value equal to the saved one is fine). ``epochs`` may not change
    either when the run's learning-rate schedule is laid out over its epochs.
    """
    before = resolve(saved)
    after = resolve({**saved, **changes})
    changed = [f"{_flag_name(key)} {_show(after[key])} (the run has {_show(before[key])})"
               for key in DEFAULTS
               if key in changes and key not in RESUMABLE and after[key] != before[key]]
    if _schedule_length(after) != _schedule_length(before):
        changed.append(f"--epochs {after['epochs']} (the run has {before['epochs']}, over which "
                       f"its {before['schedule']} schedule is laid out)")
    if changed:
        fixed = _schedule_length(before) is not None
        allowed = ", ".join(_flag_name(key) for key in RESUMABLE if not fixed or key != "epochs")
        raise ConfigError(f"--resume {run}: {'; '.join(changed)}: a resumed run keeps the "
                          f"settings it was trained with (only {allowed} may change); start "
                          "a new run to train with other settings")
    return after


# ---- data -------------------------------------------------------------------------------


def load_data(config: dict[str, Any], name: str, train: bool = True
              ) -> tuple[Any, Any, int, int]:
    """(train dataset or None, test dataset, input features, classes) for ``name``.

    Before anything is read, the files are found (:func:`rundata.dataset_folder`: fetched
    with ``download``) and what the run will hold at once, the data the headers claim and
    the model (:func:`model_memory`), is checked against the memory limit as one sum.
    """
    splits = (True, False) if train else (False,)
    folder = rundata.dataset_folder(config, name, splits)
    data_bytes, data_what = rundata.data_claims(name, folder, splits, config["dtype"])
    model_bytes, model_what = model_memory(config, *data_shape(name), training=train)
    check_total("this run", [("data", data_bytes, data_what),
                             ("model", model_bytes, model_what)])
    if name in TOY_SETS:
        maker = toy.TOY_SETS[name]
        X, y = maker(rundata.TOY_SAMPLES, seed=config["seed"])
        X_test, y_test = maker(rundata.TOY_SAMPLES, seed=config["seed"] + 10_000)
        classes = int(max(y.numpy().max(), y_test.numpy().max())) + 1
        return (with_dtype(TensorDataset(X, y), config["dtype"]),
                with_dtype(TensorDataset(X_test, y_test), config["dtype"]), 2, classes)
    cls = CIFAR10 if name == CIFAR10.name else DATASETS[name]
    train_set = cls(folder, train=True) if train else None
    return (with_dtype(train_set, config["dtype"]), with_dtype(cls(folder, train=False),
            config["dtype"]), data_shape(name)[0], len(cls.classes))


# ---- model, loss, optimizer ----------------------------------------------------------------


@contextlib.contextmanager
def default_dtype(dtype: Any) -> Iterator[None]:
    """New floating tensors (a model's parameters) are of ``dtype`` inside the block."""
    previous = get_default_dtype()
    set_default_dtype(dtype)
    try:
        yield
    finally:
        set_default_dtype(previous)


def build_model(config: dict[str, Any], in_features: int, num_classes: int,
                training: bool = True) -> nn.Sequential:
    """Flatten (for images), then hidden layers of ``config['hidden']``, then the output layer;
    or the convolutional network ``config['model']`` (:func:`chainrule.train.models.build_cnn`).

    The memory it would need (:func:`model_memory`) is checked against the limit first.
    """
    check_model_memory(config, in_features, num_classes, training)
    with default_dtype(config["dtype"]):
        return _build(config, in_features, num_classes)


def _build(config: dict[str, Any], in_features: int, num_classes: int) -> nn.Sequential:
    if config["model"] != "mlp":
        model = models.build_cnn(config["model"], config["activation"], config["dropout"],
                                 num_classes, models.image_shape(in_features))
        _initialize(model, config)
        return model
    layers: list[nn.Module] = [nn.Flatten()] if in_features in models.IMAGES else []
    layers += models.mlp_layers(in_features, config["hidden"], config["activation"],
                                config["dropout"], num_classes)
    model = nn.Sequential(*layers)
    _initialize(model, config)
    return model


def _initialize(model: nn.Module, config: dict[str, Any]) -> None:
    """``--init``: the weights of every linear and conv layer drawn anew, biases zero; with
    ``normal`` the weights and the biases drawn from N(0, init_std^2), as network.py does;
    with ``normal_fan_in`` the weights from N(0, 1/fan_in) and the biases from N(0, 1), as
    network2.py's default_weight_initializer does."""
    if config["init"] == "default":
        return
    nonlinearity = {"relu": "relu", "tanh": "tanh", "leaky_relu": "leaky_relu"}.get(
        config["activation"], "sigmoid")
    for module in model.modules():
        if not isinstance(module, nn.Linear | nn.Conv2d):
            continue
        if config["init"] in ("normal", "normal_fan_in"):
            weight_std, bias_std = config["init_std"], config["init_std"]
            if config["init"] == "normal_fan_in":
                fan_in, _ = nn.init.fan_in_and_fan_out(module.weight)
                weight_std, bias_std = 1.0 / math.sqrt(fan_in), 1.0
            nn.init.normal_(module.weight, 0.0, weight_std)
            if module.bias is not None:
                nn.init.normal_(module.bias, 0.0, bias_std)
            continue
        init_by_name(config["init"], module.weight, nonlinearity)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def decay_groups(model: nn.Module) -> tuple[list[Any], list[Any]]:
    """(parameters that ``--no-bias-decay`` decays, those it exempts): biases and every
    parameter of a normalization layer (BatchNorm, LayerNorm) are exempt."""
    norms = (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm)
    exempt = {id(p) for module in model.modules() if isinstance(module, norms)
              for p in module.parameters()}
    exempt |= {id(p) for name, p in model.named_parameters()
               if name.rsplit(".", 1)[-1] == "bias"}
    params = list(model.parameters())
    return ([p for p in params if id(p) not in exempt], [p for p in params if id(p) in exempt])


def build_optimizer(config: dict[str, Any], model: nn.Module) -> optim.Optimizer:
    """The optimizer of ``config``; with ``no_bias_decay`` two parameter groups, the
    weights decayed by ``weight_decay`` and the biases (and normalization parameters) with
    weight decay 0."""
    name, lr, wd = config["optimizer"], config["lr"], config["weight_decay"]
    params: Any = model.parameters()
    if config["no_bias_decay"]:
        decayed, exempt = decay_groups(model)
        params = [{"params": decayed}] + ([{"params": exempt, "weight_decay": 0.0}]
                                          if exempt else [])
    if name in ("sgd", "momentum", "nesterov"):
        momentum = 0.0 if name == "sgd" else config["momentum"]
        return optim.SGD(params, lr=lr, momentum=momentum, weight_decay=wd,
                         nesterov=name == "nesterov")
    table = {"adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop,
             "adagrad": optim.Adagrad}
    return table[name](params, lr=lr, weight_decay=wd)


def _schedule_length(config: dict[str, Any]) -> int | None:
    """What of the schedule :func:`build_scheduler` makes depends on the number of epochs."""
    epochs = max(config["epochs"], 1)
    return {"step": max(epochs // 3, 1), "cosine": epochs, "warmup": min(5, epochs),
            "onecycle": epochs}.get(config["schedule"])


def build_scheduler(config: dict[str, Any], optimizer: optim.Optimizer,
                    steps_per_epoch: int) -> tuple[Any, bool]:
    """(scheduler or None, whether it steps per batch)."""
    epochs, name = max(config["epochs"], 1), config["schedule"]
    if name == "none":
        return None, False
    if name == "step":
        return ls.StepLR(optimizer, step_size=max(epochs // 3, 1), gamma=0.1), False
    if name == "cosine":
        return ls.CosineAnnealingLR(optimizer, T_max=epochs), False
    if name == "exponential":
        return ls.ExponentialLR(optimizer, gamma=0.9), False
    if name == "warmup":
        return ls.LinearLR(optimizer, start_factor=0.1, total_iters=min(5, epochs)), False
    return ls.OneCycleLR(optimizer, max_lr=config["lr"], total_steps=epochs * steps_per_epoch,
                         cycle_momentum=config["optimizer"] != "sgd"), True
