"""The communicator seam: every byte that crosses between ranks goes through one class.

:class:`Communicator` is the interface :mod:`chainrule.distributed` and
:class:`~chainrule.distributed.DistributedDataParallel` use, on raw arrays (NumPy now; a
CuPy/NCCL communicator can be added beside :class:`MPICommunicator` without touching DDP).

* :class:`LocalCommunicator`: one process (``world_size == 1``), every collective is the
  identity. It is what :func:`chainrule.distributed.init` picks when the script was not
  started by ``mpiexec``, so the same script runs alone too.
* :class:`MPICommunicator`: mpi4py's ``COMM_WORLD`` (MPICH from PyPI, or a system MPI).
  Only buffer-based calls (``Allreduce``, ``Iallreduce``, ``Bcast``, ``Allgather``) are used:
  nothing is pickled.

Determinism: ``Allreduce``/``Iallreduce`` with ``MPI.SUM`` in MPICH choose their algorithm
from the number of ranks and the message size only (never from timing), so for a given rank
count and bucket layout the order of the additions is fixed and a run is reproducible bit
for bit; every rank receives the same result (the tests check both).

>>> comm = LocalCommunicator()
>>> import numpy as np
>>> a = np.arange(3.0)
>>> comm.allreduce(a, "sum") is a, comm.rank, comm.size
(True, 0, 1)
>>> comm.allgather(a).shape
(1, 3)
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

REDUCE_OPS = ("sum", "max", "min", "product")

# Variables a launcher sets in each rank it starts: MPICH/Intel MPI (Hydra), Open MPI, PMIx,
# Slurm's srun with PMI.
_LAUNCHER_VARIABLES = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK",
                       "MPI_LOCALNRANKS")


def launched_by_mpiexec() -> bool:
    """True when this process was started by an MPI launcher (``mpiexec``/``mpirun``/``srun``).

    >>> isinstance(launched_by_mpiexec(), bool)
    True
    """
    return any(name in os.environ for name in _LAUNCHER_VARIABLES)


def check_op(op: str, where: str) -> str:
    """``op`` lower-cased if it names a reduction, else a ValueError saying which exist.

    >>> check_op("SUM", "all_reduce")
    'sum'
    """
    name = str(getattr(op, "value", op)).lower()
    if name not in REDUCE_OPS:
        raise ValueError(f"{where}: unknown reduction {op!r}; use one of "
                         f"{', '.join(REDUCE_OPS)} (or chainrule.distributed.ReduceOp.SUM...)")
    return name


class Request:
    """A started non-blocking collective; ``wait()`` finishes it (the array then holds the
    result). A completed request (what the local communicator returns) waits for nothing."""

    def __init__(self, handle: Any = None) -> None:
        self.handle = handle

    def wait(self) -> None:
        if self.handle is not None:
            self.handle.Wait()
            self.handle = None


class Communicator:
    """The collectives chainrule needs, on contiguous arrays, in place where possible."""

    rank: int = 0
    size: int = 1
    name: str = "communicator"

    def allreduce(self, array: Any, op: str = "sum") -> Any:
        """Reduce ``array`` over all ranks into ``array`` itself; returns it."""
        raise NotImplementedError

    def iallreduce(self, array: Any, op: str = "sum") -> Request:
        """Start an in-place reduction of ``array``; the result is there after ``wait()``."""
        raise NotImplementedError

    def broadcast(self, array: Any, root: int = 0) -> Any:
        """Overwrite ``array`` on every rank with ``root``'s; returns it."""
        raise NotImplementedError

    def allgather(self, array: Any) -> Any:
        """A new array of shape ``(size, *array.shape)``: row ``r`` is rank ``r``'s array."""
        raise NotImplementedError

    def allgather_bytes(self, data: bytes) -> list[bytes]:
        """Every rank's ``data`` (any lengths), in rank order."""
        raise NotImplementedError

    def barrier(self) -> None:
        """Return only when every rank has called ``barrier()``."""
        raise NotImplementedError

    def abort(self, code: int = 1) -> None:
        """End every rank now (the job exits with ``code``)."""
        raise SystemExit(code)


