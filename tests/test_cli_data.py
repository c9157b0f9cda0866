"""The data a ``chainrule`` run reads: what the whole run will hold checked once against the
memory limit before any data is read; MNIST folders that are incomplete or hold broken
files refused by name (never a silent fallback to mini-MNIST); ``--download`` without
``--dataset``; ``--data-dir`` with a data set that reads no files."""

from __future__ import annotations

import gzip
import os
import shutil
import zlib
from pathlib import Path

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.data import datasets as ds
from chainrule.data import write_idx

from clirun import MB, run_cli
from imagefiles import zeros_deflate

GB = 1 << 30
IMAGES = ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz")
LABELS = ("train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
ALL = (*IMAGES, *LABELS)


def _zeros_gzip(path: Path, dims: tuple[int, ...]) -> None:
    """A valid gzip of an IDX uint8 header claiming ``dims`` and that many zero bytes (a few
    hundred KB on disk for gigabytes of zeros)."""
    header = bytes([0, 0, 8, len(dims)]) + np.array(dims, ">u4").tobytes()
    count = int(np.prod(dims))
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = packer.compress(header) + packer.flush(zlib.Z_FULL_FLUSH)
    crc, block = zlib.crc32(header), bytes(1 << 20)
    for _ in range(count >> 20):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(bytes(count & ((1 << 20) - 1)), crc)
    trailer = crc.to_bytes(4, "little") + ((len(header) + count) % 2**32).to_bytes(4, "little")
    path.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + head + zeros_deflate(count)
                     + trailer)


def _claiming(folder: Path, count: int) -> Path:
    """Four MNIST files whose headers claim ``count`` images (and labels) each."""
    folder.mkdir()
    _zeros_gzip(folder / IMAGES[0], (count, 28, 28))
    shutil.copy(folder / IMAGES[0], folder / IMAGES[1])
    for name in LABELS:
        (folder / name).write_bytes(gzip.compress(bytes([0, 0, 8, 1]) + count.to_bytes(4, "big")
                                                  + bytes(count), mtime=0))
    return folder


def test_zeros_gzip_is_valid_and_claimed_bytes_reads_only_the_header(tmp_path: Path) -> None:
    from chainrule.data.idx import claimed_bytes

    _zeros_gzip(tmp_path / "a.gz", (3, 1000, 1000))
    data = gzip.decompress((tmp_path / "a.gz").read_bytes())
    assert data[:4] == bytes([0, 0, 8, 3]) and len(data) == 16 + 3_000_000 and not any(data[16:])
    _zeros_gzip(tmp_path / "big.gz", (1_000_000, 28, 28))
    assert (tmp_path / "big.gz").stat().st_size < 2 * MB
    nbytes, shape, dtype = claimed_bytes(tmp_path / "big.gz", copy_itemsize=4)
    assert (nbytes, shape, dtype.name) == (5 * 784_000_000, (1_000_000, 28, 28), "uint8")


