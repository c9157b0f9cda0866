"""The data of a ``chainrule`` run: which data set, the folder its files are in, and the
bytes it will hold, known from the files' headers before anything is read.

Which set, when the config names none (no ``--dataset``): full MNIST when its files are
found; the embedded mini-MNIST only when none of MNIST's four files is in any folder
searched and neither ``--data-dir`` nor ``--download`` asked for files. A folder that holds
some of a set's files but not all, or a file that cannot be read as one (a broken symlink,
a device), is an error naming the folder and each such file, never a silent fallback.

Where: ``--data-dir DIR`` means DIR (or DIR/<name>) and nowhere else; without it,
``$CHAINRULE_DATA/<name>`` and then the cache (:func:`chainrule.data.datasets.search_path`).
``--download`` fetches the files into DIR (or the cache) only when no folder searched
holds any of them, so it never replaces a file that is there (it finishes a download cut
short: official files, each verified, and nothing else).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from chainrule.data import cifar, toy
from chainrule.data.datasets import (
    FILES,
    MINI_DIR,
    SOURCES,
    cache_dir,
    fetch,
    find_set,
    locate,
    search_path,
    sha256_of,
)
from chainrule.data.idx import DatasetError, claimed_bytes
from chainrule.limits import format_size
from chainrule.paths import what_is_at

TOY_SETS = tuple(toy.TOY_SETS)
BUILT_IN = ("mini-mnist", *TOY_SETS)  # data sets that read no files
TOY_SAMPLES = 1000  # points per split of a toy set (load_data's)


def check_data_dir(root: str | None) -> None:
    """DatasetError if ``root`` (``--data-dir``) is given and is not a folder."""
    if root is not None and not os.path.isdir(root):
        raise DatasetError(f"--data-dir {root}: expected a folder, found {what_is_at(root)} "
                           "there")


def data_shape(name: str) -> tuple[int, int]:
    """(input features, classes) of data set ``name``, known before it is loaded."""
    if name in TOY_SETS:
        _, y = toy.TOY_SETS[name](30, seed=0)
        return 2, int(y.numpy().max()) + 1
    if name == cifar.NAME:
        return cifar.PIXELS, len(cifar.CLASSES)
    return 784, 10


def folders(name: str, root: str | None) -> list[Path]:
    """The folders searched for ``name``'s files: root and root/<name> only, when given."""
    if root is not None:
        return [Path(root), Path(root) / name]
    return search_path(name)


def choose_dataset(config: dict[str, Any]) -> tuple[str, str | None]:
    """The data set to use and a one-line notice when falling back to mini-MNIST.

    An explicit ``data_dir`` that is not a folder is an error, whichever set is chosen.
    """
    check_data_dir(config["data_dir"])
    if config["dataset"] is not None:
        return config["dataset"], None
    if config["data_dir"] is not None or config["download"]:
        return "mnist", None  # files were asked for: they are found, fetched, or an error
    searched = folders("mnist", None)
    if _find("mnist", searched, (True, False), download=False) is not None:
        return "mnist", None
    return "mini-mnist", (f"notice: full MNIST not found (none of its files in "
                          f"{', '.join(map(str, searched))}; set CHAINRULE_DATA, pass "
                          "--data-dir, or --download); training on the embedded mini-MNIST "
                          "(10,000 images)")


def _stems(name: str, splits: tuple[bool, ...]) -> str:
    if name == cifar.NAME:
        return ", ".join(f for train in splits for f in cifar.FILES[train]) + \
            f" (or {cifar.ARCHIVE})"
    return ", ".join(f"{stem}[.gz]" for train in splits for stem in FILES[train])


def dataset_folder(config: dict[str, Any], name: str, splits: tuple[bool, ...]
                   ) -> Path | None:
    """The folder holding the files of ``splits`` of ``name`` (None for a toy set), fetched
    first with ``config['download']`` when no folder holds any of them; DatasetError
    naming the folder and the files otherwise."""
    if name in TOY_SETS:
        return None
    if name == "mini-mnist":
        return MINI_DIR
    root = config["data_dir"]
    check_data_dir(root)
    searched = folders(name, root)
    target = Path(root) if root is not None else cache_dir(name)
    if config["download"] and _partly_downloaded(name, target):
        fetch(name, target)  # finish a download that was cut short
    found = _find(name, searched, splits, config["download"])
    if found is None and config["download"]:
        fetch(name, target)
        found = _find(name, [target], splits, download=True)
    if found is not None:
        return found
    kind = "binary files" if name == cifar.NAME else "IDX files"
    note = cifar.pickled_note(searched) if name == cifar.NAME else ""
    if root is not None:
        raise DatasetError(f"--data-dir {root}: expected the {kind} of {name} "
                           f"({_stems(name, splits)}) in {root} or {Path(root) / name}, found "
                           f"none of them{note}; copy them there, or pass --download to fetch "
                           "them into it")
    raise DatasetError(f"{name}: expected the {kind} {_stems(name, splits)}, found none of "
                       f"them in {', '.join(map(str, searched))}{note}. Fix: set "
                       "CHAINRULE_DATA, pass --data-dir DIR, or --download to fetch them")


def _find(name: str, searched: list[Path], splits: tuple[bool, ...], download: bool
          ) -> Path | None:
    finder = cifar.find_set if name == cifar.NAME else find_set
    try:
        return finder(name, searched, splits)
    except DatasetError as exc:
        note = " (--download never replaces a file that is there)" if download else ""
        raise DatasetError(f"{exc}; put the missing files there or fix the broken ones"
                           f"{note}") from None


def _partly_downloaded(name: str, target: Path) -> bool:
    """Whether ``target`` holds some but not all of ``name``'s official .gz files, each
    verified, and nothing else under their names: a download that was cut short."""
    source = SOURCES.get(name)
    if source is None:
        return False
    present = 0
    for filename, digest in source["sha256"].items():
        path = target / filename
        if os.path.lexists(target / filename.removesuffix(".gz")):
            return False
        if os.path.lexists(path):
            if not os.path.isfile(path) or sha256_of(path) != digest:
                return False
            present += 1
    return 0 < present < len(source["sha256"])


def data_claims(name: str, folder: Path | None, splits: tuple[bool, ...],
                image_dtype: str = "float32") -> tuple[int, str]:
    """Bytes the data of ``splits`` will take (values, the float32 copy of the images and,
    for ``image_dtype`` float64, their float64 copy, the int64 copy of the labels), from the
    files' headers alone, and what they are."""
    floats, float_kind = (4, "a float32") if image_dtype == "float32" else (
        12, "float32 and float64")
    if folder is None:  # a toy set: float32 points and int64 labels, both splits made
        nbytes = 2 * TOY_SAMPLES * (2 * 4 + 8)
        return nbytes, f"{name} {format_size(nbytes)} ({2 * TOY_SAMPLES:,} points)"
    if name == cifar.NAME:
        return cifar.claimed_bytes(folder, splits, floats)
    total, parts = 0, []
    for train in splits:
        files = locate(name, train, folder)
        if files is None:  # found a moment ago: gone since
            raise DatasetError(f"{name} in {folder}: its files went away while being read")
        for path, copy, kind in ((files[0], floats, float_kind), (files[1], 8, "an int64")):
            nbytes, shape, dtype = claimed_bytes(path, copy_itemsize=copy)
            total += nbytes
            parts.append(f"{path} {format_size(nbytes)} (dims {shape} of {dtype.name} and "
                         f"{kind} copy)")
    return total, ", ".join(parts)
