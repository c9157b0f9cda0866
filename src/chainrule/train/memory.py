"""How much memory a run's model will take, estimated from the sizes alone before it is built.

The estimate counts the parameters, their gradients, the optimizer's state and the largest
of a training batch's activations, an evaluation batch's, or a checkpoint's serialized
copy, at the bytes per number of the run's ``--dtype``; convolutional models add their
im2col buffers (:func:`chainrule.train.models.cnn_memory`). :func:`check_model_memory`
refuses a model over the memory limit (``CHAINRULE_MAX_MEMORY``) before anything is built.

>>> from chainrule.train.recipe import resolve
>>> nbytes, what = model_memory(resolve({"dataset": "xor"}), 2, 2)
>>> what.split(" (")[0]
'the model 2-16-16-2'
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.dtypes import get_default_dtype
from chainrule.limits import check_memory
from chainrule.train import models


def _itemsize(config: dict[str, Any]) -> int:
    """Bytes per number of the model and data of ``config`` (``--dtype``)."""
    return int(np.dtype(config.get("dtype") or get_default_dtype()).itemsize)


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
        return _cnn_memory(config, in_features, num_classes, training)
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
    itemsize = _itemsize(config)
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


def _cnn_memory(config: dict[str, Any], in_features: int, num_classes: int, training: bool
                ) -> tuple[int, str]:
    image = models.image_shape(in_features)
    plan = models.layer_plan(config["model"], config["activation"], config["dropout"],
                             num_classes, image)
    copies = OPTIMIZER_COPIES[config["optimizer"]]
    nbytes, params = models.cnn_memory(plan, config["batch_size"], EVAL_BATCH,
                                       _itemsize(config), copies, training, image)
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
