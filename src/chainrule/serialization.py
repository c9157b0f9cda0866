"""``save`` / ``load``: PyTorch's ``torch.save`` and ``torch.load`` for state dicts, without
pickle.

``save(obj, path)`` writes one safetensors file under exactly the name given: every tensor
(and NumPy array) of ``obj`` is an entry, and the structure around them (dicts, lists,
tuples, numbers, strings, None: a model's or an optimizer's ``state_dict()``, an epoch
counter, ...) is JSON in the file's metadata. A flat dict of tensors (a model's state dict)
keeps its keys as the entry names, so the file is also an ordinary safetensors state dict.
``load(path)`` gives the object back with Tensors (NumPy arrays stay arrays, as in an
optimizer's state). Nothing is ever unpickled, so loading a file cannot run code; a file
written by PyTorch's ``torch.save`` (a pickle) is refused with the way to convert it.

>>> import chainrule as cr, io
>>> model = cr.nn.Linear(2, 1)
>>> buffer = io.BytesIO()
>>> cr.save({"model": model.state_dict(), "epoch": 3}, buffer)
>>> state = cr.load(io.BytesIO(buffer.getvalue()), weights_only=True)
>>> state["epoch"], sorted(state["model"])
(3, ['bias', 'weight'])
>>> model.load_state_dict(state["model"])
<All keys matched successfully>
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections import OrderedDict
from typing import IO, Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as load_arrays
from safetensors.numpy import save as save_arrays

from chainrule.backend import Device, get_device, to_device
from chainrule.backend.device import check_available
from chainrule.tensor import Tensor
from chainrule.wording import article

FORMAT = "chainrule.save"
VERSION = "1"
_PICKLE_FILE = (
    "{name} was written by PyTorch's torch.save: a pickle{kind}. chainrule never unpickles "
    "files, since unpickling can run any code the file holds. Convert it once where PyTorch "
    "is installed: `from safetensors.torch import save_file; save_file(torch.load({name!r}, "
    "weights_only=True), 'model.safetensors')` (for a state dict of tensors), then "
    "chainrule.load('model.safetensors')"
)


class _Writer:
    """Turns ``obj`` into JSON-able structure plus named arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.names: dict[int, str] = {}  # id of a tensor or array already written -> entry

    def entry(self, value: Any, path: str) -> str:
        known = self.names.get(id(value))
        if known is not None:
            return known
        name, n = path or "tensor", 1
        while name in self.arrays:
            n += 1
            name = f"{path}#{n}"
        array = value._data if isinstance(value, Tensor) else value
        array = to_device(array, "cpu")
        if not array.flags.c_contiguous:
            array = array.copy(order="C")  # (np.ascontiguousarray turns 0-d into 1-d)
        self.arrays[name] = array
        self.names[id(value)] = name
        return name

    def encode(self, value: Any, path: str) -> Any:
        if isinstance(value, Tensor):
            spec: dict[str, Any] = {"tensor": self.entry(value, path)}
            device = get_device(value._data)
            if device.type != "cpu":
                spec["device"] = str(device)
            if value.requires_grad:
                spec["requires_grad"] = True
            return spec
        if isinstance(value, np.ndarray):
            return {"ndarray": self.entry(value, path)}
        if value is None or isinstance(value, (bool, str, int)):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else {"float": repr(value)}
        if isinstance(value, np.generic):
            return self.encode(value.item(), path)
        if isinstance(value, dict):
            keys = [_key(k, path) for k in value]
            items = [[k, self.encode(v, f"{path}.{k}" if path else str(k))]
                     for k, v in zip(keys, value.values(), strict=True)]
            return {"ordered_dict" if isinstance(value, OrderedDict) else "dict": items}
        if isinstance(value, (list, tuple)):
            items = [self.encode(v, f"{path}.{i}" if path else str(i))
                     for i, v in enumerate(value)]
            return items if isinstance(value, list) else {"tuple": items}
        raise TypeError(_unsupported(value, path))


def _key(key: Any, path: str) -> Any:
    if key is None or isinstance(key, (bool, str, int, float)):
        return key
    raise TypeError(f"save(): the dict at {path or 'the top'} has a key of type "
                    f"{type(key).__name__} ({key!r:.40}); keys must be strings or numbers")


def _unsupported(value: Any, path: str) -> str:
    where = f" at {path}" if path else ""
    text = (f"save(): cannot save {article(type(value).__name__)}{where}: chainrule saves tensors, "
            "NumPy arrays, numbers, strings, None and dicts, lists and tuples of them, "
            "without pickle")
    if hasattr(value, "state_dict"):
        text += (f". Save its state instead, save(obj.state_dict(), path), and after "
                 f"building the {type(value).__name__} again, obj.load_state_dict(load(path))")
    return text


def save(obj: Any, f: str | os.PathLike[str] | IO[bytes], **kwargs: Any) -> None:
    """Write ``obj`` (a state dict, or dicts/lists of tensors, arrays, numbers and strings)
    to the file ``f`` (a path, used as given, or a binary file object).

    PyTorch's pickle-only options (``pickle_module``, ``pickle_protocol``,
    ``_use_new_zipfile_serialization``) are accepted and do nothing.
    """
    writer = _Writer()
    structure = writer.encode(obj, "")
    metadata = {"format": FORMAT, "version": VERSION, "structure": json.dumps(structure)}
    data = save_arrays(writer.arrays, metadata=metadata)
    if hasattr(f, "write"):
        f.write(data)
        return
    with open(f, "wb") as out:
        out.write(data)


