"""Data-parallel training over MPI (``torch.distributed``'s names, on mpi4py).

Every rank runs the same script on its own shard of the data; gradients are averaged in
backward, so the replicas stay identical. Two lines to train on several processes::

    pip install 'chainrule[mpi]'                      # mpi4py + MPICH wheels
    mpiexec -n 4 python -m mpi4py train_script.py     # or: python -m mpi4py -m chainrule train

(``python -m mpi4py`` turns an exception on one rank into ``MPI_Abort`` for all of them,
instead of a hang.) In the script::

    from chainrule import distributed as dist
    dist.init()                                       # MPI under mpiexec, else one process
    model = dist.DistributedDataParallel(model)
    loader = DataLoader(ds, batch_size=B // dist.world_size(),
                        sampler=dist.DistributedSampler(ds, seed=0))

The communicator (:mod:`chainrule.distributed.comm`) is the one seam to the transport; a
NCCL one for CUDA tensors can be added there without touching DDP.

>>> from chainrule import distributed as dist
>>> [name for name in __all__ if not hasattr(dist, name)]
[]
"""

from chainrule.distributed.api import (
    ReduceOp,
    all_gather,
    all_reduce,
    barrier,
    broadcast,
    destroy_process_group,
    get_communicator,
    get_rank,
    get_world_size,
    init,
    init_process_group,
    is_initialized,
    rank,
    world_size,
)
from chainrule.distributed.comm import (
    Communicator,
    LocalCommunicator,
    MPICommunicator,
    launched_by_mpiexec,
)
from chainrule.distributed.ddp import DistributedDataParallel, ModelMismatchError
from chainrule.distributed.sampler import DistributedSampler


def __getattr__(name: str) -> object:
    """``DistributedTrainer`` on first use (it imports the training loop)."""
    if name == "DistributedTrainer":
        from chainrule.distributed.training import DistributedTrainer

        return DistributedTrainer
    raise AttributeError(f"module 'chainrule.distributed' has no attribute {name!r}")


__all__ = ["Communicator", "DistributedDataParallel", "DistributedSampler", "DistributedTrainer",
           "LocalCommunicator", "MPICommunicator", "ModelMismatchError", "ReduceOp",
           "all_gather", "all_reduce", "barrier", "broadcast", "destroy_process_group",
           "get_communicator", "get_rank", "get_world_size", "init", "init_process_group",
           "is_initialized", "launched_by_mpiexec", "rank", "world_size"]
