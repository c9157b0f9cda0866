"""MNIST, Fashion-MNIST and KMNIST from IDX files; the embedded mini-MNIST; downloading.

Where the files are looked for, in order: ``root`` (or ``root/<name>``), then
``$CHAINRULE_DATA/<name>/``, then ``~/.cache/chainrule/<name>/``. Nothing is
downloaded unless ``download=True``; a download goes to the cache through a
temporary file, is checked against its SHA-256 and only then renamed into place.

>>> ds = MiniMNIST(train=False)
>>> len(ds), ds.arrays[0].shape, ds.arrays[0].dtype
(2000, (2000, 28, 28), dtype('float32'))
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.data.dataset import Dataset
from chainrule.data.idx import DatasetError, read_idx_pair
from chainrule.paths import what_is_at

FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# SHA-256 of the official .gz files, and the mirrors that serve them.
SOURCES: dict[str, dict[str, Any]] = {
    "mnist": {
        "mirrors": ["https://ossci-datasets.s3.amazonaws.com/mnist/",
                    "http://yann.lecun.com/exdb/mnist/"],
        "sha256": {
            "train-images-idx3-ubyte.gz":
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz":
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz":
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz":
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
    },
    "fashion-mnist": {
        "mirrors": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        "sha256": {
            "train-images-idx3-ubyte.gz":
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz":
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte.gz":
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz":
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
    },
    "kmnist": {
        "mirrors": ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"],
        "sha256": {
            "train-images-idx3-ubyte.gz":
                "51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4",
            "train-labels-idx1-ubyte.gz":
                "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",
            "t10k-images-idx3-ubyte.gz":
                "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",
            "t10k-labels-idx1-ubyte.gz":
                "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c",
        },
    },
    # the binary version (chainrule.data.cifar), 170,052,171 bytes; its published MD5 is
    # c32a1d4ab5d03f1284b67883e8d87530
    "cifar10": {
        "mirrors": ["https://www.cs.toronto.edu/~kriz/"],
        "sha256": {
            "cifar-10-binary.tar.gz":
                "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
        },
    },
}

MINI_DIR = Path(__file__).with_name("mini_mnist")


def cache_dir(name: str) -> Path:
    """``~/.cache/chainrule/<name>`` (honours ``XDG_CACHE_HOME``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "chainrule" / name


def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def search_path(name: str, root: str | os.PathLike[str] | None = None) -> list[Path]:
    """Where ``name``'s files are looked for, in order: root, $CHAINRULE_DATA, the cache."""
    folders: list[Path] = []
    if root is not None:
        folders += [Path(root), Path(root) / name]
    if os.environ.get("CHAINRULE_DATA"):
        folders.append(Path(os.environ["CHAINRULE_DATA"]) / name)
    folders.append(cache_dir(name))
    return folders


def locate(name: str, train: bool, root: str | os.PathLike[str] | None = None
           ) -> tuple[Path, Path] | None:
    """The (images, labels) files of ``name``'s split in the first folder that has both."""
    for folder in search_path(name, root):
        images, labels = (_find(folder, stem) for stem in FILES[train])
        if images is not None and labels is not None:
            return images, labels
    return None


def find_set(name: str, folders: list[Path], splits: tuple[bool, ...] = (True, False)
              ) -> Path | None:
    """The first of ``folders`` that holds any of ``name``'s four IDX files, checked.

    That folder must hold the files of ``splits`` (True: train, False: test), each a
    regular file (a symlink to one is fine); a folder with some of the files is never
    passed over for a later one. None when no folder holds any of the four files;
    otherwise a DatasetError naming the folder and each missing or unusable file.
    """
    for folder in folders:
        states = {stem: _file_state(folder, stem) for train in (True, False)
                  for stem in FILES[train]}
        if all(state == "missing" for state in states.values()):
            continue
        needed = [stem for train in splits for stem in FILES[train]]
        missing = [f"{stem}[.gz]" for stem in needed if states[stem] == "missing"]
        unusable = [states[stem] for stem in needed if states[stem] not in ("ok", "missing")]
        if not missing and not unusable:
            return folder
        problems = ([f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing"]
                    if missing else []) + unusable
        raise DatasetError(f"{name} in {folder} cannot be used: {'; '.join(problems)}")
    return None


def _file_state(folder: Path, stem: str) -> str:
    """'ok' (a regular file), 'missing', or why the file there cannot be read."""
    candidates = [folder / (stem + ".gz"), folder / stem]
    if any(os.path.isfile(path) for path in candidates):
        return "ok"
    for path in candidates:
        if os.path.lexists(path):
            return f"{path.name} is {what_is_at(path)}"
    return "missing"


def sha256_of(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(name: str, folder: str | os.PathLike[str] | None = None,
             mirrors: list[str] | None = None, sha256: dict[str, str] | None = None,
             timeout: float = 30.0) -> Path:
    """Fetch the four files of ``name`` into ``folder`` (default: the cache), verified.

    Each file is streamed to a temporary file in the same folder, its SHA-256
    compared with the expected one, and only then renamed into place, so a
    broken download never leaves a file that looks complete.
    """
    source = SOURCES.get(name)
    if source is None and (mirrors is None or sha256 is None):
        raise DatasetError(f"{name}: no download source known; choose from {sorted(SOURCES)}")
    mirrors = mirrors or source["mirrors"]  # type: ignore[index]
    sha256 = sha256 or source["sha256"]  # type: ignore[index]
    target = Path(folder) if folder is not None else cache_dir(name)
    target.mkdir(parents=True, exist_ok=True)
    for filename, expected in sha256.items():
        final = target / filename
        if final.is_file() and sha256_of(final) == expected:
            continue
        errors = []
        for mirror in mirrors:
            url = mirror + filename
            try:
                _fetch(url, final, expected, timeout)
                break
            except DatasetError as exc:
                errors.append(str(exc))
        else:
            raise DatasetError(
                f"could not download {filename} for {name}:\n  " + "\n  ".join(errors)
                + "\n  fix: check the network, or copy the files into "
                f"{target} (or $CHAINRULE_DATA/{name}/) by hand")
    return target


def _fetch(url: str, final: Path, expected: str, timeout: float) -> None:
    tmp = final.with_name(f".{final.name}.{os.getpid()}.part")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
            length = response.headers.get("Content-Length")
            received = 0
            while True:
                chunk = response.read(1 << 16)
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
            if length is not None and received != int(length):
                raise DatasetError(f"{url}: expected {length} bytes, received {received} "
                                   "(connection cut short)")
            out.flush()
            os.fsync(out.fileno())
        found = digest.hexdigest()
        if found != expected:
            raise DatasetError(f"{url}: expected SHA-256 {expected}, found {found} "
                               "(corrupted or tampered download; nothing was kept)")
        os.replace(tmp, final)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DatasetError(f"{url}: download failed ({exc})") from None
    finally:
        if tmp.exists():
            tmp.unlink()


fetch = download  # the datasets' ``download`` argument shadows the function inside them


class MNISTLike(Dataset):
    """Images (N, 28, 28) as float32 in [0, 1] and labels (N,) int64 from IDX files.

    The files' headers are checked before their data is read: at least one image, and no
    more bytes (the data plus the float32 copy of the images) than the memory limit
    (``max_bytes``; None: ``$CHAINRULE_MAX_MEMORY`` or 4 GiB). Images must be 28x28.
    """

    name = "mnist"
    classes: tuple[str, ...] = tuple(str(i) for i in range(10))
    image_shape: tuple[int, ...] = (28, 28)

    def __init__(self, root: str | os.PathLike[str] | None = None, train: bool = True,
                 download: bool = False,
                 transform: Callable[[np.ndarray], Any] | None = None,
                 max_bytes: int | str | None = None) -> None:
        self.train, self.transform = train, transform
        found = locate(self.name, train, root)
        if found is None and download:
            fetch(self.name)
            found = locate(self.name, train, root)
        if found is None:
            raise DatasetError(
                f"{self.name}: expected the IDX files {FILES[train][0]}[.gz] and "
                f"{FILES[train][1]}[.gz], found them in none of: "
                f"{', '.join(map(str, search_path(self.name, root)))}. "
                "Fix: pass download=True (chainrule train --download), set CHAINRULE_DATA, "
                "or use the embedded mini-MNIST")
        self.files = found
        images, labels = read_idx_pair(str(found[0]), str(found[1]), len(self.classes),
                                       max_bytes)
        if images.shape[1:] != self.image_shape:
            rows, cols = self.image_shape
            raise DatasetError(
                f"{found[0]}: expected {rows}x{cols} images, found "
                f"{images.shape[1]}x{images.shape[2]} images: {self.name} and chainrule's "
                f"image models take {rows}x{cols} images ({rows * cols} inputs)")
        self.images, self.targets = images, labels
        self._floats: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.targets)

    def _scaled(self) -> np.ndarray:
        if self._floats is None:
            self._floats = self.images.astype(np.float32) / np.float32(255.0)
        return self._floats

    def __getitem__(self, index: int) -> tuple[Any, int]:
        image = self._scaled()[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.targets[index])

    def get_batch(self, indices: Any) -> tuple[Any, np.ndarray]:
        images = self._scaled()[indices]
        if self.transform is not None:
            images = np.stack([np.asarray(self.transform(img)) for img in images])
        return images, self.targets[indices]

    @property
    def arrays(self) -> list[np.ndarray] | None:
        """[images, labels] for the DataLoader's fast path (None with a transform)."""
        if self.transform is not None:
            return None
        return [self._scaled(), self.targets]


class MNIST(MNISTLike):
    """The MNIST handwritten digits (LeCun, Cortes and Burges)."""

    name = "mnist"


class FashionMNIST(MNISTLike):
    """Zalando's Fashion-MNIST: ten kinds of clothing, same format as MNIST."""

    name = "fashion-mnist"
    classes = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot")


class KMNIST(MNISTLike):
    """Kuzushiji-MNIST: ten cursive Japanese characters (ROIS-DS CODH)."""

    name = "kmnist"
    classes = ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")


class MiniMNIST(MNISTLike):
    """10,000 training and 2,000 test MNIST images shipped inside the package (no download)."""

    name = "mini-mnist"

    def __init__(self, root: Any = None, train: bool = True, download: bool = False,
                 transform: Callable[[np.ndarray], Any] | None = None,
                 max_bytes: int | str | None = None) -> None:
        super().__init__(MINI_DIR, train, False, transform, max_bytes)


DATASETS: dict[str, type[MNISTLike]] = {
    "mnist": MNIST, "fashion-mnist": FashionMNIST, "kmnist": KMNIST, "mini-mnist": MiniMNIST,
}
