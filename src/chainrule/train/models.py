"""The convolutional models of ``chainrule train --model``: LeNet-5 and a small modern CNN.

Each model is a table of layers, read twice: once to build the network and once, before
anything is allocated, to estimate its memory (:func:`cnn_memory`) from the shapes alone.

``lenet`` (LeCun et al. 1998, as PyTorch tutorials write it: max-pooling, and ReLU unless
``--activation`` says otherwise; the 1998 network used tanh-like squashing and trainable
sub-sampling)::

    (1, 28, 28) -conv 6@5x5 pad 2-> (6, 28, 28) -act, max-pool 2-> (6, 14, 14)
                -conv 16@5x5->      (16, 10, 10) -act, max-pool 2-> (16, 5, 5)
                -flatten-> 400 -linear-> 120 -act-> 84 -act-> 10

``cnn``: two 3x3 conv blocks (conv, BatchNorm, ReLU, max-pool), dropout, one linear layer::

    (1, 28, 28) -conv 16@3x3 pad 1, BN, act, max-pool 2-> (16, 14, 14)
                -conv 32@3x3 pad 1, BN, act, max-pool 2-> (32, 7, 7)
                -flatten, dropout-> 1568 -linear-> 10

The input channels and size come from the data set (:data:`IMAGES`): on CIFAR-10's
(3, 32, 32) images LeNet's flattened features are 16x6x6 = 576 and the CNN's 32x8x8 = 2048.
Grey images come as (N, 28, 28) and the first layer adds their channel dim; colour images
come as (N, 3, 32, 32).

>>> plan = layer_plan("lenet", "relu", 0.0, 10)
>>> sum(layer.params for layer in plan)
61706
>>> [(layer.kind, layer.shape) for layer in plan][:3]
[('unflatten', (1, 28, 28)), ('conv', (6, 28, 28)), ('act', (6, 28, 28))]
>>> [layer.shape for layer in layer_plan("lenet", "relu", 0.0, 10, (3, 32, 32))][:2]
[(6, 32, 32), (6, 32, 32)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from chainrule import nn

# (kind, argument): conv (out channels, kernel, padding), pool (kernel), linear (width;
# None: the number of classes); "dropout" only when the dropout probability is not 0
ARCHITECTURES: dict[str, tuple[tuple[str, Any], ...]] = {
    "lenet": (("unflatten", None), ("conv", (6, 5, 2)), ("act", None), ("pool", 2),
              ("conv", (16, 5, 0)), ("act", None), ("pool", 2), ("flatten", None),
              ("linear", 120), ("act", None), ("dropout", None), ("linear", 84), ("act", None),
              ("dropout", None), ("linear", None)),
    "cnn": (("unflatten", None), ("conv", (16, 3, 1)), ("batchnorm", None), ("act", None),
            ("pool", 2), ("conv", (32, 3, 1)), ("batchnorm", None), ("act", None), ("pool", 2),
            ("flatten", None), ("dropout", None), ("linear", None)),
}
IMAGE = (1, 28, 28)
# the image shape of a data set's samples, by their number of inputs (MNIST-like, CIFAR-10)
IMAGES = {784: IMAGE, 3072: (3, 32, 32)}


def sample_shape(in_features: int) -> tuple[int, ...]:
    """The shape of one sample as the data set gives it: (28, 28) grey images,
    (3, 32, 32) colour ones, (in_features,) points."""
    if in_features not in IMAGES:
        return (in_features,)
    image = IMAGES[in_features]
    return image[1:] if image[0] == 1 else image


def image_shape(in_features: int) -> tuple[int, int, int]:
    """(channels, rows, cols) of the images with ``in_features`` inputs (ValueError if the
    data set has no images: a convolutional model cannot take it)."""
    if in_features not in IMAGES:
        shapes = " or ".join("x".join(map(str, shape)) for shape in IMAGES.values())
        raise ValueError(f"convolutional models take images of {shapes} values, not "
                         f"{in_features} features")
    return IMAGES[in_features]


@dataclass(frozen=True)
class Layer:
    """One layer of a plan: its kind and setting, output shape (one sample), parameter
    count and, for a convolution, the size of its im2col buffer (one sample)."""

    kind: str
    arg: Any
    shape: tuple[int, ...]
    params: int = 0
    im2col: int = 0


def layer_plan(model: str, activation: str, dropout: float, num_classes: int,
               image: tuple[int, int, int] = IMAGE) -> list[Layer]:
    """The layers of ``model`` with their output shapes, for ``image`` (channels, rows,
    cols): grey images get the ``unflatten`` layer that adds their channel dim."""
    plan: list[Layer] = []
    shape: tuple[int, ...] = image
    for kind, arg in ARCHITECTURES[model]:
        params = im2col = 0
        if kind == "unflatten" and image[0] != 1:
            continue  # colour images come with their channels
        if kind == "conv":
            out_c, k, pad = arg
            c, h, w = shape
            shape = (out_c, h + 2 * pad - k + 1, w + 2 * pad - k + 1)
            params = out_c * (c * k * k + 1)
            im2col = c * k * k * shape[1] * shape[2]
        elif kind == "pool":
            shape = (shape[0], shape[1] // arg, shape[2] // arg)
        elif kind == "batchnorm":
            params = 2 * shape[0]
        elif kind == "act":
            params = 1 if activation == "prelu" else 0
        elif kind == "flatten":
            shape = (math.prod(shape),)
        elif kind == "linear":
            width = num_classes if arg is None else arg
            params = (shape[0] + 1) * width
            shape = (width,)
        elif kind == "dropout" and not dropout:
            continue
        plan.append(Layer(kind, arg, shape, params, im2col))
    return plan


def mlp_layers(in_features: int, hidden: list[int], activation: str, dropout: float,
               out_features: int) -> list[nn.Module]:
    """The fully connected net of ``chainrule train --model mlp`` (and of the playground):
    per hidden width a Linear layer and the activation (``maxout``: one Maxout layer of 2
    pieces instead; ``linear``: no activation), then dropout when not 0; then the output
    Linear layer. One layout for both, so a run's weights load into either.

    >>> [type(m).__name__ for m in mlp_layers(2, [3], "tanh", 0.1, 2)]
    ['Linear', 'Tanh', 'Dropout', 'Linear']
    """
    layers: list[nn.Module] = []
    width = in_features
    for size in hidden:
        if activation == "maxout":
            layers.append(nn.Maxout(width, size, pieces=2))
        else:
            layers.append(nn.Linear(width, size))
            if activation != "linear":
                layers.append(nn.activations.ACTIVATIONS[activation]())
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = size
    layers.append(nn.Linear(width, out_features))
    return layers


def build_cnn(model: str, activation: str, dropout: float, num_classes: int,
              image: tuple[int, int, int] = IMAGE) -> nn.Sequential:
    """The network of :func:`layer_plan` as one flat ``nn.Sequential`` (taking grey images
    as (N, 28, 28), like the MLPs: its first layer adds the channel dim; colour ones as
    (N, 3, 32, 32)).

    >>> build_cnn("cnn", "relu", 0.25, 10).num_parameters()
    20586
    >>> build_cnn("lenet", "relu", 0.0, 10, (3, 32, 32)).num_parameters()
    83126
    """
    layers: list[nn.Module] = []
    channels, width = image[0], 0
    for layer in layer_plan(model, activation, dropout, num_classes, image):
        if layer.kind == "unflatten":
            layers.append(nn.Unflatten(1, (1, image[1])))  # (N, 28, 28) -> (N, 1, 28, 28)
        elif layer.kind == "conv":
            out_c, k, pad = layer.arg
            layers.append(nn.Conv2d(channels, out_c, k, padding=pad))
            channels = out_c
        elif layer.kind == "batchnorm":
            layers.append(nn.BatchNorm2d(channels))
        elif layer.kind == "act":
            layers.append(nn.activations.ACTIVATIONS[activation]())
        elif layer.kind == "pool":
            layers.append(nn.MaxPool2d(layer.arg))
        elif layer.kind == "flatten":
            layers.append(nn.Flatten())
            width = layer.shape[0]
        elif layer.kind == "dropout":
            layers.append(nn.Dropout(dropout))
        else:
            layers.append(nn.Linear(width, layer.shape[0]))
            width = layer.shape[0]
    return nn.Sequential(*layers)


def cnn_memory(plan: list[Layer], batch: int, eval_batch: int, itemsize: int,
               optimizer_copies: int, training: bool,
               image: tuple[int, int, int] = IMAGE) -> tuple[int, int]:
    """(bytes, parameters) of a plan: parameters, their gradients and the optimizer's
    state, plus the largest of a training batch's activations (each layer's output kept
    for backward and its gradient, and twice the largest im2col buffer: the columns of
    forward and, in backward, of the weight and input gradients), an evaluation batch's
    (the input, the widest output twice, one im2col buffer) or a checkpoint's copy.

    >>> nbytes, params = cnn_memory(layer_plan("lenet", "relu", 0, 10), 64, 1000, 4, 1, True)
    >>> params, round(nbytes / 2**20, 1)
    (61706, 114.4)
    """
    params = sum(layer.params for layer in plan)
    sizes = [math.prod(layer.shape) for layer in plan]
    im2col = max(layer.im2col for layer in plan)
    evaluation = eval_batch * (math.prod(image) + 2 * max(sizes) + im2col) * itemsize
    if not training:
        return params * itemsize + evaluation, params
    kept = math.prod(image) + sum(sizes)
    activations = batch * (2 * kept + 2 * im2col) * itemsize
    total = params * itemsize * (2 + optimizer_copies) + max(
        activations, evaluation, params * itemsize * (1 + optimizer_copies))
    return total, params
