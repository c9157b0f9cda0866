"""Neural-network building blocks: Module, layers, activations, losses, init, utils."""

from chainrule.nn import functional, init, utils
from chainrule.nn.activations import (
    ELU,
    GELU,
    LeakyReLU,
    LogSoftmax,
    PReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from chainrule.nn.conv import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    BatchNorm2d,
    Conv1d,
    Conv2d,
    Dropout2d,
    Fold,
    MaxPool2d,
    Unflatten,
    Unfold,
)
from chainrule.nn.layers import (
    BatchNorm1d,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LayerNorm,
    Linear,
    Maxout,
    ModuleDict,
    ModuleList,
    Sequential,
    ShapeError,
)
from chainrule.nn.losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    MultiMarginLoss,
    NLLLoss,
    SmoothL1Loss,
)
from chainrule.nn.module import Module, StateDictError
from chainrule.nn.parameter import Parameter
from chainrule.nn.utils import num_parameters, summary
from chainrule.ops.linalg import DtypeError

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool2d", "BatchNorm2d", "Conv1d", "Conv2d", "Dropout2d",
    "DtypeError", "Fold", "MaxPool2d", "Unflatten", "Unfold",
    "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "CrossEntropyLoss", "Dropout", "ELU",
    "Embedding", "Flatten", "GELU", "HuberLoss", "Identity", "L1Loss", "LayerNorm",
    "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "Maxout", "Module", "ModuleDict",
    "ModuleList", "MultiMarginLoss", "NLLLoss", "PReLU", "Parameter", "ReLU", "Sequential",
    "ShapeError", "Sigmoid", "SmoothL1Loss", "Softmax", "Softplus", "StateDictError", "Tanh",
    "functional", "init", "num_parameters", "summary", "utils",
]
