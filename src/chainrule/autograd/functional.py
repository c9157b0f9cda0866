"""``chainrule.autograd.functional``: Jacobians, Hessians and their products, as PyTorch's.

All are built on :func:`chainrule.autograd.grad`; those of second order (``hessian``,
``hvp``, ``vhp``) and ``jvp`` (computed as the derivative of a vector-Jacobian product, the
"double-vjp" trick) record the first backward pass with ``create_graph=True``.

``inputs`` is a Tensor or a tuple of Tensors; results follow PyTorch's shapes: ``jacobian``
of an output of shape O with respect to an input of shape I has shape O + I.

>>> import chainrule as cr
>>> x = cr.tensor([1.0, 2.0], dtype=cr.float64)
>>> hessian(lambda t: (t ** 3).sum(), x)
tensor([[ 6.,  0.],
        [ 0., 12.]], dtype=chainrule.float64)
>>> hvp(lambda t: (t ** 3).sum(), x, cr.tensor([1.0, 1.0], dtype=cr.float64))[1]
tensor([ 6., 12.], dtype=chainrule.float64)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule.autograd.api import grad
from chainrule.autograd.function import tensor_class as _tensor_class


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, tuple | list) else (value,)


def _prepare(inputs: Any) -> tuple[tuple[Any, ...], bool]:
    """Fresh leaves that require grad (the caller's tensors are left alone)."""
    single = isinstance(inputs, _tensor_class())
    return tuple(t.detach().requires_grad_(True) for t in _tuple(inputs)), single


def _zeros_where_none(grads: tuple[Any, ...], like: tuple[Any, ...]) -> tuple[Any, ...]:
    from chainrule import creation

    return tuple(creation.zeros_like(x) if g is None else g for g, x in zip(grads, like,
                                                                           strict=True))


def _out(values: tuple[Any, ...], single: bool) -> Any:
    return values[0] if single else values


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False
        ) -> tuple[Any, Any]:
    """(func(inputs), v^T J): the vector-Jacobian product, one backward pass."""
    xs, single = _prepare(inputs)
    outputs = func(*xs)
    outs = _tuple(outputs)
    vs = [None] * len(outs) if v is None else list(_tuple(v))
    grads = grad(list(outs), list(xs), vs, create_graph=create_graph, allow_unused=True)
    values = outputs if create_graph else _detach(outputs)
    return values, _out(_zeros_where_none(tuple(grads), xs), single)


def jvp(func: Callable[..., Any], inputs: Any, v: Any, create_graph: bool = False
        ) -> tuple[Any, Any]:
    """(func(inputs), J v): the Jacobian-vector product, by differentiating u -> u^T J
    (linear in a dummy u) in the direction v: two backward passes, the first recorded."""
    from chainrule import creation

    xs, single = _prepare(inputs)
    outputs = func(*xs)
    outs = _tuple(outputs)
    dummies = [creation.zeros_like(o).requires_grad_(True) for o in outs]
    grads = grad(list(outs), list(xs), dummies, create_graph=True, allow_unused=True)
    used = [(g, w) for g, w in zip(grads, _tuple(v), strict=True) if g is not None]
    products = grad([g for g, _ in used], dummies, [w for _, w in used],
                    create_graph=create_graph, allow_unused=True)
    result = _zeros_where_none(tuple(products), tuple(outs))
    return (outputs if create_graph else _detach(outputs)), _out(result, len(outs) == 1)


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False) -> Any:
    """d func / d inputs: one backward pass per output element; shape output + input."""
    import chainrule as cr
    from chainrule import creation

    xs, single = _prepare(inputs)
    result = func(*xs)
    outs = _tuple(result)
    per_output = []
    for out in outs:
        rows: list[list[Any]] = [[] for _ in xs]
        flat = out.reshape(-1)
        for k in range(flat.numel()):
            g = grad([flat[k]], list(xs), create_graph=create_graph, allow_unused=True,
                     retain_graph=True)
            for i, (gi, x) in enumerate(zip(g, xs, strict=True)):
                rows[i].append(creation.zeros_like(x) if gi is None else gi)
        blocks = []
        for i, x in enumerate(xs):
            stacked = (cr.stack(rows[i]) if rows[i] else
                       creation.zeros((0, *x.shape), dtype=x.dtype))
            blocks.append(stacked.reshape(*out.shape, *x.shape))
        per_output.append(_out(tuple(blocks), single))
    return per_output[0] if isinstance(result, _tensor_class()) else tuple(per_output)


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False) -> Any:
    """Second derivatives of a scalar ``func``: the Jacobian of its gradient."""
    xs, single = _prepare(inputs)

    def gradient(*args: Any) -> Any:
        (g,) = (grad(func(*args), list(args), create_graph=True, allow_unused=True),)
        values = _zeros_where_none(tuple(g), args)
        return values[0] if single else values

    return jacobian(gradient, xs[0] if single else xs, create_graph=create_graph)


def hvp(func: Callable[..., Any], inputs: Any, v: Any, create_graph: bool = False
        ) -> tuple[Any, Any]:
    """(func(inputs), H v) for a scalar ``func``: two backward passes, the first recorded;
    the Hessian itself is never formed."""
    xs, single = _prepare(inputs)
    value = func(*xs)
    grads = grad(value, list(xs), create_graph=True, allow_unused=True)
    used = [(g, w) for g, w in zip(grads, _tuple(v), strict=True) if g is not None]
    products = grad([g for g, _ in used], list(xs), [w for _, w in used],
                    create_graph=create_graph, allow_unused=True)
    return (value if create_graph else value.detach()), _out(_zeros_where_none(
        tuple(products), xs), single)


vhp = hvp  # H is symmetric: v^T H = (H v)^T


def _detach(outputs: Any) -> Any:
    if isinstance(outputs, tuple | list):
        return type(outputs)(o.detach() for o in outputs)
    return outputs.detach()
