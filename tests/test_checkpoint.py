"""Checkpoints: round trip, atomic 0644 files, tamper and truncation detection, wrong shapes."""

import os
import stat
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.train import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint


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


def test_wrong_architecture_names_keys_and_shapes(tmp_path: Path) -> None:
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, _model(4))
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, _model(8))
    message = str(err.value)
    assert "0.weight: checkpoint (4, 3) vs model (8, 3)" in message
    assert "2.weight: checkpoint (2, 4) vs model (2, 8)" in message
