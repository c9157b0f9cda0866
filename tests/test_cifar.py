"""CIFAR-10's binary version (chainrule.data.cifar): reading, where the files are looked for,
the archive's SHA-256, and every kind of broken file, on small files written in the format.
The CLI's use of it (--dataset cifar10) is in test_cli_cifar.py."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import numpy as np
import pytest

from chainrule.data import cifar
from chainrule.data import datasets as ds
from chainrule.data.cifar import CIFAR10, RECORD, read_archive, write_batches
from chainrule.data.idx import DatasetError


def make_set(folder: Path, train: int = 10, test: int = 4, seed: int = 0) -> dict[str, np.ndarray]:
    """CIFAR-10 batch files in ``folder``: ``train`` images over the five training batches
    and ``test`` in the test batch, random pixels and labels 0-9; the arrays written."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for is_train, count in ((True, train), (False, test)):
        images = rng.integers(0, 256, (count, 3, 32, 32), dtype=np.uint8)
        labels = np.arange(count) % 10
        write_batches(folder, images, labels, train=is_train)
        arrays[f"{'train' if is_train else 'test'}"] = images
        arrays[f"{'train' if is_train else 'test'}_labels"] = labels
    return arrays


def make_archive(folder: Path, source: Path, skip: tuple[str, ...] = ()) -> Path:
    """``cifar-10-binary.tar.gz`` in ``folder`` holding ``source``'s batch files (and a
    meta file, as the official one), laid out as the official archive."""
    path = folder / cifar.ARCHIVE
    with tarfile.open(path, "w:gz") as archive:
        meta = b"airplane\nautomobile\n"
        info = tarfile.TarInfo(f"{cifar.FOLDER}/batches.meta.txt")
        info.size = len(meta)
        archive.addfile(info, io.BytesIO(meta))
        for name in cifar.ALL_FILES:
            if name not in skip:
                archive.add(source / name, arcname=f"{cifar.FOLDER}/{name}")
    return path


def test_records_are_a_label_byte_then_the_red_green_and_blue_planes(tmp_path: Path) -> None:
    record = bytes([7]) + bytes(i % 251 for i in range(3072))
    (tmp_path / "test_batch.bin").write_bytes(record + bytes([2]) + bytes(3072))
    test = CIFAR10(tmp_path, train=False)
    assert test.targets.tolist() == [7, 2] and test.targets.dtype == np.int64
    assert test.images.shape == (2, 3, 32, 32) and test.images.dtype == np.uint8
    image = test.images[0]
    assert image[0, 0, 1] == 1 and image[0, 1, 0] == 32 and image[1, 0, 0] == 1024 % 251
    assert image[2, 31, 31] == 3071 % 251
    x, y = test.get_batch(np.array([0]))
    assert x.dtype == np.float32 and x[0, 2, 31, 31] == np.float32(3071 % 251) / 255
    assert test.arrays is not None and test.arrays[0].shape == (2, 3, 32, 32)
    assert test[1][1] == 2 and test.classes[7] == "horse"


@pytest.mark.parametrize("layout", ["folder", "batches-bin", "named", "archive"])
def test_files_are_found_as_files_in_their_folder_or_in_the_archive(tmp_path: Path,
                                                                     layout: str) -> None:
    written = make_set(tmp_path / "made")
    root = tmp_path / "root"
    place = {"folder": root, "batches-bin": root / cifar.FOLDER, "named": root / "cifar10",
             "archive": root}[layout]
    place.mkdir(parents=True)
    if layout == "archive":
        digest = ds.sha256_of(make_archive(root, tmp_path / "made"))
    else:
        for name in cifar.ALL_FILES:
            os.link(tmp_path / "made" / name, place / name)
        digest = None
    train = CIFAR10(root, train=True, sha256=digest)
    test = CIFAR10(root, train=False, sha256=digest)
    assert np.array_equal(train.images, written["train"])
    assert np.array_equal(train.targets, written["train_labels"])
    assert np.array_equal(test.images, written["test"]) and len(train) == 10


def test_the_archive_is_refused_unless_its_sha256_is_the_official_one(tmp_path: Path) -> None:
    make_set(tmp_path / "made")
    archive = make_archive(tmp_path, tmp_path / "made")
    with pytest.raises(DatasetError) as err:
        CIFAR10(tmp_path, train=False)
    message = str(err.value)
    assert f"{archive}: expected SHA-256 {cifar.ARCHIVE_SHA256} (the official " \
           f"cifar-10-binary.tar.gz), found {ds.sha256_of(archive)}" in message
    assert "remove it and pass --download" in message and "\n" not in message
    assert ds.SOURCES["cifar10"]["sha256"][cifar.ARCHIVE] == cifar.ARCHIVE_SHA256
    assert ds.SOURCES["cifar10"]["mirrors"] == ["https://www.cs.toronto.edu/~kriz/"]


def _write(folder: Path, name: str, data: bytes) -> None:
    make_set(folder)
    (folder / name).write_bytes(data)


