"""``Module``: the base of every layer and model.

Assigning a :class:`Parameter`, a sub-``Module`` or a buffer to an attribute
registers it, so ``parameters()`` is never written by hand and every part has a
dotted path (``layers.0.weight``) that errors and the NaN guard use::

    class MLP(Module):
        def __init__(self):
            super().__init__()
            self.hidden = Linear(784, 16)     # registered as 'hidden'
            self.out = Linear(16, 10)         # registered as 'out'

        def forward(self, x):
            return self.out(sigmoid(self.hidden(x)))
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, Self

import numpy as np

from chainrule import dtypes
from chainrule.autograd import anomaly, capture
from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import Device, array_module, to_device
from chainrule.backend.device import check_available
from chainrule.nn.parameter import Parameter
from chainrule.tensor import Tensor


class _Structure:
    """Bumped whenever any module gains or loses a part, so paths get recomputed."""

    version = 1


STRUCTURE = _Structure()


class IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:  # PyTorch's print-out when every key matched
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"IncompatibleKeys(missing_keys={self.missing_keys}, "
                f"unexpected_keys={self.unexpected_keys})")


class StateDictError(RuntimeError):
    """A state dict does not fit the model; the message lists every mismatched key."""


class _Handle:
    def __init__(self, hooks: dict[int, Any], key: int) -> None:
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)
        capture.changed()  # a step recorded with the hook may be recorded again without it


class Module:
    """Base class for layers and models (PyTorch's ``nn.Module`` API)."""

    training: bool
    _version_named = 0

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_path", "")
        object.__setattr__(self, "_named_at", 0)

    # ---- registration ---------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if params is None:
            raise AttributeError(
                f"cannot assign '{name}' before Module.__init__() call: call "
                "super().__init__() first in your module's __init__"
            )
        _attribute_set(self, name)
        if isinstance(value, Parameter):
            self._remove_name(name)
            self._register(params, name, value)
            _structure_changed()
        elif isinstance(value, Module):
            self._remove_name(name)
            self._register(self._modules, name, value)
            _structure_changed()
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter '{name}': wrap it in "
                    "nn.Parameter(...) or assign None"
                )
            self._register(params, name, None)
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer '{name}'")
            self._register(self._buffers, name, value)
        elif name in self._modules and value is None:
            self._register(self._modules, name, None)
        else:
            object.__setattr__(self, name, value)

    def _register(self, store: dict[str, Any], name: str, value: Any) -> None:
        """Put ``value`` in its registry (``_parameters``, ``_buffers`` or ``_modules``) and
        mirror it in the instance ``__dict__``: ``self.weight`` is then an ordinary attribute
        lookup, not a ``__getattr__`` call (which costs 15x more, on every forward)."""
        store[name] = value
        self.__dict__[name] = value

    def _remove_name(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            store.pop(name, None)
        self.__dict__.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self.__dict__.pop(name, None)
                _attribute_set(self, name)
                _structure_changed()
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: '{name}' must be a Parameter or None")
        _attribute_set(self, name)
        self._remove_name(name)
        self._register(self._parameters, name, param)
        _structure_changed()

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register state that is saved in ``state_dict`` but not trained (running stats)."""
        _attribute_set(self, name)
        self._remove_name(name)
        self._register(self._buffers, name, tensor)
        if not persistent:
            self._non_persistent.add(name)
        _structure_changed()

    def add_module(self, name: str, module: Module | None) -> None:
        _attribute_set(self, name)
        self._remove_name(name)
        self._register(self._modules, name, module)
        _structure_changed()

    register_module = add_module

    # ---- calling --------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # One test for the common case (named, no hooks, no NaN guard): a model's forward
        # calls every layer, so this line runs several times per training step.
        if (self._named_at == STRUCTURE.version and not self._forward_pre_hooks
                and not self._forward_hooks and not anomaly.STATE.enabled):
            return self.forward(*args, **kwargs)
        if self._named_at != STRUCTURE.version:
            self._name_tree()
        if self._forward_pre_hooks or self._forward_hooks:
            capture.unsupported(f"module '{self.path_name()}' has forward hooks: a replay "
                                "runs no module code, so it would not call them")
        if self._forward_pre_hooks:
            for hook in list(self._forward_pre_hooks.values()):
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        if anomaly.STATE.enabled:
            anomaly.push_module(self.path_name())
            try:
                out = self.forward(*args, **kwargs)
            finally:
                anomaly.pop_module()
        else:
            out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                result = hook(self, args, out)
                if result is not None:
                    out = result
        return out

    def _name_tree(self) -> None:
        """Give every sub-module its dotted path (used in errors and the NaN guard)."""
        version = STRUCTURE.version
        for name, module in self.named_modules():
            object.__setattr__(module, "_path", name)
            object.__setattr__(module, "_named_at", version)

    def path_name(self) -> str:
        """This module's dotted path in the model last called (``''`` for the root)."""
        return self._path or type(self).__name__

    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> _Handle:
        """``hook(module, args)`` before forward; may return replacement args."""
        key = id(hook) ^ len(self._forward_pre_hooks)
        self._forward_pre_hooks[key] = hook
        capture.changed()  # a recorded step would replay without calling it
        return _Handle(self._forward_pre_hooks, key)

    def register_forward_hook(self, hook: Callable[..., Any]) -> _Handle:
        """``hook(module, args, output)`` after forward; may return a replacement output."""
        key = id(hook) ^ len(self._forward_hooks)
        self._forward_hooks[key] = hook
        capture.changed()  # a recorded step would replay without calling it
        return _Handle(self._forward_hooks, key)

    # ---- traversal (iterative, insertion order) -------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """Every module in the tree with its dotted path, each once, depth-first."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{n}" if name else n, m)
                        for n, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_parameters(self, prefix: str = "", recurse: bool = True
                         ) -> Iterator[tuple[str, Parameter]]:
        """Parameters with dotted paths (``layers.0.weight``); shared ones appear once."""
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mod_name, module in modules:
            for name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{mod_name}.{name}" if mod_name else name), param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True
                      ) -> Iterator[tuple[str, Tensor]]:
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mod_name, module in modules:
            for name, buf in module._buffers.items():
                if buf is not None:
                    yield (f"{mod_name}.{name}" if mod_name else name), buf

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Total number of scalar parameters (784-16-16-10 has 13,002)."""
        return sum(p.numel() for p in self.parameters()
                   if p.requires_grad or not trainable_only)

    # ---- modes and bulk operations --------------------------------------------------
    def train(self, mode: bool = True) -> Self:
        """Training mode (Dropout active, BatchNorm uses batch statistics)."""
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Self:
        """Evaluation mode: Dropout off, BatchNorm uses running statistics."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad`` (gradients accumulate otherwise)."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad._data[...] = 0

    def requires_grad_(self, requires_grad: bool = True) -> Self:
        """Freeze (False) or unfreeze every parameter."""
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def apply(self, fn: Callable[[Module], Any]) -> Self:
        """Call ``fn`` on every sub-module (children first) and on self."""
        for module in reversed(list(self.modules())):
            fn(module)
        return self

    def to(self, *args: Any, dtype: Any = None, device: Any = None,
           non_blocking: bool = False) -> Self:
        """Move/cast parameters and buffers in place: ``model.to(float64)``, ``model.to('cpu')``,
        ``model.to(device, dtype)``, ``model.to(tensor)`` (its dtype and device).

        Only floating tensors change dtype (integer buffers such as counters keep theirs).
        """
        for arg in args:
            if isinstance(arg, Tensor):
                dtype, device = arg.dtype, arg.device
            elif isinstance(arg, (str, Device, int)):
                device = arg
            elif arg is not None:
                dtype = arg
        dtype = dtypes.resolve(dtype)
        if device is not None:
            device = Device(device)
            check_available(device, f"{type(self).__name__}.to('{device}')")
        for module in self.modules():
            for t in itertools.chain(module._parameters.values(), module._buffers.values()):
                if t is None:
                    continue
                for holder in (t, t.grad):
                    if holder is None:
                        continue
                    data = holder._data
                    if dtype is not None and data.dtype.kind in "fc":
                        data = data.astype(dtype)
                    if device is not None:
                        data = to_device(data, device)
                    holder._data = data
        capture.changed()  # a captured step recorded the old dtypes (and device)
        return self

    def cpu(self) -> Self:
        return self.to("cpu")

    def cuda(self, device: Any = None) -> Self:
        return self.to(Device("cuda", 0 if device is None else Device(device).index or 0))

    def double(self) -> Self:
        return self.to(np.float64)

    def float(self) -> Self:
        return self.to(np.float32)

    # ---- state ----------------------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, Tensor]:
        """Parameters and persistent buffers by dotted path (tensors share memory)."""
        out: OrderedDict[str, Tensor] = OrderedDict()
        for mod_name, module in self.named_modules():
            for name, t in itertools.chain(module._parameters.items(), module._buffers.items()):
                if t is None or name in module._non_persistent:
                    continue
                out[f"{mod_name}.{name}" if mod_name else name] = t.detach()
        return out

    def load_state_dict(self, state_dict: Any, strict: bool = True) -> IncompatibleKeys:
        """Copy values in place; with ``strict``, any mismatch raises listing every key."""
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        wrong = []
        for key, target in own.items():
            if key in state_dict:
                value = state_dict[key]
                shape = tuple(value.shape)
                if shape != target.shape:
                    wrong.append(f"{key}: checkpoint {shape} vs model {tuple(target.shape)}")
        if wrong or (strict and (missing or unexpected)):
            lines = [f"Error(s) in loading state_dict for {type(self).__name__}:"]
            if missing:
                lines.append("  missing keys: " + ", ".join(missing))
            if unexpected:
                lines.append("  unexpected keys: " + ", ".join(unexpected))
            if wrong:
                lines.append("  size mismatch: " + "; ".join(wrong))
            lines.append("  fix: build the model with the same layer sizes as the checkpoint, "
                         "or pass strict=False to load only the matching keys")
            raise StateDictError("\n".join(lines))
        with no_grad():
            for key, target in own.items():
                if key in state_dict:
                    value = state_dict[key]
                    array = value._data if isinstance(value, Tensor) else value
                    if array_module(array) is not array_module(target._data):
                        array = to_device(array, target.device)  # e.g. a CPU file, a GPU model
                    target._data[...] = array
                    target._bump_version()
        return IncompatibleKeys(missing, unexpected)

    # ---- printing -------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n" + "\n".join(lines) + "\n)"

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._modules)
                      | set(self._buffers))


def _attribute_set(module: Module, name: str) -> None:
    """A captured step replays what the module's attributes were when it was recorded (a
    float it multiplies by, a buffer, its parameters): setting one between steps records
    afresh, setting one inside the step (a side effect a replay would skip) keeps the step
    eager. A module never called yet (being built, even inside a step) concerns no one."""
    if not module._named_at:
        return
    if capture.STATE.tape is None:
        capture.changed()
    else:
        capture.unsupported(f"the step sets the attribute '{name}' of "
                            f"{type(module).__name__} '{module.path_name()}': a replay "
                            "would not")


def _structure_changed() -> None:
    STRUCTURE.version += 1
