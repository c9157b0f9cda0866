"""Checkpoints: one safetensors file holding every array, with JSON metadata for the rest.

Inside: the model's state dict (``model/<name>``), the optimizer's arrays
(``optim/<param>/<key>``) and, as JSON in the metadata, the optimizer's scalars and
param groups, the scheduler, the random-number generators, epoch, step, the data
loader's position, metrics so far and the full config. No pickle anywhere.

Every byte is covered by one SHA-256 (format version 2). Writing: the file is built with the
header field ``"sha256"`` set to 64 zeros, the whole file is hashed, and the hex digest
replaces the zeros (same length, so no offset moves). Reading: first only the 8-byte header
length and the header, which say how large the file must be (a file of another size is
refused, and one too large for ``CHAINRULE_MAX_MEMORY`` too, before the rest is read); then
the file is read once, the digest is taken out of the header, the bytes are hashed again
with the zeros put back, and only a match lets the arrays and the metadata be parsed; the
metadata is then checked by schema (types, ranges, required keys), so a damaged or edited
file, or a well-formed one with wrong values, is a :class:`CheckpointError` naming what is
wrong. Version-1 files (whose digest covered only the arrays) are refused with that
explanation.

Files are written atomically: a temporary file in the same folder, fsync, ``os.replace``,
fsync of the folder; mode 0644. A failed write (disk full, read-only folder) removes the
temporary file, leaves the previous checkpoint as it was and raises CheckpointError
saying how many bytes were needed.

>>> import chainrule as cr, tempfile, os
>>> model = cr.nn.Linear(2, 1)
>>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
>>> save_checkpoint(path, model, extra={"epoch": 3})
>>> load_checkpoint(path, model)["epoch"]
3
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import json
import os
import re
import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load, save

from chainrule.backend import array_module, to_device
from chainrule.limits import MemoryLimitError, check_memory
from chainrule.nn.module import Module
from chainrule.tensor import Tensor
from chainrule.train.schema import FORMAT, VERSION, check_metadata, is_int

_PLACEHOLDER = b"0" * 64
MAX_HEADER = 100_000_000  # the largest header safetensors reads (its MAX_HEADER_SIZE)
_FIELD = b'"sha256":"'  # how the digest's key appears in the safetensors header


class CheckpointError(Exception):
    """A checkpoint is missing, damaged, edited, doesn't fit the model, or can't be written."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


# ---- writing ------------------------------------------------------------------------------

_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}
_NOT_A_FOLDER = {errno.ENOTDIR, errno.EEXIST, errno.ENOENT}


