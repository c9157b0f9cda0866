"""Run folders and the files in them, through the real ``chainrule`` command: metrics files
read with a bound, a user's own files never taken for a dead run's, NaN weights and NaN
images refused by name, and messages that say what is at a path instead of "nothing"."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from chainrule import cli_run
from chainrule.data import write_idx
from chainrule.train import load_checkpoint, read_checkpoint, read_metrics, recipe, save_checkpoint
from chainrule.train.checkpoint import CheckpointError

from clirun import MB, run_cli

XOR = ["train", "--dataset", "xor", "--hidden", "4", "--epochs", "1"]
GB = 1 << 30


@pytest.fixture(scope="module")
def image_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("runs") / "mini"
    result = run_cli(["train", "--dataset", "mini-mnist", "--hidden", "8", "--epochs", "1",
                      "--out", str(run)])
    assert result.code == 0, result.err
    return run


def _copy_run(run: Path, to: Path) -> Path:
    to.mkdir()
    for name in ("checkpoint.safetensors", "metrics.jsonl"):
        (to / name).write_bytes((run / name).read_bytes())
    return to


# ---- metrics.jsonl: read with a bound, or not at all ----------------------------------------


@pytest.mark.parametrize("kind", ["dev-zero", "huge-sparse", "one-long-line"])
def test_info_never_reads_a_metrics_file_without_a_bound(image_run: Path, tmp_path: Path,
                                                         kind: str) -> None:
    run = _copy_run(image_run, tmp_path / "run")
    metrics = run / "metrics.jsonl"
    metrics.unlink()
    if kind == "dev-zero":
        os.symlink("/dev/zero", metrics)
        reason = f"{metrics}: expected a metrics file, found a character device, not a regular"
    elif kind == "huge-sparse":
        with open(metrics, "wb") as f:
            f.truncate(2 * GB)  # 2 GB of zeros on one line, no disk used
        reason = "larger than 64 MiB, far more than the metrics of any run"
    else:
        metrics.write_bytes(b"[" + b"1," * (4 * MB) + b"1]\n")
        reason = "line 1 is longer than 64 KiB: not a metrics row"
    result = run_cli(["info", str(run)], timeout=60)
    assert result.code == 0, result.err
    assert "notice: cannot read" in result.err and reason in result.err, result.err
    assert "showing the metrics saved in the checkpoint" in result.err
    assert "\n      1      " in result.out  # the checkpoint's row
    assert result.peak_rss < 200 * MB, result.peak_rss / MB


def test_read_metrics_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    os.symlink(tmp_path / "nowhere", tmp_path / "metrics.jsonl")
    with pytest.raises(CheckpointError, match="found a broken symlink"):
        read_metrics(tmp_path)
    assert read_metrics(tmp_path / "no-run-here") == []


# ---- a folder of the user's own files is never emptied --------------------------------------


def test_out_with_files_no_run_made_is_refused_and_kept(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "metrics.csv").write_text("my,own,numbers\n")
    (mine / "best.safetensors").write_bytes(b"my model")
    result = run_cli([*XOR, "--out", str(mine)])
    assert result.code == 2
    line = result.one_line_error()
    assert f"--out {mine} holds metrics.csv, best.safetensors that no chainrule run left " \
           "there (no .chainrule.lock); choose an empty folder or another --out" in line, line
    assert (mine / "metrics.csv").read_text() == "my,own,numbers\n"
    assert (mine / "best.safetensors").read_bytes() == b"my model"
    assert sorted(os.listdir(mine)) == ["best.safetensors", "metrics.csv"]


def test_a_run_that_leaves_metrics_without_a_checkpoint_keeps_its_lock_file(
        tmp_path: Path) -> None:
    folder = cli_run.claim(str(tmp_path / "run"), "")
    (tmp_path / "run" / "metrics.jsonl").write_text('{"epoch": 1}\n')  # then it failed
    folder.release(keep=False)
    assert (tmp_path / "run" / cli_run.LOCK_NAME).exists()  # the sign chainrule wrote them
    again = cli_run.claim(str(tmp_path / "run"), "")
    assert again.removed == ["metrics.jsonl"]
    again.release()
    assert not (tmp_path / "run" / cli_run.LOCK_NAME).exists()  # nothing left to explain


# ---- NaN weights and NaN images -------------------------------------------------------------


def _poison(path: Path) -> None:
    """Write NaN into one weight of the checkpoint at ``path``, through the Python API."""
    arrays, meta = read_checkpoint(path)
    config = recipe.resolve({k: v for k, v in meta["config"].items() if k != "environment"})
    model = recipe.build_model(config, 784, 10)
    optimizer = recipe.build_optimizer(config, model)
    load_checkpoint(path, model, optimizer)
    model[3].weight.data[0, 0] = np.nan
    save_checkpoint(path, model, optimizer,
                    extra={k: v for k, v in meta.items() if k != "optimizer"})


def test_nan_weights_are_refused_by_eval_predict_plot_and_resume(image_run: Path,
                                                                 tmp_path: Path) -> None:
    run = _copy_run(image_run, tmp_path / "nan")
    _poison(run / "checkpoint.safetensors")
    write_idx(str(tmp_path / "digits.idx"), np.zeros((2, 28, 28), np.uint8))
    expected = (f"chainrule: error: {run / 'checkpoint.safetensors'}: model/3.weight holds "
                "nan: the run it came from diverged")
    for args in (["eval", str(run)], ["predict", str(run), str(tmp_path / "digits.idx")],
                 ["train", "--resume", str(run), "--epochs", "2"], ["plot", str(run)]):
        result = run_cli(args)
        assert result.code == 2, (args, result.out)
        assert result.one_line_error().startswith(expected), result.err
        assert "nan%" not in result.out and "last good checkpoint" not in result.err


def test_predict_refuses_an_idx_file_of_nan(image_run: Path, tmp_path: Path) -> None:
    path = tmp_path / "nan.idx"
    write_idx(str(path), np.full((3, 28, 28), np.nan, np.float32))
    result = run_cli(["predict", str(image_run), str(path)])
    assert result.code == 2, result.out
    assert result.one_line_error() == (f"chainrule: error: {path}: expected finite pixel "
                                       "values, found NaN in the images")
    write_idx(str(path), np.full((3, 20, 20), np.inf, np.float32))  # the resized path too
    result = run_cli(["predict", str(image_run), str(path)])
    assert result.code == 2 and "found infinity in the images" in result.one_line_error()


# ---- what is at a path ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "loop", "dangling"])
def test_predict_says_what_is_at_the_path(image_run: Path, tmp_path: Path, kind: str) -> None:
    path = tmp_path / "input"
    if kind == "dev-zero":
        path = Path("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "loop":
        os.symlink(tmp_path / "input", path)
    else:
        os.symlink(tmp_path / "gone.png", path)
    result = run_cli(["predict", str(image_run), str(path)], timeout=60)
    assert result.code == 2
    found = {"dev-zero": "a character device, not a regular file",
             "fifo": "a named pipe (FIFO), not a regular file", "loop": "a symlink loop",
             "dangling": f"a broken symlink (to {tmp_path / 'gone.png'})"}[kind]
    assert result.one_line_error().endswith(f"{path}: expected an image (PNG, JPEG, PGM/PPM, "
                                            f"BMP, GIF, TIFF or WebP) or an IDX file, found "
                                            f"{found}"), result.err


def test_predict_names_a_file_that_cannot_be_read(image_run: Path, tmp_path: Path) -> None:
    path = tmp_path / "memory.png"
    os.symlink("/proc/self/mem", path)  # a regular file whose first bytes cannot be read
    result = run_cli(["predict", str(image_run), str(path)])
    assert result.code == 2
    assert result.one_line_error() == (f"chainrule: error: {path}: cannot read it "
                                       "(Input/output error)")


def test_a_dangling_runs_symlink_is_called_one(tmp_path: Path) -> None:
    os.symlink(tmp_path / "elsewhere", tmp_path / "runs")
    result = run_cli(XOR, cwd=tmp_path)
    assert result.code == 2
    line = result.one_line_error()
    assert f"run folder runs: expected a folder, found a broken symlink (to {tmp_path}" \
           "/elsewhere)" in line, line
    result = run_cli([*XOR, "--out", "runs/mine"], cwd=tmp_path)
    assert result.code == 2
    assert "--out runs/mine: expected a folder, found a broken symlink (to " \
           f"{tmp_path}/elsewhere) at runs" in result.one_line_error()


def test_info_on_a_broken_symlink_says_so(tmp_path: Path) -> None:
    os.symlink(tmp_path / "gone", tmp_path / "run")
    result = run_cli(["info", str(tmp_path / "run")])
    assert result.code == 2
    assert result.one_line_error().endswith("expected a run folder or a checkpoint file, "
                                            f"found a broken symlink (to {tmp_path}/gone)")


def test_a_run_that_trains_nothing_leaves_no_folder(tmp_path: Path) -> None:
    result = run_cli([*XOR[:-1], "0"], cwd=tmp_path)
    assert result.code == 0, result.err
    assert "checkpoint none (no epoch trained: nothing kept)" in result.out
    assert not (tmp_path / "runs").exists()
    result = run_cli([*XOR[:-1], "0", "--out", "new/run"], cwd=tmp_path)
    assert result.code == 0 and not (tmp_path / "new").exists()
    (tmp_path / "mine").mkdir()  # a folder it did not make is left as it was
    result = run_cli([*XOR[:-1], "0", "--out", "mine"], cwd=tmp_path)
    assert result.code == 0 and os.listdir(tmp_path / "mine") == []


def test_metrics_rows_are_json(tmp_path: Path) -> None:
    assert run_cli([*XOR, "--out", str(tmp_path / "r")]).code == 0
    rows = [json.loads(line) for line in (tmp_path / "r" / "metrics.jsonl").open()]
    assert rows == read_metrics(tmp_path / "r")
