"""Checkpoints fuzzed: every changed byte of a real checkpoint is refused (not re-signed),
and well-formed but wrong metadata with a correct checksum fails cleanly (re-signed)."""

import copy
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from safetensors.numpy import load

from chainrule.train import CheckpointError, TrainingStopped, checkpoint, read_checkpoint

from tinyrun import tiny_trainer


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The bytes of a real checkpoint after one epoch, for each kind of run."""
    files = {}
    for kind in ("sgd", "adam"):
        folder = tmp_path_factory.mktemp(kind)
        trainer, loader = tiny_trainer(folder, kind)
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
            fresh, loader = tiny_trainer(None, kind, seed=7)
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
            fresh, loader = tiny_trainer(None, kind, seed=7)
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
    fresh, loader = tiny_trainer(None)
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        fresh.resume(str(path), loader)
    assert fresh.optimizer.param_groups[0]["lr"] == 0.5
