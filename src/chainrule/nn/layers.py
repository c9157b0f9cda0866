"""Layers: Linear, containers, Flatten, Identity, Dropout, Maxout, BatchNorm1d, LayerNorm,
Embedding.

>>> import chainrule as cr
>>> from chainrule import nn
>>> model = nn.Sequential(nn.Linear(784, 16), nn.Sigmoid(), nn.Linear(16, 16), nn.Sigmoid(),
...                       nn.Linear(16, 10))
>>> model.num_parameters()
13002
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

from chainrule import creation
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module, _attribute_set, _structure_changed
from chainrule.nn.parameter import Parameter
from chainrule.ops import shape as shp
from chainrule.ops.linalg import DtypeError, dtype_fix
from chainrule.ops.linalg import Linear as LinearOp
from chainrule.tensor import Tensor
from chainrule.wording import plural


class ShapeError(ValueError):
    """A layer got an input of the wrong shape; ``module`` is the layer that raised."""

    def __init__(self, message: str, module: Module) -> None:
        super().__init__(message)
        self.module = module


def _layer(module: Module) -> str:
    """``Linear 'layers.2'`` inside a model; ``Linear(in_features=4, ...)`` on its own."""
    path = module._path
    return f"{type(module).__name__} '{path}'" if path else repr(module)


def _factory(dtype: Any, device: Any) -> dict[str, Any]:
    return {"dtype": dtype, "device": device}


def _check_dtype(module: Module, x: Any, reference: Any, what: str) -> None:
    """Raise DtypeError when ``x``'s dtype is not that of the layer's ``reference`` tensor
    (its weight or running mean): NumPy would promote silently, PyTorch raises. Through
    ``._data``: the dtype property costs 0.1 us a call, and this runs on every forward."""
    x_dtype = x._data.dtype if isinstance(x, Tensor) else x.dtype
    if reference is not None and x_dtype != reference._data.dtype:
        raise DtypeError(
            f"{_layer(module)} got input of dtype {x_dtype}, but its {what} is "
            f"{reference._data.dtype}. Fix: {dtype_fix(x_dtype, reference._data.dtype)}", module)


class Linear(Module):
    """y = x W^T + b with W of shape (out_features, in_features), PyTorch's default init
    U(-1/sqrt(in), 1/sqrt(in)) for both W and b. The input must have the weight's dtype, as in
    PyTorch (NumPy would promote a float64 input silently): otherwise :class:`DtypeError`."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Parameter(creation.empty(out_features, in_features,
                                               **_factory(dtype, device)))
        if bias:
            self.bias = Parameter(creation.empty(out_features, **_factory(dtype, device)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default init; with ``in_features=0`` the weight has no elements and the
        bias is 0 (as in PyTorch, whose init then only warns that it is a no-op)."""
        if self.in_features and self.out_features:
            init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        try:
            shape = x.shape
        except AttributeError:
            raise self._not_an_array(x) from None
        if not shape or shape[-1] != self.in_features:
            raise self._shape_error(tuple(shape))
        weight = self.weight
        _check_dtype(self, x, weight, "weight")
        return LinearOp.apply(x, weight, self.bias)

    def _not_an_array(self, x: Any) -> TypeError:
        """The error for an input that is no Tensor or array (PyTorch: a TypeError too)."""
        return TypeError(
            f"{_layer(self)} expected a Tensor (or a NumPy array) of shape (*, "
            f"{self.in_features}), got {type(x).__name__} {x!r:.60}. Fix: pass a Tensor "
            "(cr.tensor(values) makes one from numbers)")

    def _shape_error(self, shape: tuple[int, ...]) -> ShapeError:
        n = self.in_features
        if not shape:
            example = " (a single number as one sample: x.reshape(1, 1))" if n == 1 else ""
            return ShapeError(
                f"{_layer(self)} expected input (*, {n}), got a 0-d tensor (a single number, "
                f"shape ()): it needs at least 1 dimension, the last holding the {n} "
                f"feature{'s' if n != 1 else ''}. Fix: give it shape ({n},) or (batch, {n})"
                f"{example}", self)
        features = shape[-1]
        return ShapeError(
            f"{_layer(self)} expected input (*, {n}), got {shape}: the input has "
            f"{plural(features, 'feature')}. Fix: give it inputs with {plural(n, 'feature')}, "
            "or build it with "
            f"in_features={features}", self)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Returns its input unchanged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return x


class Flatten(Module):
    """Merge dims ``start_dim..end_dim`` (keeps the batch dim by default)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return shp.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


def _last_width_change(modules: list[Module], shapes: list[Any]) -> Module | None:
    """The last module whose output has a different feature count than its input
    (``shapes[0]`` is the shape of the input of ``modules[0]``, ``shapes[i + 1]`` the shape
    of its output; None where it was not a Tensor)."""
    widths = [shape[-1] if shape else None for shape in shapes]
    producer = None
    for i in range(len(widths) - 1):
        if widths[i + 1] is not None and widths[i + 1] != widths[i]:
            producer = modules[i]
    return producer


class Sequential(Module):
    """Modules applied one after another; indexable, sliceable, ``append``-able."""

    def __init__(self, *modules: Any) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def forward(self, x: Any) -> Any:
        # the shapes seen, kept only to name the culprit if a layer rejects its input
        shapes = [x._data.shape if isinstance(x, Tensor) else None]
        for module in self._modules.values():
            try:
                x = module(x)
            except ShapeError as err:
                if err.module is not module:
                    raise
                producer = _last_width_change(list(self._modules.values()), shapes)
                if producer is None:
                    context = "no earlier layer changed the width: the input data has that shape"
                else:
                    context = f"previous layer: '{producer.path_name()}' {producer!r}"
                raise ShapeError(f"{err} ({context})", module) from None
            shapes.append(x._data.shape if isinstance(x, Tensor) else None)
        return x

    def __getitem__(self, index: int | slice) -> Any:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return modules[index]

    def __setitem__(self, index: int, module: Module) -> None:
        key = list(self._modules)[index]
        _attribute_set(self, key)
        self._register(self._modules, key, module)
        _structure_changed()

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self._modules)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        for module in modules or ():
            self.append(module)

    def __getitem__(self, index: int) -> Module:
        return list(self._modules.values())[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self


class ModuleDict(Module):
    """A dict of modules whose parameters are registered."""

    def __init__(self, modules: dict[str, Module] | None = None) -> None:
        super().__init__()
        for name, module in (modules or {}).items():
            self.add_module(name, module)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Any:
        return self._modules.keys()

    def values(self) -> Any:
        return self._modules.values()

    def items(self) -> Any:
        return self._modules.items()


class Dropout(Module):
    """Inverted dropout with probability ``p`` in training; identity in eval mode."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace  # inplace: accepted, the output is a new tensor

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Maxout(Module):
    """Maxout (Goodfellow et al. 2013): ``pieces`` linear units per output, keep the largest."""

    def __init__(self, in_features: int, out_features: int, pieces: int = 2) -> None:
        super().__init__()
        if pieces < 1:
            raise ValueError(f"Maxout: pieces must be >= 1, got {pieces}")
        self.in_features, self.out_features, self.pieces = in_features, out_features, pieces
        self.linear = Linear(in_features, out_features * pieces)

    def forward(self, x: Tensor) -> Tensor:
        z = self.linear(x)
        z = shp.reshape(z, (*z.shape[:-1], self.out_features, self.pieces))
        return z.max(dim=-1).values

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"pieces={self.pieces}")


class _BatchNorm(Module):
    """Normalize each feature (channel) over the batch (and any positions after it), with
    running statistics for evaluation: unbiased variance, ``momentum``, or the plain average
    of all batches so far when ``momentum`` is None (as PyTorch). Subclasses check the
    input's shape in ``_check_input``; the rest is shared."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 device: Any = None, dtype: Any = None, bias: bool = True) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        factory = _factory(dtype, device)
        self.register_parameter("weight", Parameter(creation.ones(num_features, **factory))
                                if affine else None)
        self.register_parameter("bias", Parameter(creation.zeros(num_features, **factory))
                                if affine and bias else None)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, **factory))
            self.register_buffer("running_var", creation.ones(num_features, **factory))
            self.register_buffer("num_batches_tracked", creation.tensor(0, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)

    def _check_input(self, x: Tensor) -> None:
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        track = self.track_running_stats
        if self.affine:
            _check_dtype(self, x, self.weight, "weight")
        elif track:
            _check_dtype(self, x, self.running_mean, "running mean")
        momentum = self.momentum
        if self.training and track:
            self.num_batches_tracked._data[...] += 1
            if momentum is None:  # PyTorch: the plain average of all batches so far
                momentum = 1.0 / float(self.num_batches_tracked._data)
        return F.batch_norm(x, self.running_mean if track else None,
                            self.running_var if track else None, self.weight, self.bias,
                            self.training or not track, 0.0 if momentum is None else momentum,
                            self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.affine and self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) inputs, per feature C."""

    def _check_input(self, x: Tensor) -> None:
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ShapeError(
                f"BatchNorm1d '{self.path_name()}' expected input (N, {self.num_features}) or "
                f"(N, {self.num_features}, L), got {tuple(x.shape)}", self)


class LayerNorm(Module):
    """Normalize over the last dims of each sample, with a learned scale and shift."""

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else \
            tuple(normalized_shape)
        self.normalized_shape, self.eps = shape, eps
        self.elementwise_affine = elementwise_affine
        factory = _factory(dtype, device)
        self.register_parameter("weight", Parameter(creation.ones(shape, **factory))
                                if elementwise_affine else None)
        self.register_parameter("bias", Parameter(creation.zeros(shape, **factory))
                                if elementwise_affine and bias else None)

    def forward(self, x: Tensor) -> Tensor:
        k = len(self.normalized_shape)
        if tuple(x.shape[-k:]) != self.normalized_shape:
            raise ShapeError(
                f"LayerNorm '{self.path_name()}' expected input (*, "
                f"{', '.join(map(str, self.normalized_shape))}), got {tuple(x.shape)}", self)
        _check_dtype(self, x, self.weight, "weight")
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, "
                f"bias={self.elementwise_affine and self.bias is not None}")


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim`` (init N(0, 1))."""

    def __init__(self, num_embeddings: int, embedding_dim: int,
                 padding_idx: int | None = None, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight: Tensor | None = None, _freeze: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        if max_norm is not None or scale_grad_by_freq:
            raise NotImplementedError("Embedding: max_norm and scale_grad_by_freq are not "
                                      "supported")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None and padding_idx < 0:
            padding_idx += num_embeddings
        self.padding_idx, self.sparse = padding_idx, sparse  # sparse: gradients stay dense
        if _weight is None:
            weight = creation.randn(num_embeddings, embedding_dim, device=device, dtype=dtype)
            if padding_idx is not None:
                weight._data[padding_idx] = 0
        else:
            weight = _weight.detach()
        self.weight = Parameter(weight, requires_grad=not _freeze)

    def forward(self, ids: Tensor) -> Tensor:
        return F.embedding(ids, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
