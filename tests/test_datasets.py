"""MNIST-style datasets: where files are found, the embedded mini-MNIST, verified downloads,
and hostile or wrong-shaped files refused with one message."""

import gzip
import os
import shutil
import threading
import zlib
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from chainrule.data import MNIST, DatasetError, MiniMNIST, download, write_idx
from chainrule.data import datasets as ds

from clirun import run_cli

LABELS = ("train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


class Handler(SimpleHTTPRequestHandler):
    """Serves a folder at /good/, a corrupted copy at /corrupt/, cut-short bodies at /cut/."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        kind, _, name = self.path.lstrip("/").partition("/")
        path = Path(self.directory) / name
        if not path.is_file():
            self.send_error(404)
            return
        body = path.read_bytes()
        if kind == "corrupt":
            body = body[:100] + bytes([body[100] ^ 0xFF]) + body[101:]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if kind == "cut" else body)


@pytest.fixture
def server(mnist_dir: Path) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(mnist_dir)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _hashes(folder: Path, names: tuple[str, ...]) -> dict[str, str]:
    return {n: ds.sha256_of(folder / n) for n in names}


def test_download_verifies_and_falls_back_to_the_next_mirror(server: str, mnist_dir: Path,
                                                            tmp_path: Path) -> None:
    target = download("mnist", tmp_path, mirrors=[server + "/cut/", server + "/corrupt/",
                                                  server + "/good/"],
                      sha256=_hashes(mnist_dir, LABELS))
    assert sorted(os.listdir(target)) == sorted(LABELS)  # no temp files left behind
    for name in LABELS:
        assert (target / name).read_bytes() == (mnist_dir / name).read_bytes()


def test_corrupted_download_fails_with_checksum_and_keeps_nothing(server: str, mnist_dir: Path,
                                                                 tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="expected SHA-256 .* found") as err:
        download("mnist", tmp_path, mirrors=[server + "/corrupt/"],
                 sha256=_hashes(mnist_dir, LABELS[:1]))
    assert "copy the files into" in str(err.value)
    assert os.listdir(tmp_path) == []


def test_truncated_download_is_detected(server: str, mnist_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="connection cut short|download failed"):
        download("mnist", tmp_path, mirrors=[server + "/cut/"],
                 sha256=_hashes(mnist_dir, LABELS[:1]))
    assert os.listdir(tmp_path) == []


def test_offline_download_error_is_clear(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="download failed") as err:
        download("mnist", tmp_path, mirrors=["http://127.0.0.1:9/"],
                 sha256={"t10k-labels-idx1-ubyte.gz": "0" * 64}, timeout=2)
    assert "check the network" in str(err.value)


def test_mnist_download_true_fills_the_cache(server: str, mnist_dir: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    names = tuple(n for n in os.listdir(mnist_dir) if n.endswith(".gz"))
    monkeypatch.setitem(ds.SOURCES, "mnist", {"mirrors": [server + "/good/"],
                                              "sha256": _hashes(mnist_dir, names)})
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("CHAINRULE_DATA")
    with pytest.raises(DatasetError, match="download=True"):
        MNIST(train=False)  # never downloads unless asked
    test = MNIST(train=False, download=True)
    assert len(test) == 10_000
    assert str(tmp_path / "cache" / "chainrule" / "mnist") in str(test.files[0])


def test_lookup_order_root_then_env_then_cache(mnist_dir: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "root"
    root.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(mnist_dir / name, root / name)
    assert MNIST(root, train=False).files[0].parent == root
    assert MNIST(train=False).files[0].parent == mnist_dir  # from $CHAINRULE_DATA/mnist
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(DatasetError) as err:
        MNIST(train=False)
    assert str(tmp_path / "empty" / "mnist") in str(err.value)
    assert str(tmp_path / "cache" / "chainrule" / "mnist") in str(err.value)


def test_mini_mnist_is_embedded_and_balanced() -> None:
    train, test = MiniMNIST(train=True), MiniMNIST(train=False)
    assert (len(train), len(test)) == (10_000, 2_000)
    counts = np.bincount(train.targets, minlength=10)
    assert counts.min() > 800
    image, label = train[0]
    assert image.shape == (28, 28) and image.dtype == np.float32 and 0 <= label <= 9
    assert 0.0 <= image.min() and image.max() <= 1.0
    assert sum(f.stat().st_size for f in ds.MINI_DIR.iterdir()) < 2.5e6


def test_transform_is_applied_per_sample() -> None:
    test = MiniMNIST(train=False, transform=lambda img: img.reshape(-1) * 2)
    image, _ = test[3]
    assert image.shape == (784,) and test.arrays is None
    batch, labels = test.get_batch(np.array([0, 1]))
    assert batch.shape == (2, 784) and labels.shape == (2,)


# ---- hostile and wrong-shaped IDX sets: refused before reading, one line from the CLI ------

IMAGE_FILES = ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz")
LABEL_FILES = ("train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def _write_set(folder: Path, images: np.ndarray, labels: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in IMAGE_FILES:
        write_idx(str(folder / name), images)
    for name in LABEL_FILES:
        write_idx(str(folder / name), labels)
    return folder


def _gzip_of_zeros(path: Path, header: bytes, count: int, block: int = 1 << 20) -> None:
    """A valid gzip of ``header`` then ``count`` zero bytes, built from one compressed block
    repeated (a few MB on disk for gigabytes of zeros)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = packer.compress(header) + packer.flush(zlib.Z_FULL_FLUSH)
    piece = packer.compress(bytes(block)) + packer.flush(zlib.Z_FULL_FLUSH)
    full, rest = divmod(count, block)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    crc = zlib.crc32(header)
    zeros = bytes(block)
    for _ in range(full):
        crc = zlib.crc32(zeros, crc)
    crc = zlib.crc32(bytes(rest), crc)
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + head)
        for _ in range(full):
            f.write(piece)
        f.write(tail.compress(bytes(rest)) + tail.flush())
        f.write(crc.to_bytes(4, "little") + ((len(header) + count) % 2**32).to_bytes(4, "little"))