def _read(f: Any) -> tuple[bytes, str]:
    if hasattr(f, "read"):
        return f.read(), str(getattr(f, "name", "the file"))
    with open(f, "rb") as source:
        return source.read(), os.fspath(f)


def _metadata(data: bytes, name: str) -> dict[str, str] | None:
    """The safetensors header's metadata (None when it has none); errors name the file."""
    if data[:4] == b"PK\x03\x04":
        raise RuntimeError(_PICKLE_FILE.format(name=name, kind=" inside a zip archive"))
    if data[:1] == b"\x80":
        raise RuntimeError(_PICKLE_FILE.format(name=name, kind=" (the legacy format)"))
    if len(data) < 8:
        raise RuntimeError(f"load(): {name} is not a safetensors file ({len(data)} bytes)")
    (size,) = struct.unpack("<Q", data[:8])
    try:
        header = json.loads(data[8:8 + size])
    except (ValueError, UnicodeDecodeError):
        raise RuntimeError(f"load(): {name} is not a safetensors file (no valid header); "
                           "chainrule.load reads files written by chainrule.save or "
                           "safetensors") from None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    return meta if isinstance(meta, dict) else None


def _target(saved: str, map_location: Any) -> Device:
    if map_location is None:
        return Device(saved)
    if isinstance(map_location, dict):
        return Device(map_location.get(saved, saved))
    if callable(map_location) and not isinstance(map_location, (str, Device)):
        raise TypeError("load(): map_location as a function is not supported; pass a device "
                        "('cpu', 'cuda'), a chainrule.device or a dict {'cuda:0': 'cpu'}")
    return Device(map_location)


class _Reader:
    def __init__(self, arrays: dict[str, np.ndarray], map_location: Any, name: str) -> None:
        self.arrays, self.map_location, self.name = arrays, map_location, name
        self.made: dict[str, Tensor] = {}  # one Tensor per entry (shared ones stay shared)

    def array(self, entry: Any) -> np.ndarray:
        if not isinstance(entry, str) or entry not in self.arrays:
            raise RuntimeError(f"load(): {self.name}: the structure names an entry "
                               f"{entry!r:.60} that the file does not hold")
        return self.arrays[entry]

    def decode(self, spec: Any) -> Any:
        if spec is None or isinstance(spec, (bool, str, int, float)):
            return spec
        if isinstance(spec, list):
            return [self.decode(v) for v in spec]
        if isinstance(spec, dict) and len(spec) >= 1:
            if "tensor" in spec:
                return self.tensor(spec)
            if "ndarray" in spec:
                return self.array(spec["ndarray"])
            if "float" in spec:
                return float(spec["float"])
            if "tuple" in spec:
                return tuple(self.decode(v) for v in spec["tuple"])
            for kind, cls in (("dict", dict), ("ordered_dict", OrderedDict)):
                if kind in spec:
                    return cls((k, self.decode(v)) for k, v in spec[kind])
        raise RuntimeError(f"load(): {self.name}: unexpected structure {spec!r:.80}")

    def tensor(self, spec: dict[str, Any]) -> Tensor:
        entry = spec["tensor"]
        if entry in self.made:
            return self.made[entry]
        device = _target(str(spec.get("device", "cpu")), self.map_location)
        check_available(device, f"load(): {self.name} holds tensors saved on "
                        f"{spec.get('device', 'cpu')!r}; pass map_location='cpu' to load "
                        f"them on the CPU. Loading one on '{device}'")
        t = Tensor._wrap(to_device(self.array(entry), device))
        if spec.get("requires_grad"):
            t.requires_grad_(True)
        self.made[entry] = t
        return t


def load(f: str | os.PathLike[str] | IO[bytes], map_location: Any = None,
         weights_only: bool | None = None, mmap: bool | None = None, **kwargs: Any) -> Any:
    """Read what :func:`save` wrote (or any safetensors file: a dict of its tensors).

    ``map_location`` puts the tensors on a device ('cpu', 'cuda', a chainrule.device, or a
    dict from the saved device to another); by default each goes back where it was saved.
    ``weights_only`` is accepted: chainrule's files hold no code whatever it says.
    """
    data, name = _read(f)
    meta = _metadata(data, name)
    try:
        arrays = load_arrays(data)
    except SafetensorError as err:
        raise RuntimeError(f"load(): {name} is not a valid safetensors file: {err}") from None
    if meta is None or meta.get("format") != FORMAT:
        reader = _Reader(arrays, map_location, name)  # a plain safetensors state dict
        return OrderedDict((key, reader.tensor({"tensor": key})) for key in arrays)
    if meta.get("version") != VERSION:
        raise RuntimeError(f"load(): {name} was saved in format version {meta.get('version')}"
                           f", this chainrule reads version {VERSION}")
    return _Reader(arrays, map_location, name).decode(json.loads(meta["structure"]))
