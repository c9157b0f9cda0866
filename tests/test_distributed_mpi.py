"""Real processes under ``mpiexec -n 2`` and ``-n 4`` (tests/ddp_worker.py is one rank).

The weights after a few steps with W ranks and global batch B must equal one process with
batch B (float64 to 1e-12, float32 to 1e-6) for SGD, momentum and Adam, eagerly and with
step capture, and with gradient accumulation under ``no_sync``; every rank must hold the
same weights bit for bit, and two runs must agree bit for bit. A rank that raises or is
SIGKILLed ends the job (non-zero, no hang); mismatched models are an error.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

WORKER = str(Path(__file__).with_name("ddp_worker.py"))
BIN = Path(sys.executable).parent


def _mpiexec() -> str | None:
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return None
    local = BIN / "mpiexec"
    return str(local) if local.exists() else shutil.which("mpiexec")


MPIEXEC = _mpiexec()
pytestmark = pytest.mark.skipif(
    MPIEXEC is None, reason="needs mpi4py and mpiexec: pip install 'chainrule[mpi]'")


def launch(ranks: int, *args: str, timeout: float = 50) -> subprocess.CompletedProcess[str]:
    """``mpiexec -n ranks python -m mpi4py ddp_worker.py args`` (killed at ``timeout``)."""
    assert MPIEXEC is not None
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    command = [MPIEXEC, "-n", str(ranks), sys.executable, "-m", "mpi4py", WORKER, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                          check=False)


def single_process(out: str) -> dict[str, np.ndarray]:
    """The reference: the same script alone (no mpiexec: the local communicator)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "MPI_", "OMPI_"))}
    subprocess.run([sys.executable, WORKER, "train", out], check=True, timeout=50, env=env)
    return dict(np.load(os.path.join(out, "rank0.npz")))


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    with tempfile.TemporaryDirectory() as out:
        return single_process(out)


def run_ranks(ranks: int) -> list[dict[str, np.ndarray]]:
    with tempfile.TemporaryDirectory() as out:
        result = launch(ranks, "train", out)
        assert result.returncode == 0, result.stderr[-3000:]
        return [dict(np.load(os.path.join(out, f"rank{r}.npz"))) for r in range(ranks)]


@pytest.mark.parametrize("ranks", [2, 4])
def test_ranks_match_one_process_with_the_global_batch(ranks: int,
                                                       reference: dict[str, np.ndarray]
                                                       ) -> None:
    per_rank = run_ranks(ranks)
    configs = sorted({k.split("/")[0] for k in reference})
    assert len(configs) == 13  # 2 dtypes x 3 optimizers x eager/capture, + accumulation
    for k, expected in reference.items():
        for r in range(1, ranks):  # the replicas never drift apart
            np.testing.assert_array_equal(per_rank[r][k], per_rank[0][k], err_msg=k)
        tol = 1e-12 if expected.dtype == np.float64 else 1e-6
        assert expected.dtype == per_rank[0][k].dtype
        np.testing.assert_allclose(per_rank[0][k], expected, rtol=0, atol=tol, err_msg=k)
    assert set(per_rank[0]) == set(reference)


@pytest.mark.parametrize("ranks", [2, 4])
def test_collectives_across_ranks(ranks: int) -> None:
    result = launch(ranks, "collectives", timeout=30)
    assert result.returncode == 0, result.stderr[-3000:]
    for r in range(ranks):  # (the launcher may interleave the ranks' lines)
        assert result.stdout.count(f"rank {r} of {ranks}: collectives ok") == 1


def test_without_python_m_mpi4py_rank_0_warns() -> None:
    assert MPIEXEC is not None
    result = subprocess.run([MPIEXEC, "-n", "2", sys.executable, WORKER, "collectives"],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.count("started without python -m mpi4py, so an exception on one "
                               "rank leaves the others waiting") == 1


def test_a_run_is_reproducible_bit_for_bit() -> None:
    first, second = run_ranks(2)[0], run_ranks(2)[0]
    for k in first:
        np.testing.assert_array_equal(first[k], second[k], err_msg=k)


def test_a_rank_that_raises_ends_every_rank() -> None:
    result = launch(2, "raise", timeout=30)
    assert result.returncode != 0
    assert "rank 1 fails on purpose" in result.stderr


def test_a_killed_rank_ends_the_job() -> None:
    # the surviving rank trains forever unless the launcher ends it: a hang is the timeout
    result = launch(2, "kill", timeout=30)
    assert result.returncode != 0
    assert "BAD TERMINATION" in result.stdout + result.stderr


@pytest.mark.parametrize("mode, words", [
    ("mismatch-shape", "rank 1 built a different model from rank 0's: rank 0 has "
                       "'0.weight' (12, 5) float64, rank 1 has '0.weight' (13, 5)"),
    ("mismatch-seed", "rank 1's initial values differ from rank 0's, first in '0.weight'"),
])
def test_mismatched_models_are_an_error(mode: str, words: str) -> None:
    result = launch(2, mode, timeout=30)
    assert result.returncode != 0
    assert "ModelMismatchError" in result.stderr and words in result.stderr
