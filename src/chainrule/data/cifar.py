"""CIFAR-10 from its binary version: 60,000 colour images of 32x32 pixels in 10 classes.

The files (Krizhevsky 2009, https://www.cs.toronto.edu/~kriz/cifar.html) are
``data_batch_1.bin`` .. ``data_batch_5.bin`` (training, 10,000 images each) and
``test_batch.bin``; each is a run of 3,073-byte records: one label byte (0-9), then the
3,072 pixel bytes of the red, green and blue 32x32 planes, row by row. In each folder
searched they are found as the files themselves, in the ``cifar-10-batches-bin/`` folder
the archive unpacks to, or inside the archive ``cifar-10-binary.tar.gz``, which is read
without unpacking it once its SHA-256 matches the official archive's. The "python
version" of the files is never read: it is pickled, and unpickling runs code.

Every file is checked before its data is read: a size that is not a whole number of
records (truncated, or not CIFAR-10), no record at all, or more bytes than the memory
limit (:mod:`chainrule.limits`) allows; then every label must be 0-9.

>>> import tempfile
>>> folder = tempfile.TemporaryDirectory()
>>> write_batches(folder.name, np.zeros((4, 3, 32, 32), np.uint8), np.arange(4))
>>> ds = CIFAR10(folder.name, train=False)
>>> len(ds), ds.arrays[0].shape, ds.arrays[0].dtype, ds.targets.tolist()
(4, (4, 3, 32, 32), dtype('float32'), [0, 1, 2, 3])
>>> folder.cleanup()
"""

from __future__ import annotations

import contextlib
import os
import tarfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.data.datasets import SOURCES, MNISTLike, fetch, search_path, sha256_of
from chainrule.data.idx import DatasetError
from chainrule.limits import MemoryLimitError, check_memory, format_size
from chainrule.paths import what_is_at

NAME = "cifar10"
PIXELS = 3 * 32 * 32
RECORD = 1 + PIXELS
FILES = {True: tuple(f"data_batch_{i}.bin" for i in range(1, 6)), False: ("test_batch.bin",)}
ALL_FILES = FILES[True] + FILES[False]
FOLDER = "cifar-10-batches-bin"  # the archive's folder
ARCHIVE = "cifar-10-binary.tar.gz"
ARCHIVE_SHA256 = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"
ARCHIVE_BYTES = 170_052_171
OFFICIAL_RECORDS = {True: 50_000, False: 10_000}
PICKLED = ("cifar-10-batches-py", "cifar-10-python.tar.gz")
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck")


def _copy_bytes(records: int, float_bytes: int = 4) -> int:
    """Bytes besides the file's own that reading ``records`` makes: the joined records, the
    float32 images (``float_bytes`` per pixel: 12 with a float64 copy) and int64 labels."""
    return records * (RECORD + float_bytes * PIXELS + 8)


def source(folder: str | os.PathLike[str], splits: tuple[bool, ...] = (True, False)
           ) -> Path | None:
    """Where in ``folder`` the files of ``splits`` are: ``folder`` or its
    ``cifar-10-batches-bin`` (holding the .bin files), or the archive; None if it holds
    none of these. A folder with some of the files but not all, or one that is not a
    regular file, is a DatasetError naming the folder and each such file."""
    folder = Path(folder)
    for place in (folder, folder / FOLDER):
        present = [name for name in ALL_FILES if os.path.lexists(place / name)]
        if not present:
            continue
        needed = [name for train in splits for name in FILES[train]]
        missing = [name for name in needed if not os.path.lexists(place / name)]
        broken = [f"{name} is {what_is_at(place / name)}" for name in needed
                  if name not in missing and not os.path.isfile(place / name)]
        if missing or broken:
            problems = ([f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} "
                         "missing"] if missing else []) + broken
            raise DatasetError(f"{NAME} in {place} cannot be used: {'; '.join(problems)}; "
                               "put the missing files there or fix the broken ones")
        return place
    archive = folder / ARCHIVE
    if os.path.lexists(archive):
        if not os.path.isfile(archive):
            raise DatasetError(f"{NAME} in {folder} cannot be used: {ARCHIVE} is "
                               f"{what_is_at(archive)}")
        return archive
    return None


def locate(folders: list[Path], splits: tuple[bool, ...] = (True, False)
           ) -> tuple[Path, Path] | None:
    """(folder, :func:`source` in it) of the first of ``folders`` that holds CIFAR-10."""
    for folder in folders:
        place = source(folder, splits)
        if place is not None:
            return folder, place
    return None


def find_set(name: str, folders: list[Path], splits: tuple[bool, ...] = (True, False)
             ) -> Path | None:
    """The first of ``folders`` holding CIFAR-10 (its files or archive), as
    :func:`chainrule.data.datasets.find_set` does for IDX sets; None if none does."""
    found = locate(folders, splits)
    return None if found is None else found[0]


