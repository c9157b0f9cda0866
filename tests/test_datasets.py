"""MNIST-style datasets: where files are found, the embedded mini-MNIST, verified downloads."""

import os
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from chainrule.data import MNIST, DatasetError, MiniMNIST, download
from chainrule.data import datasets as ds

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
