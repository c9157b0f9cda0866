"""``Tensor``: an array plus what autograd needs to differentiate through it.

A Tensor holds ``_data`` (a NumPy or CuPy array; the public ``.data`` is a Tensor sharing
it, see :mod:`chainrule.tensor_compat`) and, when it is the output of a recorded op,
``grad_fn`` (the graph node that made it). Leaves (tensors you create) with
``requires_grad=True`` collect ``.grad`` when ``backward()`` runs. Conversions and
printing live in ``tensor_compat.py`` and ``tensor_str.py``, operators in
``tensor_math.py``, in-place ops in ``tensor_inplace.py``.

>>> import chainrule as cr
>>> x = cr.ones(2, 2, requires_grad=True)
>>> y = x + 2
>>> z = y * y * 3
>>> out = z.mean()
>>> out.backward()
>>> out.item(), x.grad
(27.0, tensor([[4.5000, 4.5000],
        [4.5000, 4.5000]]))
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule import dtypes
from chainrule.autograd import capture
from chainrule.autograd import function as _function
from chainrule.autograd.engine import LEAF_HOOKS, run_backward
from chainrule.backend import Device, array_module, get_device
from chainrule.size import Size
from chainrule.tensor_compat import TensorCompat
from chainrule.tensor_inplace import TensorInplace
from chainrule.tensor_math import TensorMath

NON_LEAF_GRAD = (
    "reading .grad of a tensor that is not a leaf (it was made by {op}): backward() fills "
    ".grad only for leaves (tensors you created with requires_grad=True, such as parameters), "
    "so this is None. Call .retain_grad() on this tensor before backward() to keep its "
    "gradient, or read .grad of the leaf you meant"
)


class Tensor(TensorMath, TensorInplace, TensorCompat):
    """A multi-dimensional array that records operations for automatic differentiation."""

    __slots__ = ("_data", "grad", "_requires_grad", "grad_fn", "_out_index", "_counter",
                 "_hooks", "__weakref__")

    # make NumPy defer to our reflected operators (np.float64(2) * t -> t.__rmul__)
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        if isinstance(data, Tensor):
            data = data._data
        if not hasattr(data, "__array_interface__") and array_module(data) is np:
            data = np.asarray(data)
            if data.dtype.kind == "f":
                data = data.astype(dtypes.STATE.default, copy=False)
        self._data = data
        self.grad: Tensor | None = None
        self.grad_fn: Any = None
        self._out_index = 0
        self._counter: list[int] | None = None
        self._hooks: list[Any] | None = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, data: Any, node: Any = None, index: int = 0) -> Tensor:
        """Fast internal constructor for op outputs (no conversion, no checks)."""
        t = object.__new__(cls)
        if type(data) is not np.ndarray and isinstance(data, np.generic):
            data = np.asarray(data)  # NumPy reductions return scalars; keep 0-d arrays
        t._data = data
        t.grad_fn = node
        t._out_index = index
        t._counter = None
        t._hooks = None
        if node is None:
            t.grad = None
            t._requires_grad = False
        else:  # a non-leaf: its .grad slot stays empty, so reading it reaches __getattr__
            t._requires_grad = True
        return t

    if not TYPE_CHECKING:  # (mypy would otherwise accept any attribute name on a Tensor)

        def __getattr__(self, name: str) -> Any:
            """Only for ``.grad`` of a non-leaf that has none: ``None``, with a warning.

            A non-leaf's ``.grad`` slot is left empty until ``backward()`` fills it (after
            ``retain_grad()``), so the usual reads of ``.grad`` cost nothing extra.
            """
            if name != "grad":
                raise AttributeError(
                    f"'{type(self).__name__}' object has no attribute '{name}'")
            node = self.grad_fn
            if node is not None and not (node.retained and self._out_index in node.retained):
                warnings.warn(NON_LEAF_GRAD.format(op=node.name()), UserWarning, stacklevel=2)
            return None

    # ---- the version counter -------------------------------------------------------
    @property
    def _version(self) -> list[int]:
        """The in-place version counter, ``[n]``: in-place writes add one, views share it,
        and the backward pass compares it with its value when an op saved this tensor.

        Made on first use (most tensors are never written to, viewed or saved): one object
        fewer per recorded op for Python's collector to walk."""
        counter = self._counter
        if counter is None:
            counter = self._counter = [0]
        return counter

    @_version.setter
    def _version(self, counter: list[int]) -> None:
        self._counter = counter

    # ---- basic attributes -----------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def device(self) -> Device:
        return get_device(self._data)

    def size(self, dim: int | None = None) -> Any:
        """The shape (a :class:`~chainrule.Size`), or the size of one dim."""
        return Size(self._data.shape) if dim is None else self._data.shape[dim]

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        """Number of elements."""
        return int(self._data.size)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return int(self._data.shape[0])

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        _values_read()
        if self._data.size != 1:
            raise ValueError(
                f"item(): only one-element tensors can be converted to a Python number, "
                f"this one has shape {tuple(self.shape)}; index it first or use .tolist()"
            )
        return self._data.reshape(()).item()

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (shares memory on the CPU)."""
        if self._requires_grad:
            raise RuntimeError(
                "numpy(): can't call numpy() on a tensor that requires grad; "
                "use tensor.detach().numpy()"
            )
        _values_read()
        data = self._data
        if isinstance(data, np.ndarray):
            return data
        return np.asarray(data) if array_module(data) is np else data.get()

    def tolist(self) -> Any:
        return np.asarray(self.detach().numpy()).tolist()

    def __bool__(self) -> bool:
        _values_read()
        if self._data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self._data.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors can be used as an index, not {self.dtype}")
        return int(self.item())

    __hash__ = object.__hash__  # identity, at C speed (== builds a tensor, so no value hash)

    def __iter__(self) -> Any:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    # ---- autograd API ---------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None:
            raise RuntimeError(
                f"requires_grad can only be changed on leaf tensors; this one was made by "
                f"{self.grad_fn.name()}. Use .detach() to get a leaf"
            )
        if value and self._data.dtype.kind not in "fc":
            raise TypeError(
                f"only floating point tensors can require gradients, this one is {self.dtype}; "
                "convert with .float() first"
            )
        if bool(value) != self._requires_grad and capture.is_held(self):
            capture.changed()  # a captured step recorded which leaves get gradients
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors not made by a recorded op (only leaves get ``.grad`` by default)."""
        return self.grad_fn is None

    def detach(self) -> Tensor:
        """A new leaf sharing this data, cut from the graph."""
        out = Tensor._wrap(self._data)
        out._version = self._version
        return out

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place."""
        if self._requires_grad and self.grad_fn is None and capture.is_held(self):
            capture.changed()  # a leaf stops getting gradients
        self.grad_fn = None
        self._out_index = 0
        self._requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad(): this tensor does not require grad")
        if self.grad_fn is not None:
            from chainrule.autograd.engine import register_retain

            capture.unsupported("the step keeps a non-leaf tensor's .grad (retain_grad): a "
                                "replay would not fill it")
            register_retain(self.grad_fn, self._out_index, self)

    @property
    def retains_grad(self) -> bool:
        node = self.grad_fn
        return bool(node is not None and node.retained and self._out_index in node.retained)

    def register_hook(self, hook: Any) -> Any:
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one.

        Returns a handle whose ``remove()`` unregisters the hook.
        """
        if not self._requires_grad:
            raise RuntimeError("register_hook(): cannot register a hook on a tensor that "
                               "doesn't require grad")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
            LEAF_HOOKS.count += 1  # backward now hands this leaf its gradient when complete
            hooks.append(hook)
            return _HookHandle(hooks, hook, leaf=True)
        else:
            capture.unsupported("the step registers a hook on a non-leaf tensor: a replay "
                                "would not call it")
            node = self.grad_fn
            if node.out_hooks is None:
                node.out_hooks = {}
            hooks = node.out_hooks.setdefault(self._out_index, [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def backward(self, gradient: Any = None, retain_graph: bool = False,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Compute d(self)/d(leaf) for every leaf that requires grad, into ``leaf.grad``.

        ``gradient`` is dL/d(self) (the vector in a vector-Jacobian product); it may be
        left out only for a one-element output. Gradients accumulate: call
        ``zero_grad()`` between steps. The graph is freed afterwards unless
        ``retain_graph=True``.
        """
        if create_graph:  # the gradients get a graph of their own (autograd.higher_order)
            gradient = (gradient if isinstance(gradient, Tensor) and gradient.requires_grad
                        else self._root_grad(gradient))
            if inputs is not None:
                from chainrule.autograd.api import grad as autograd_grad

                inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
                grads = autograd_grad([self], inputs, [gradient], create_graph=True,
                                      allow_unused=True)
                for t, g in zip(inputs, grads, strict=True):
                    if g is not None:
                        t.grad = g if t.grad is None else t.grad + g
                return
            run_backward([self], [gradient], True, create_graph=True)
            return
        if inputs is not None:
            from chainrule.autograd.api import grad as autograd_grad

            inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
            grads = autograd_grad([self], inputs, [gradient] if gradient is not None else None,
                                  retain_graph=retain_graph, allow_unused=True)
            for t, g in zip(inputs, grads, strict=True):
                if g is not None:
                    t.grad = g if t.grad is None else Tensor._wrap(t.grad._data + g._data)
            return
        run_backward([self], [self._root_grad(gradient)], retain_graph)

    def _root_grad(self, gradient: Any) -> Any:
        if not self._requires_grad:
            raise RuntimeError(
                "backward(): this tensor does not require grad and has no grad_fn. Set "
                "requires_grad=True on the leaves (parameters) you differentiate with respect "
                "to, and make sure the computation did not run under no_grad()"
            )
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(
                    f"backward(): grad can be implicitly created only for scalar outputs, but "
                    f"this output has shape {tuple(self.shape)}. Pass gradient= of the same shape "
                    "(e.g. y.backward(chainrule.ones_like(y))) or reduce it first (y.sum())"
                )
            if type(self._data) is np.ndarray:  # np.array(1) costs a quarter of np.ones(())
                return np.array(1, dtype=self._data.dtype).reshape(self._data.shape)
            return array_module(self._data).ones(self._data.shape, dtype=self._data.dtype)
        g = gradient._data if isinstance(gradient, Tensor) else np.asarray(gradient)
        if tuple(g.shape) != self.shape:
            raise RuntimeError(
                f"backward(): gradient has shape {tuple(g.shape)} but the output has shape "
                f"{tuple(self.shape)}; they must match"
            )
        return g.astype(self._data.dtype, copy=False)

    def clone(self) -> Tensor:
        """A copy that stays in the graph (gradient flows back to this tensor)."""
        from chainrule.ops.convert import Clone

        return Clone.apply(self)

    def contiguous(self) -> Tensor:
        return self if self._data.flags.c_contiguous else self.clone()


def _values_read() -> None:
    """Python is reading a tensor's values: inside a step being captured, what it does with
    them (a branch, a constant, a printed line) would not be replayed, so the step stays
    eager (see :mod:`chainrule.compile`). Cheap and silent otherwise."""
    if capture.STATE.tape is not None:
        capture.unsupported("the step reads tensor values in Python (item(), bool(), "
                            "numpy(), tolist(), print): a branch or constant made from them "
                            "would not be replayed")


class _HookHandle:
    def __init__(self, hooks: list[Any], hook: Any, leaf: bool = False) -> None:
        self._hooks, self._hook, self._leaf = hooks, hook, leaf

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)
            if self._leaf:
                LEAF_HOOKS.count -= 1


_function.bind_tensor_class(Tensor)
