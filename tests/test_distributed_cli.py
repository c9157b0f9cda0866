"""``mpiexec -n W python -m mpi4py -m chainrule train``: real ranks through the CLI.

With global batch B, 2 and 4 ranks train the same weights (float64, to 1e-12) and report the
same validation metrics (all-reduced over the whole set); only rank 0 prints and writes; a
run stopped after 2 epochs on 2 ranks resumes on 4 to the weights of 3 epochs on 2; a rank
SIGKILLed mid-run under ``chainrule launch`` ends the job within seconds, the rank named,
the checkpoint intact.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from chainrule.train.checkpoint import read_checkpoint
from test_distributed_mpi import MPIEXEC

pytestmark = pytest.mark.skipif(
    MPIEXEC is None, reason="needs mpi4py and mpiexec: pip install 'chainrule[mpi]'")

FLAGS = ["--dataset", "spiral", "--batch-size", "32", "--val-split", "0.2", "--dtype",
         "float64", "--threads", "1", "--seed", "3"]


def command(ranks: int, *args: str) -> list[str]:
    assert MPIEXEC is not None
    return [MPIEXEC, "-n", str(ranks), sys.executable, "-m", "mpi4py", "-m", "chainrule",
            "train", *FLAGS, *args]


def environment(tmp: Path) -> dict[str, str]:
    return dict(os.environ, TMPDIR=str(tmp), PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")


def train(tmp: Path, ranks: int, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command(ranks, *args), capture_output=True, text=True,
                            timeout=50, env=environment(tmp), check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result


def weights(folder: Path) -> dict[str, np.ndarray]:
    arrays, _ = read_checkpoint(folder / "checkpoint.safetensors")
    return {k: v for k, v in arrays.items() if k.startswith("model/")}


def metrics(folder: Path) -> list[list[str]]:
    return [line.split(",") for line in (folder / "metrics.csv").read_text().splitlines()]


def test_two_and_four_ranks_train_alike_and_only_rank_0_writes(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    two = train(scratch, 2, "--epochs", "2", "--out", str(tmp_path / "two"))
    four = train(scratch, 4, "--epochs", "2", "--out", str(tmp_path / "four"))
    for result, ranks in ((two, 2), (four, 4)):
        assert result.stdout.count("(last model, epoch 2)") == 1  # rank 0 alone prints
        assert f"distributed: {ranks} ranks over MPI (rank 0 pid" in result.stdout
        assert result.stderr.count("epoch 2/2") == 1
    assert list(scratch.iterdir()) == []  # the other ranks' scratch folders are gone
    assert sorted(os.listdir(tmp_path / "two")) == sorted(os.listdir(tmp_path / "four"))
    a, b = weights(tmp_path / "two"), weights(tmp_path / "four")
    assert a.keys() == b.keys() and len(a) == 6
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=0, atol=1e-12, err_msg=k)
    rows_a, rows_b = metrics(tmp_path / "two"), metrics(tmp_path / "four")
    header = rows_a[0]
    for row_a, row_b in zip(rows_a[1:], rows_b[1:], strict=True):
        for column in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
            i = header.index(column)
            assert abs(float(row_a[i]) - float(row_b[i])) < 1e-12, column
    _, meta = read_checkpoint(tmp_path / "four" / "checkpoint.safetensors")
    assert meta["world_size"] == 4 and meta["epoch"] == 2


def test_resume_with_another_number_of_ranks(tmp_path: Path) -> None:
    train(tmp_path, 2, "--epochs", "3", "--out", str(tmp_path / "straight"))
    train(tmp_path, 2, "--epochs", "2", "--out", str(tmp_path / "split"))
    resumed = train(tmp_path, 4, "--epochs", "3", "--resume", str(tmp_path / "split"))
    assert "resumed from" in resumed.stdout and "at epoch 2" in resumed.stdout
    a, b = weights(tmp_path / "straight"), weights(tmp_path / "split")
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=0, atol=1e-12, err_msg=k)


def test_batch_that_does_not_divide_is_an_error(tmp_path: Path) -> None:
    result = subprocess.run(command(4, "--epochs", "1", "--batch-size", "30", "--out",
                                    str(tmp_path / "run")),
                            capture_output=True, text=True, timeout=50, env=environment(tmp_path),
                            check=False)
    assert result.returncode != 0
    assert "--batch-size 30 does not divide by the 4 ranks" in result.stderr


def launcher(ranks: int, *args: str) -> list[str]:
    """``chainrule launch -n ranks train ...``: mpiexec run by chainrule's launcher."""
    return [sys.executable, "-m", "chainrule", "launch", "-n", str(ranks), "train", *FLAGS,
            *args]