def test_gzip_of_zeros_is_valid(tmp_path: Path) -> None:
    _gzip_of_zeros(tmp_path / "z.gz", b"head", 3_000_017, block=1 << 16)
    assert gzip.decompress((tmp_path / "z.gz").read_bytes()) == b"head" + bytes(3_000_017)


@pytest.fixture(scope="module")
def bomb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four MNIST-named files whose headers claim 5,000,000 images (or labels), all zeros."""
    folder = tmp_path_factory.mktemp("bomb")
    count = 5_000_000
    images = bytes([0, 0, 8, 3]) + np.array([count, 28, 28], ">u4").tobytes()
    _gzip_of_zeros(folder / IMAGE_FILES[0], images, count * 28 * 28)
    shutil.copy(folder / IMAGE_FILES[0], folder / IMAGE_FILES[1])
    labels = bytes([0, 0, 8, 1]) + np.array([count], ">u4").tobytes()
    for name in LABEL_FILES:
        (folder / name).write_bytes(gzip.compress(labels + bytes(count), mtime=0))
    return folder


def test_cli_idx_bomb_is_refused_before_reading(bomb_dir: Path) -> None:
    assert (bomb_dir / IMAGE_FILES[0]).stat().st_size < 5 << 20
    result = run_cli(["train", "--data-dir", str(bomb_dir), "--epochs", "1"],
                     unset=("CHAINRULE_MAX_MEMORY",))
    assert result.code == 2, result.err
    line = result.one_line_error()
    assert str(bomb_dir / IMAGE_FILES[0]) in line, line
    assert "dims (5000000, 28, 28) of uint8" in line and "18.3 GiB" in line, line
    assert "over the limit of 4.0 GiB" in line and "CHAINRULE_MAX_MEMORY" in line, line
    assert result.peak_rss < 1 << 30, result.peak_rss


def test_wrong_shaped_and_empty_sets_are_named(tmp_path: Path) -> None:
    small = _write_set(tmp_path / "20x20", np.zeros((5, 20, 20), np.uint8),
                       np.arange(5, dtype=np.uint8))
    with pytest.raises(DatasetError, match=r"expected 28x28 images, found 20x20 images: mnist "
                       r"and chainrule's image models take 28x28 images \(784 inputs\)") as err:
        MNIST(small, train=False)
    assert str(small / IMAGE_FILES[1]) in str(err.value)
    empty = _write_set(tmp_path / "empty", np.zeros((0, 28, 28), np.uint8),
                       np.zeros(0, np.uint8))
    with pytest.raises(DatasetError, match="expected at least one image, found a header "
                       "claiming 0 images"):
        MNIST(empty, train=True)


def test_memory_limit_covers_the_float32_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHAINRULE_MAX_MEMORY", raising=False)
    # 2,000 test images: 1.5 MiB of pixels, 7.5 MiB with the float32 copy
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte.gz: the header's dims "
                       r"\(2000, 28, 28\) of uint8 \(with the 4-byte-per-value copy made of "
                       r"them\) would need 7.5 MiB of memory, over the limit of 4.0 MiB"):
        MiniMNIST(train=False, max_bytes="4M")
    assert len(MiniMNIST(train=False, max_bytes="8M")) == 2000
    monkeypatch.setenv("CHAINRULE_MAX_MEMORY", "4M")
    with pytest.raises(DatasetError, match="over the limit of 4.0 MiB"):
        MiniMNIST(train=False)


@pytest.mark.parametrize(("images", "labels", "message"), [
    (np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8), "expected at least one image"),
    (np.zeros((5, 20, 20), np.uint8), np.arange(5, dtype=np.uint8),
     "found 20x20 images: mnist and chainrule's image models take 28x28 images (784 inputs)"),
], ids=["0-images", "20x20"])
def test_cli_empty_and_wrong_shaped_sets_give_one_line(tmp_path: Path, images: np.ndarray,
                                                        labels: np.ndarray, message: str) -> None:
    folder = _write_set(tmp_path / "data", images, labels)
    result = run_cli(["train", "--data-dir", str(folder), "--epochs", "1"])
    assert result.code == 2, (result.out, result.err)
    line = result.one_line_error()
    assert message in line and str(folder) in line, line
    assert "samples/s" not in result.out


def test_cli_small_memory_limit_refuses_mini_mnist() -> None:
    # 16 MiB fits the default model, not the 10,000 training images with their float32 copy
    result = run_cli(["train", "--dataset", "mini-mnist", "--epochs", "1"],
                     env={"CHAINRULE_MAX_MEMORY": "16M"})
    assert result.code == 2
    line = result.one_line_error()
    assert "train-images-idx3-ubyte.gz 37.4 MiB (dims (10000, 28, 28) of uint8" in line, line
    assert "would need data 45.0 MiB + model 6.3 MiB = 51.2 MiB of memory, over the limit of " \
           "16.0 MiB" in line, line
