"""``DistributedDataParallel``: one model replica per rank, gradients averaged in backward.

Each rank builds the same model, wraps it, and trains on its own shard of every batch
(:class:`~chainrule.distributed.DistributedSampler`); after ``loss.backward()`` every rank
holds the average of all ranks' gradients, so the same ``optimizer.step()`` keeps the
replicas identical. With global batch ``B`` split into equal shards of ``B / world_size``
and a loss that averages over the batch, the weights follow those of one process training
on batch ``B`` (to rounding: 1e-12 in float64).

At construction the wrapper checks that every rank built the same model (names, shapes and
dtypes of all parameters and buffers, then a checksum of their values, so a different
architecture or a different seed is an error naming the rank and the first parameter that
differs), then broadcasts rank 0's parameters and buffers. Pass ``check_init=False`` to
skip the value check and simply start from rank 0's weights.

Step capture (``chainrule.compile(ddp_model, loss_fn, optimizer)``) works: the replay adds
each parameter's gradient through the same hooks, so the reduction runs in replayed steps
too (the capture's check step reduces twice, once for the replay and once eagerly).

On one rank (no mpiexec) the wrapper changes nothing: the same script trains alone.

>>> import chainrule as cr
>>> from chainrule import nn, distributed as dist
>>> dist.init(backend="local")
>>> model = dist.DistributedDataParallel(nn.Linear(3, 2))
>>> model(cr.ones(4, 3)).sum().backward()
>>> tuple(model.module.weight.grad.shape), model.reducer.bytes_per_step
((2, 3), 32)
>>> with model.no_sync():  # gradient accumulation: the next backward outside averages
...     model(cr.ones(4, 3)).sum().backward()
>>> model.module.bias.grad.tolist()
[8.0, 8.0]
>>> dist.destroy_process_group()
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from chainrule.distributed.api import get_communicator
from chainrule.distributed.comm import Communicator
from chainrule.distributed.reducer import Reducer
from chainrule.nn.module import Module


class ModelMismatchError(RuntimeError):
    """The ranks built different models (architecture, dtype or initial values)."""


class DistributedDataParallel(Module):
    """Wraps ``module``: ``forward`` is the module's; backward averages gradients over ranks.

    Args:
        module: the model (the same on every rank).
        bucket_cap_mb: the largest gradient bucket, in megabytes (PyTorch's default, 25).
        broadcast_buffers: copy rank 0's buffers (batch norm statistics) to every rank at
            each forward, as PyTorch does.
        check_init: compare the ranks' initial parameter values (a checksum) before the
            broadcast; a difference is a :class:`ModelMismatchError`.
        communicator: defaults to the one :func:`chainrule.distributed.init` chose.
    """

    def __init__(self, module: Module, bucket_cap_mb: float = 25.0,
                 broadcast_buffers: bool = True, check_init: bool = True,
                 communicator: Communicator | None = None) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected an nn.Module, got "
                            f"{type(module).__name__}")
        self.module = module
        comm = communicator if communicator is not None else get_communicator()
        object.__setattr__(self, "comm", comm)
        object.__setattr__(self, "broadcast_buffers", broadcast_buffers)
        check_same_model(module, comm, check_values=check_init)
        for _, tensor in _state_tensors(module):
            comm.broadcast(writable_data(tensor), 0)
        params = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
        object.__setattr__(self, "reducer", Reducer(params, comm, bucket_cap_mb))

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        missing = self.reducer.missing()
        if missing:
            self.reducer.reset()
            raise RuntimeError(
                f"DistributedDataParallel: the last backward gave no gradient to "
                f"{len(missing)} parameter(s) ({', '.join(missing[:5])}), so their gradients "
                "were not averaged across ranks. Every parameter that requires grad must take "
                "part in the loss; freeze the others with requires_grad_(False) before "
                "wrapping the model")
        if self.broadcast_buffers and self.comm.size > 1:
            for _, buffer in self.module.named_buffers():
                if buffer is not None:
                    self.comm.broadcast(writable_data(buffer), 0)
        return self.module(*args, **kwargs)

    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward inside the block only accumulates into ``.grad`` (gradient accumulation);
        the first backward after it averages the accumulated sum."""
        previous = self.reducer.enabled
        self.reducer.enabled = False
        try:
            yield
        finally:
            self.reducer.enabled = previous

    def extra_repr(self) -> str:
        return (f"world_size={self.comm.size}, buckets={len(self.reducer.buckets)}, "
                f"bytes_per_step={self.reducer.bytes_per_step}")


def _state_tensors(module: Module) -> list[tuple[str, Any]]:
    items = list(module.named_parameters()) + list(module.named_buffers())
    return [(name, t) for name, t in items if t is not None]


def writable_data(tensor: Any) -> Any:
    """The tensor's array, made contiguous and writeable in place if it was not."""
    data = tensor._data
    if not isinstance(data, np.ndarray):
        raise TypeError("DistributedDataParallel: the MPI communicator needs CPU tensors; "
                        f"got {type(data).__name__} data (move the model to the CPU)")
    if not (data.flags.c_contiguous and data.flags.writeable):
        tensor._data = np.ascontiguousarray(data).copy()
    return tensor._data


def describe(module: Module) -> list[list[Any]]:
    """[name, shape, dtype] of every parameter and buffer, in order.

    >>> from chainrule import nn
    >>> describe(nn.Linear(2, 1))
    [['weight', [1, 2], 'float32'], ['bias', [1], 'float32']]
    """
    return [[name, list(t._data.shape), str(t._data.dtype)] for name, t in _state_tensors(module)]


def check_same_model(module: Module, comm: Communicator, check_values: bool = True) -> None:
    """Raise :class:`ModelMismatchError` on every rank if any rank's model differs from rank
    0's in structure or (with ``check_values``) initial values."""
    if comm.size == 1:
        return
    layouts = [json.loads(b) for b in comm.allgather_bytes(json.dumps(describe(module)).encode())]
    for r, layout in enumerate(layouts[1:], start=1):
        if layout != layouts[0]:
            raise ModelMismatchError(_layout_difference(layouts[0], layout, r))
    if not check_values:
        return
    digests = [hashlib.sha256(np.ascontiguousarray(t._data).tobytes()).digest()[:8]
               for _, t in _state_tensors(module)]
    everyone = comm.allgather_bytes(b"".join(digests))
    names = [name for name, _ in _state_tensors(module)]
    for r, theirs in enumerate(everyone[1:], start=1):
        if theirs != everyone[0]:
            first = next(i for i in range(len(names))
                         if theirs[8 * i:8 * i + 8] != everyone[0][8 * i:8 * i + 8])
            raise ModelMismatchError(
                f"DistributedDataParallel: rank {r}'s initial values differ from rank 0's, "
                f"first in '{names[first]}' (the ranks were seeded differently?). Call "
                "chainrule.manual_seed(same_seed) on every rank before building the model, or "
                "pass check_init=False to start every rank from rank 0's weights")


def _layout_difference(ours: list[Any], theirs: list[Any], r: int) -> str:
    head = f"DistributedDataParallel: rank {r} built a different model from rank 0's: "
    fix = " Build the same model (same layers, sizes and dtype) on every rank."
    for mine, other in zip(ours, theirs, strict=False):
        if mine != other:
            return (head + f"rank 0 has '{mine[0]}' {tuple(mine[1])} {mine[2]}, rank {r} has "
                    f"'{other[0]}' {tuple(other[1])} {other[2]}." + fix)
    return (head + f"rank 0 has {len(ours)} parameters and buffers, rank {r} has "
            f"{len(theirs)}." + fix)