def pickled_note(folders: list[Path]) -> str:
    """'' or a sentence saying that a folder holds the pickled version, never read."""
    for folder in folders:
        for name in PICKLED:
            if os.path.lexists(folder / name):
                return (f" ({folder / name} is the pickled Python version, which chainrule "
                        f"never reads: unpickling can run code; use the binary version, "
                        f"{ARCHIVE})")
    return ""


def claimed_bytes(folder: str | os.PathLike[str], splits: tuple[bool, ...],
                  float_bytes: int = 4) -> tuple[int, str]:
    """Bytes reading ``splits`` from ``folder`` takes, from the files' sizes alone (the
    official archive: its known record counts), and what they are; ``float_bytes``: the
    bytes per pixel of the images' float copies (4: float32; 12: and a float64 copy)."""
    place = source(folder, splits)
    if place is None:
        raise DatasetError(f"{folder}: expected {NAME}'s files or {ARCHIVE}, found neither")
    if place.name == ARCHIVE:
        size = os.path.getsize(place)
        names = tuple(name for train in splits for name in FILES[train])
        if size == ARCHIVE_BYTES:  # the official archive's counts (its SHA-256 is checked
            records = sum(OFFICIAL_RECORDS[train] for train in splits)  # before reading)
        else:  # another archive: its members' headers say (each is checked when read)
            records = sum(_records_in(f"{place}: {member}", nbytes)
                          for member, nbytes in _member_sizes(place, names).items())
        nbytes = records * RECORD + _copy_bytes(records, float_bytes)  # the members' bytes
        return nbytes, f"{place} {format_size(nbytes)} ({records:,} images, unpacked)"
    total, parts = 0, []
    for train in splits:
        for name in FILES[train]:
            path = place / name
            records = _records_in(str(path), os.path.getsize(path))
            nbytes = records * RECORD + _copy_bytes(records, float_bytes)
            total += nbytes
            parts.append(f"{path} {format_size(nbytes)} ({records:,} images)")
    return total, ", ".join(parts)


def _records_in(path: str, size: int) -> int:
    if size == 0 or size % RECORD:
        found = "an empty file" if size == 0 else (
            f"{size:,} bytes ({size // RECORD:,} record{'' if size // RECORD == 1 else 's'} "
            f"and {size % RECORD:,} bytes more)")
        raise DatasetError(f"{path}: expected a whole number of {RECORD:,}-byte records (1 "
                           f"label byte, {PIXELS:,} pixel bytes), found {found}: the file is "
                           "truncated, or not a CIFAR-10 binary batch")
    return size // RECORD


def _check_limit(what: str, nbytes: int, max_bytes: int | str | None) -> None:
    try:
        check_memory(what, nbytes, max_bytes)
    except MemoryLimitError as exc:
        raise DatasetError(str(exc)) from None


def _parse(path: str, data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 3, 32, 32) uint8, labels (N,) uint8) of one batch file's bytes."""
    records = np.frombuffer(data, np.uint8).reshape(-1, RECORD)
    labels = records[:, 0]
    bad = np.flatnonzero(labels > 9)
    if len(bad):
        raise DatasetError(f"{path}: expected labels 0-9 (the first byte of each "
                           f"{RECORD:,}-byte record), found {int(labels[bad[0]])} in record "
                           f"{int(bad[0])}: not a CIFAR-10 binary batch (CIFAR-100's records "
                           "have 2 label bytes)")
    return records[:, 1:].reshape(-1, 3, 32, 32), labels


