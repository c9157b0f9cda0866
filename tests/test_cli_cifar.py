"""``chainrule train --dataset cifar10`` through the real entry point, on small files written
in CIFAR-10's binary format: the MLP, LeNet and the CNN train on 3x32x32 images; eval,
info and plot read the run; the archive's SHA-256, broken files, missing files and the
memory limit are one line and exit 2; --download fetches the archive (in-process, with the
network replaced)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from chainrule.cli import main
from chainrule.data import cifar
from chainrule.data import datasets as ds
from chainrule.train import recipe
from test_cifar import make_archive, make_set

from clirun import run_cli

CIFAR = ["train", "--dataset", "cifar10", "--epochs", "1"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cifar") / "data"
    make_set(root, train=120, test=30)
    return root


@pytest.mark.parametrize("model, params, flatten", [
    (["--hidden", "12"], "Total params: 37,006", "(N, 3072)"),
    (["--model", "lenet", "--augment", "shift,rotate"], "Total params: 83,126", "(N, 576)"),
    (["--model", "cnn"], "Total params: 25,674", "(N, 2048)"),
])
def test_models_train_on_colour_images_and_the_run_is_read_back(
        folder: Path, tmp_path: Path, model: list[str], params: str, flatten: str) -> None:
    run = tmp_path / "run"
    plot = ["--plot"] if importlib.util.find_spec("matplotlib") else []
    result = run_cli([*CIFAR, "--data-dir", str(folder), *model, "--out", str(run), *plot])
    assert result.code == 0, result.err
    assert params in result.out and flatten in result.out
    assert "data: cifar10, 120 training and 30 test samples" in result.out
    accuracy = result.out.strip().splitlines()[-1].split()[2]
    evaluated = run_cli(["eval", str(run), "--data-dir", str(folder)])
    assert evaluated.code == 0, evaluated.err
    assert f"cifar10 test set: accuracy {accuracy}, " in evaluated.out
    info = run_cli(["info", str(run)])
    assert info.code == 0 and "dataset: cifar10" in info.out
    if plot:
        names = ["misclassified.png", "curves.png"] + (
            ["weights.png"] if "--hidden" in model else ["filters.png", "feature_maps.png"])
        names += ["augment.png"] if "--augment" in model else []
        for name in names:
            assert (run / name).read_bytes().startswith(b"\x89PNG"), name
    predicted = run_cli(["predict", str(run), str(folder / "test_batch.bin")])
    assert predicted.code == 2
    assert "predict needs an image model of 28x28 grey images, this one was trained on " \
           "cifar10 (3x32x32 colour images)" in predicted.one_line_error()


def test_an_archive_that_is_not_the_official_one_is_refused(folder: Path,
                                                            tmp_path: Path) -> None:
    archive = make_archive(tmp_path, folder)
    result = run_cli([*CIFAR, "--data-dir", str(tmp_path), "--hidden", "4"], cwd=tmp_path)
    assert result.code == 2
    line = result.one_line_error()
    assert f"{archive}: expected SHA-256 {cifar.ARCHIVE_SHA256} (the official " \
           f"cifar-10-binary.tar.gz), found {ds.sha256_of(archive)}" in line
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("damage, message", [
    ("truncate", "test_batch.bin: expected a whole number of 3,073-byte records"),
    ("remove", "cifar10 in {dir} cannot be used: data_batch_3.bin is missing"),
    ("label", "data_batch_2.bin: expected labels 0-9 (the first byte of each 3,073-byte "
     "record), found 255 in record 0"),
])
def test_broken_or_missing_files_are_one_line(folder: Path, tmp_path: Path, damage: str,
                                              message: str) -> None:
    data = tmp_path / "data"
    shutil.copytree(folder, data)
    if damage == "truncate":
        (data / "test_batch.bin").write_bytes((folder / "test_batch.bin").read_bytes()[:-7])
    elif damage == "remove":
        (data / "data_batch_3.bin").unlink()
    else:
        (data / "data_batch_2.bin").write_bytes(bytes([255]) + bytes(3072))
    result = run_cli([*CIFAR, "--data-dir", str(data), "--hidden", "4"], cwd=tmp_path)
    assert result.code == 2
    assert message.format(dir=data) in result.one_line_error()


def test_no_files_and_the_memory_limit_are_one_line(folder: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / "cifar-10-batches-py").mkdir(parents=True)
    result = run_cli([*CIFAR, "--data-dir", str(empty)], cwd=tmp_path)
    assert result.code == 2
    line = result.one_line_error()
    assert f"--data-dir {empty}: expected the binary files of cifar10 (data_batch_1.bin, " \
           "data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin, " \
           "test_batch.bin (or cifar-10-binary.tar.gz))" in line
    assert "cifar-10-batches-py is the pickled Python version, which chainrule never reads" \
        in line
    model_bytes, _ = recipe.model_memory(recipe.resolve({"hidden": "4"}), 3072, 10)
    limit = str(model_bytes + 10_000)  # the model fits, with the data (2.8 MB) it does not
    limited = run_cli([*CIFAR, "--data-dir", str(folder), "--hidden", "4"], cwd=tmp_path,
                      env={"CHAINRULE_MAX_MEMORY": limit})
    assert limited.code == 2
    assert "this run would need data " in limited.one_line_error()
    assert f"{folder / 'data_batch_1.bin'}" in limited.one_line_error()


def test_download_fetches_the_archive_and_reads_it(folder: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    served = tmp_path / "served"
    served.mkdir()
    archive = make_archive(served, folder)
    fetched: list[str] = []

    def copy(url: str, final: Path, expected: str, timeout: float) -> None:
        fetched.append(url)
        shutil.copy(archive, final)

    monkeypatch.setitem(ds.SOURCES, "cifar10", {
        "mirrors": ds.SOURCES["cifar10"]["mirrors"],
        "sha256": {cifar.ARCHIVE: ds.sha256_of(archive)}})  # this archive stands in
    monkeypatch.setattr(ds, "_fetch", copy)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    assert main([*CIFAR, "--download", "--data-dir", str(data), "--hidden", "4",
                 "--epochs", "0"]) == 0
    assert "data: cifar10, 120 training and 30 test samples" in capsys.readouterr().out
    assert fetched == ["https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"]
    assert sorted(p.name for p in data.iterdir()) == [cifar.ARCHIVE]
    assert main([*CIFAR, "--download", "--data-dir", str(data), "--hidden", "4",
                 "--epochs", "0"]) == 0  # found: not fetched again
    assert len(fetched) == 1
