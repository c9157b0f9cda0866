"""Data-parallel scaling: samples/s and efficiency for 1, 2 and 4 MPI ranks.

Each configuration trains a fixed global batch B (each of W ranks takes B / W samples) with
DistributedDataParallel and the captured step (``chainrule.compile``, what ``chainrule
train`` uses), on MNIST-shaped random inputs (the time of a step does not depend on the
values). Every rank runs one BLAS thread. Measured per cell, in one mpiexec job:

* samples/s: global samples per second over ``--steps`` steps after warm-up steps (the
  slowest rank's time, between barriers);
* efficiency: samples/s at W ranks / (W x samples/s of 1 rank with 1 thread);
* compute-only: the same steps under ``no_sync()`` (no gradient reduction): what the step
  costs without communication; comm = the difference, per step;
* message: the bytes each rank puts into the all-reduce per step (all gradient buckets) and
  the time of one bare ``Allreduce`` of that size, whence the bandwidth it reached.

The one-process row with 2 BLAS threads is what the ranks compete against on this machine.
Cells are medians of ``--repeats`` jobs, run in rounds (each cell once per round).

``--weak``: each rank trains on the whole batch (the global batch is W times it), the
usual way to keep each rank's step large enough to hide the synchronisation.

Run:  python benchmarks/distributed_scaling.py [--steps 30] [--repeats 3] [--configs ac]
      [--weak]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CONFIGS = {
    "a": ("784-16-16-10 sigmoid (the tutorials' network), batch 32", [784, 16, 16, 10],
          "sigmoid", 32),
    "c": ("784-1024-1024-10 ReLU, batch 256", [784, 1024, 1024, 10], "relu", 256),
}


def worker(config: str, steps: int, warmup: int, weak: bool) -> None:
    import chainrule as cr
    from chainrule import distributed as dist
    from chainrule import nn

    dist.init()
    _, sizes, activation, batch = CONFIGS[config]
    world, rank = dist.world_size(), dist.rank()
    cr.manual_seed(0)
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.Sigmoid() if activation == "sigmoid" else nn.ReLU())
    model = dist.DistributedDataParallel(nn.Sequential(*layers))
    optimizer = cr.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    step = cr.compile(model, nn.CrossEntropyLoss(), optimizer)
    rng = np.random.default_rng(rank)
    per_rank = batch if weak else batch // world
    x = cr.tensor(rng.random((per_rank, sizes[0]), dtype=np.float32))
    y = cr.tensor(rng.integers(0, sizes[-1], per_rank))
    comm = dist.get_communicator()

    def timed(sync: bool) -> float:
        for _ in range(warmup):
            step(x, y)
        comm.barrier()
        start = time.perf_counter()
        if sync:
            for _ in range(steps):
                step(x, y)
        else:
            with model.no_sync():
                for _ in range(steps):
                    step(x, y)
        elapsed = np.array([time.perf_counter() - start])
        comm.allreduce(elapsed, "max")
        return float(elapsed[0])

    synced = timed(True)
    compute = timed(False)
    buffer = np.ones(sum(int(b.buffer.size) for b in model.reducer.buckets), np.float32)
    for _ in range(3):
        comm.allreduce(buffer)
    comm.barrier()
    start = time.perf_counter()
    for _ in range(20):
        comm.allreduce(buffer)
    bare = np.array([(time.perf_counter() - start) / 20])
    comm.allreduce(bare, "max")
    if rank == 0:
        print(json.dumps({
            "samples_per_second": per_rank * world * steps / synced,
            "step_ms": 1e3 * synced / steps, "compute_ms": 1e3 * compute / steps,
            "bytes": model.reducer.bytes_per_step, "buckets": len(model.reducer.buckets),
            "allreduce_ms": 1e3 * float(bare[0]),
            "replayed": step.stats["replayed"]}))


def launch(config: str, ranks: int, threads: int, steps: int, weak: bool
           ) -> dict[str, float]:
    here = Path(sys.executable).parent
    mpiexec = str(here / "mpiexec") if (here / "mpiexec").exists() else "mpiexec"
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    command = [mpiexec, "-n", str(ranks), sys.executable, "-m", "mpi4py", __file__,
               "--worker", config, "--steps", str(steps)] + (["--weak"] if weak else [])
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True,
                         timeout=600).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--configs", default="ac")
    parser.add_argument("--weak", action="store_true",
                        help="each rank takes the whole batch (the global batch grows with W)")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.steps, args.warmup, args.weak)
        return
    cells = [(c, ranks, threads) for c in args.configs
             for ranks, threads in ((1, 1), (1, 2), (2, 1), (4, 1))]
    runs: dict[tuple[str, int, int], list[dict[str, float]]] = {cell: [] for cell in cells}
    for _ in range(args.repeats):
        for cell in cells:
            runs[cell].append(launch(cell[0], cell[1], cell[2], args.steps, args.weak))
    print(f"{os.cpu_count()} cores; {args.steps} steps after {args.warmup} warm-up, median "
          f"of {args.repeats} jobs; batch per rank: "
          f"{'the whole batch (weak scaling)' if args.weak else 'batch / ranks'}\n")
    print("| network | ranks x BLAS threads | samples/s | efficiency | step ms | compute-only "
          "ms | comm ms/step | all-reduce bytes/step | bare Allreduce ms | its GB/s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for c in args.configs:
        base = statistics.median(r["samples_per_second"] for r in runs[(c, 1, 1)])
        for cell in [cell for cell in cells if cell[0] == c]:
            rows = runs[cell]

            def med(key: str, rows: list[dict[str, float]] = rows) -> float:
                return statistics.median(r[key] for r in rows)

            ranks, threads = cell[1], cell[2]
            speed = med("samples_per_second")
            efficiency = speed / (ranks * base)
            comm = med("step_ms") - med("compute_ms")
            rate = med("bytes") / med("allreduce_ms") / 1e6 if ranks > 1 else float("nan")
            print(f"| {CONFIGS[c][0]} | {ranks} x {threads} | {speed:,.0f} | "
                  f"{efficiency:.2f} | {med('step_ms'):.2f} | {med('compute_ms'):.2f} | "
                  f"{comm:.2f} | {med('bytes'):,.0f} | "
                  f"{med('allreduce_ms') if ranks > 1 else float('nan'):.3f} | {rate:.2f} |")


if __name__ == "__main__":
    main()