class LocalCommunicator(Communicator):
    """One process: every collective leaves the data as it is."""

    name = "local"

    def allreduce(self, array: Any, op: str = "sum") -> Any:
        check_op(op, "allreduce")
        return array

    def iallreduce(self, array: Any, op: str = "sum") -> Request:
        check_op(op, "iallreduce")
        return Request()

    def broadcast(self, array: Any, root: int = 0) -> Any:
        _check_root(root, 1)
        return array

    def allgather(self, array: Any) -> Any:
        return np.asarray(array)[None].copy()

    def allgather_bytes(self, data: bytes) -> list[bytes]:
        return [bytes(data)]

    def barrier(self) -> None:
        return None


class MPICommunicator(Communicator):
    """``MPI.COMM_WORLD`` of mpi4py (imported here only, when first used)."""

    name = "mpi"

    def __init__(self, comm: Any = None) -> None:
        try:
            from mpi4py import MPI
        except ImportError as exc:
            raise ImportError(
                "chainrule.distributed: the MPI backend needs mpi4py and an MPI library; "
                "install them with pip install 'chainrule[mpi]' (the mpi4py and mpich "
                "wheels), then start the script with mpiexec -n 2 python -m mpi4py "
                "script.py") from exc
        self.MPI = MPI
        self.comm = MPI.COMM_WORLD if comm is None else comm
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self._ops = {"sum": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN, "product": MPI.PROD}

    def _buffer(self, array: Any, where: str) -> Any:
        if not isinstance(array, np.ndarray):
            raise TypeError(f"{where}: the MPI communicator works on NumPy arrays, got "
                            f"{type(array).__name__} (move CUDA tensors to the CPU first)")
        if not array.flags.c_contiguous or not array.flags.writeable:
            raise ValueError(f"{where}: needs a contiguous, writeable array (shape "
                             f"{array.shape}, dtype {array.dtype}); pass a copy "
                             "(np.ascontiguousarray) and copy the result back")
        return array

    def allreduce(self, array: Any, op: str = "sum") -> Any:
        buf = self._buffer(array, "allreduce")
        self.comm.Allreduce(self.MPI.IN_PLACE, buf, op=self._ops[check_op(op, "allreduce")])
        return array

    def iallreduce(self, array: Any, op: str = "sum") -> Request:
        buf = self._buffer(array, "iallreduce")
        mpi_op = self._ops[check_op(op, "iallreduce")]
        return Request(self.comm.Iallreduce(self.MPI.IN_PLACE, buf, op=mpi_op))

    def broadcast(self, array: Any, root: int = 0) -> Any:
        _check_root(root, self.size)
        self.comm.Bcast(self._buffer(array, "broadcast"), root=root)
        return array

    def allgather(self, array: Any) -> Any:
        send = np.ascontiguousarray(array)
        out = np.empty((self.size,) + send.shape, send.dtype)
        self.comm.Allgather(send, out)
        return out

    def allgather_bytes(self, data: bytes) -> list[bytes]:
        lengths = self.allgather(np.array([len(data)], np.int64))[:, 0]
        out = np.empty(int(lengths.sum()), np.uint8)
        counts = [int(n) for n in lengths]
        displacements = [int(d) for d in np.concatenate([[0], np.cumsum(lengths)[:-1]])]
        self.comm.Allgatherv(np.frombuffer(data, np.uint8).copy(),
                             [out, counts, displacements, self.MPI.BYTE])
        return [out[d:d + n].tobytes() for d, n in zip(displacements, counts, strict=True)]

    def barrier(self) -> None:
        self.comm.Barrier()

    def abort(self, code: int = 1) -> None:
        self.comm.Abort(code)


def _check_root(root: int, size: int) -> None:
    if not isinstance(root, int) or not 0 <= root < size:
        raise ValueError(f"broadcast: src/root must be a rank in 0..{size - 1}, got {root!r}")
