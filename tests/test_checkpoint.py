"""Checkpoints: round trip, atomic 0644 files, every byte verified (fuzzed), metadata schema,
wrong shapes, disk full and read-only folders."""

import copy
import errno
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors.numpy import save

import chainrule as cr
from chainrule import nn
from chainrule.data import DataLoader, TensorDataset
from chainrule.optim.lr_scheduler import StepLR
from chainrule.train import (
    CheckpointError,
    checkpoint,
    load_checkpoint,
    read_checkpoint,
    read_metrics,
    save_checkpoint,
)

from clirun import run_cli
from tinyrun import tiny_trainer


def _model(hidden: int = 4) -> nn.Sequential:
    return nn.Sequential(nn.Linear(3, hidden), nn.Tanh(), nn.Linear(hidden, 2))


def test_round_trip_with_optimizer_state(tmp_path: Path) -> None:
    model = _model()
    opt = cr.optim.Adam(model.parameters(), lr=0.01)
    model(cr.randn(5, 3)).sum().backward()
    opt.step()
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, model, opt, extra={"epoch": 2, "config": {"hidden": [4]}})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert [p for p in os.listdir(tmp_path) if p.startswith(".tmp")] == []
    other = _model()
    other_opt = cr.optim.Adam(other.parameters(), lr=0.5)
    meta = load_checkpoint(path, other, other_opt)
    assert meta["epoch"] == 2 and meta["config"] == {"hidden": [4]}
    for a, b in zip(model.parameters(), other.parameters(), strict=True):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    assert other_opt.param_groups[0]["lr"] == 0.01
    state = other_opt.state[next(iter(other.parameters()))]
    assert state["step"] == 1 and state["exp_avg"].shape == (4, 3)
    with open(path, "rb") as f:
        assert b"pickle" not in f.read()


def test_tampered_file_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, _model())
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x40  # flip a bit in the last array's bytes
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        read_checkpoint(path)


def test_truncated_and_foreign_files_are_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, _model())
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        read_checkpoint(path)
    (tmp_path / "junk").write_bytes(b"\x00\x01garbage")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        read_checkpoint(tmp_path / "junk")
    with pytest.raises(CheckpointError, match="no checkpoint there"):
        read_checkpoint(tmp_path / "missing.safetensors")
    (tmp_path / "other.safetensors").write_bytes(save({"w": np.zeros(2, np.float32)}))
    with pytest.raises(CheckpointError, match="without chainrule metadata"):
        read_checkpoint(tmp_path / "other.safetensors")


def _huge_header_file(path: Path, nbytes: int) -> None:
    """A file whose header describes one array of ``nbytes`` bytes, and is that large
    (sparse: the data is a hole, nothing is written)."""
    data = save({"model/w": np.zeros(4, np.float32)},
                metadata={"chainrule": "{}", "sha256": "0" * 64})
    header = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])
    header["model/w"].update(shape=[nbytes // 4], data_offsets=[0, nbytes])
    raw = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(len(raw).to_bytes(8, "little") + raw)
        f.truncate(8 + len(raw) + nbytes)


def test_a_padded_or_huge_file_is_refused_before_its_data_is_read(tmp_path: Path) -> None:
    """Only the 8-byte length and the header are read first: a valid checkpoint padded to
    3 GiB (a sparse file) is refused naming both sizes, and a file as large as its header
    says is checked against CHAINRULE_MAX_MEMORY; neither is read (peak RSS far below)."""
    run = tmp_path / "run"
    assert run_cli(["train", "--dataset", "xor", "--epochs", "1", "--out", str(run)]).code == 0
    padded = tmp_path / "padded.safetensors"
    padded.write_bytes((run / "checkpoint.safetensors").read_bytes())
    size = padded.stat().st_size
    with open(padded, "r+b") as f:
        f.truncate(3 << 30)
    huge = tmp_path / "huge.safetensors"
    _huge_header_file(huge, 4 << 30)
    limit = {"CHAINRULE_MAX_MEMORY": "100M"}
    result = run_cli(["info", str(padded)], env=limit)
    assert result.code == 2
    assert f"3,221,225,472 bytes, its header describes {size:,}" in result.one_line_error()
    assert result.peak_rss < 1 << 30, result.peak_rss
    result = run_cli(["info", str(huge)], env=limit)
    assert result.code == 2
    line = result.one_line_error()
    assert "would need 8.0 GiB of memory, over the limit of 100.0 MiB" in line, line
    assert "CHAINRULE_MAX_MEMORY" in line and result.peak_rss < 1 << 30, result.peak_rss
    huge.unlink()
    _huge_header_file(huge, 400)  # small enough to read: the checksum is what refuses it
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        read_checkpoint(huge)


def test_a_header_too_large_to_read_back_is_not_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.safetensors"
    monkeypatch.setattr(checkpoint, "MAX_HEADER", 2000)
    save_checkpoint(path, _model(), extra={"note": "x" * 100})
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match=r"not saved: its header .* would be \S+ bytes, "
                       "over the 2,000"):
        save_checkpoint(path, _model(), extra={"note": "x" * 2000})
    assert path.read_bytes() == before


def test_wrong_architecture_names_keys_and_shapes(tmp_path: Path) -> None:
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, _model(4))
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, _model(8))
    message = str(err.value)
    assert "0.weight: checkpoint (4, 3) vs model (8, 3)" in message
    assert "2.weight: checkpoint (2, 4) vs model (2, 8)" in message


