"""Export a playground session as a run folder, and open a run in the playground.

An export is the checkpoint ``chainrule train`` writes (safetensors + JSON, through
:func:`chainrule.train.checkpoint.save_checkpoint`): the model and optimizer arrays, the
epoch and step, and the whole playground setup under ``playground`` (uploaded CSV points
as arrays). When the setup is one the CLI can train (a classification toy set on the x, y
features), ``config`` holds the CLI's settings too, so ``chainrule eval`` and
``chainrule info`` read the export like any run. ``--load RUN`` opens either kind: an
export with its own setup, a CLI run of a 2-D toy set with the setup its config describes.

>>> from chainrule.playground.options import check_setup
>>> cli_config({**check_setup({"data": "moons", "hidden": [5]}), "epoch": 2.5})["hidden"]
[5]
>>> from chainrule.playground.options import check_setup
>>> cli_config(check_setup({"features": ["x", "y", "xy"]})) is None
True
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

import numpy as np

from chainrule.cli_run import CHECKPOINT, checkpoint_of, claim, finite_weights, saved_config
from chainrule.playground.options import (
    ACTIVATIONS,
    CLASSIFICATION_SETS,
    OPTIMIZERS,
    SetupError,
)
from chainrule.playground.session import Session
from chainrule.tensor import Tensor
from chainrule.train.checkpoint import CheckpointError, read_checkpoint, save_checkpoint


class LoadError(ValueError):
    """A run the playground cannot open: the message says why and what it can open."""


# what a CLI run's toy set was drawn with (chainrule.train.recipe.load_data: the makers'
# defaults), in the playground's terms
_CLI_NOISE = {"circles": 0.05, "moons": 0.1, "xor": 0.1, "spiral": 0.2, "gaussians": 0.1}


def cli_config(setup: dict[str, Any]) -> dict[str, Any] | None:
    """The ``chainrule train`` settings of ``setup``, or None when the CLI cannot train it
    (regression, CSV data, features other than x and y, a linear network)."""
    if (setup["problem"] != "classification" or setup["data"] not in CLASSIFICATION_SETS
            or setup["features"] != ["x", "y"] or setup["activation"] == "linear"):
        return None
    return {
        "model": "mlp", "dataset": setup["data"], "hidden": list(setup["hidden"]),
        "activation": setup["activation"], "loss": setup["loss"],
        "optimizer": setup["optimizer"], "lr": setup["lr"],
        "batch_size": setup["batch_size"], "seed": setup["seed"],
        "dropout": setup["dropout"], "no_bias_decay": True,
        "weight_decay": setup["reg_rate"] if setup["regularization"] == "l2" else 0.0,
        "epochs": max(1, math.ceil(setup.get("epoch", 1))),
    }


def export_run(session: Session, parent: str | None = None) -> str:
    """Write the session as a new run folder ``<parent>/playground-<time>`` (parent: default
    ``runs``, as ``chainrule train`` names its runs); returns its path."""
    base = os.path.join(parent or "runs", time.strftime("playground-%Y%m%d-%H%M%S"))
    folder = claim(None, base)
    try:
        extra: dict[str, Any] = {"epoch": int(session.epoch), "step": session.steps,
                                 "playground": session.setup}
        config = cli_config({**session.setup, "epoch": session.epoch})
        if config is not None:
            extra["config"] = config
        path = os.path.join(folder.path, CHECKPOINT)
        save_checkpoint(path, session.model, session.optimizer, extra=extra)
        if session.setup["data"] == "csv" and session.csv is not None:
            _save_csv(folder.path, *session.csv)
    finally:
        folder.release()
    return folder.path


def _save_csv(folder: str, points: np.ndarray, labels: np.ndarray) -> None:
    rows = "\n".join(f"{x!r},{y!r},{v!r}" for (x, y), v in zip(points.tolist(),
                                                               labels.tolist(), strict=True))
    with open(os.path.join(folder, "points.csv"), "w", encoding="utf-8") as f:
        f.write("x,y,label\n" + rows + "\n")


def _setup_of_cli_run(path: str, config: dict[str, Any], classes: int) -> dict[str, Any]:
    dataset = config.get("dataset")
    if dataset not in CLASSIFICATION_SETS:
        raise LoadError(f"{path}: trained on {dataset or 'mnist'}; the playground opens "
                        f"2-D runs (chainrule train --dataset "
                        f"{'|'.join(CLASSIFICATION_SETS)})")
    if config.get("model", "mlp") != "mlp" or config.get("loss", "cross_entropy") not in (
            "cross_entropy", "mse"):
        raise LoadError(f"{path}: the playground opens MLPs trained with cross_entropy or "
                        f"mse, not {config.get('model')} with {config.get('loss')}")
    activation = config.get("activation", "sigmoid")
    if activation not in ACTIVATIONS:
        raise LoadError(f"{path}: activation {activation!r} is not one of the playground's")
    optimizer = config.get("optimizer", "sgd")
    return {
        "data": dataset, "points": 1000, "noise": _CLI_NOISE[dataset],
        "classes": classes if dataset in ("spiral", "gaussians") else 2,
        "hidden": list(config.get("hidden", [16, 16])), "activation": activation,
        "loss": config.get("loss", "cross_entropy"),
        "optimizer": optimizer if optimizer in OPTIMIZERS else "adam",
        "lr": config.get("lr") or 0.03, "batch_size": config.get("batch_size", 32),
        "dropout": config.get("dropout", 0.0), "seed": config.get("seed", 0),
    }


def load_run(run: str) -> Session:
    """A paused session holding the weights of ``run`` (LoadError, CheckpointError or the
    CLI's RunFolderError when it cannot be opened)."""
    path = checkpoint_of(run)
    arrays, meta = read_checkpoint(path)
    finite_weights(path, arrays)
    csv = None
    if isinstance(meta.get("playground"), dict):
        given = meta["playground"]
        points_file = os.path.join(os.path.dirname(path), "points.csv")
        if os.path.isfile(points_file):
            from chainrule.playground.data import parse_csv

            with open(points_file, encoding="utf-8") as f:
                csv = parse_csv(f.read(), given.get("problem", "classification"))
    else:
        config = saved_config(path, meta)[0]
        biases = sorted((k for k in arrays if k.startswith("model/") and k.endswith(".bias")),
                        key=lambda k: int(k.split("/")[1].split(".")[0]))
        if not biases:
            raise LoadError(f"{path}: no layer biases found: not a chainrule classifier")
        given = _setup_of_cli_run(path, config, int(arrays[biases[-1]].shape[0]))
    try:
        session = Session(given, csv=csv)
    except SetupError as exc:
        raise LoadError(f"{path}: its playground setup is not valid ({exc})") from None
    state = {k[len("model/"):]: Tensor._wrap(v.astype(np.float32)) for k, v in arrays.items()
             if k.startswith("model/")}
    try:
        session.model.load_state_dict(state)
    except Exception as exc:
        raise CheckpointError(f"{path} does not fit the network of its setup:\n{exc}") from None
    session.steps = int(meta.get("step", 0) or 0)
    session.epoch = float(meta.get("epoch", 0) or 0)
    return session
