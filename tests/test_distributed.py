"""chainrule.distributed in one process: the collectives, DistributedSampler (against
PyTorch's), DistributedDataParallel's buckets, no_sync, errors and the mismatch check
(tests/test_distributed_mpi.py runs real ranks)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import distributed as dist
from chainrule import nn
from chainrule.distributed.comm import LocalCommunicator, Request
from chainrule.distributed.ddp import check_same_model


@pytest.fixture(autouse=True)
def local_group() -> Iterator[None]:
    dist.destroy_process_group()
    dist.init(backend="local")
    yield
    dist.destroy_process_group()


# ---- collectives --------------------------------------------------------------------------

def test_collectives_on_one_rank_keep_the_values_in_place() -> None:
    t = cr.tensor([1.0, -2.0, 3.0])
    data = t._data
    for op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MAX, "min", "PRODUCT"):
        assert dist.all_reduce(t, op) is t and t._data is data
    assert t.tolist() == [1.0, -2.0, 3.0]
    assert dist.broadcast(t, src=0).tolist() == [1.0, -2.0, 3.0]
    out = [cr.zeros(3)]
    assert dist.all_gather(out, t) is out and out[0].tolist() == [1.0, -2.0, 3.0]
    assert (dist.rank(), dist.world_size(), dist.get_rank(), dist.get_world_size()) == (0, 1, 0, 1)
    dist.barrier()


def test_collective_errors_say_what_to_do() -> None:
    with pytest.raises(ValueError, match="unknown reduction 'mean'; use one of sum"):
        dist.all_reduce(cr.ones(2), "mean")
    with pytest.raises(ValueError, match=r"must be contiguous and writeable; call \.contiguous"):
        dist.all_reduce(cr.ones(2, 3).t())
    with pytest.raises(TypeError, match="expected a chainrule Tensor, got ndarray"):
        dist.broadcast(np.ones(2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"src/root must be a rank in 0\.\.0, got 1"):
        dist.broadcast(cr.ones(2), src=1)
    with pytest.raises(ValueError, match="tensor_list has 2 tensors for 1 ranks"):
        dist.all_gather([cr.ones(2), cr.ones(2)], cr.ones(2))
    with pytest.raises(ValueError, match=r"tensor_list holds shape \(3,\), the gathered"):
        dist.all_gather([cr.ones(3)], cr.ones(2))
    dist.destroy_process_group()
    with pytest.raises(ValueError, match="unknown backend 'nccl'"):
        dist.init(backend="nccl")


def test_auto_backend_is_local_outside_mpiexec(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"):
        monkeypatch.delenv(name, raising=False)
    dist.destroy_process_group()
    assert not dist.is_initialized()
    assert dist.world_size() == 1  # initialises on first use
    assert isinstance(dist.get_communicator(), LocalCommunicator)


# ---- DistributedSampler ------------------------------------------------------------------

SAMPLER_CASES = [(n, replicas, shuffle, drop_last, seed, epoch)
                 for n in (1, 7, 10, 64) for replicas in (1, 2, 3, 4)
                 for shuffle in (False, True) for drop_last in (False, True)
                 for seed, epoch in ((0, 0), (5, 3))]


@pytest.mark.parametrize("n, replicas, shuffle, drop_last, seed, epoch", SAMPLER_CASES)
def test_sampler_matches_pytorch(n: int, replicas: int, shuffle: bool, drop_last: bool,
                                 seed: int, epoch: int) -> None:
    torch_data = pytest.importorskip("torch.utils.data")
    for r in range(replicas):
        ours = dist.DistributedSampler(range(n), replicas, r, shuffle, seed, drop_last)
        theirs = torch_data.DistributedSampler(range(n), replicas, r, shuffle, seed, drop_last)
        ours.set_epoch(epoch)
        theirs.set_epoch(epoch)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_sampler_shards_are_disjoint_and_cover_the_data() -> None:
    shards = [list(dist.DistributedSampler(range(12), 4, r, seed=3)) for r in range(4)]
    assert sorted(sum(shards, [])) == list(range(12))
    epoch0 = shards[0]
    sampler = dist.DistributedSampler(range(12), 4, 0, seed=3)
    sampler.set_epoch(1)
    assert list(sampler) != epoch0 and len(sampler) == 3


def test_sampler_errors_and_defaults() -> None:
    with pytest.raises(ValueError, match=r"invalid rank 2, rank should be in the interval "
                                         r"\[0, 1\]"):
        dist.DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas must be a positive integer, got 0"):
        dist.DistributedSampler(range(4), num_replicas=0, rank=0)
    sampler = dist.DistributedSampler(range(5), shuffle=False)  # from the process group
    assert (sampler.num_replicas, sampler.rank, list(sampler)) == (1, 0, [0, 1, 2, 3, 4])
    assert cr.utils.data.DistributedSampler is dist.DistributedSampler  # torch.utils.data's


# ---- DistributedDataParallel -------------------------------------------------------------

def mlp(seed: int = 0, dtype: Any = cr.float64) -> nn.Module:
    cr.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).to(dtype=dtype)


class FakeRanks(LocalCommunicator):
    """Pretends to be rank 0 of ``size`` ranks whose gradients and models equal ours
    (``others`` can change what the other ranks report)."""

    def __init__(self, size: int, others: Any = None) -> None:
        self.size, self.others, self.reduced = size, others, []

    def allreduce(self, array: Any, op: str = "sum") -> Any:
        self.reduced.append(array.size)
        array *= self.size
        return array

    def iallreduce(self, array: Any, op: str = "sum") -> Request:
        self.allreduce(array, op)
        return Request()

    def allgather_bytes(self, data: bytes) -> list[bytes]:
        other = data if self.others is None else self.others(data)
        return [data] + [other] * (self.size - 1)


def grads_of(model: nn.Module) -> list[np.ndarray]:
    return [p.grad.numpy().copy() for p in model.parameters()]


def test_ddp_gradients_are_the_average_over_ranks() -> None:
    x, y = cr.randn(6, 4, dtype=cr.float64), cr.tensor([0, 1, 2, 0, 1, 2])
    plain = mlp()
    nn.CrossEntropyLoss()(plain(x), y).backward()
    comm = FakeRanks(3)
    model = dist.DistributedDataParallel(mlp(), bucket_cap_mb=1e-4, communicator=comm)
    nn.CrossEntropyLoss()(model(x), y).backward()
    assert len(model.reducer.buckets) > 1  # tiny buckets: several reductions, in order
    assert sum(comm.reduced) == sum(p.numel() for p in plain.parameters())
    for ours, theirs in zip(grads_of(model.module), grads_of(plain), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-15)
    assert list(model.state_dict())[0] == "module.0.weight"
    assert "world_size=3" in repr(model)


def test_no_sync_accumulates_and_the_next_backward_averages_the_sum() -> None:
    x = cr.randn(4, 4, dtype=cr.float64)
    plain = mlp()
    plain(x).sum().backward()
    plain(x).sum().backward()
    comm = FakeRanks(2)
    model = dist.DistributedDataParallel(mlp(), communicator=comm)
    with model.no_sync():
        model(x).sum().backward()
    assert comm.reduced == [] and model.reducer.enabled
    model(x).sum().backward()
    assert model.reducer.rounds == 1
    for ours, theirs in zip(grads_of(model.module), grads_of(plain), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-15)


def test_ddp_under_step_capture_replays_the_reduction() -> None:
    x, y = cr.randn(8, 4), cr.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    plain = mlp(dtype=cr.float32)
    plain_opt = cr.optim.SGD(plain.parameters(), lr=0.1)
    comm = FakeRanks(2)
    model = dist.DistributedDataParallel(mlp(dtype=cr.float32), communicator=comm)
    step = cr.compile(model, nn.CrossEntropyLoss(), cr.optim.SGD(model.parameters(), lr=0.1))
    for _ in range(5):
        plain_opt.zero_grad()
        nn.CrossEntropyLoss()(plain(x), y).backward()
        plain_opt.step()
        step(x, y)
    assert step.stats["replayed"] == 3
    assert model.reducer.rounds == 6  # the check step reduces for its replay and eagerly
    for a, b in zip(model.module.parameters(), plain.parameters(), strict=True):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_a_parameter_without_gradient_is_reported() -> None:
    model = dist.DistributedDataParallel(mlp(), communicator=FakeRanks(2))
    hidden = model.module[0](cr.ones(2, 4, dtype=cr.float64))
    hidden.sum().backward()  # the last layer got no gradient: its bucket never completes
    with pytest.raises(RuntimeError, match=r"no gradient to 2 parameter\(s\) \(2\.bias, "
                                           r"2\.weight\).*requires_grad_\(False\)"):
        model(cr.ones(2, 4, dtype=cr.float64))
    model(cr.ones(2, 4, dtype=cr.float64)).sum().backward()  # reset: trains again
    assert model.reducer.rounds == 1


def test_buckets_split_by_dtype_and_size() -> None:
    model = mlp()
    model[2].to(dtype=cr.float32)
    ddp = dist.DistributedDataParallel(model, bucket_cap_mb=1.0)
    assert [str(b.buffer.dtype) for b in ddp.reducer.buckets] == ["float32", "float64"]
    assert ddp.reducer.bytes_per_step == 8 * (4 * 8 + 8) + 4 * (8 * 3 + 3)


def test_mismatched_models_name_the_rank_and_the_parameter() -> None:
    def wider(data: bytes) -> bytes:
        layout = json.loads(data)
        layout[0][1] = [9, 4]
        return json.dumps(layout).encode()

    with pytest.raises(dist.ModelMismatchError, match=r"rank 1 built a different model from "
                       r"rank 0's: rank 0 has '0.weight' \(8, 4\) float64, rank 1 has "
                       r"'0.weight' \(9, 4\) float64"):
        dist.DistributedDataParallel(mlp(), communicator=FakeRanks(2, wider))
    with pytest.raises(dist.ModelMismatchError, match="rank 0 has 4 parameters and buffers, "
                       "rank 1 has 3"):
        check_same_model(mlp(), FakeRanks(3, lambda d: json.dumps(json.loads(d)[:3]).encode()
                                          if d.startswith(b"[") else d))
    reseeded = FakeRanks(2, lambda d: d if d.startswith(b"[") else d[:8] + bytes(len(d) - 8))
    with pytest.raises(dist.ModelMismatchError, match="rank 1's initial values differ from "
                       "rank 0's, first in '0.bias'"):
        dist.DistributedDataParallel(mlp(), communicator=reseeded)
    dist.DistributedDataParallel(mlp(), communicator=reseeded, check_init=False)  # no check


# ---- DistributedTrainer ------------------------------------------------------------------

class OtherRankIsStopped(FakeRanks):
    """Two equal ranks, the other of which got Ctrl-C before the first step's reduction."""

    def allreduce(self, array: Any, op: str = "sum") -> Any:
        super().allreduce(array, op)
        if array.shape == (3,):  # the step's [loss, correct, stop requested]
            array[2] += 1
        return array


