"""Checkpoints: round trip, atomic 0644 files, every byte verified (fuzzed), metadata schema,
wrong shapes, disk full and read-only folders."""

import copy
import errno
import json
import os
import random
import stat
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors.numpy import load, save

import chainrule as cr
from chainrule import nn
from chainrule.data import DataLoader, TensorDataset
from chainrule.optim.lr_scheduler import OneCycleLR, StepLR
from chainrule.train import (
    CheckpointError,
    Trainer,
    TrainingStopped,
    checkpoint,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)


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


# ---- the whole file is verified --------------------------------------------------------------

def _trainer(out: Path | None, kind: str = "sgd", seed: int = 0) -> tuple[Trainer, DataLoader]:
    """A tiny XOR run: SGD with momentum and StepLR, or AMSGrad Adam with per-batch OneCycleLR."""
    cr.manual_seed(seed)
    X, y = cr.data.make_xor(64, seed=0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True,
                        generator=cr.Generator(seed + 1))
    if kind == "sgd":
        opt: Any = cr.optim.SGD(model.parameters(), lr=0.5, momentum=0.5)
        sched: Any = StepLR(opt, step_size=5, gamma=0.5)
    else:
        opt = cr.optim.Adam(model.parameters(), lr=0.05, amsgrad=True)
        sched = OneCycleLR(opt, max_lr=0.05, total_steps=4 * len(loader))
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, sched, out_dir=out, progress=False,
                      log=None, config={"lr": 0.5, "hidden": [8]},
                      step_scheduler_per_batch=kind != "sgd")
    return trainer, loader


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The bytes of a real checkpoint after one epoch, for each kind of run."""
    files = {}
    for kind in ("sgd", "adam"):
        folder = tmp_path_factory.mktemp(kind)
        trainer, loader = _trainer(folder, kind)
        trainer.fit(loader, epochs=1)
        files[kind] = (folder / "checkpoint.safetensors").read_bytes()
    return files


def _meta(data: bytes, folder: Path) -> dict:
    path = folder / "original.safetensors"
    path.write_bytes(data)
    meta = read_checkpoint(path)[1]
    del meta["sha256"]
    return meta


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path inside a JSON value (dict keys and list indices)."""
    if isinstance(node, dict):
        items: Any = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return []
    found = []
    for key, child in items:
        found.append((*prefix, key))
        found.extend(_paths(child, (*prefix, key)))
    return found


_ODD_VALUES = ["x", "", None, True, False, [], {}, [1, 2], {"a": 1}, 0, -1, 0.5, 7, 9.5, 1e308,
               -1e308, float("nan"), float("inf"), 2**70, -(2**64), "PCG32", [None]]


def _edit(meta: dict, rng: random.Random) -> tuple[dict, str]:
    """``meta`` with one JSON edit (a value changed or retyped, a key deleted or added), and
    what was done."""
    meta = copy.deepcopy(meta)
    path = rng.choice(_paths(meta))
    parent: Any = meta
    for key in path[:-1]:
        parent = parent[key]
    key, value = path[-1], parent[path[-1]]
    how, where = rng.choice(["value", "value", "number", "delete", "add"]), "/".join(map(str, path))
    if how == "delete":
        del parent[key]
        return meta, f"delete {where}"
    if how == "add" and isinstance(value, dict):
        value["zz"] = rng.choice(_ODD_VALUES)
    elif how == "add" and isinstance(value, list):
        value.append(rng.choice(_ODD_VALUES))
    elif how == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        parent[key] = rng.choice([value + 1, value - 1, -value, value * 19, value / 3])
    else:
        how, parent[key] = "value", rng.choice(_ODD_VALUES)
    return meta, f"{how} {where} = {parent[key]!r:.40}"


def _signed(data: bytes, meta: dict) -> bytes:
    """A file with ``data``'s arrays and ``meta``, with a correct checksum (re-signed)."""
    return checkpoint.encode_checkpoint(load(data), meta)


def _digest_at(data: bytes) -> int:
    return data.index(b'"sha256":"') + len(b'"sha256":"')