def _free_bytes(folder: str) -> int | None:
    while folder and not os.path.isdir(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    try:
        stats = os.statvfs(folder)
    except (OSError, AttributeError):  # no statvfs on Windows
        return None
    return stats.f_bavail * stats.f_frsize


def write_error(path: str | os.PathLike[str], exc: OSError, size: int | None = None
                ) -> CheckpointError:
    """The CheckpointError for a failed write of ``size`` bytes to ``path``: why, and the fix."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    reason = exc.strerror or str(exc)
    kept = (f"the previous {os.path.basename(path)} is unchanged" if os.path.isfile(path)
            else "nothing was written")
    elsewhere = "or write elsewhere (chainrule train --out OTHER_FOLDER)"
    if exc.errno in _NO_SPACE:
        needed = f"{size:,} bytes needed" if size is not None else "more space needed"
        free = _free_bytes(folder)
        if free is not None:
            needed += f", {free:,} bytes free in {folder}"
        fix = ("raise the file size limit (ulimit -f)" if exc.errno == errno.EFBIG
               else "free some space")
        return CheckpointError(f"{path}: could not write ({reason}): {needed}; {kept}. "
                               f"Fix: {fix}, {elsewhere}")
    if exc.errno in _NOT_WRITABLE:
        return CheckpointError(f"{path}: could not write: the folder {folder} is not writable "
                               f"({reason}); {kept}. Fix: make it writable, {elsewhere}")
    if exc.errno in _NOT_A_FOLDER:
        return CheckpointError(f"{path}: could not write: {folder} is not a folder and can't be "
                               f"made one ({reason}); {kept}. Fix: write elsewhere (chainrule "
                               "train --out OTHER_FOLDER)")
    return CheckpointError(f"{path}: could not write ({reason}); {kept}")


def _discard(tmp: str | None) -> None:
    if tmp is not None:
        with contextlib.suppress(OSError):
            os.remove(tmp)


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never half.

    On an OSError (disk full, read-only or missing folder) the temporary file is removed,
    the existing file is left untouched and :class:`CheckpointError` says why and how to fix.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        _discard(tmp)
        raise write_error(path, exc, len(data)) from None
    except BaseException:
        _discard(tmp)
        raise
    try:  # the new file is in place; syncing the folder makes the rename durable
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:  # some file systems can't fsync a folder; the file itself was synced
        pass


def check_writable(folder: str | os.PathLike[str]) -> None:
    """CheckpointError unless a file can be created in ``folder`` (before resuming a run)."""
    folder = os.fspath(folder)
    try:
        fd, probe = tempfile.mkstemp(prefix=".tmp-", dir=folder)
        os.close(fd)
        os.remove(probe)
    except OSError as exc:
        raise CheckpointError(
            f"{folder}: the run folder is not writable ({exc.strerror or exc}); resuming writes "
            "the new checkpoints and metrics there. Fix: continue the run in another folder "
            "(chainrule train --resume RUN --out NEW_FOLDER) or make this one writable"
        ) from None


def optimizer_arrays(optimizer: Any) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Split an optimizer state dict into arrays (for safetensors) and JSON scalars."""
    state = optimizer.state_dict()
    arrays: dict[str, np.ndarray] = {}
    scalars: dict[str, Any] = {"type": type(optimizer).__name__,
                               "param_groups": _jsonable(state["param_groups"]), "state": {}}
    for idx, values in state["state"].items():
        entry = {}
        for key, value in values.items():
            if not isinstance(value, np.ndarray) and array_module(value) is not np:
                value = to_device(value, "cpu")  # a GPU run's buffers (CuPy arrays)
            if isinstance(value, np.ndarray):
                arrays[f"optim/{idx}/{key}"] = value
            else:
                entry[key] = _jsonable(value)
        scalars["state"][str(idx)] = entry
    return arrays, scalars


def encode_checkpoint(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> bytes:
    """The bytes of a checkpoint file: ``arrays`` and ``meta`` (as is), signed."""
    meta = {k: v for k, v in meta.items() if k != "sha256"}
    data = bytearray(save(arrays, metadata={"chainrule": json.dumps(meta),
                                            "sha256": _PLACEHOLDER.decode()}))
    at = data.index(_FIELD + _PLACEHOLDER) + len(_FIELD)
    data[at:at + 64] = hashlib.sha256(data).hexdigest().encode()
    return bytes(data)


def save_checkpoint(path: str | os.PathLike[str], model: Module, optimizer: Any = None,
                    extra: dict[str, Any] | None = None) -> None:
    """Save model (and optimizer) arrays plus ``extra`` JSON metadata, atomically."""
    # np.require, not np.ascontiguousarray: that one turns a 0-d array (batch norm's
    # num_batches_tracked) into shape (1,), which the model then refuses to load
    arrays = {f"model/{k}": np.require(v.numpy(), requirements="C")
              for k, v in model.state_dict().items()}
    meta: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    meta.update({k: v for k, v in _jsonable(extra or {}).items()
                 if k not in ("format", "version", "sha256")})
    if optimizer is not None:
        opt_arrays, meta["optimizer"] = optimizer_arrays(optimizer)
        arrays.update(opt_arrays)
    try:  # a file read_checkpoint would refuse is not written at all
        check_metadata(meta)
    except ValueError as exc:
        raise CheckpointError(f"{os.fspath(path)}: not saved: {exc}") from None
    data = encode_checkpoint(arrays, meta)
    header = int.from_bytes(data[:8], "little")
    if header > MAX_HEADER:
        raise CheckpointError(f"{os.fspath(path)}: not saved: its header (the settings and "
                              f"metrics) would be {header:,} bytes, over the {MAX_HEADER:,} "
                              "a checkpoint may have to be read back")
    atomic_write(path, data)


# ---- reading: digest ------------------------------------------------------------------------

def _corrupt(path: str, detail: str) -> CheckpointError:
    return CheckpointError(f"{path}: not a readable checkpoint (truncated or corrupt "
                           f"safetensors file: {detail})")


def _header(path: str, data: bytes) -> tuple[dict[str, Any], int]:
    """The parsed safetensors header of ``data`` and where the digest's 64 bytes are."""
    if len(data) < 8:
        raise _corrupt(path, f"{len(data)} bytes, less than the 8-byte header size")
    size = int.from_bytes(data[:8], "little")
    if size > len(data) - 8:
        raise _corrupt(path, f"the header claims {size:,} bytes, {len(data) - 8:,} follow")
    raw = data[8:8 + size]
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise _corrupt(path, f"the header is not JSON: {exc}") from None
    end = _data_end(path, header)
    if len(data) != 8 + size + end:
        raise _corrupt(path, f"{len(data):,} bytes, its header describes {8 + size + end:,}")
    metadata = header.get("__metadata__")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("chainrule"), str):
        raise CheckpointError(f"{path}: safetensors file without chainrule metadata (was it "
                              "written by chainrule?)")
    digest = metadata.get("sha256")
    if digest is None:
        raise _unsigned(path, metadata["chainrule"])
    if not isinstance(digest, str) or not re.fullmatch("[0-9a-f]{64}", digest) \
            or raw.count(_FIELD) != 1 or _FIELD + digest.encode() + b'"' not in raw:
        raise CheckpointError(f"{path}: checksum mismatch: the checksum field itself was "
                              "damaged or edited")
    return header, 8 + raw.index(_FIELD) + len(_FIELD)


def _unsigned(path: str, text: str) -> CheckpointError:
    """The error for a file without a whole-file digest: older chainrule, or damaged."""
    with contextlib.suppress(ValueError, RecursionError):
        meta = json.loads(text)
        if isinstance(meta, dict) and meta.get("format") == FORMAT and meta.get("version") == 1:
            return CheckpointError(
                f"{path}: written by an older chainrule (checkpoint format version 1, whose "
                "checksum covered only the arrays, not the settings); this chainrule reads "
                f"version {VERSION} only, to be sure no byte was changed. Fix: train again "
                "with this version (or use the older chainrule for this file)")
    return CheckpointError(f"{path}: checksum mismatch: the file has no checksum field "
                           "(damaged, edited, or not written by chainrule)")


def _expected_size(path: str, f: Any) -> int:
    """The file's size, once its first bytes show it is as large as its header says and
    that reading it fits the memory limit; ``f`` is left at the start.

    Only the 8-byte length and the header are read here: a checkpoint padded to gigabytes,
    or one whose header describes gigabytes of arrays, is refused before its data is read.
    """
    size = os.fstat(f.fileno()).st_size
    head = f.read(8)
    if len(head) < 8:
        raise _corrupt(path, f"{len(head)} bytes, less than the 8-byte header size")
    length = int.from_bytes(head, "little")
    if length > size - 8:
        raise _corrupt(path, f"the header claims {length:,} bytes, {size - 8:,} follow")
    if length > MAX_HEADER:
        raise _corrupt(path, f"the header claims {length:,} bytes, over the "
                             f"{MAX_HEADER:,} safetensors allows")
    try:
        header = json.loads(f.read(length))
    except (ValueError, RecursionError) as exc:
        raise _corrupt(path, f"the header is not JSON: {exc}") from None
    expected = 8 + length + _data_end(path, header)
    if size != expected:
        raise _corrupt(path, f"{size:,} bytes, its header describes {expected:,}")
    try:  # the file's bytes, then the arrays copied out of them: about twice its size
        check_memory(f"{path}: reading this {size:,}-byte checkpoint (its bytes and the "
                     "arrays copied from them)", 2 * size)
    except MemoryLimitError as exc:
        raise CheckpointError(str(exc)) from None
    f.seek(0)
    return size


def _data_end(path: str, header: Any) -> int:
    """Where the header's last array ends, counted from the end of the header."""
    if not isinstance(header, dict):
        raise _corrupt(path, "the header is not a JSON object")
    end = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        offsets = info.get("data_offsets") if isinstance(info, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2
                and all(is_int(o) and o >= 0 for o in offsets)):
            raise _corrupt(path, f"tensor {name!r:.60} has no valid data_offsets")
        end = max(end, offsets[1])
    return end


def read_checkpoint(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """All arrays and the metadata, verified; CheckpointError with the reason otherwise."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: no checkpoint there (expected a .safetensors file "
                              "written by chainrule train)")
    try:
        with open(path, "rb") as f:
            size = _expected_size(path, f)
            data = f.read(size + 1)  # one byte more: a file that grew since is refused below
    except OSError as exc:
        raise CheckpointError(f"{path}: can't read it ({exc.strerror or exc})") from None
    header, at = _header(path, data)
    view = memoryview(data)
    digest = hashlib.sha256(view[:at])
    digest.update(_PLACEHOLDER)
    digest.update(view[at + 64:])
    if not hmac.compare_digest(digest.hexdigest().encode(), data[at:at + 64]):
        raise CheckpointError(f"{path}: checksum mismatch: the file was changed after it was "
                              "written (damaged or edited; the checksum covers every byte, "
                              "the settings included)")
    try:
        meta = json.loads(header["__metadata__"]["chainrule"])
    except (ValueError, RecursionError) as exc:
        raise CheckpointError(f"{path}: the chainrule metadata is not JSON: {exc}") from None
    try:
        check_metadata(meta)
    except ValueError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    try:
        arrays: dict[str, np.ndarray] = dict(sorted(load(data).items()))  # in name order
    except (SafetensorError, ValueError, TypeError, OverflowError) as exc:
        raise _corrupt(path, str(exc)) from None
    for name in arrays:
        if not (name.startswith("model/") and len(name) > 6
                or re.fullmatch(r"optim/[0-9]+/.+", name)):
            raise CheckpointError(f"{path}: unexpected array {name!r:.60} (expected model/<name> "
                                  "or optim/<index>/<key>)")
    meta["sha256"] = data[at:at + 64].decode()
    return arrays, meta


_TRAINING_KEYS = ("epoch", "step", "metrics", "best_value", "best_epoch", "partial", "rng",
                  "loader", "scheduler")


def check_resumable(path: str | os.PathLike[str], meta: dict[str, Any],
                    optimizer: bool = True) -> None:
    """CheckpointError unless ``meta`` (already checked) holds a whole training state."""
    needed = _TRAINING_KEYS + (("optimizer",) if optimizer else ())
    missing = [key for key in needed if key not in meta]
    if missing:
        raise CheckpointError(
            f"{os.fspath(path)}: not a training checkpoint: it has no {', '.join(missing)} "
            "(a best-epoch file holds only the weights). Fix: resume from the run's "
            "checkpoint.safetensors")
    if not isinstance(meta["metrics"], list):
        raise CheckpointError(f"{os.fspath(path)}: metadata 'metrics': expected a list of "
                              f"metrics rows, found {meta['metrics']!r:.80}")


@contextlib.contextmanager
def restoring(path: str | os.PathLike[str], key: str) -> Iterator[None]:
    """Turn a ``load_state_dict``'s complaint about metadata ``key`` into CheckpointError."""
    try:
        yield
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise CheckpointError(f"{os.fspath(path)}: metadata {key!r} does not fit: "
                              f"{exc}") from None


# ---- applying -------------------------------------------------------------------------------

def restore_optimizer(optimizer: Any, arrays: dict[str, np.ndarray], scalars: dict[str, Any],
                      path: str | os.PathLike[str] = "checkpoint") -> None:
    """Load an optimizer from :func:`optimizer_arrays`' two halves (checked by the optimizer)."""
    if scalars["type"] != type(optimizer).__name__:
        raise CheckpointError(f"{os.fspath(path)}: holds the state of {scalars['type']}, this "
                              f"optimizer is {type(optimizer).__name__}. Fix: resume with the "
                              "same optimizer")
    state: dict[int, dict[str, Any]] = {int(k): dict(v) for k, v in scalars["state"].items()}
    for name, value in arrays.items():
        _, idx, key = name.split("/", 2)
        state.setdefault(int(idx), {})[key] = value
    with restoring(path, "optimizer"):
        optimizer.load_state_dict({"state": state, "param_groups": scalars["param_groups"]})


def load_checkpoint(path: str | os.PathLike[str], model: Module, optimizer: Any = None
                    ) -> dict[str, Any]:
    """Load weights (and optimizer state) in place; return the metadata."""
    arrays, meta = read_checkpoint(path)
    return apply_checkpoint(path, arrays, meta, model, optimizer)


def apply_checkpoint(path: str | os.PathLike[str], arrays: dict[str, np.ndarray],
                     meta: dict[str, Any], model: Module, optimizer: Any = None
                     ) -> dict[str, Any]:
    """Put arrays already read by :func:`read_checkpoint` into ``model`` (and ``optimizer``)."""
    state = {k[len("model/"):]: Tensor._wrap(v) for k, v in arrays.items()
             if k.startswith("model/")}
    from chainrule.nn.module import StateDictError

    try:
        model.load_state_dict(state)
    except StateDictError as exc:
        raise CheckpointError(f"{os.fspath(path)} does not fit this model:\n{exc}") from None
    if optimizer is not None and "optimizer" in meta:
        restore_optimizer(optimizer, {k: v for k, v in arrays.items() if k.startswith("optim/")},
                          meta["optimizer"], path)
    return meta
