"""``gradcheck``: compare backward against float64 central differences.

For every input element x_m the numeric derivative is
(f(x + eps e_m) - f(x - eps e_m)) / (2 eps); for every output element the
analytic row comes from one backward pass with a one-hot gradient. They must
agree within ``atol + rtol * |numeric|``.

>>> import chainrule as cr
>>> x = cr.randn(3, 2, dtype=cr.float64, requires_grad=True)
>>> cr.autograd.gradcheck(lambda t: (t * t).sum(dim=1), (x,))
True
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.autograd.api import grad
from chainrule.autograd.grad_mode import enable_grad, no_grad


class GradcheckError(AssertionError):
    """Backward disagrees with finite differences (the message says where and by how much)."""


def _as_tuple(x: Any) -> tuple[Any, ...]:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _name(fn: Callable[..., Any], outputs: tuple[Any, ...]) -> str:
    for out in outputs:
        if out.grad_fn is not None:
            return f"{getattr(fn, '__name__', 'fn')} (last op {out.grad_fn.name()})"
    return getattr(fn, "__name__", "fn")


def gradcheck(fn: Callable[..., Any], inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """Return True when ``fn``'s backward matches finite differences, else raise.

    Inputs that require grad must be float64 (float32 differences are too coarse).
    """
    Tensor = sys.modules["chainrule.tensor"].Tensor  # noqa: N806
    inputs = _as_tuple(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradcheck: no input requires grad; set requires_grad=True on some")
    for i in diff:
        if inputs[i].dtype != np.float64:
            raise ValueError(
                f"gradcheck: input {i} is {inputs[i].dtype}; finite differences need float64. "
                "Create it with dtype=chainrule.float64 or call .double()"
            )
    outputs = _as_tuple(fn(*inputs))
    name = _name(fn, outputs)
    outputs = tuple(o for o in outputs if isinstance(o, Tensor) and o.dtype.kind == "f")

    # analytic Jacobian: one backward pass per output element
    analytic = [[np.zeros((o.numel(), inputs[i].numel())) for i in diff] for o in outputs]
    for j, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        for k in range(out.numel()):
            onehot = np.zeros(out.numel())
            onehot[k] = 1.0
            g_out = Tensor._wrap(onehot.reshape(out.shape).astype(out.dtype))
            grads = grad([out], [inputs[i] for i in diff], [g_out], retain_graph=True,
                         allow_unused=True)
            for col, g in enumerate(grads):
                if g is not None:
                    if g.shape != inputs[diff[col]].shape:
                        return _fail(raise_exception, (
                            f"gradcheck {name}: gradient for input {diff[col]} has shape "
                            f"{tuple(g.shape)}, expected {tuple(inputs[diff[col]].shape)}"))
                    analytic[j][col][k] = np.asarray(g._data).reshape(-1)

    # numeric Jacobian: two forward passes per input element
    for col, i in enumerate(diff):
        flat = inputs[i]._data.reshape(-1)
        for m in range(flat.size):
            orig = flat[m]
            with no_grad():
                flat[m] = orig + eps
                plus = [np.asarray(o._data, dtype=np.float64).reshape(-1).copy()
                        for o in _select(_as_tuple(fn(*inputs)))]
                flat[m] = orig - eps
                minus = [np.asarray(o._data, dtype=np.float64).reshape(-1).copy()
                         for o in _select(_as_tuple(fn(*inputs)))]
                flat[m] = orig
            for j in range(len(outputs)):
                numeric = (plus[j] - minus[j]) / (2 * eps)
                exact = analytic[j][col][:, m]
                bad = np.abs(numeric - exact) > atol + rtol * np.abs(numeric)
                bad |= np.isnan(numeric) != np.isnan(exact)
                if bad.any():
                    k = int(np.argmax(bad))
                    return _fail(raise_exception, (
                        f"gradcheck {name}: mismatch for input {i} element "
                        f"{_position(m, inputs[i].shape)}, output {j} element "
                        f"{_position(k, outputs[j].shape)}: numeric {float(numeric[k])!r} vs "
                        f"analytic {float(exact[k])!r} (eps={eps}, atol={atol}, rtol={rtol})"))
    return True


def _position(flat_index: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat_index, shape)) if shape else ()


def _select(outputs: tuple[Any, ...]) -> list[Any]:
    Tensor = sys.modules["chainrule.tensor"].Tensor  # noqa: N806
    return [o for o in outputs if isinstance(o, Tensor) and o.dtype.kind == "f"]


def _fail(raise_exception: bool, message: str) -> bool:
    if raise_exception:
        raise GradcheckError(message)
    return False


def gradgradcheck(fn: Callable[..., Any], inputs: Any, grad_outputs: Any = None,
                  eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True) -> bool:
    """Check second derivatives: the first gradient, recorded with ``create_graph=True``,
    is itself gradchecked against float64 central differences.

    The first gradient is that of ``fn(*inputs)`` weighted by ``grad_outputs`` (default: a
    fixed random tensor per output, drawn with NumPy's seed 0), as PyTorch's
    ``gradgradcheck`` does; its backward is the op's recorded one.

    >>> import chainrule as cr
    >>> x = cr.randn(3, dtype=cr.float64, requires_grad=True)
    >>> cr.autograd.gradgradcheck(lambda t: (t.sigmoid() * t).sum(), (x,))
    True
    """
    Tensor = sys.modules["chainrule.tensor"].Tensor  # noqa: N806
    inputs = _as_tuple(inputs)
    diff = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if grad_outputs is None:
        outputs = _select(_as_tuple(fn(*inputs)))
        rng = np.random.default_rng(0)
        grad_outputs = [Tensor._wrap(rng.normal(size=o.shape).astype(o.dtype)) for o in outputs]
    weights = _as_tuple(grad_outputs)

    def first_gradient(*args: Any) -> tuple[Any, ...]:
        with enable_grad():  # (gradcheck evaluates it under no_grad for the differences)
            outs = _select(_as_tuple(fn(*args)))
            wanted = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
            grads = grad(outs, wanted, list(weights), create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    first_gradient.__name__ = f"gradient of {getattr(fn, '__name__', 'fn')}"
    if not diff:
        raise ValueError("gradgradcheck: no input requires grad; set requires_grad=True on some")
    return gradcheck(first_gradient, inputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
