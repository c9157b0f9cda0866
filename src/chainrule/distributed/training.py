"""The trainer and the CLI on several ranks: ``mpiexec -n 4 python -m mpi4py -m chainrule
train ...``.

:class:`DistributedTrainer` is :class:`~chainrule.train.Trainer` with the model's gradients
averaged over ranks (:class:`DistributedDataParallel`'s hooks) and three agreements, so that
every rank takes the same decisions at the same step:

* each step's loss is averaged and its correct count summed over ranks (one small
  ``Allreduce``), so the NaN check, the divergence watch and the epoch's train metrics
  (samples/s too) are the global ones;
* a stop signal (Ctrl-C, SIGTERM) on any rank stops every rank after the same step;
* ``evaluate`` splits the loader's dataset into one shard per rank and sums loss, counts
  and confusion matrices: validation and test metrics are those of the whole set.

The training loader's :class:`DistributedSampler` gets ``set_epoch(epoch)`` before every
epoch. Checkpoints hold the number of ranks: an epoch's checkpoint resumes with any number
of ranks (the next epoch's shards follow from the seed and the epoch); a checkpoint taken in
the middle of an epoch (an interrupted run) resumes only with the same number.

:class:`DistributedRun` is what ``chainrule train`` uses under mpiexec: only rank 0 prints
and writes the run folder; the other ranks write into a scratch folder of their own
(removed at the end) and print nothing.

>>> run = distributed_run()  # not under mpiexec: None, and the CLI trains as one process
>>> run is None
True
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from typing import Any

import numpy as np

from chainrule.data.dataset import Subset
from chainrule.data.loader import DataLoader
from chainrule.distributed import api
from chainrule.distributed.comm import Communicator, launched_by_mpiexec
from chainrule.distributed.ddp import DistributedDataParallel, writable_data
from chainrule.distributed.sampler import DistributedSampler
from chainrule.random import Generator
from chainrule.train.checkpoint import CheckpointError
from chainrule.train.recipe import ConfigError
from chainrule.train.trainer import Trainer
from chainrule.wording import plural


class DistributedTrainer(Trainer):
    """A :class:`~chainrule.train.Trainer` whose ranks train one model together (see the
    module docstring); ``communicator`` defaults to the process group's."""

    def __init__(self, model: Any, loss_fn: Any, optimizer: Any, *args: Any,
                 communicator: Communicator | None = None, bucket_cap_mb: float = 25.0,
                 **kwargs: Any) -> None:
        comm = communicator if communicator is not None else api.get_communicator()
        # checks that every rank built the same model, copies rank 0's weights and hooks the
        # parameters: the plain model is trained and saved (checkpoints stay portable)
        self.ddp = DistributedDataParallel(model, bucket_cap_mb, communicator=comm)
        self.comm = comm
        self._stop_requested = False
        super().__init__(model, loss_fn, optimizer, *args, **kwargs)
        self.extra["world_size"] = comm.size

    def _across_ranks(self, value: float, correct: float) -> tuple[float, float]:
        totals = np.array([value, correct, float(self._stop_requested)], np.float64)
        self.comm.allreduce(totals, "sum")
        if totals[2] > 0:  # any rank was told to stop: all stop after this step
            self._interrupted = True
        return float(totals[0] / self.comm.size), float(totals[1])

    def _samples_in(self, y: Any) -> int:
        return len(y) * self.comm.size  # every rank's batch has the same size (the sampler)

    def _on_stop_signal(self, signum: int) -> bool:
        if self._stop_requested:
            return False
        self._stop_requested, self._signum = True, signum
        return True

    def _run_epoch(self, loader: Any, val_loader: Any, epochs: int) -> dict[str, Any]:
        sampler: Any = getattr(loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(self.epoch)
        return super()._run_epoch(loader, val_loader, epochs)

    def evaluate(self, loader: Any, num_classes: int | None = None) -> dict[str, Any]:
        """Loss, accuracy and confusion matrix of the whole ``loader``: each rank evaluates
        every ``world_size``-th sample with rank 0's buffers, and the sums are added over
        ranks."""
        size, rank = self.comm.size, self.comm.rank
        for _, buffer in self.model.named_buffers():  # batch norm's statistics: rank 0's,
            if buffer is not None:  # the ones its checkpoints hold
                self.comm.broadcast(writable_data(buffer), 0)
        dataset = loader.dataset
        shard = DataLoader(Subset(dataset, np.arange(rank, len(dataset), size)),
                           batch_size=loader.batch_size or 1)
        local = super().evaluate(shard, num_classes)
        k = int(self.comm.allreduce(np.array([local["confusion"].shape[0]], np.int64),
                                    "max")[0])
        confusion = np.zeros((k, k), np.int64)
        n = local["confusion"].shape[0]
        confusion[:n, :n] = local["confusion"]
        self.comm.allreduce(confusion, "sum")
        totals = np.array([local["loss"] * local["count"], local["count"]], np.float64)
        self.comm.allreduce(totals, "sum")
        count = int(totals[1])
        return {"loss": float(totals[0] / max(count, 1)),
                "accuracy": float(np.trace(confusion) / count) if count else float("nan"),
                "confusion": confusion, "count": count}

    def save(self, path: str | None = None, rows: list[dict[str, Any]] | None = None
             ) -> str | None:
        """Every rank saves (the others into their scratch folders), then waits for the
        rest: a rank leaving early (an interrupted run exits) must not end the job while
        rank 0 is still writing."""
        written = super().save(path, rows)
        self.comm.barrier()
        return written

    def resume(self, path: str, train_loader: Any = None) -> dict[str, Any]:
        meta = super().resume(path, train_loader)
        saved = int(meta.get("world_size", 1))
        if saved != self.comm.size and meta["partial"]:
            raise CheckpointError(
                f"{path}: this checkpoint was taken in the middle of an epoch by "
                f"{plural(saved, 'rank')}; it resumes only with mpiexec -n {saved} "
                "(checkpoints written at the end of an epoch resume with any number of ranks)")
        return meta


class DistributedRun:
    """The CLI's view of the job: rank, size, and what differs from a one-process run."""

    def __init__(self, comm: Communicator) -> None:
        self.comm, self.rank, self.size = comm, comm.rank, comm.size
        self.trainer_class = DistributedTrainer

    def quiet(self) -> None:
        """Rank 0 names the ranks' process ids and hosts (mpiexec reports a dead rank by
        its pid and host; ``chainrule launch`` turns that back into the rank); every other
        rank prints nothing from here on."""
        pids = self.comm.allgather(np.array([os.getpid()], np.int64))[:, 0].tolist()
        hosts = [name.decode() for name in
                 self.comm.allgather_bytes(socket.gethostname().encode())]
        if self.rank == 0:
            listed = ", ".join(f"rank {r} pid {p} on {h}"
                               for r, (p, h) in enumerate(zip(pids, hosts, strict=True)))
            print(f"distributed: {self.size} ranks over MPI ({listed}); each trains on 1/"
                  f"{self.size} of every batch, gradients averaged", flush=True)
        else:
            devnull = open(os.devnull, "w")  # noqa: SIM115 - for the rest of the process
            sys.stdout = sys.stderr = devnull

    def scratch(self, resume_path: str | None = None) -> ScratchFolder:
        """A private folder for a rank other than 0, with a copy of the resumed run's
        ``best.safetensors`` (the final test evaluates the best epoch's weights on every
        rank alike; rank 0 may rewrite the run's own copy meanwhile)."""
        folder = ScratchFolder(tempfile.mkdtemp(prefix=f"chainrule-rank{self.rank}-"))
        if resume_path is not None:
            best = os.path.join(os.path.dirname(resume_path), "best.safetensors")
            if os.path.exists(best):
                shutil.copyfile(best, os.path.join(folder.path, "best.safetensors"))
        return folder

    def train_loader(self, dataset: Any, batch_size: int, seed: int, augment: Any) -> Any:
        """This rank's loader: ``batch_size // size`` samples of every global batch."""
        if batch_size % self.size:
            raise ConfigError(
                f"--batch-size {batch_size} does not divide by the {self.size} ranks: each "
                f"rank takes an equal part of every batch; use a multiple of {self.size} "
                f"(e.g. {batch_size - batch_size % self.size or self.size})")
        sampler = DistributedSampler(dataset, self.size, self.rank, shuffle=True, seed=seed)
        return DataLoader(dataset, batch_size=batch_size // self.size, sampler=sampler,
                          generator=Generator(seed + 1), augment=augment)


class ScratchFolder:
    """Stands in for the run folder on ranks other than 0 (``path``, ``removed``,
    ``release``, like :class:`chainrule.cli_run.RunFolder`)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.removed: list[str] = []

    def release(self, keep: bool = False) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def distributed_run() -> DistributedRun | None:
    """The job when this process was started by mpiexec with two or more ranks, else None
    (then nothing changes: one process trains as always)."""
    if not launched_by_mpiexec() and not api.is_initialized():
        return None
    comm = api.get_communicator()
    return DistributedRun(comm) if comm.size > 1 else None
