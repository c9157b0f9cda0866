"""Checkpoints: one safetensors file holding every array, with JSON metadata for the rest.

Inside: the model's state dict (``model/<name>``), the optimizer's arrays
(``optim/<param>/<key>``) and, as JSON in the metadata, the optimizer's scalars and
param groups, the scheduler, the random-number generators, epoch, step, the data
loader's position, metrics so far, the full config and a SHA-256 of all array bytes.
No pickle anywhere. Files are written atomically: a temporary file in the same
folder, fsync, ``os.replace``, fsync of the folder; mode 0644.

>>> import chainrule as cr, tempfile, os
>>> model = cr.nn.Linear(2, 1)
>>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
>>> save_checkpoint(path, model, extra={"epoch": 3})
>>> load_checkpoint(path, model)["epoch"]
3
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from typing import Any

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save

from chainrule.nn.module import Module
from chainrule.tensor import Tensor

FORMAT = "chainrule-checkpoint"
VERSION = 1


class CheckpointError(Exception):
    """A checkpoint is missing, truncated, tampered with, or doesn't fit the model."""


def _digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        h.update(name.encode())
        h.update(np.ascontiguousarray(arrays[name]).tobytes())
    return h.hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never half."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def optimizer_arrays(optimizer: Any) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Split an optimizer state dict into arrays (for safetensors) and JSON scalars."""
    state = optimizer.state_dict()
    arrays: dict[str, np.ndarray] = {}
    scalars: dict[str, Any] = {"param_groups": _jsonable(state["param_groups"]), "state": {}}
    for idx, values in state["state"].items():
        entry = {}
        for key, value in values.items():
            if isinstance(value, np.ndarray):
                arrays[f"optim/{idx}/{key}"] = value
            else:
                entry[key] = _jsonable(value)
        scalars["state"][str(idx)] = entry
    return arrays, scalars


def restore_optimizer(optimizer: Any, arrays: dict[str, np.ndarray], scalars: dict[str, Any]
                      ) -> None:
    state: dict[int, dict[str, Any]] = {int(k): dict(v) for k, v in scalars["state"].items()}
    for name, value in arrays.items():
        _, idx, key = name.split("/", 2)
        state.setdefault(int(idx), {})[key] = value
    groups = scalars["param_groups"]
    for group in groups:
        if "betas" in group:
            group["betas"] = tuple(group["betas"])
    try:
        optimizer.load_state_dict({"state": state, "param_groups": groups})
    except (ValueError, IndexError, KeyError) as exc:
        raise CheckpointError(f"optimizer state does not fit this model: {exc}") from None


def save_checkpoint(path: str | os.PathLike[str], model: Module, optimizer: Any = None,
                    extra: dict[str, Any] | None = None) -> None:
    """Save model (and optimizer) arrays plus ``extra`` JSON metadata, atomically."""
    arrays = {f"model/{k}": np.ascontiguousarray(v.numpy())
              for k, v in model.state_dict().items()}
    meta: dict[str, Any] = {"format": FORMAT, "version": VERSION, **_jsonable(extra or {})}
    if optimizer is not None:
        opt_arrays, meta["optimizer"] = optimizer_arrays(optimizer)
        arrays.update(opt_arrays)
    meta["sha256"] = _digest(arrays)
    atomic_write(path, save(arrays, metadata={"chainrule": json.dumps(meta)}))


def read_checkpoint(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """All arrays and the metadata, verified; CheckpointError with the reason otherwise."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: no checkpoint there (expected a .safetensors file "
                              "written by chainrule train)")
    try:
        arrays: dict[str, np.ndarray] = {}
        with safe_open(path, framework="np") as f:
            raw_meta = f.metadata() or {}
            for name in f.keys():
                arrays[name] = f.get_tensor(name)
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint (truncated or corrupt "
                              f"safetensors file: {exc})") from None
    try:
        meta = json.loads(raw_meta["chainrule"])
    except (KeyError, json.JSONDecodeError):
        raise CheckpointError(f"{path}: safetensors file without chainrule metadata (was it "
                              "written by chainrule?)") from None
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise CheckpointError(f"{path}: expected {FORMAT} version {VERSION}, found "
                              f"{meta.get('format')} version {meta.get('version')}")
    if meta.get("sha256") != _digest(arrays):
        raise CheckpointError(f"{path}: checksum mismatch: the arrays were modified after the "
                              "checkpoint was written (tampered or damaged file)")
    return arrays, meta


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
                          meta["optimizer"])
    return meta
