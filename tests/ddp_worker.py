"""One rank of the distributed tests: ``mpiexec -n W python -m mpi4py tests/ddp_worker.py``.

Run alone (no mpiexec) it is the single-process reference. Modes:

* ``train OUT``: every configuration (dtype x optimizer x step capture x no_sync) for a few
  steps of a small MLP with global batch ``B`` split over the ranks by DistributedSampler;
  each rank writes its final weights to ``OUT/rank{r}.npz`` (plain arrays, no pickle).
* ``raise``: rank 1 raises at its third step.
* ``kill``: rank 1 SIGKILLs itself at its third step; the others keep training.
* ``mismatch-shape`` / ``mismatch-seed``: rank 1 builds a different model.
* ``collectives``: all_reduce (sum, avg, max, min), broadcast, all_gather, barrier.
"""

from __future__ import annotations

import itertools
import os
import signal
import sys

import numpy as np

GLOBAL_BATCH = 8
STEPS = 4
FEATURES, HIDDEN, CLASSES = 5, 12, 3


def build(hidden: int = HIDDEN, seed: int = 0, dtype: str = "float64") -> object:
    import chainrule as cr
    from chainrule import nn

    cr.manual_seed(seed)
    model = nn.Sequential(nn.Linear(FEATURES, hidden), nn.Tanh(), nn.Linear(hidden, CLASSES))
    return model.double() if dtype == "float64" else model


def optimizer_for(name: str, params: object) -> object:
    from chainrule import optim

    if name == "sgd":
        return optim.SGD(params, lr=0.1)
    if name == "momentum":
        return optim.SGD(params, lr=0.1, momentum=0.9)
    return optim.Adam(params, lr=0.01)


def train(dtype: str, opt_name: str, captured: bool, accumulate: bool) -> dict[str, object]:
    import chainrule as cr
    from chainrule import distributed as dist
    from chainrule import nn
    from chainrule.utils.data import DataLoader, TensorDataset

    world = dist.world_size()
    generator = np.random.default_rng(123)
    n = GLOBAL_BATCH * STEPS
    x = generator.standard_normal((n, FEATURES)).astype(dtype)
    y = generator.integers(0, CLASSES, n)
    data = TensorDataset(cr.tensor(x), cr.tensor(y))
    sampler = dist.DistributedSampler(data, shuffle=True, seed=7)
    loader = DataLoader(data, batch_size=GLOBAL_BATCH // world, sampler=sampler)
    model = dist.DistributedDataParallel(build(dtype=dtype))
    optimizer = optimizer_for(opt_name, model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    step = cr.compile(model, loss_fn, optimizer) if captured else None
    for xb, yb in loader:
        if accumulate:  # two half batches, the first without sync: the same gradient
            optimizer.zero_grad()
            half = xb.shape[0] // 2
            with model.no_sync():
                (loss_fn(model(xb[:half]), yb[:half]) * 0.5).backward()
            (loss_fn(model(xb[half:]), yb[half:]) * 0.5).backward()
            optimizer.step()
        elif step is not None:
            step(xb, yb)
        else:
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()
    if step is not None and dist.rank() == 0:
        assert step.stats["replayed"] >= 1, step.stats
    return {name: p.detach().numpy().copy() for name, p in model.module.named_parameters()}


def configurations() -> list[tuple[str, str, bool, bool]]:
    rows = [(d, o, c, False) for d, o, c in itertools.product(
        ("float64", "float32"), ("sgd", "momentum", "adam"), (False, True))]
    return rows + [("float64", "adam", False, True)]


def key(config: tuple[str, str, bool, bool]) -> str:
    dtype, opt_name, captured, accumulate = config
    return f"{dtype}-{opt_name}-{'capture' if captured else 'eager'}" + (
        "-accumulate" if accumulate else "")


def main(argv: list[str]) -> None:
    from chainrule import distributed as dist

    dist.init()
    mode = argv[0]
    rank = dist.rank()
    if mode == "train":
        out = {}
        for config in configurations():
            for name, array in train(*config).items():
                out[f"{key(config)}/{name}"] = array
        np.savez(os.path.join(argv[1], f"rank{rank}.npz"), **out)
    elif mode in ("raise", "kill"):
        model = dist.DistributedDataParallel(build())
        for i in range(100000):
            if rank == 1 and i == 2:
                if mode == "raise":
                    raise RuntimeError("rank 1 fails on purpose")
                os.kill(os.getpid(), signal.SIGKILL)
            model(_ones()).sum().backward()
    elif mode == "collectives":
        collectives(rank, dist.world_size())
    elif mode == "mismatch-shape":
        dist.DistributedDataParallel(build(hidden=HIDDEN + rank))
    elif mode == "mismatch-seed":
        dist.DistributedDataParallel(build(seed=rank))
    else:
        raise SystemExit(f"ddp_worker: unknown mode {mode!r}")


def collectives(rank: int, world: int) -> None:
    """Each collective on real ranks, checked on every rank (an assert aborts the job)."""
    import chainrule as cr
    from chainrule import distributed as dist

    t = cr.tensor([rank + 1.0, -(rank + 1.0)], dtype=cr.float64)
    total = world * (world + 1) / 2
    assert dist.all_reduce(t).tolist() == [total, -total]
    assert dist.all_reduce(cr.tensor([rank + 1.0]), dist.ReduceOp.AVG).tolist() == [
        total / world]
    assert dist.all_reduce(cr.tensor([rank]), "max").tolist() == [world - 1]
    assert dist.all_reduce(cr.tensor([rank]), dist.ReduceOp.MIN).tolist() == [0]
    b = cr.tensor([float(rank)] * 3)
    assert dist.broadcast(b, src=world - 1).tolist() == [world - 1.0] * 3
    gathered = dist.all_gather([cr.zeros(2) for _ in range(world)], cr.tensor([rank, 1.0]))
    assert [g.tolist() for g in gathered] == [[float(r), 1.0] for r in range(world)]
    dist.barrier()
    print(f"rank {rank} of {world}: collectives ok", flush=True)


def _ones() -> object:
    import chainrule as cr

    return cr.ones(4, FEATURES, dtype=cr.float64)


if __name__ == "__main__":
    main(sys.argv[1:])