def test_version_1_files_are_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "old.safetensors"
    meta = {"format": "chainrule-checkpoint", "version": 1, "epoch": 1, "sha256": "ab" * 32}
    path.write_bytes(save({"model/w": np.zeros(2, np.float32)},
                          metadata={"chainrule": json.dumps(meta)}))
    with pytest.raises(CheckpointError, match="written by an older chainrule"):
        read_checkpoint(path)


# ---- the whole file is verified (the fuzz: test_checkpoint_fuzz.py) ---------------------

def test_cli_refuses_an_edited_checkpoint(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from chainrule.cli import main

    run = tmp_path / "run"
    assert main(["train", "--dataset", "xor", "--epochs", "1", "--out", str(run)]) == 0
    path = run / "checkpoint.safetensors"
    data = path.read_bytes()
    at = data.index(b'\\"lr\\": ') + len(b'\\"lr\\": ')
    path.write_bytes(data[:at] + (b"9" if data[at:at + 1] != b"9" else b"8") + data[at + 1:])
    capsys.readouterr()
    for args in (["train", "--resume", str(run), "--epochs", "2"], ["eval", str(run)]):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "checksum mismatch" in err and "Traceback" not in err


def test_best_checkpoint_cannot_be_resumed(tmp_path: Path) -> None:
    trainer, loader = tiny_trainer(tmp_path)
    trainer.fit(loader, epochs=1)
    fresh, loader = tiny_trainer(None, seed=3)
    with pytest.raises(CheckpointError, match="not a training checkpoint"):
        fresh.resume(str(tmp_path / "best.safetensors"), loader)


def test_another_optimizer_or_schedule_is_named(tmp_path: Path) -> None:
    trainer, loader = tiny_trainer(tmp_path, "adam")
    trainer.fit(loader, epochs=1)
    fresh, loader = tiny_trainer(None, "sgd")
    with pytest.raises(CheckpointError, match="holds the state of Adam, this optimizer is SGD"):
        fresh.resume(str(tmp_path / "checkpoint.safetensors"), loader)
    fresh, loader = tiny_trainer(None, "adam")
    fresh.scheduler = StepLR(fresh.optimizer, step_size=2)
    with pytest.raises(CheckpointError, match="'scheduler' does not fit: StepLR state"):
        fresh.resume(str(tmp_path / "checkpoint.safetensors"), loader)


def test_load_state_dicts_check_before_changing_anything() -> None:
    gen = cr.Generator(5)
    state = gen.get_state()
    bad = copy.deepcopy(state)
    bad["key"][7] = 2**32
    with pytest.raises(ValueError, match=r"state.key\[7\]: expected an integer in \[0, 42949"):
        cr.Generator(1).set_state(bad)
    bad["bit_generator"] = {"bit_generator": "PCG64"}
    with pytest.raises(ValueError, match="expected the keys"):
        gen.set_state(bad)
    assert gen.get_state() == state
    loader = DataLoader(TensorDataset(np.arange(10.0), np.arange(10)), batch_size=4)
    with pytest.raises(ValueError, match=r"'position': expected an integer in \[0, 3\]"):
        loader.load_state_dict({**loader.state_dict(), "position": 9})
    model = _model()
    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    saved = opt.state_dict()
    saved["param_groups"][0]["lr"] = float("nan")
    with pytest.raises(ValueError, match=r"param_groups\[0\].lr: expected a finite number"):
        opt.load_state_dict(saved)
    saved["param_groups"][0]["lr"] = 0.2
    saved["state"] = {0: {"momentum_buffer": np.zeros((2, 2))}}
    with pytest.raises(ValueError, match=r"expected a float array of the parameter's shape"):
        opt.load_state_dict(saved)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.state == {}
    sched = StepLR(opt, step_size=2)
    with pytest.raises(ValueError, match="StepLR state: expected the keys"):
        sched.load_state_dict({**sched.state_dict(), "optimizer": None})
    with pytest.raises(ValueError, match="'step_size': expected an integer >= 1"):
        sched.load_state_dict({**sched.state_dict(), "step_size": 0})
    assert sched.optimizer is opt and sched.step_size == 2


# ---- disk full, read-only folders -----------------------------------------------------------

def _no_space(*args: Any) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_keeps_the_last_checkpoint_and_says_how_much_was_needed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trainer, loader = tiny_trainer(tmp_path)
    trainer.fit(loader, epochs=1)
    path = tmp_path / "checkpoint.safetensors"
    before = path.read_bytes()
    monkeypatch.setattr(checkpoint.os, "fsync", _no_space)
    with pytest.raises(CheckpointError) as err:
        trainer.fit(loader, epochs=2)
    message = str(err.value)
    assert "No space left on device" in message and "bytes needed" in message
    assert "bytes free in" in message and "is unchanged" in message
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p for p in os.listdir(tmp_path) if p.startswith(".tmp")] == []
    assert read_checkpoint(path)[1]["epoch"] == 1
    # the epoch-2 row is written after its checkpoint only: the files hold what it holds
    assert [row["epoch"] for row in read_metrics(tmp_path)] == [1]
    assert len((tmp_path / "metrics.csv").read_text().splitlines()) == 2  # header, epoch 1
    assert [row["epoch"] for row in trainer.metrics.rows] == [1]
    assert read_checkpoint(tmp_path / "best.safetensors")[1]["epoch"] == 1