def test_a_killed_rank_ends_the_run_and_the_checkpoint_resumes(tmp_path: Path) -> None:
    out = tmp_path / "run"
    job = subprocess.Popen(launcher(2, "--epochs", "100000", "--out", str(out)),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=environment(tmp_path))
    try:
        assert job.stdout is not None
        first = job.stdout.readline()
        found = re.search(r"rank 1 pid (\d+) on (\S+?)[,)]", first)
        assert found is not None, first
        pid, host = int(found.group(1)), found.group(2)
        deadline = time.monotonic() + 30
        while not (out / "checkpoint.safetensors").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # mid-run: checkpoints are being rewritten every epoch
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        stdout, stderr = job.communicate(timeout=30)
        ended_after = time.monotonic() - killed_at
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()
    assert job.returncode != 0
    assert f"PID {pid} RUNNING AT" in stdout + stderr and "BAD TERMINATION" in stdout + stderr
    # mpiexec names the pid; the launcher names the rank, as its last line
    assert stderr.strip().splitlines()[-1] == (
        f"chainrule launch: rank 1 (pid {pid} on {host}) was killed by signal 9 (SIGKILL); "
        f"mpiexec ended the other ranks. The last checkpoint stays intact: resume with "
        f"--resume {out}")
    assert ended_after < 20  # seconds, not a hang (the launcher ends the other rank)
    _, meta = read_checkpoint(out / "checkpoint.safetensors")  # intact: checksum verified
    epoch = meta["epoch"]
    assert epoch >= 1
    resumed = train(tmp_path, 2, "--epochs", str(epoch + 1), "--resume", str(out))
    assert f"at epoch {epoch}" in resumed.stdout
    _, meta = read_checkpoint(out / "checkpoint.safetensors")
    assert meta["epoch"] == epoch + 1


def test_ctrl_c_stops_every_rank_at_the_same_step(tmp_path: Path) -> None:
    out = tmp_path / "run"
    job = subprocess.Popen(command(2, "--epochs", "100000", "--out", str(out)),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=environment(tmp_path))
    try:
        deadline = time.monotonic() + 30
        while not (out / "checkpoint.safetensors").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        job.send_signal(signal.SIGINT)  # what Ctrl-C on mpiexec does: it passes it on
        stdout, stderr = job.communicate(timeout=30)
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()
    assert job.returncode == 130, stderr[-2000:]
    stopped = re.search(r"interrupted at epoch (\d+), step (\d+): checkpoint saved", stderr)
    assert stopped is not None, stderr[-2000:]
    _, meta = read_checkpoint(out / "checkpoint.safetensors")
    assert meta["step"] == int(stopped.group(2)) and meta["partial"]  # mid-epoch
    refused = subprocess.run(command(4, "--epochs", "100000", "--resume", str(out)),
                             capture_output=True, text=True, timeout=50,
                             env=environment(tmp_path), check=False)
    assert refused.returncode != 0
    assert "taken in the middle of an epoch by 2 ranks; it resumes only with mpiexec -n 2" \
        in refused.stderr
    epoch = int(stopped.group(1))
    resumed = train(tmp_path, 2, "--epochs", str(epoch), "--resume", str(out))
    assert f"at epoch {epoch - 1}, step {stopped.group(2)}" in resumed.stdout
