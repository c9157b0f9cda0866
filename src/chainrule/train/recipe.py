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

import math
from typing import Any

from chainrule import nn, optim
from chainrule.data import toy
from chainrule.data.dataset import TensorDataset
from chainrule.data.datasets import DATASETS
from chainrule.dtypes import get_default_dtype
from chainrule.limits import check_memory, check_total
from chainrule.nn.init import init_by_name
from chainrule.optim import lr_scheduler as ls
from chainrule.train import models, rundata

# which data set, and where: rundata's, used by the CLI through this module
from chainrule.train.rundata import check_data_dir, choose_dataset, data_shape  # noqa: F401


class ConfigError(ValueError):
    """A config value is invalid; the message names the key, the value and the choices."""


MODELS = ("mlp", "lenet", "cnn")
IMAGE_SETS = ("mnist", "fashion-mnist", "kmnist", "mini-mnist")
TOY_SETS = tuple(toy.TOY_SETS)
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "gelu", "softplus",
               "maxout")
LOSSES = ("cross_entropy", "mse", "multi_margin")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULES = ("none", "step", "cosine", "exponential", "onecycle", "warmup")
INITS = ("default", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
         "orthogonal", "normal")
DEFAULT_LR = {"sgd": 0.5, "momentum": 0.01, "nesterov": 0.01, "adam": 1e-3, "adamw": 1e-3,
              "rmsprop": 1e-3, "adagrad": 0.05}