GOOD = bytes([3]) + bytes(3072)
BROKEN_FILES = [
    ("truncated", "test_batch.bin", GOOD * 2 + GOOD[:100],
     "test_batch.bin: expected a whole number of 3,073-byte records (1 label byte, 3,072 pixel "
     "bytes), found 6,246 bytes (2 records and 100 bytes more): the file is truncated"),
    ("empty", "test_batch.bin", b"", "test_batch.bin: expected a whole number of 3,073-byte "
     "records (1 label byte, 3,072 pixel bytes), found an empty file"),
    ("label", "data_batch_3.bin", GOOD * 2 + bytes([10]) + bytes(3072),
     "data_batch_3.bin: expected labels 0-9 (the first byte of each 3,073-byte record), found "
     "10 in record 2: not a CIFAR-10 binary batch"),
    ("cifar100", "test_batch.bin", (bytes([3, 57]) + bytes(3072)) * 3073, "found 57 in "
     "record 3073: not a CIFAR-10 binary batch (CIFAR-100's records have 2 label bytes)"),
]


@pytest.mark.parametrize("case, name, data, message", BROKEN_FILES)
def test_broken_files_are_named_with_what_was_expected(tmp_path: Path, case: str, name: str,
                                                       data: bytes, message: str) -> None:
    _write(tmp_path, name, data)
    with pytest.raises(DatasetError) as err:
        CIFAR10(tmp_path, train=name.startswith("data"))
    assert str(tmp_path / name) in str(err.value) and message in str(err.value)


@pytest.mark.parametrize("case, name, data, message", BROKEN_FILES)
def test_broken_members_of_an_archive_are_named(tmp_path: Path, case: str, name: str,
                                                data: bytes, message: str) -> None:
    _write(tmp_path / "made", name, data)
    archive = make_archive(tmp_path, tmp_path / "made")
    with pytest.raises(DatasetError) as err:
        read_archive(archive, (name,), sha256=ds.sha256_of(archive))
    assert f"{archive}: {cifar.FOLDER}/{name}" in str(err.value)
    assert message.split(": ", 1)[1] in str(err.value)


def test_a_truncated_or_incomplete_archive_is_named(tmp_path: Path) -> None:
    make_set(tmp_path / "made")
    archive = make_archive(tmp_path, tmp_path / "made", skip=("data_batch_4.bin",))
    with pytest.raises(DatasetError, match=r"expected the members cifar-10-batches-bin/"
                       r"data_batch_4.bin in the archive, found none of that name"):
        read_archive(archive, cifar.FILES[True], sha256=ds.sha256_of(archive))
    assert len(read_archive(archive, cifar.FILES[False], sha256=ds.sha256_of(archive))[0]) == 4
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[:-300])
    with pytest.raises(DatasetError, match=r"cut.tar.gz: expected a readable tar.gz archive, "
                       r"found \w+"):
        read_archive(cut, cifar.FILES[True], sha256=ds.sha256_of(cut))
    (tmp_path / "plain.tar.gz").write_bytes(b"not gzip at all" * 100)
    with pytest.raises(DatasetError, match=r"expected a readable tar.gz archive"):
        read_archive(tmp_path / "plain.tar.gz", ("test_batch.bin",),
                     sha256=ds.sha256_of(tmp_path / "plain.tar.gz"))


def test_an_incomplete_or_broken_set_of_files_is_named(tmp_path: Path) -> None:
    make_set(tmp_path)
    (tmp_path / "data_batch_2.bin").unlink()
    (tmp_path / "data_batch_5.bin").unlink()
    os.symlink("nowhere", tmp_path / "data_batch_5.bin")
    with pytest.raises(DatasetError) as err:
        CIFAR10(tmp_path, train=True)
    assert str(err.value) == (f"cifar10 in {tmp_path} cannot be used: data_batch_2.bin is "
                              "missing; data_batch_5.bin is a broken symlink (to nowhere); put "
                              "the missing files there or fix the broken ones")
    assert len(CIFAR10(tmp_path, train=False)) == 4  # the test split is complete


def test_nothing_found_names_the_folders_and_the_pickled_version(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "data" / "cifar10" / "cifar-10-batches-py").mkdir(parents=True)
    with pytest.raises(DatasetError) as err:
        CIFAR10(tmp_path / "root", train=False)
    message = str(err.value)
    assert message.startswith("cifar10: expected test_batch.bin (or cifar-10-binary.tar.gz) in "
                              f"none of: {tmp_path / 'root'}, ")
    assert str(tmp_path / "cache" / "chainrule" / "cifar10") in message
    assert "cifar-10-batches-py is the pickled Python version, which chainrule never reads: " \
           "unpickling can run code" in message


def test_the_memory_limit_is_checked_before_reading(tmp_path: Path) -> None:
    make_set(tmp_path / "made", train=50, test=20)
    limit = 20 * (RECORD + RECORD + 4 * 3072 + 8) - 1  # one byte short for the test split
    with pytest.raises(DatasetError, match=r"test_batch.bin \(20 images\) would need .* over "
                       r"the limit of"):
        CIFAR10(tmp_path / "made", train=False, max_bytes=limit)
    assert len(CIFAR10(tmp_path / "made", train=False, max_bytes=limit + 1)) == 20
    archive = make_archive(tmp_path, tmp_path / "made")
    with pytest.raises(DatasetError, match=r"cifar-10-batches-bin/test_batch.bin \(20 images\) "
                       "would need"):
        read_archive(archive, ("test_batch.bin",), ds.sha256_of(archive), max_bytes=limit)
    nbytes, what = cifar.claimed_bytes(tmp_path / "made", (True, False))
    assert nbytes == 70 * (2 * RECORD + 4 * 3072 + 8) and "data_batch_1.bin" in what
    assert cifar.claimed_bytes(tmp_path, (False,))[0] == limit + 1  # the archive's headers
