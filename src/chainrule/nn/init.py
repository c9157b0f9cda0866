"""Weight initializers, in place and seeded through chainrule's Generator.

The scale rules keep activations from shrinking or exploding layer by layer:
Xavier/Glorot (var = 2 / (fan_in + fan_out)) for tanh/sigmoid, Kaiming/He
(var = 2 / fan_in) for ReLU.

>>> import chainrule as cr
>>> w = cr.empty(16, 784)
>>> _ = cr.nn.init.kaiming_normal_(w, nonlinearity="relu")
>>> 0.04 < float(w.std()) < 0.06
True
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from chainrule.backend import array_module, to_device
from chainrule.random import Generator, numpy_generator
from chainrule.random_draws import draw_dtype
from chainrule.tensor import Tensor

_GAINS = {"linear": 1.0, "identity": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0,
          "conv_transpose1d": 1.0, "conv_transpose2d": 1.0, "conv_transpose3d": 1.0,
          "sigmoid": 1.0, "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 3.0 / 4}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended scale for a nonlinearity (PyTorch's table).

    >>> round(calculate_gain("relu"), 4)
    1.4142
    """
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity not in _GAINS:
        raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; "
                         f"known: {sorted([*_GAINS, 'leaky_relu'])}")
    return _GAINS[nonlinearity]


def fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: (in, out) for Linear's (out, in) matrix."""
    if tensor.ndim < 2:
        raise ValueError("fan in/out need a tensor with at least 2 dims, got "
                         f"{tuple(tensor.shape)}")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    values = values.astype(tensor.dtype, copy=False)
    if array_module(tensor._data) is not np:  # drawn on the host, copied to the GPU once
        values = to_device(values, tensor.device)
    tensor._data[...] = values
    tensor._bump_version()
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0,
             generator: Generator | None = None) -> Tensor:
    """Fill with U(a, b)."""
    return _fill(tensor, numpy_generator(generator).uniform(a, b, tensor.shape,
                                                                 draw_dtype(tensor.dtype)))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Generator | None = None) -> Tensor:
    """Fill with N(mean, std^2)."""
    return _fill(tensor, numpy_generator(generator).normal(mean, std, tensor.shape,
                                                                 draw_dtype(tensor.dtype)))