@pytest.fixture(scope="module")
def million(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Headers of 1,000,000 images each: one file with its float32 copy is 3.7 GiB, under
    the 4 GiB limit; the run holds two of them."""
    return _claiming(tmp_path_factory.mktemp("claims") / "million", 1_000_000)


def test_the_whole_run_is_checked_against_the_limit_not_each_file(million: Path) -> None:
    assert sum((million / name).stat().st_size for name in ALL) < 4 * MB
    result = run_cli(["train", "--data-dir", str(million), "--epochs", "1"],
                     unset=("CHAINRULE_MAX_MEMORY",))
    assert result.code == 2, (result.code, result.err[-2000:])
    line = result.one_line_error()
    assert "this run would need data 7.3 GiB + model " in line, line
    assert "over the limit of 4.0 GiB" in line and "CHAINRULE_MAX_MEMORY=" in line, line
    for name in ALL:  # every file the run would hold is named, with its claim
        assert str(million / name) in line, line
    assert f"{million / IMAGES[1]} 3.7 GiB (dims (1000000, 28, 28) of uint8 and a float32 " \
           "copy)" in line, line
    assert "the model 784-16-16-10" in line, line
    assert result.peak_rss < GB, result.peak_rss / MB


def test_a_lower_limit_counts_train_and_test_data_together(tmp_path: Path) -> None:
    folder = _claiming(tmp_path / "k350", 350_000)  # 1.3 GiB a split, with the copy
    result = run_cli(["train", "--data-dir", str(folder), "--epochs", "1", "--out",
                      str(tmp_path / "run")], env={"CHAINRULE_MAX_MEMORY": "2G"})
    assert result.code == 2, (result.code, result.err[-2000:])
    line = result.one_line_error()
    assert "this run would need data 2.6 GiB + model" in line and "limit of 2.0 GiB" in line
    assert result.peak_rss < GB, result.peak_rss / MB
    assert not (tmp_path / "run").exists()  # refused before the run folder was made


def test_the_model_counts_too(tmp_path: Path) -> None:
    # mini-MNIST's data (45.0 MiB) fits 64M, and so does a 784-2000-10 model (33.4 MiB)
    args = ["train", "--dataset", "mini-mnist", "--hidden", "2000", "--epochs", "0"]
    result = run_cli(args, env={"CHAINRULE_MAX_MEMORY": "64M"}, cwd=tmp_path)
    line = result.one_line_error()
    assert "this run would need data 45.0 MiB + model 33.4 MiB = 78.4 MiB of memory, over " \
           "the limit of 64.0 MiB" in line, line
    assert "train-images-idx3-ubyte.gz 37.4 MiB (dims (10000, 28, 28) of uint8" in line, line
    assert "train-labels-idx1-ubyte.gz 87.9 KiB (dims (10000,) of uint8 and an int64 copy)" \
           in line, line
    assert "model: the model 784-2000-10" in line, line


def test_eval_counts_the_test_split_and_the_model(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "xor"
    assert main(["train", "--dataset", "xor", "--hidden", "4", "--epochs", "1", "--out",
                 str(run)]) == 0
    monkeypatch.setenv("CHAINRULE_MAX_MEMORY", "80K")  # data 31.2 KiB, model 62.6 KiB
    capsys.readouterr()
    assert main(["eval", str(run)]) == 2
    err = capsys.readouterr().err
    assert "this run would need data 31.2 KiB + model 62.6 KiB = 93.8 KiB" in err, err


# ---- incomplete or broken MNIST folders: named, never a silent fallback -------------------


def _partial(folder: Path, source: Path, names: tuple[str, ...] = ALL[:3]) -> Path:
    folder.mkdir(parents=True)
    for name in names:
        os.symlink(source / name, folder / name)
    return folder


@pytest.fixture
def mnist_like(tmp_path: Path) -> Path:
    """A small complete set in the MNIST file names (mini-MNIST's files)."""
    folder = tmp_path / "source"
    folder.mkdir()
    for name in ALL:
        shutil.copy(ds.MINI_DIR / name, folder / name)
    return folder


@pytest.mark.parametrize("broken", ["missing", "dangling", "dev-zero", "dev-urandom", "folder"])
def test_data_dir_with_a_missing_or_unusable_file_is_named(tmp_path: Path, mnist_like: Path,
                                                           broken: str) -> None:
    folder = _partial(tmp_path / "miss", mnist_like)
    last = folder / ALL[3]
    if broken == "dangling":
        os.symlink(tmp_path / "nowhere", last)
    elif broken.startswith("dev-"):
        os.symlink("/dev/" + broken[4:], last)
    elif broken == "folder":
        last.mkdir()
    result = run_cli(["train", "--data-dir", str(folder), "--epochs", "1"], cwd=tmp_path)
    assert result.code == 2, result.err
    line = result.one_line_error()
    assert f"mnist in {folder} cannot be used: " in line, line
    expected = {"missing": "t10k-labels-idx1-ubyte[.gz] is missing",
                "dangling": f"t10k-labels-idx1-ubyte.gz is a broken symlink (to {tmp_path}",
                "dev-zero": "t10k-labels-idx1-ubyte.gz is a character device, not a regular",
                "dev-urandom": "t10k-labels-idx1-ubyte.gz is a character device",
                "folder": "t10k-labels-idx1-ubyte.gz is a folder"}[broken]
    assert expected in line, line
    for name in ALL[:3]:
        assert name not in line, line  # only the file that is wrong is named
    assert "mini-MNIST" not in result.err and not (tmp_path / "runs").exists()


def test_an_incomplete_chainrule_data_folder_is_named(tmp_path: Path, mnist_like: Path) -> None:
    _partial(tmp_path / "data" / "mnist", mnist_like, (IMAGES[0], LABELS[0]))
    result = run_cli(["train", "--epochs", "1"], cwd=tmp_path,
                     env={"CHAINRULE_DATA": str(tmp_path / "data"),
                          "XDG_CACHE_HOME": str(tmp_path / "cache")})
    line = result.one_line_error()
    assert result.code == 2
    assert (f"mnist in {tmp_path / 'data' / 'mnist'} cannot be used: t10k-images-idx3-ubyte"
            "[.gz], t10k-labels-idx1-ubyte[.gz] are missing") in line, line


def test_an_empty_data_dir_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run_cli(["train", "--data-dir", str(tmp_path / "empty"), "--epochs", "1"],
                     cwd=tmp_path)  # $CHAINRULE_DATA may hold MNIST: --data-dir is not it
    line = result.one_line_error()
    assert result.code == 2
    assert f"--data-dir {tmp_path / 'empty'}: expected the IDX files of mnist" in line, line
    assert "found none of them" in line and "--download" in line, line


def test_with_no_mnist_file_anywhere_it_falls_back_to_mini_mnist(tmp_path: Path) -> None:
    result = run_cli(["train", "--epochs", "0"], cwd=tmp_path,
                     env={"CHAINRULE_DATA": str(tmp_path / "none"),
                          "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert result.code == 0, result.err
    assert "notice: full MNIST not found (none of its files in " in result.err
    assert "training on the embedded mini-MNIST" in result.err


def test_a_complete_folder_of_symlinks_is_used(tmp_path: Path, mnist_like: Path) -> None:
    folder = _partial(tmp_path / "links", mnist_like, ALL)
    result = run_cli(["train", "--data-dir", str(folder), "--epochs", "0"], cwd=tmp_path)
    assert result.code == 0, result.err
    assert "data: mnist, 10,000 training and 2,000 test samples" in result.out


# ---- --download without --dataset ---------------------------------------------------------


def test_download_without_dataset_downloads_mnist(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    tried: list[str] = []

    def unreachable(url: str, final: Path, expected: str, timeout: float) -> None:
        tried.append(url)
        raise ds.DatasetError(f"{url}: download failed (network unreachable)")

    monkeypatch.setattr(ds, "_fetch", unreachable)
    monkeypatch.delenv("CHAINRULE_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--download", "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("chainrule: error: could not download train-images-idx3-ubyte"
                               ".gz for mnist: ")
    assert "network unreachable" in lines[0] and "mini-MNIST" not in err
    assert tried and all(url.endswith("/train-images-idx3-ubyte.gz") for url in tried)
    assert tried[0].startswith(ds.SOURCES["mnist"]["mirrors"][0])
    assert not (tmp_path / "runs").exists()


def test_download_finishes_a_download_that_was_cut_short(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    source = tmp_path / "served"
    source.mkdir()
    for name in ALL:
        shutil.copy(ds.MINI_DIR / name, source / name)
    digests = {name: ds.sha256_of(source / name) for name in ALL}
    monkeypatch.setitem(ds.SOURCES, "mnist", {"mirrors": ["served/"], "sha256": digests})

    def copy(url: str, final: Path, expected: str, timeout: float) -> None:
        shutil.copy(source / os.path.basename(url), final)

    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(source / IMAGES[0], data / IMAGES[0])  # the first file came, then a cut
    monkeypatch.setattr(ds, "_fetch", copy)
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--download", "--data-dir", str(data), "--epochs", "0"]) == 0
    assert "data: mnist, 10,000 training" in capsys.readouterr().out
    assert sorted(os.listdir(data)) == sorted(ALL)
    # a file that is not the official one is never replaced: the folder is refused
    (data / LABELS[1]).unlink()
    write_idx(str(data / LABELS[1]), np.zeros(2000, np.uint8))
    (data / LABELS[0]).unlink()
    assert main(["train", "--download", "--data-dir", str(data), "--epochs", "0"]) == 2
    err = capsys.readouterr().err
    assert "train-labels-idx1-ubyte[.gz] is missing" in err, err
    assert "--download never replaces a file that is there" in err


# ---- --data-dir and --download with a data set that reads no files ------------------------


@pytest.fixture(scope="module")
def mini_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("mini") / "run"
    result = run_cli(["train", "--dataset", "mini-mnist", "--epochs", "1", "--out", str(run)])
    assert result.code == 0, result.err
    return run


def test_eval_data_dir_of_a_mini_mnist_run_says_how(mini_run: Path, tmp_path: Path) -> None:
    folder = _partial(tmp_path / "mnist", ds.MINI_DIR, ALL)
    result = run_cli(["eval", str(mini_run), "--data-dir", str(folder)])
    assert result.code == 2, result.out
    line = result.one_line_error()
    assert f"--data-dir {folder}: {mini_run} was trained on mini-mnist, which is built into " \
           "chainrule and reads no files" in line, line
    assert f"pass --dataset mnist --data-dir {folder} to evaluate it on MNIST from that " \
           "folder" in line, line
    result = run_cli(["eval", str(mini_run), "--dataset", "mnist", "--data-dir", str(folder)])
    assert result.code == 0, result.err
    assert "mnist test set: accuracy" in result.out


@pytest.mark.parametrize(("args", "message"), [
    (["--dataset", "xor", "--data-dir", "."], "--data-dir .: --dataset xor is generated by "
     "chainrule and reads no files; leave out --data-dir"),
    (["--dataset", "mini-mnist", "--download"], "--download: --dataset mini-mnist is built "
     "into chainrule and reads no files; leave out --download, or pass --dataset mnist "
     "--download to train on MNIST"),
])
def test_train_refuses_data_flags_a_built_in_set_would_ignore(tmp_path: Path, args: list[str],
                                                              message: str) -> None:
    result = run_cli(["train", *args, "--epochs", "1"], cwd=tmp_path)
    assert result.code == 2
    assert message in result.one_line_error()
