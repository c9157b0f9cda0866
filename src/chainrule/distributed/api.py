"""``torch.distributed``-shaped functions on chainrule Tensors, over one communicator.

``init()`` picks the communicator once per process: MPI when the process was started by
``mpiexec`` (or ``backend="mpi"``), else a single-process one whose collectives change
nothing, so a script written for several ranks also runs alone. The collectives work in
place on the tensor's array, as PyTorch's do.

>>> import chainrule as cr
>>> from chainrule import distributed as dist
>>> dist.init(backend="local")
>>> dist.is_initialized(), dist.rank(), dist.world_size()
(True, 0, 1)
>>> t = cr.tensor([1.0, 2.0])
>>> dist.all_reduce(t) is t, t.tolist()
(True, [1.0, 2.0])
>>> [x.tolist() for x in dist.all_gather(None, t)]
[[1.0, 2.0]]
>>> dist.destroy_process_group()
"""

from __future__ import annotations

import enum
import sys
import warnings
from typing import Any

import numpy as np

from chainrule.distributed.comm import (
    Communicator,
    LocalCommunicator,
    MPICommunicator,
    launched_by_mpiexec,
)
from chainrule.tensor import Tensor


class ReduceOp(enum.Enum):
    """The reductions ``all_reduce`` knows (PyTorch's names)."""

    SUM = "sum"
    MAX = "max"
    MIN = "min"
    PRODUCT = "product"
    AVG = "avg"


class _ProcessGroup:
    """The process's one communicator (a process belongs to one job: the state is global, as
    ``torch.distributed``'s default group is)."""

    communicator: Communicator | None = None


_GROUP = _ProcessGroup()


def init(backend: str = "auto", communicator: Communicator | None = None) -> None:
    """Join the job: ``backend`` is ``"auto"`` (MPI under mpiexec, else one process),
    ``"mpi"`` or ``"local"``; or pass a ready ``communicator``. Calling it again is a no-op.

    >>> init(backend="local"); world_size()
    1
    >>> destroy_process_group()
    """
    if _GROUP.communicator is not None:
        return
    if communicator is not None:
        _GROUP.communicator = communicator
    elif backend == "local" or (backend == "auto" and not launched_by_mpiexec()):
        _GROUP.communicator = LocalCommunicator()
    elif backend in ("auto", "mpi"):
        _GROUP.communicator = comm = MPICommunicator()
        if comm.size > 1 and comm.rank == 0 and "mpi4py.run" not in sys.modules:
            warnings.warn(
                "chainrule.distributed: started without python -m mpi4py, so an exception "
                "on one rank leaves the others waiting in their next collective; start "
                "with mpiexec -n N python -m mpi4py script.py (or -m chainrule ...)",
                RuntimeWarning, stacklevel=2)
    else:
        raise ValueError(f"chainrule.distributed.init: unknown backend {backend!r}; use "
                         "'auto' (MPI under mpiexec, else one process), 'mpi' or 'local'")


init_process_group = init  # PyTorch's name


def destroy_process_group() -> None:
    """Leave the job (the communicator is dropped; MPI itself ends with the process)."""
    _GROUP.communicator = None


def is_initialized() -> bool:
    """Whether :func:`init` has run in this process."""
    return _GROUP.communicator is not None


def get_communicator() -> Communicator:
    """The communicator :func:`init` chose (initialising with ``"auto"`` if needed)."""
    if _GROUP.communicator is None:
        init()
    assert _GROUP.communicator is not None
    return _GROUP.communicator


def rank() -> int:
    """This process's rank, 0 .. world_size() - 1."""
    return get_communicator().rank


def world_size() -> int:
    """How many processes take part."""
    return get_communicator().size


get_rank, get_world_size = rank, world_size  # PyTorch's names


def barrier() -> None:
    """Wait until every rank gets here."""
    get_communicator().barrier()


def _array(tensor: Any, where: str) -> Any:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"chainrule.distributed.{where}: expected a chainrule Tensor, got "
                        f"{type(tensor).__name__}")
    data = tensor._data
    if not (isinstance(data, np.ndarray) and data.flags.c_contiguous and data.flags.writeable):
        raise ValueError(f"chainrule.distributed.{where}: the tensor (shape "
                         f"{tuple(data.shape)}) must be contiguous and writeable; call "
                         ".contiguous() or .clone() first")
    return data


def all_reduce(tensor: Tensor, op: ReduceOp | str = ReduceOp.SUM) -> Tensor:
    """Reduce ``tensor`` over all ranks, in place (``ReduceOp.AVG`` divides the sum by the
    number of ranks); returns it."""
    data = _array(tensor, "all_reduce")
    name = op.value if isinstance(op, ReduceOp) else str(op).lower()
    comm = get_communicator()
    comm.allreduce(data, "sum" if name == "avg" else name)
    if name == "avg":
        data /= comm.size  # in place: keeps the dtype (integer tensors: use SUM)
    tensor._bump_version()
    return tensor


def broadcast(tensor: Tensor, src: int = 0) -> Tensor:
    """Overwrite ``tensor`` on every rank with rank ``src``'s, in place; returns it."""
    get_communicator().broadcast(_array(tensor, "broadcast"), src)
    tensor._bump_version()
    return tensor


def all_gather(tensor_list: list[Tensor] | None, tensor: Tensor) -> list[Tensor]:
    """Every rank's ``tensor``, in rank order. PyTorch fills ``tensor_list`` (one tensor per
    rank, same shape); pass ``None`` to get a new list."""
    comm = get_communicator()
    gathered = comm.allgather(np.ascontiguousarray(tensor._data))
    if tensor_list is None:
        return [Tensor._wrap(row) for row in gathered]
    if len(tensor_list) != comm.size:
        raise ValueError(f"chainrule.distributed.all_gather: tensor_list has "
                         f"{len(tensor_list)} tensors for {comm.size} ranks; pass one per "
                         "rank (or None)")
    for target, row in zip(tensor_list, gathered, strict=True):
        if tuple(target.shape) != tuple(row.shape):
            raise ValueError(f"chainrule.distributed.all_gather: tensor_list holds shape "
                             f"{tuple(target.shape)}, the gathered tensors are "
                             f"{tuple(row.shape)}")
        target._data[...] = row
        target._bump_version()
    return tensor_list
