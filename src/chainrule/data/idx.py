"""The IDX format (MNIST's files), read by streaming and validated at every step.

Layout: two zero bytes, a dtype code, the number of dims; then each dim as a
big-endian uint32; then the values, big-endian, row-major. Any corruption
(wrong magic, unknown dtype, impossible dims, truncated data, trailing bytes,
bad gzip) raises :class:`DatasetError` naming the file, what was expected and
what was found. Nothing is allocated from the header's claims: the bytes the
header claims (and any copy the caller says it will make) are checked against
the memory limit (:mod:`chainrule.limits`) before any data is read, then the
data is read in chunks and must end exactly where the header says.

>>> import gzip, io, numpy as np, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "tiny-idx1-ubyte.gz")
>>> with gzip.open(path, "wb") as f:
...     _ = f.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
>>> read_idx(path).tolist()
[7, 8, 9]
"""

from __future__ import annotations

import contextlib
import gzip
import math
import os
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np

from chainrule.limits import MemoryLimitError, check_memory
from chainrule.paths import what_is_at

DTYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}
MAX_DIMS = 8
CHUNK = 1 << 20


class DatasetError(Exception):
    """A data file is missing, corrupt or inconsistent; the message says which and how."""


def _fail(path: str, expected: str, found: str) -> DatasetError:
    return DatasetError(f"{path}: expected {expected}, found {found}")


def _open(path: str) -> BinaryIO:
    with open(path, "rb") as probe:
        head = probe.read(2)
    if head == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _read_exact(stream: BinaryIO, n: int, path: str, what: str) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise _fail(path, f"{n} bytes of {what}", f"only {len(data)} (file truncated)")
    return data


def read_idx(path: str | os.PathLike[str], max_bytes: int | str | None = None,
             copy_itemsize: int = 0) -> np.ndarray:
    """Read an IDX file (raw or gzip) into a native-endian array; raise DatasetError if bad.

    Before reading the data, the bytes the header claims are checked against the memory
    limit (``max_bytes``; None: ``$CHAINRULE_MAX_MEMORY`` or 4 GiB, see
    :mod:`chainrule.limits`). A caller that will copy every value (MNISTLike makes float32
    images: ``copy_itemsize=4``) passes the copy's item size so the check covers it too.
    """
    path = os.fspath(path)
    with _reading(path) as stream:
        return _read_stream(stream, path, max_bytes, copy_itemsize)


def claimed_bytes(path: str | os.PathLike[str], copy_itemsize: int = 0
                  ) -> tuple[int, tuple[int, ...], np.dtype[Any]]:
    """(bytes, shape, dtype) the header of an IDX file claims, reading only the header.

    The bytes are the values' and, with ``copy_itemsize``, those of the copy a caller makes
    of them (float32 images: 4). A header :func:`read_idx` would refuse raises the same
    DatasetError; nothing after the header is read, whatever size it claims.
    """
    path = os.fspath(path)
    with _reading(path) as stream:
        dtype, shape = _header(stream, path)
    count = math.prod(shape)
    return count * (dtype.itemsize + copy_itemsize), shape, dtype


@contextlib.contextmanager
def _reading(path: str) -> Iterator[BinaryIO]:
    """The file's stream (raw or gzip); every way reading it can fail is a DatasetError."""
    if not os.path.isfile(path):
        raise DatasetError(f"{path}: expected an IDX file, found {what_is_at(path)}")
    try:
        with _open(path) as stream:
            yield stream
    except DatasetError:
        raise
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise _fail(path, "a readable IDX file (raw or gzip)", f"{type(exc).__name__}: {exc}"
                    ) from None


def _header(stream: BinaryIO, path: str) -> tuple[np.dtype[Any], tuple[int, ...]]:
    """The dtype and shape of the header (4 + 4 * ndim bytes), validated."""
    magic = _read_exact(stream, 4, path, "header")
    if magic[0] != 0 or magic[1] != 0:
        raise _fail(path, "magic number starting with two zero bytes",
                    f"0x{magic.hex()} (not an IDX file, or a damaged one)")
    if magic[2] not in DTYPES:
        raise _fail(path, f"dtype code in {sorted(hex(c) for c in DTYPES)}", hex(magic[2]))
    ndim = magic[3]
    if not 1 <= ndim <= MAX_DIMS:
        raise _fail(path, f"1 to {MAX_DIMS} dimensions", str(ndim))
    dims = np.frombuffer(_read_exact(stream, 4 * ndim, path, "dimensions"), dtype=">u4")
    return DTYPES[magic[2]], tuple(int(d) for d in dims)


def _read_stream(stream: BinaryIO, path: str, max_bytes: int | str | None,
                 copy_itemsize: int) -> np.ndarray:
    dtype, shape = _header(stream, path)
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    what = f"{path}: the header's dims {shape} of {dtype.name}"
    if copy_itemsize:
        what += f" (with the {copy_itemsize}-byte-per-value copy made of them)"
    try:
        check_memory(what, nbytes + count * copy_itemsize, max_bytes)
    except MemoryLimitError as exc:
        raise DatasetError(str(exc)) from None
    buffer = bytearray()
    while len(buffer) < nbytes:
        chunk = stream.read(min(CHUNK, nbytes - len(buffer)))
        if not chunk:
            raise _fail(path, f"{nbytes} bytes of data for dims {shape}",
                        f"{len(buffer)} (file truncated)")
        buffer += chunk
    extra = stream.read(1)
    if extra:
        raise _fail(path, f"the file to end after {nbytes} bytes of data for dims {shape}",
                    "trailing bytes")
    array = np.frombuffer(buffer, dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def read_idx_pair(images_path: str, labels_path: str, num_classes: int = 10,
                  max_bytes: int | str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, H, W) and labels (N,) that belong together: counts and label range checked.

    The memory check on the images counts the float32 copy every user of the pair makes.
    """
    images = read_idx(images_path, max_bytes, copy_itemsize=4)
    labels = read_idx(labels_path, max_bytes)
    if images.ndim != 3:
        raise _fail(images_path, "images with 3 dims (count, rows, cols)", f"shape {images.shape}")
    if images.shape[0] == 0:
        raise _fail(images_path, "at least one image", f"a header claiming 0 images "
                    f"(dims {images.shape})")
    if labels.ndim != 1:
        raise _fail(labels_path, "labels with 1 dim", f"shape {labels.shape}")
    if images.shape[0] != labels.shape[0]:
        raise _fail(labels_path, f"{images.shape[0]} labels (one per image in {images_path})",
                    str(labels.shape[0]))
    check_finite(images_path, images)
    if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise _fail(labels_path, f"labels in 0..{num_classes - 1}",
                    f"values from {int(labels.min())} to {int(labels.max())}")
    return images, labels.astype(np.int64)


def check_finite(path: str, images: np.ndarray) -> None:
    """DatasetError naming ``path`` if float images hold NaN or infinity (they would reach a
    model's predictions, or its loss, as NaN)."""
    if images.dtype.kind == "f" and not np.isfinite(images).all():
        bad = "NaN" if np.isnan(images).any() else "infinity"
        raise _fail(path, "finite pixel values", f"{bad} in the images")


def write_idx(path: str, array: Any, compress: bool | None = None) -> None:
    """Write ``array`` as IDX (gzip when the name ends in .gz): the inverse of read_idx."""
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in DTYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"write_idx: unsupported dtype {array.dtype}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + array.astype(DTYPES[code], copy=False).tobytes()
    use_gzip = path.endswith(".gz") if compress is None else compress
    if use_gzip:
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
            f.write(payload)
    else:
        with open(path, "wb") as f:
            f.write(payload)