def _mutations(data: bytes, meta: dict, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    """Changed copies of a checkpoint file, none of them re-signed: (kind of change, bytes)."""
    header_end = 8 + int.from_bytes(data[:8], "little")

    def changed(at: int, byte: int) -> bytes:
        copied = bytearray(data)
        copied[at] = byte
        return bytes(copied)

    for _ in range(250):  # half in the header, half anywhere
        at = rng.randrange(header_end) if rng.random() < 0.5 else rng.randrange(len(data))
        yield "bit flip", changed(at, data[at] ^ 1 << rng.randrange(8))
    for _ in range(120):
        at = rng.randrange(len(data))
        yield "byte replaced", changed(at, (data[at] + rng.randrange(1, 256)) % 256)
    digits = [i for i in range(8, header_end) if chr(data[i]).isdigit()]
    for _ in range(60):  # like "lr": 0.5 -> 9.5: same length, still valid JSON
        at = rng.choice(digits)
        yield "digit edited", changed(at, ord(rng.choice("0123456789".replace(chr(data[at]),
                                                                              ""))))
    hex_at = _digest_at(data)
    for _ in range(20):
        at = hex_at + rng.randrange(64)
        yield "checksum edited", changed(at, ord(rng.choice(
            "0123456789abcdef".replace(chr(data[at]), ""))))
    for _ in range(80):
        yield "truncated", data[:rng.randrange(len(data))]
    for _ in range(30):
        yield "appended", data + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
    stale = data[hex_at:hex_at + 64]
    made = 0
    while made < 140:  # JSON edits of the metadata, keeping the old checksum
        edited = _signed(data, _edit(meta, rng)[0])
        at = _digest_at(edited)
        edited = edited[:at] + stale + edited[at + 64:]
        if edited != data:
            made += 1
            yield "JSON edited", edited


def _outcome(fn: Callable[[], Any], clean: tuple[type[Exception], ...] = ()) -> str:
    """'accepted', 'rejected' (CheckpointError), 'stopped' (one of ``clean``), or the
    exception that would have been a traceback."""
    try:
        fn()
    except CheckpointError:
        return "rejected"
    except clean:
        return "stopped"
    except Exception as exc:  # noqa: BLE001 - each one would be a traceback for the user
        return f"{type(exc).__name__}: {exc}"
    return "accepted"


def _tally(table: dict[str, Counter], kind: str, outcome: str) -> None:
    clean = ("accepted", "rejected", "stopped")
    table.setdefault(kind, Counter())[outcome if outcome in clean else "traceback"] += 1


def _report(title: str, table: dict[str, Counter]) -> None:
    print(f"\n{title}")
    for kind, counts in table.items():
        print(f"  {kind:16} {dict(sorted(counts.items()))}")


def test_fuzz_every_changed_byte_is_rejected(runs: dict[str, bytes], tmp_path: Path) -> None:
    """>= 1,000 changed files, not re-signed: CheckpointError from read and from resume."""
    rng = random.Random(12)
    path = tmp_path / "checkpoint.safetensors"
    table: dict[str, Counter] = {}
    problems = []
    total = 0
    for kind, data in runs.items():
        meta = _meta(data, tmp_path)
        for mutation, changed in _mutations(data, meta, rng):
            assert changed != data
            path.write_bytes(changed)
            fresh, loader = _trainer(None, kind, seed=7)
            for outcome in (_outcome(lambda: read_checkpoint(path)),
                            _outcome(lambda: fresh.resume(str(path), loader))):  # noqa: B023
                _tally(table, mutation, outcome)
                if outcome != "rejected":
                    problems.append((kind, mutation, outcome))
            total += 1
    _report(f"{total} changed files, not re-signed (read and resume outcomes):", table)
    assert total >= 1000
    assert problems == []


def test_fuzz_resigned_wrong_metadata_fails_cleanly(runs: dict[str, bytes],
                                                    tmp_path: Path) -> None:
    """Well-formed but wrong metadata with a correct checksum: CheckpointError or a clean
    load, and then training or a clean stop (TrainingStopped); never another exception."""
    rng = random.Random(34)
    path = tmp_path / "checkpoint.safetensors"
    table: dict[str, Counter] = {}
    problems = []
    for kind, data in runs.items():
        meta = _meta(data, tmp_path)
        for _ in range(200):
            edited, what = _edit(meta, rng)
            while json.dumps(edited) == json.dumps(meta):  # a no-op edit (0 -> -0)
                edited, what = _edit(meta, rng)
            path.write_bytes(_signed(data, edited))
            fresh, loader = _trainer(None, kind, seed=7)
            steps: list[tuple[str, Callable[[], Any]]] = [
                ("read", lambda: read_checkpoint(path)),  # noqa: B023
                ("resume", lambda: fresh.resume(str(path), loader)),  # noqa: B023
                ("train on", lambda: fresh.fit(loader, epochs=3))]  # noqa: B023
            for name, step in steps:
                outcome = _outcome(step, (TrainingStopped,))
                _tally(table, name, outcome)
                if outcome not in ("accepted", "rejected", "stopped"):
                    problems.append((kind, what, name, outcome))
                if outcome != "accepted":
                    break
    _report("400 re-signed files with one metadata edit (outcome of each step):", table)
    assert problems == []


def test_the_issue_case_lr_edit_is_refused(runs: dict[str, bytes], tmp_path: Path) -> None:
    data = runs["sgd"]
    assert data.count(b'\\"lr\\": 0.5') >= 2  # the config's and the optimizer's
    path = tmp_path / "checkpoint.safetensors"
    path.write_bytes(data.replace(b'\\"lr\\": 0.5', b'\\"lr\\": 9.5'))
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        read_checkpoint(path)
    fresh, loader = _trainer(None)
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        fresh.resume(str(path), loader)
    assert fresh.optimizer.param_groups[0]["lr"] == 0.5


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
    trainer, loader = _trainer(tmp_path)
    trainer.fit(loader, epochs=1)
    fresh, loader = _trainer(None, seed=3)
    with pytest.raises(CheckpointError, match="not a training checkpoint"):
        fresh.resume(str(tmp_path / "best.safetensors"), loader)


def test_another_optimizer_or_schedule_is_named(tmp_path: Path) -> None:
    trainer, loader = _trainer(tmp_path, "adam")
    trainer.fit(loader, epochs=1)
    fresh, loader = _trainer(None, "sgd")
    with pytest.raises(CheckpointError, match="holds the state of Adam, this optimizer is SGD"):
        fresh.resume(str(tmp_path / "checkpoint.safetensors"), loader)
    fresh, loader = _trainer(None, "adam")
    fresh.scheduler = StepLR(fresh.optimizer, step_size=2)
    with pytest.raises(CheckpointError, match="'scheduler' does not fit: StepLR state"):
        fresh.resume(str(tmp_path / "checkpoint.safetensors"), loader)


def test_load_state_dicts_check_before_changing_anything() -> None:
    gen = cr.Generator(5)
    state = gen.get_state()
    bad = copy.deepcopy(state)
    bad["bit_generator"]["state"]["inc"] += 1
    with pytest.raises(ValueError, match="state.inc: expected an odd integer"):
        cr.Generator(1).set_state(bad)
    bad["bit_generator"] = {"bit_generator": "MT19937"}
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
    trainer, loader = _trainer(tmp_path)
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
    trainer, loader = _trainer(lib)
    trainer.fit(loader, epochs=1)
    assert main(["train", "--dataset", "xor", "--epochs", "1", "--out", str(cli)]) == 0
    mkstemp = checkpoint.tempfile.mkstemp

    def read_only(*args: Any, dir: Any = None, **kwargs: Any) -> Any:  # noqa: A002
        if dir is not None and Path(dir).resolve() in (lib.resolve(), cli.resolve()):
            raise PermissionError(errno.EROFS, "Read-only file system")
        return mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(checkpoint.tempfile, "mkstemp", read_only)
    fresh, loader = _trainer(lib, seed=3)
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
    trainer, loader = _trainer(tmp_path)
    trainer.fit(loader, epochs=1)
    tmp_path.chmod(0o555)
    try:
        fresh, loader = _trainer(tmp_path, seed=3)
        with pytest.raises(CheckpointError, match="not writable"):
            fresh.resume(str(tmp_path / "checkpoint.safetensors"), loader)
    finally:
        tmp_path.chmod(0o755)