def read_files(folder: str | os.PathLike[str], names: tuple[str, ...],
               max_bytes: int | str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of the batch files ``names`` in ``folder``, validated."""
    paths = [str(Path(folder) / name) for name in names]
    sizes = []
    for path in paths:
        if not os.path.isfile(path):
            raise DatasetError(f"{path}: expected a CIFAR-10 batch file, found "
                               f"{what_is_at(path)}")
        sizes.append(os.path.getsize(path))
    records = sum(_records_in(path, size) for path, size in zip(paths, sizes, strict=True))
    _check_limit(f"{', '.join(paths)} ({records:,} images)", sum(sizes) + _copy_bytes(records),
                 max_bytes)
    parts = []
    for path, size in zip(paths, sizes, strict=True):
        with open(path, "rb") as f:
            data = f.read(size + 1)
        if len(data) != size:  # changed while being read
            raise DatasetError(f"{path}: expected {size:,} bytes, read {len(data):,} (the file "
                               "changed while being read)")
        parts.append(_parse(path, data))
    return _joined(parts)


def _joined(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    if len(parts) == 1:
        return parts[0]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def official_sha256() -> str:
    """The SHA-256 of the official archive (as :data:`chainrule.data.datasets.SOURCES`
    lists it for downloading)."""
    return str(SOURCES[NAME]["sha256"][ARCHIVE])


@contextlib.contextmanager
def _tar(path: str) -> Iterator[tarfile.TarFile]:
    """The archive, read as a stream; every way reading it can fail is a DatasetError."""
    try:
        with tarfile.open(path, mode="r|gz") as archive:
            yield archive
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path}: expected a readable tar.gz archive, found "
                           f"{type(exc).__name__}: {exc}") from None


def _member_sizes(path: str | os.PathLike[str], names: tuple[str, ...]) -> dict[str, int]:
    """{member: size} of the members ``cifar-10-batches-bin/NAME``, from their headers."""
    wanted = {f"{FOLDER}/{name}" for name in names}
    sizes: dict[str, int] = {}
    with _tar(os.fspath(path)) as archive:
        for member in archive:
            if member.name in wanted and member.isfile():
                sizes.setdefault(member.name, member.size)
    _missing(os.fspath(path), wanted, sizes)
    return sizes


def _missing(path: str, wanted: Any, found: Any) -> None:
    missing = [name for name in sorted(wanted) if name not in found]
    if missing:
        raise DatasetError(f"{path}: expected the members {', '.join(missing)} in the "
                           "archive, found none of that name")


def read_archive(path: str | os.PathLike[str], names: tuple[str, ...],
                 sha256: str | None = None, max_bytes: int | str | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of the members ``cifar-10-batches-bin/NAME`` of the archive, read
    without unpacking it, after its SHA-256 is checked against ``sha256`` (None: the
    official archive's)."""
    path = os.fspath(path)
    expected = sha256 or official_sha256()
    found = sha256_of(path)
    if found != expected:
        official = " (the official cifar-10-binary.tar.gz)" if sha256 is None else ""
        raise DatasetError(f"{path}: expected SHA-256 {expected}{official}, found {found}: a "
                           "damaged or different file; remove it and pass --download to "
                           "fetch it again")
    wanted = {f"{FOLDER}/{name}": name for name in names}
    parts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    claimed = 0
    with _tar(path) as archive:
        for member in archive:
            if member.name not in wanted or member.name in parts or not member.isfile():
                continue
            where = f"{path}: {member.name}"
            records = _records_in(where, member.size)
            claimed += member.size + _copy_bytes(records)
            _check_limit(f"{where} ({records:,} images)", claimed, max_bytes)
            stream = archive.extractfile(member)
            data = stream.read() if stream is not None else b""
            if len(data) != member.size:
                raise DatasetError(f"{where}: expected {member.size:,} bytes, read "
                                   f"{len(data):,} (archive truncated)")
            parts[member.name] = _parse(where, data)
    _missing(path, wanted, parts)
    return _joined([parts[name] for name in wanted])


def write_batches(folder: str | os.PathLike[str], images: Any, labels: Any,
                  train: bool = False) -> None:
    """Write ``images`` (N, 3, 32, 32) uint8 and ``labels`` as CIFAR-10 binary batch files in
    ``folder``: ``test_batch.bin``, or (``train``) split over the five training batches."""
    images = np.asarray(images, np.uint8).reshape(-1, PIXELS)
    labels = np.asarray(labels, np.uint8).reshape(-1, 1)
    records = np.concatenate([labels, images], axis=1)
    names = FILES[train]
    for name, chunk in zip(names, np.array_split(records, len(names)), strict=True):
        (Path(folder) / name).write_bytes(chunk.tobytes())


class CIFAR10(MNISTLike):
    """CIFAR-10's training (50,000) or test (10,000) images, (N, 3, 32, 32) float32 in [0, 1],
    and labels (N,) int64, from the binary version (see the module's docstring).

    Args:
        root: the folder to look in first (then ``root/cifar10``, ``$CHAINRULE_DATA/cifar10``
            and ``~/.cache/chainrule/cifar10``).
        train: the training batches, or the test batch.
        download: fetch ``cifar-10-binary.tar.gz`` (SHA-256 verified) into the cache when
            no folder holds the files.
        transform: applied to each image (float32 (3, 32, 32)).
        max_bytes: the memory limit for reading (None: ``$CHAINRULE_MAX_MEMORY`` or 4 GiB).
        sha256: the SHA-256 the archive must have (None: the official archive's,
            :data:`ARCHIVE_SHA256`).
    """

    name = NAME
    classes = CLASSES
    image_shape = (3, 32, 32)

    def __init__(self, root: str | os.PathLike[str] | None = None, train: bool = True,
                 download: bool = False,
                 transform: Callable[[np.ndarray], Any] | None = None,
                 max_bytes: int | str | None = None, sha256: str | None = None) -> None:
        self.train, self.transform = train, transform
        folders = search_path(NAME, root)
        found = locate(folders, (train,))
        if found is None and download:
            fetch(NAME)
            found = locate(folders, (train,))
        if found is None:
            raise DatasetError(
                f"{NAME}: expected {', '.join(FILES[train])} (or {ARCHIVE}) in none of: "
                f"{', '.join(map(str, folders))}{pickled_note(folders)}. Fix: pass "
                "download=True (chainrule train --dataset cifar10 --download), set "
                "CHAINRULE_DATA, or pass the folder")
        place = found[1]
        if place.name == ARCHIVE:
            images, labels = read_archive(place, FILES[train], sha256, max_bytes)
        else:
            images, labels = read_files(place, FILES[train], max_bytes)
        self.files = (place, place)  # images and labels are in the same files
        self.images, self.targets = images, labels.astype(np.int64)
        self._floats: np.ndarray | None = None
