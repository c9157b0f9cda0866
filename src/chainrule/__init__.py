"""chainrule: define-by-run deep learning on NumPy that you can read.

>>> import chainrule as cr
>>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> loss = (x ** 2).sum()
>>> loss.backward()
>>> x.grad
tensor([2., 4., 6.])
"""

import numpy as _np

from chainrule import accelerator, autograd, backends, cuda, data, linalg, nn, optim, utils
from chainrule.autograd import detect_anomaly, enable_grad, no_grad, set_grad_enabled
from chainrule.autograd.grad_mode import is_grad_enabled
from chainrule.autograd.gradcheck import gradcheck
from chainrule.backend import Device, cuda_available
from chainrule.backend.device import get_default_device, set_default_device
from chainrule.compile import compile
from chainrule.creation import (
    arange,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from chainrule.dtypes import (
    bool_,
    double,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    uint8,
)
from chainrule.functions import (  # PyTorch's math, logic and comparisons, with out=
    abs,
    absolute,
    acos,
    add,
    all,
    allclose,
    any,
    arccos,
    arcsin,
    arctan,
    arctan2,
    argmax,
    argmin,
    argsort,
    asin,
    atan,
    atan2,
    bmm,
    ceil,
    clamp,
    clip,
    cos,
    cosh,
    cumprod,
    cumsum,
    div,
    divide,
    dot,
    einsum,
    eq,
    equal,
    erf,
    erfc,
    exp,
    expm1,
    fix,
    floor,
    floor_divide,
    fmod,
    frac,
    ge,
    ger,
    greater,
    greater_equal,
    gt,
    isclose,
    le,
    less,
    less_equal,
    log,
    log1p,
    log2,
    log10,
    lt,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mm,
    mul,
    multiply,
    ne,
    neg,
    negative,
    norm,
    not_equal,
    numel,
    outer,
    pow,
    reciprocal,
    remainder,
    round,
    rsqrt,
    sgn,
    sign,
    sin,
    sinh,
    sort,
    sqrt,
    square,
    sub,
    subtract,
    sum,
    tan,
    topk,
    true_divide,
    trunc,
)
from chainrule.ops.activation import elu, gelu, leaky_relu, relu, sigmoid, softplus, tanh
from chainrule.ops.elementwise import where
from chainrule.ops.linalg import linear
from chainrule.ops.reduce import amax, amin, log_softmax, logsumexp, softmax, std, var
from chainrule.ops.shape import (
    cat,
    chunk,
    concat,
    expand,
    flatten,
    pad,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)
from chainrule.random import Generator, get_rng_state, initial_seed, manual_seed, set_rng_state
from chainrule.sampling import bernoulli, multinomial
from chainrule.serialization import load, save
from chainrule.size import Size
from chainrule.tensor import Tensor
from chainrule.tensor_str import set_printoptions

# ---- PyTorch's spellings (the compatibility layer; README: "Differences from PyTorch") ----
device = Device
dtype = _np.dtype  # chainrule's dtypes are NumPy's: isinstance(t.dtype, chainrule.dtype)
float = float32  # noqa: A001 - torch.float
int = int32  # noqa: A001 - torch.int
short = int16
bool = bool_  # noqa: A001 - torch.bool
__version__ = "0.1.0"

__all__ = [
    "Size", "accelerator", "backends", "cuda", "device", "dtype", "empty_like", "float",
    "get_default_device", "int", "load", "save", "set_default_device", "set_printoptions",
    "short",
    "Device", "Generator", "Tensor", "abs", "add", "amax", "amin", "arange", "autograd", "nn",
    "optim", "data", "utils",
    "bool", "bool_", "cat", "compile", "chunk", "clamp", "clip", "concat", "cuda_available",
    "detect_anomaly", "div", "double", "elu", "empty", "enable_grad", "exp", "expand", "eye",
    "flatten", "float16", "float32", "float64", "from_numpy", "full", "full_like", "gelu",
    "get_default_dtype", "get_rng_state", "gradcheck", "half", "initial_seed", "int8", "int16",
    "int32", "int64", "is_grad_enabled", "leaky_relu", "linear", "linspace", "log",
    "log_softmax", "logsumexp", "long", "manual_seed", "matmul", "max", "maximum", "mean",
    "min", "minimum", "mul", "neg", "no_grad", "ones", "ones_like", "pad", "permute", "pow",
    "rand", "rand_like", "randint", "randn", "randn_like", "randperm", "relu", "reshape",
    "set_default_dtype", "set_grad_enabled", "set_rng_state", "sigmoid", "softmax",
    "softplus", "split", "sqrt", "squeeze", "stack", "std", "sub", "sum", "tanh", "tensor",
    "transpose", "uint8", "unsqueeze", "var", "where", "zeros", "zeros_like",
]
__all__ += [  # PyTorch's functions (chainrule/functions.py), linalg, multinomial, bernoulli
    "absolute", "acos", "all", "allclose", "any", "arccos", "arcsin", "arctan", "arctan2",
    "argmax", "argmin", "argsort", "asin", "atan", "atan2", "bmm", "ceil", "cos", "cosh",
    "cumprod", "cumsum", "divide", "dot", "einsum", "eq", "equal", "erf", "erfc", "expm1",
    "fix", "floor", "floor_divide", "fmod", "frac", "ge", "ger", "greater", "greater_equal",
    "gt", "isclose", "le", "less", "less_equal", "log10", "log1p", "log2", "lt", "mm",
    "multiply", "ne", "negative", "norm", "not_equal", "numel", "outer", "reciprocal",
    "remainder", "round", "rsqrt", "sgn", "sign", "sin", "sinh", "sort", "square", "subtract",
    "tan", "topk", "true_divide", "trunc", "linalg", "multinomial", "bernoulli",
]