def test_file_size_limit_in_a_child_process(tmp_path: Path) -> None:
    """A real failed write: RLIMIT_FSIZE below the checkpoint's size (SIGXFSZ ignored: EFBIG)."""
    resource = pytest.importorskip("resource")
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, nn.Linear(2, 2))
    before = path.read_bytes()
    script = f"""
import resource, signal
import chainrule as cr
from chainrule.train import CheckpointError, save_checkpoint
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
model = cr.nn.Linear(300, 300)
resource.setrlimit(resource.RLIMIT_FSIZE, ({len(before) * 4}, {len(before) * 4}))
try:
    save_checkpoint({str(path)!r}, model)
except CheckpointError as exc:
    print(exc)
"""
    assert resource.RLIMIT_FSIZE
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "File too large" in done.stdout and "bytes needed" in done.stdout
    assert "ulimit -f" in done.stdout
    assert path.read_bytes() == before
    assert [p for p in os.listdir(tmp_path) if p.startswith(".tmp")] == []


def test_metrics_append_is_all_or_nothing(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from chainrule.train import metrics

    log = metrics.MetricsLog(tmp_path)
    row = {"epoch": 1, "step": 4, "train_loss": 0.5, "train_accuracy": 0.5, "lr": 0.1,
           "seconds": 1.0, "samples_per_second": 10.0}
    log.append(row)
    before = (tmp_path / "metrics.jsonl").read_bytes()

    class FullDisk:
        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

        def write(self, fd: int, data: Any) -> int:
            os.write(fd, bytes(data[:5]))
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(metrics, "os", FullDisk())
    with pytest.raises(CheckpointError, match="metrics.jsonl: could not write"):
        log.append({**row, "epoch": 2})
    monkeypatch.undo()
    assert (tmp_path / "metrics.jsonl").read_bytes() == before


def test_resume_into_a_read_only_folder_is_one_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from chainrule.cli import main

    lib, cli = tmp_path / "lib", tmp_path / "cli"
    trainer, loader = tiny_trainer(lib)
    trainer.fit(loader, epochs=1)
    assert main(["train", "--dataset", "xor", "--epochs", "1", "--out", str(cli)]) == 0
    mkstemp = checkpoint.tempfile.mkstemp

    def read_only(*args: Any, dir: Any = None, **kwargs: Any) -> Any:  # noqa: A002
        if dir is not None and Path(dir).resolve() in (lib.resolve(), cli.resolve()):
            raise PermissionError(errno.EROFS, "Read-only file system")
        return mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(checkpoint.tempfile, "mkstemp", read_only)
    fresh, loader = tiny_trainer(lib, seed=3)
    with pytest.raises(CheckpointError) as err:
        fresh.resume(str(lib / "checkpoint.safetensors"), loader)
    assert "not writable (Read-only file system)" in str(err.value)
    assert "--out NEW_FOLDER" in str(err.value)
    with pytest.raises(CheckpointError, match="is not writable"):
        trainer.save()
    capsys.readouterr()
    assert main(["train", "--resume", str(cli), "--epochs", "2"]) == 2
    err_text = capsys.readouterr().err
    assert "not writable" in err_text and "--out" in err_text and "Traceback" not in err_text


def test_saving_below_a_regular_file_is_one_message(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(CheckpointError, match="is not a folder"):
        save_checkpoint(tmp_path / "file" / "run" / "c.safetensors", nn.Linear(2, 2))


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root can write to read-only folders")
def test_real_read_only_folder(tmp_path: Path) -> None:
    trainer, loader = tiny_trainer(tmp_path)
    trainer.fit(loader, epochs=1)
    tmp_path.chmod(0o555)
    try:
        fresh, loader = tiny_trainer(tmp_path, seed=3)
        with pytest.raises(CheckpointError, match="not writable"):
            fresh.resume(str(tmp_path / "checkpoint.safetensors"), loader)
    finally:
        tmp_path.chmod(0o755)
