"""Activation functions, each with its derivative beside it.

Where the derivative can be written from the output (sigmoid: y(1-y), tanh:
1-y^2, relu: y > 0) the op saves only its output. Sigmoid and softplus are
written so that |x| = 1000 neither overflows nor warns.

>>> import chainrule as cr
>>> cr.sigmoid(cr.tensor([-1000.0, 0.0, 1000.0]))
tensor([0.0000, 0.5000, 1.0000])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.autograd.function import Function
from chainrule.backend import array_module, largest
from chainrule.backend.device import NAMESPACES

# e^x stays finite below these inputs (with a margin) in float16, float32, float64
_EXP_LIMIT = {"e": 10.0, "f": 80.0, "d": 700.0}


def sigmoid_array(x: Any) -> Any:
    """Stable logistic function on a raw array.

    When every input is below the dtype's overflow limit for e^x (80 in float32),
    e^x / (1 + e^x) is exact to rounding at both ends and costs three array operations;
    otherwise exp is only ever taken of -|x|.
    """
    xp = array_module(x)
    if type(x) in NAMESPACES:  # a recorded backward's array (autograd.traced)
        return xp.sigmoid(x)
    limit = _EXP_LIMIT.get(x.dtype.char)
    if limit is not None and x.size and largest(x) < limit:
        e = xp.exp(x)
        if not x.ndim:  # NumPy returns 0-d results as scalars, which have no out=
            return e / (1 + e)
        return xp.divide(e, e + 1, out=e)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Function):
    """sigma(x) = 1 / (1 + e^-x);  sigma'(x) = sigma(x) (1 - sigma(x)) <= 1/4."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        y = sigmoid_array(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (y,) = ctx.saved_tensors
        g = gy * y
        g *= 1 - y
        return g


class Tanh(Function):
    """tanh'(x) = 1 - tanh(x)^2."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (y,) = ctx.saved_tensors
        return gy * (1 - y * y)


class ReLU(Function):
    """max(0, x); the gradient is 1 where the output is positive, else 0 (also at x = 0)."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        y = np.maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (y,) = ctx.saved_tensors
        return gy * (y > 0)


class LeakyReLU(Function):
    """x for x > 0, slope * x otherwise."""

    @staticmethod
    def forward(ctx: Any, x: Any, slope: float) -> Any:
        ctx.save_for_backward(x)
        ctx.slope = slope
        return np.where(x > 0, x, x * slope)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (x,) = ctx.saved_tensors
        return array_module(gy).where(x > 0, gy, gy * ctx.slope)


class ELU(Function):
    """x for x > 0, alpha (e^x - 1) otherwise; derivative alpha e^x = y + alpha there."""

    @staticmethod
    def forward(ctx: Any, x: Any, alpha: float) -> Any:
        xp = array_module(x)
        y = xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))
        ctx.save_for_backward(x, y)
        ctx.alpha = alpha
        return y

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        x, y = ctx.saved_tensors
        return array_module(gy).where(x > 0, gy, gy * (y + ctx.alpha))


def _erf(x: Any) -> Any:
    xp = array_module(x)
    if type(x) in NAMESPACES:  # a recorded backward's array (autograd.traced)
        return xp.erf(x)
    if xp is not np:  # pragma: no cover - GPU only
        from cupyx.scipy.special import erf

        return erf(x)
    try:
        from scipy.special import erf as scipy_erf

        return scipy_erf(x)
    except ImportError:
        return np.asarray(np.frompyfunc(math.erf, 1, 1)(x), dtype=x.dtype)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


class GELU(Function):
    """x * Phi(x) with Phi the standard normal CDF ('none'), or its tanh approximation."""

    @staticmethod
    def forward(ctx: Any, x: Any, approximate: str) -> Any:
        xp = array_module(x)
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            inner = _SQRT_2_OVER_PI * (x + 0.044715 * x**3)
            return 0.5 * x * (1 + xp.tanh(inner))
        return 0.5 * x * (1 + _erf(x / math.sqrt(2.0)))

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (x,) = ctx.saved_tensors
        xp = array_module(x)
        if ctx.approximate == "tanh":
            inner = _SQRT_2_OVER_PI * (x + 0.044715 * x**3)
            t = xp.tanh(inner)
            d_inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return gy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner)
        cdf = 0.5 * (1 + _erf(x / math.sqrt(2.0)))
        pdf = xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return gy * (cdf + x * pdf)


class Softplus(Function):
    """log(1 + e^(beta x)) / beta, linear above ``threshold`` (as in PyTorch).

    Computed as max(z, 0) + log1p(e^-|z|), so no exp ever overflows.
    """

    @staticmethod
    def forward(ctx: Any, x: Any, beta: float, threshold: float) -> Any:
        xp = array_module(x)
        z = x * beta
        ctx.save_for_backward(x)  # (the input: backward scales it again, one pass)
        ctx.beta, ctx.threshold = beta, threshold
        soft = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))) / beta
        return xp.where(z > threshold, x, soft)

    @staticmethod
    def backward(ctx: Any, gy: Any) -> Any:
        (x,) = ctx.saved_tensors
        z = x * ctx.beta if ctx.beta != 1 else x
        return array_module(gy).where(z > ctx.threshold, gy, gy * sigmoid_array(z))


def sigmoid(x: Any) -> Any:
    """Logistic sigmoid 1 / (1 + e^-x), stable for any x.

    >>> import chainrule as cr
    >>> cr.sigmoid(cr.tensor([0.0]))
    tensor([0.5000])
    """
    return Sigmoid.apply(x)


def tanh(x: Any) -> Any:
    """Hyperbolic tangent."""
    return Tanh.apply(x)


def relu(x: Any) -> Any:
    """Rectified linear unit max(0, x).

    >>> import chainrule as cr
    >>> cr.relu(cr.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    return ReLU.apply(x)


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Any:
    """x for x > 0, ``negative_slope * x`` otherwise."""
    return LeakyReLU.apply(x, negative_slope)


def elu(x: Any, alpha: float = 1.0) -> Any:
    """Exponential linear unit."""
    return ELU.apply(x, alpha)


def gelu(x: Any, approximate: str = "none") -> Any:
    """Gaussian error linear unit; ``approximate='tanh'`` for the tanh form."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(x, approximate)


def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
    """Smooth ReLU log(1 + e^x); no overflow at x = +-1000.

    >>> import chainrule as cr
    >>> cr.softplus(cr.tensor([-1000.0, 1000.0]))
    tensor([   0., 1000.])
    """
    return Softplus.apply(x, beta, threshold)