def test_trainer_stops_every_rank_when_one_is_told_to(tmp_path: Any) -> None:
    from chainrule.distributed.training import DistributedTrainer
    from chainrule.train.trainer import TrainingInterrupted
    from chainrule.utils.data import DataLoader, TensorDataset

    data = TensorDataset(cr.randn(16, 4, dtype=cr.float64), cr.randint(0, 3, (16,)))
    loader = DataLoader(data, batch_size=4, sampler=dist.DistributedSampler(data, 2, 0))
    model = mlp()
    trainer = DistributedTrainer(model, nn.CrossEntropyLoss(),
                                 cr.optim.SGD(model.parameters(), lr=0.1), out_dir=tmp_path,
                                 progress=False, log=None, communicator=OtherRankIsStopped(2))
    with pytest.raises(TrainingInterrupted, match="interrupted at epoch 1, step 1: checkpoint"):
        trainer.fit(loader, epochs=3)
    assert trainer.extra["world_size"] == 2 and trainer._partial["count"] == 8  # both ranks'


def test_trainer_metrics_count_every_rank(tmp_path: Any) -> None:
    from chainrule.distributed.training import DistributedTrainer
    from chainrule.utils.data import DataLoader, TensorDataset

    data = TensorDataset(cr.randn(16, 4, dtype=cr.float64), cr.randint(0, 3, (16,)))
    loader = DataLoader(data, batch_size=4, sampler=dist.DistributedSampler(data, 2, 0))
    model = mlp()
    trainer = DistributedTrainer(model, nn.CrossEntropyLoss(),
                                 cr.optim.SGD(model.parameters(), lr=0.1), out_dir=tmp_path,
                                 progress=False, log=None, communicator=FakeRanks(2))
    row = trainer.fit(loader, loader, epochs=1)[-1]
    result = trainer.evaluate(DataLoader(data, batch_size=5))
    assert result["count"] == 16  # 8 samples on this rank, 8 on the (equal) other one
    assert 0.0 <= row["train_accuracy"] <= 1.0 and row["step"] == 2