DEFAULTS: dict[str, Any] = {
    "model": "mlp", "dataset": None, "data_dir": None, "download": False, "hidden": [16, 16],
    "activation": "sigmoid", "loss": "cross_entropy", "optimizer": "sgd", "lr": None,
    "momentum": 0.9, "weight_decay": 0.0, "dropout": 0.0, "init": "default",
    "schedule": "none", "batch_size": 32, "epochs": 5, "seed": 0, "device": "cpu",
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
    c["device"] = str(c["device"])
    if c["device"] not in ("cpu", "cuda") and not c["device"].startswith("cuda:"):
        raise ConfigError(f"--device: expected cpu, cuda or cuda:N, got {c['device']!r}")
    if model != "mlp":
        _check_cnn(c, given)
    return c


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
        raise ConfigError(f"--model {model} needs 28x28 images, --dataset {c['dataset']} has "
                          f"2-D points: choose one of {', '.join(IMAGE_SETS)}, or --model mlp")


# settings that may differ from the saved ones when a run is resumed: how long to train and
# where the data and the computation live; every other one would change the run itself
RESUMABLE = ("epochs", "data_dir", "download", "device")


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
    data_bytes, data_what = rundata.data_claims(name, folder, splits)
    model_bytes, model_what = model_memory(config, *data_shape(name), training=train)
    check_total("this run", [("data", data_bytes, data_what),
                             ("model", model_bytes, model_what)])
    if name in TOY_SETS:
        maker = toy.TOY_SETS[name]
        X, y = maker(rundata.TOY_SAMPLES, seed=config["seed"])
        X_test, y_test = maker(rundata.TOY_SAMPLES, seed=config["seed"] + 10_000)
        classes = int(max(y.numpy().max(), y_test.numpy().max())) + 1
        return TensorDataset(X, y), TensorDataset(X_test, y_test), 2, classes
    cls = DATASETS[name]
    train_set = cls(folder, train=True) if train else None
    return train_set, cls(folder, train=False), 784, len(cls.classes)


# ---- model, loss, optimizer ----------------------------------------------------------------


def _activation(name: str) -> nn.Module:
    return nn.activations.ACTIVATIONS[name]()


# arrays an optimizer keeps per parameter: momentum buffer, Adam's two moments, ...
OPTIMIZER_COPIES = {"sgd": 0, "momentum": 1, "nesterov": 1, "adam": 2, "adamw": 2,
                    "rmsprop": 1, "adagrad": 1}
EVAL_BATCH = 1000  # the batch size of evaluation (the CLI's test loader)


def model_memory(config: dict[str, Any], in_features: int, num_classes: int,
                 training: bool = True) -> tuple[int, str]:
    """Bytes the model of ``config`` needs, estimated from the sizes alone, and what they are.

    Training: parameters, their gradients and the optimizer's state, plus the largest of
    a training batch's activations (every forward value kept for backward, and its
    gradient), an evaluation batch's (no graph: the input and the widest layer's output
    and activation), or a checkpoint's serialized copy. Evaluation only: parameters and
    one evaluation batch. Convolutional models: :func:`chainrule.train.models.cnn_memory`
    (the same, plus the im2col buffers).
    """
    if config["model"] != "mlp":
        return _cnn_memory(config, num_classes, training)
    hidden = config["hidden"]
    pieces = 2 if config["activation"] == "maxout" else 1
    widths = [in_features, *hidden]
    layers = zip(widths[:-1], hidden, strict=True)
    params = sum(pieces * (w_in + 1) * w_out for w_in, w_out in layers)
    params += (widths[-1] + 1) * num_classes
    if config["activation"] == "prelu":
        params += len(hidden)  # one slope per PReLU
    # per sample: the input (and its flattened view), each hidden layer's linear output,
    # activation and dropout output and mask, the logits and the loss's log-softmax
    kept = 2 * in_features + sum((pieces + 1) * h for h in hidden) + 2 * num_classes
    if config["dropout"]:
        kept += 2 * sum(hidden)
    widest = 2 * in_features + (pieces + 1) * max([*hidden, num_classes]) + 2 * num_classes
    itemsize = get_default_dtype().itemsize
    evaluation = EVAL_BATCH * widest * itemsize
    shape = "-".join(str(w) for w in [in_features, *hidden, num_classes])
    if not training:
        return params * itemsize + evaluation, (
            f"the model {shape} ({params:,} parameters, evaluated on batches of "
            f"{EVAL_BATCH:,})")
    copies = OPTIMIZER_COPIES[config["optimizer"]]
    batch = config["batch_size"]
    total = params * itemsize * (2 + copies) + max(
        2 * batch * kept * itemsize, evaluation, params * itemsize * (1 + copies))
    state = f"{config['optimizer']} state" if copies else "no optimizer state"
    return total, (f"the model {shape} ({params:,} parameters; with their gradients, {state} "
                   f"and the activations of a training batch of {batch:,} and an evaluation "
                   f"batch of {EVAL_BATCH:,})")


def _cnn_memory(config: dict[str, Any], num_classes: int, training: bool) -> tuple[int, str]:
    plan = models.layer_plan(config["model"], config["activation"], config["dropout"],
                             num_classes)
    copies = OPTIMIZER_COPIES[config["optimizer"]]
    nbytes, params = models.cnn_memory(plan, config["batch_size"], EVAL_BATCH,
                                       get_default_dtype().itemsize, copies, training)
    what = f"the model {config['model']} ({params:,} parameters"
    if not training:
        return nbytes, f"{what}, evaluated on batches of {EVAL_BATCH:,})"
    state = f"{config['optimizer']} state" if copies else "no optimizer state"
    return nbytes, (f"{what}; with their gradients, {state} and the activations and im2col "
                    f"buffers of a training batch of {config['batch_size']:,} and an "
                    f"evaluation batch of {EVAL_BATCH:,})")


def check_model_memory(config: dict[str, Any], in_features: int, num_classes: int,
                       training: bool = True) -> None:
    """MemoryLimitError (one line: the claim and the limit) if the model would not fit."""
    nbytes, what = model_memory(config, in_features, num_classes, training)
    check_memory(what, nbytes)


def build_model(config: dict[str, Any], in_features: int, num_classes: int,
                training: bool = True) -> nn.Sequential:
    """Flatten (for images), then hidden layers of ``config['hidden']``, then the output layer;
    or the convolutional network ``config['model']`` (:func:`chainrule.train.models.build_cnn`).

    The memory it would need (:func:`model_memory`) is checked against the limit first.
    """
    check_model_memory(config, in_features, num_classes, training)
    if config["model"] != "mlp":
        model = models.build_cnn(config["model"], config["activation"], config["dropout"],
                                 num_classes)
        _initialize(model, config)
        return model
    layers: list[nn.Module] = [nn.Flatten()] if in_features == 784 else []
    width = in_features
    for size in config["hidden"]:
        if config["activation"] == "maxout":
            layers.append(nn.Maxout(width, size, pieces=2))
        else:
            layers += [nn.Linear(width, size), _activation(config["activation"])]
        if config["dropout"]:
            layers.append(nn.Dropout(config["dropout"]))
        width = size
    layers.append(nn.Linear(width, num_classes))
    model = nn.Sequential(*layers)
    _initialize(model, config)
    return model


def _initialize(model: nn.Module, config: dict[str, Any]) -> None:
    """``--init``: the weights of every linear and conv layer drawn anew, biases zero."""
    if config["init"] == "default":
        return
    nonlinearity = {"relu": "relu", "tanh": "tanh", "leaky_relu": "leaky_relu"}.get(
        config["activation"], "sigmoid")
    for module in model.modules():
        if isinstance(module, nn.Linear | nn.Conv2d):
            init_by_name(config["init"], module.weight, nonlinearity)
            if module.bias is not None:
                nn.init.zeros_(module.bias)


class OneHotMSE(nn.Module):
    """The tutorials' quadratic cost C = 1/(2n) sum_x ||y(x) - a(x)||^2: sigmoid outputs
    against one-hot targets, summed over the outputs and averaged over the batch."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.num_classes = num_classes

    def forward(self, output: Any, target: Any) -> Any:
        onehot = nn.functional.one_hot(target, self.num_classes, dtype=output.dtype)
        total = nn.functional.mse_loss(output.sigmoid(), onehot, reduction="sum")
        return total * (0.5 / max(len(onehot), 1))


def build_loss(config: dict[str, Any], num_classes: int) -> nn.Module:
    if config["loss"] == "mse":
        return OneHotMSE(num_classes)
    if config["loss"] == "multi_margin":
        return nn.MultiMarginLoss()
    return nn.CrossEntropyLoss()


def build_optimizer(config: dict[str, Any], model: nn.Module) -> optim.Optimizer:
    name, lr, wd = config["optimizer"], config["lr"], config["weight_decay"]
    params = model.parameters()
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
