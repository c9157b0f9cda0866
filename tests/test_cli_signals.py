"""Signals and output streams of the ``chainrule`` command: SIGTERM and SIGHUP stop training
with a checkpoint like Ctrl-C (exit 128 + the signal's number); stdout or stderr that is
closed, full or cannot encode a character never ends a run in a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from chainrule.train import TrainingInterrupted, read_checkpoint

from tinyrun import tiny_trainer

XOR = ["train", "--dataset", "xor", "--hidden", "4", "--epochs", "1"]


class _Signalling:
    """A loader that sends ``signum`` to this process at its second batch."""

    def __init__(self, loader: Any, signum: int) -> None:
        self.loader, self.signum = loader, signum

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Any:
        for i, batch in enumerate(self.loader):
            if i == 1:
                os.kill(os.getpid(), self.signum)
            yield batch

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_stop_training_with_a_checkpoint(tmp_path: Path,
                                                            signum: int) -> None:
    def unhandled(*_: Any) -> None:  # what runs if the trainer does not catch the signal
        raise AssertionError("the signal reached the handler outside training")

    trainer, loader = tiny_trainer(tmp_path)
    before = signal.signal(signum, unhandled)
    try:
        with pytest.raises(TrainingInterrupted) as stop:
            trainer.fit(_Signalling(loader, signum), epochs=3)
        assert signal.getsignal(signum) is unhandled  # the handler is put back
    finally:
        signal.signal(signum, before)
    assert stop.value.signum == signum
    name = signal.Signals(signum).name
    assert str(stop.value).startswith(f"interrupted by {name} at epoch 1, step 2: checkpoint "
                                      "saved")
    assert read_checkpoint(tmp_path / "checkpoint.safetensors")[1]["step"] == 2


def test_an_ignored_sighup_stays_ignored(tmp_path: Path) -> None:
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup
    try:
        trainer, loader = tiny_trainer(tmp_path)
        rows = trainer.fit(_Signalling(loader, signal.SIGHUP), epochs=1)
        assert len(rows) == 1
    finally:
        signal.signal(signal.SIGHUP, previous)


def _child(args: list[str], **kwargs: Any) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "chainrule.cli", *args], text=True,
                            env=env, **kwargs)


def _weights(run: Path) -> dict[str, Any]:
    arrays, _ = read_checkpoint(run / "checkpoint.safetensors")
    return {k: v for k, v in arrays.items() if k.startswith("model/")}


def test_sigterm_saves_a_checkpoint_exits_143_and_resumes(tmp_path: Path) -> None:
    args = ["train", "--dataset", "mini-mnist", "--hidden", "256,256", "--batch-size", "8",
            "--activation", "relu", "--optimizer", "momentum"]
    run = tmp_path / "stopped"
    proc = _child([*args, "--epochs", "50", "--out", str(run)], stdout=subprocess.DEVNULL,
                  stderr=subprocess.PIPE)
    assert proc.stderr is not None
    for line in proc.stderr:  # wait for the first epoch to finish, then stop it as timeout does
        if line.startswith("epoch 1/"):
            break
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 143, err
    assert "chainrule: interrupted by SIGTERM at epoch 2" in err and "checkpoint saved" in err
    assert f"resume with --resume {run / 'checkpoint.safetensors'}" in err
    meta = read_checkpoint(run / "checkpoint.safetensors")[1]
    assert meta["epoch"] == 1 and meta["loader"]["position"] > 0  # stopped mid-epoch 2
    resumed = subprocess.run([sys.executable, "-m", "chainrule.cli", "train", "--resume",
                              str(run), "--epochs", "2"], capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert read_checkpoint(run / "checkpoint.safetensors")[1]["epoch"] == 2


# ---- output streams that are closed, full, or cannot encode ------------------------------


def _shell(command: str, cwd: Path, env: dict[str, str] | None = None
           ) -> subprocess.CompletedProcess[str]:
    """``command`` in bash, with "$CR" the chainrule command (this Python's)."""
    full_env = {**os.environ, "CR": f"{sys.executable} -m chainrule.cli", **(env or {})}
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=300)


def test_a_stream_that_cannot_encode_the_run_folder_name(tmp_path: Path) -> None:
    ascii_only = {"PYTHONIOENCODING": "ascii"}
    train = _shell('$CR train --dataset xor --hidden 4 --epochs 1 --out runs/üni', tmp_path,
                   ascii_only)
    assert train.returncode == 0, train.stderr
    assert "Traceback" not in train.stderr
    assert "checkpoint runs/\\xfcni/checkpoint.safetensors" in train.stdout
    assert (tmp_path / "runs" / "üni" / "checkpoint.safetensors").exists()
    info = _shell("$CR info runs/üni", tmp_path, ascii_only)
    assert info.returncode == 0 and "Traceback" not in info.stderr, info.stderr
    assert "checkpoint: runs/\\xfcni/checkpoint.safetensors" in info.stdout
    missing = _shell("$CR info runs/ünknown", tmp_path, ascii_only)  # the error line too
    assert missing.returncode == 2 and "runs/\\xfcnknown" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_closed_stdout_and_stderr(tmp_path: Path) -> None:
    train = _shell("$CR train --dataset xor --hidden 4 --epochs 1 --out run >&- 2>&-",
                   tmp_path)
    assert train.returncode == 0 and train.stdout == "" and train.stderr == ""
    assert (tmp_path / "run" / "checkpoint.safetensors").exists()
    info = _shell("$CR info run >&-", tmp_path)
    assert info.returncode == 0 and info.stderr == "", info.stderr
    bad = _shell("$CR info nowhere 2>&-", tmp_path)  # the error message goes nowhere
    assert bad.returncode == 2 and bad.stdout == ""


def test_a_full_stderr_never_stops_a_run(tmp_path: Path) -> None:
    train = _shell("$CR train --dataset xor --hidden 4 --epochs 2 --out run 2>/dev/full",
                   tmp_path)
    assert train.returncode == 0, train.stdout
    assert "test accuracy" in train.stdout
    meta = read_checkpoint(tmp_path / "run" / "checkpoint.safetensors")[1]
    assert meta["epoch"] == 2
    bad = _shell("$CR info nowhere 2>/dev/full", tmp_path)
    assert bad.returncode == 2