def constant_(tensor: Tensor, val: float) -> Tensor:
    return _fill(tensor, np.full(tensor.shape, val))


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0,
                    generator: Generator | None = None) -> Tensor:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0,
                   generator: Generator | None = None) -> Tensor:
    """Glorot normal: N(0, gain^2 * 2 / (fan_in + fan_out))."""
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _no_elements(tensor: Tensor) -> bool:
    """True, with PyTorch's warning, for a tensor with a 0 in its shape: Kaiming's scale
    divides by its fan, which may be 0, and there is nothing to fill anyway."""
    if tensor.numel():
        return False
    warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
    return True


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu",
                     generator: Generator | None = None) -> Tensor:
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan); a no-op (with a warning, as in
    PyTorch) on a tensor without elements."""
    if _no_elements(tensor):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu",
                    generator: Generator | None = None) -> Tensor:
    """He normal: N(0, gain^2 / fan); a no-op (with a warning) without elements."""
    if _no_elements(tensor):
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: needs at least 2 dims, got {tuple(tensor.shape)}")
    if not tensor.numel():  # nothing to fill (PyTorch: a no-op too)
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = numpy_generator(generator).normal(0.0, 1.0, (rows, cols), draw_dtype(tensor.dtype))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Generator | None = None) -> Tensor:
    """Fill with N(mean, std^2) cut to [a, b], by PyTorch 2.13's two rejection samplers, so
    the same seed gives PyTorch's values and stream position.

    If [a, b] holds more than 30% of the mass: draw normals for the whole tensor, then, while
    any value lies outside [a, b], draw a whole tensor of normals again and take its values
    there. Otherwise: uniforms on [a, b] as candidates, each kept when ``log(v)`` of a fresh
    uniform ``v`` is at most the candidate's log density (relative to its peak on [a, b]);
    rejected places take the next round's candidates (whole tensors of both, each round).

    >>> import chainrule as cr
    >>> w = cr.nn.init.trunc_normal_(cr.empty(1000), std=1.0, a=-0.5, b=0.5)
    >>> bool((w.abs() <= 0.5).all())
    True
    """
    if not a < b:
        raise ValueError(f"trunc_normal_: need a < b, got a={a}, b={b}")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)

    def cdf(value: float) -> float:
        return (1.0 + math.erf(value / math.sqrt(2.0))) / 2.0

    rng = numpy_generator(generator)
    dtype = np.dtype(draw_dtype(tensor.dtype))
    shape = tuple(tensor.shape)
    if cdf((b - mean) / std) - cdf((a - mean) / std) > 0.3:
        low, high = dtype.type(a), dtype.type(b)
        values = rng.normal(mean, std, shape, dtype)
        outside = (values < low) | (values > high)
        while outside.any():
            values = np.where(outside, rng.normal(mean, std, shape, dtype), values)
            outside = (values < low) | (values > high)
        return _fill(tensor, values)
    mode = max(a, min(mean, b))
    log_peak = dtype.type(-0.5 * ((mode - mean) / std) ** 2)

    def log_density(candidates: np.ndarray) -> np.ndarray:
        scaled = (candidates - dtype.type(mean)) / dtype.type(std)
        return scaled * scaled * dtype.type(-0.5) - log_peak

    values = rng.uniform(a, b, shape, dtype)
    with np.errstate(divide="ignore"):  # log(0) = -inf: accepted
        pending = np.log(rng.uniform(0.0, 1.0, shape, dtype)) > log_density(values)
        while pending.any():
            candidates = rng.uniform(a, b, shape, dtype)
            values = np.where(pending, candidates, values)
            accept_log = np.log(rng.uniform(0.0, 1.0, shape, dtype))
            pending = np.where(pending, accept_log > log_density(candidates), pending)
    return _fill(tensor, values)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the diagonal; Linear passes inputs on).

    >>> import chainrule as cr
    >>> cr.nn.init.eye_(cr.empty(2, 3))
    tensor([[1., 0., 0.],
            [0., 1., 0.]])
    """
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got {tuple(tensor.shape)}")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-D convolution weight with the Dirac delta: the convolution passes
    its first input channels through (per group).

    >>> import chainrule as cr
    >>> w = cr.nn.init.dirac_(cr.empty(2, 2, 3, 3))
    >>> w[:, :, 1, 1]
    tensor([[1., 0.],
            [0., 1.]])
    """
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: only 3, 4 or 5-D tensors are supported, got "
                         f"{tuple(tensor.shape)}")
    out_channels = tensor.shape[0]
    if out_channels % groups:
        raise ValueError(f"dirac_: dim 0 ({out_channels}) must be divisible by groups={groups}")
    per_group = out_channels // groups
    values = np.zeros(tensor.shape)
    center = tuple(k // 2 for k in tensor.shape[2:])
    for g in range(groups):
        for i in range(min(per_group, tensor.shape[1])):
            values[(g * per_group + i, i, *center)] = 1.0
    return _fill(tensor, values)


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01,
            generator: Generator | None = None) -> Tensor:
    """Fill a 2-D tensor with N(0, std^2), then zero ``ceil(sparsity * rows)`` random rows
    of each column (Martens 2010).

    >>> import chainrule as cr
    >>> w = cr.nn.init.sparse_(cr.empty(10, 3), sparsity=0.3)
    >>> (w == 0).sum(dim=0).tolist()
    [3, 3, 3]
    """
    if tensor.ndim != 2:
        raise ValueError(f"sparse_: only 2-D tensors are supported, got {tuple(tensor.shape)}")
    rows, cols = tensor.shape
    rng = numpy_generator(generator)
    values = rng.normal(0.0, std, (rows, cols), draw_dtype(tensor.dtype))
    zeros = int(math.ceil(sparsity * rows))
    for col in range(cols):
        values[rng.permutation(rows)[:zeros], col] = 0.0
    return _fill(tensor, values)


def _deprecated(new: Any) -> Any:
    """PyTorch's old names without the underscore: they warn and call the new one."""
    old = new.__name__[:-1]

    def init(*args: Any, **kwargs: Any) -> Any:
        warnings.warn(f"nn.init.{old} is now deprecated in favor of nn.init.{new.__name__}.",
                      FutureWarning, stacklevel=2)
        return new(*args, **kwargs)

    init.__name__ = init.__qualname__ = old
    init.__doc__ = f"Deprecated: use :func:`{new.__name__}`."
    return init


uniform, normal, constant = (_deprecated(f) for f in (uniform_, normal_, constant_))
eye, dirac, sparse = (_deprecated(f) for f in (eye_, dirac_, sparse_))
xavier_uniform, xavier_normal = _deprecated(xavier_uniform_), _deprecated(xavier_normal_)
kaiming_uniform, kaiming_normal = _deprecated(kaiming_uniform_), _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)


def init_by_name(name: str, tensor: Tensor, nonlinearity: str = "relu",
                 generator: Generator | None = None) -> Any:
    """Apply an initializer chosen by name (used by the CLI's ``--init``)."""
    table = {
        "xavier_uniform": lambda: xavier_uniform_(tensor, calculate_gain(nonlinearity),
                                                  generator),
        "xavier_normal": lambda: xavier_normal_(tensor, calculate_gain(nonlinearity), generator),
        "kaiming_uniform": lambda: kaiming_uniform_(tensor, nonlinearity=nonlinearity,
                                                    generator=generator),
        "kaiming_normal": lambda: kaiming_normal_(tensor, nonlinearity=nonlinearity,
                                                  generator=generator),
        "orthogonal": lambda: orthogonal_(tensor, calculate_gain(nonlinearity), generator),
        "normal": lambda: normal_(tensor, 0.0, 0.01, generator),
    }
    if name not in table:
        raise ValueError(f"unknown init {name!r}; choose from {sorted(table)}")
    return table[name]()
