"""Hostile input to the real ``chainrule`` entry point: every case is one line on stderr
('chainrule: error: ...'), exit status 2, no traceback, and no memory blow-up.

The table runs each case in its own child process (several at a time); the cases that
need a fault no machine can produce on demand (a read-only disk, a full disk, no
permission: tests may run as root) patch the OS call in-process and call ``main``.
"""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import cli_info, cli_run, cli_train
from chainrule.cli import _os_error, main

from clirun import MB, Result, run_cli

GB = 1 << 30
XOR = ["train", "--dataset", "xor", "--hidden", "4", "--epochs", "1"]

TOML = {
    "float_epochs.toml": "epochs = 2.7\n",
    "bool_epochs.toml": "epochs = true\n",
    "inf_lr.toml": "lr = inf\n",
    "resume.toml": 'resume = "runs/x"\n',
    "config.toml": 'config = "other.toml"\n',
    "out_number.toml": "out = 5\n",
    "plot_string.toml": 'plot = "yes"\n',
    "download_string.toml": 'download = "yes"\n',
    "hidden_bool.toml": "hidden = [true]\n",
    "data_dir_number.toml": "data_dir = 5\n",
    "huge_batch.toml": 'dataset = "xor"\nbatch_size = 1_000_000_000_000\n',
    "not_utf8.toml": b"epochs = \xff\n",
}

# (id, args, what the one line must contain); {tmp}: a folder with the files above,
# {run}: a trained xor run, {file}: a regular file
CASES: list[tuple[str, list[str], str]] = [
    # memory bombs: refused before anything is allocated
    ("hidden-1e8", ["train", "--dataset", "xor", "--hidden", "100000000"],
     "the model 2-100000000-2 (500,000,002 parameters"),
    ("hidden-1e20", ["train", "--dataset", "xor", "--hidden", "99999999999999999999"],
     "--hidden: layer sizes must be in [1, 9223372036854775807]"),
    ("batch-1e12", ["train", "--dataset", "xor", "--batch-size", "1000000000000"],
     "a training batch of 1,000,000,000,000"),
    ("toml-batch-1e12", ["train", "--config", "{tmp}/huge_batch.toml"], "would need"),
    # numbers: not finite, not whole, out of range, not numbers
    ("lr-inf", ["train", "--lr", "inf"], "--lr: expected a finite number, got 'inf'"),
    ("lr-nan", ["train", "--lr", "nan"], "--lr: expected a finite number, got 'nan'"),
    ("lr-negative", ["train", "--lr", "-1"], "--lr: -1.0 is out of range"),
    ("lr-empty", ["train", "--lr", ""], "--lr: expected a finite number, got ''"),
    ("weight-decay-inf", ["train", "--weight-decay", "inf"], "--weight-decay: expected a finite"),
    ("momentum-2", ["train", "--momentum", "2"], "--momentum: 2.0 is out of range [0.0, 1.0]"),
    ("dropout-1", ["train", "--dropout", "1"], "--dropout: 1.0 is out of range"),
    ("epochs-2.7", ["train", "--epochs", "2.7"], "--epochs: expected a whole number, got '2.7'"),
    ("epochs-1e20", ["train", "--epochs", "99999999999999999999"], "--epochs: 9999"),
    ("batch-0", ["train", "--batch-size", "0"], "--batch-size: 0 is out of range"),
    ("seed-negative", ["train", "--seed", "-1"], "--seed: -1 is out of range"),
    ("hidden-0", ["train", "--hidden", "16,0"], "--hidden: layer sizes must be in"),
    ("hidden-gap", ["train", "--hidden", "16,,16"], "--hidden: expected sizes like 16,16"),
    # names
    ("activation-empty", ["train", "--activation", ""], "--activation: '' is not one of"),
    ("dataset-empty", ["train", "--dataset", ""], "--dataset: '' is not one of"),
    ("device-tpu", ["train", "--device", "tpu"], "--device: expected cpu, cuda or cuda:N"),
    ("unknown-flag", ["train", "--colour", "blue"], "unrecognized arguments: --colour blue"),
    ("no-command", [], "the following arguments are required: COMMAND (see chainrule --help)"),
    # a --data-dir that is not a folder is an error, whatever the data set
    ("data-dir-missing", ["train", "--data-dir", "/nonexistent"],
     "--data-dir /nonexistent: expected a folder, found nothing there"),
    ("data-dir-toy", ["train", "--dataset", "xor", "--data-dir", "/nonexistent"],
     "--data-dir /nonexistent: expected a folder"),
    ("data-dir-file", ["train", "--data-dir", "{file}"], "expected a folder, found a regular"),
    ("data-dir-empty", ["train", "--data-dir", ""], "--data-dir: expected a folder name"),
    # config files: unreadable, huge, checked like the flags
    ("config-proc-mem", ["train", "--config", "/proc/self/mem"],
     "--config /proc/self/mem: cannot read it (Input/output error)"),
    ("config-folder", ["train", "--config", "{tmp}"], "expected a TOML file, found a folder"),
    ("config-under-file", ["train", "--config", "{file}/x.toml"], "cannot read it (Not a dir"),
    ("config-dev-zero", ["train", "--config", "/dev/zero"],
     "--config /dev/zero: expected a TOML file, found a character device, not a regular file"),
    ("config-empty", ["train", "--config", ""], "--config: expected a file name"),
    ("config-not-utf8", ["train", "--config", "{tmp}/not_utf8.toml"], "not valid TOML"),
    ("toml-epochs-2.7", ["train", "--config", "{tmp}/float_epochs.toml"],
     "float_epochs.toml: epochs: expected a whole number, got 2.7"),
    ("toml-epochs-true", ["train", "--config", "{tmp}/bool_epochs.toml"],
     "bool_epochs.toml: epochs: expected a whole number, got True"),
    ("toml-lr-inf", ["train", "--config", "{tmp}/inf_lr.toml"], "inf_lr.toml: lr: expected a"),
    ("toml-resume", ["train", "--config", "{tmp}/resume.toml"],
     "resume cannot be set in a config file; pass --resume on the command line"),
    ("toml-config", ["train", "--config", "{tmp}/config.toml"], "config cannot be set in a"),
    ("toml-out-number", ["train", "--config", "{tmp}/out_number.toml"], "out: expected a fold"),
    ("toml-plot-string", ["train", "--config", "{tmp}/plot_string.toml"],
     "plot: expected true or false, got 'yes'"),
    ("toml-download-string", ["train", "--config", "{tmp}/download_string.toml"],
     "download_string.toml: download: expected true or false, got 'yes'"),
    ("toml-hidden-bool", ["train", "--config", "{tmp}/hidden_bool.toml"],
     "hidden_bool.toml: hidden: expected"),
    ("toml-data-dir-number", ["train", "--config", "{tmp}/data_dir_number.toml"],
     "data_dir_number.toml: data_dir: expected a folder name, got 5"),
    # run folders that cannot be written: refused before any data is trained on
    ("out-dev-full", [*XOR, "--out", "/dev/full"], "--out /dev/full: expected a folder, found a"),
    ("out-under-file", [*XOR, "--out", "{file}/run"], "expected a folder, found a regular file "
     "at"),
    ("out-empty", [*XOR, "--out", ""], "--out: expected a folder name, got an empty string"),
    ("resume-empty", ["train", "--resume", ""], "--resume: expected a run folder or a check"),
    ("resume-missing", ["train", "--resume", "/nonexistent"], "--resume /nonexistent: expected"),
    ("resume-best", ["train", "--resume", "{run}/best.safetensors"],
     "holds only the best epoch's weights, config and metrics"),
    # the other commands
    ("eval-dataset-unknown", ["eval", "{run}", "--dataset", "cifar"], "'cifar' is not one of"),
    ("eval-dataset-images", ["eval", "{run}", "--dataset", "mnist"], "takes 2-D points"),
    ("eval-dataset-classes", ["eval", "{run}", "--dataset", "spiral"],
     "--dataset spiral has 3 classes"),
    ("eval-data-dir-missing", ["eval", "{run}", "--data-dir", "/nonexistent"], "expected a fold"),
    ("eval-empty", ["eval", ""], "run: expected a run folder or a checkpoint file, got an empty"),
    ("predict-limit-negative", ["predict", "{run}", "x.png", "--limit", "-1"],
     "argument --limit: expected a whole number >= 1, got '-1'"),
    ("predict-limit-zero", ["predict", "{run}", "x.png", "--limit", "0"], ">= 1, got '0'"),
    ("predict-limit-word", ["predict", "{run}", "x.png", "--limit", "all"], "got 'all'"),
    ("predict-toy-model", ["predict", "{run}", "{file}"], "predict needs an image model"),
    ("info-folder-without-run", ["info", "{tmp}"], "found a folder without checkpoint"),
    ("info-dev-full", ["info", "/dev/full"], "expected a run folder or a checkpoint file"),
    ("plot-missing", ["plot", "/nonexistent"], "expected a run folder or a checkpoint file"),
]


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("hostile")
    for name, text in TOML.items():
        (tmp / name).write_bytes(text if isinstance(text, bytes) else text.encode())
    (tmp / "file").write_text("a regular file\n")
    run = tmp / "run"
    result = run_cli([*XOR, "--out", str(run)], unset=("CHAINRULE_DATA",))
    assert result.code == 0, result.err
    return {"tmp": str(tmp), "run": str(run), "file": str(tmp / "file")}


@pytest.fixture(scope="module")
def results(places: dict[str, str]) -> dict[str, Result]:
    """Every case of the table, run in child processes four at a time."""
    def one(case: tuple[str, list[str], str]) -> tuple[str, Result]:
        args = [arg.format(**places) for arg in case[1]]
        return case[0], run_cli(args, cwd=places["tmp"], unset=("CHAINRULE_DATA",))

    with ThreadPoolExecutor(4) as pool:
        return dict(pool.map(one, CASES))


@pytest.mark.parametrize(("name", "args", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(name: str, args: list[str], message: str,
                                          results: dict[str, Result]) -> None:
    result = results[name]
    assert result.code == 2, result.err
    line = result.one_line_error()
    assert message in line
    assert "epoch 1/" not in result.err and "Layer (type)" not in result.out  # nothing trained
    assert result.peak_rss < GB, result.peak_rss / MB


def test_memory_bomb_names_the_estimate_and_the_limit(results: dict[str, Result]) -> None:
    line = results["hidden-1e8"].one_line_error()
    assert re.search(r"would need 7\d\d\.\d GiB of memory, over the limit of 4\.0 GiB", line)
    assert "CHAINRULE_MAX_MEMORY=" in line


def test_chainrule_max_memory_moves_the_limit(tmp_path: Path) -> None:
    args = ["train", "--dataset", "xor", "--hidden", "1000", "--epochs", "0"]  # about 8 MiB
    low = run_cli([*args, "--out", str(tmp_path / "a")], env={"CHAINRULE_MAX_MEMORY": "1M"})
    assert low.code == 2 and "over the limit of 1.0 MiB" in low.one_line_error()
    high = run_cli([*args, "--out", str(tmp_path / "b")], env={"CHAINRULE_MAX_MEMORY": "64M"})
    assert high.code == 0, high.err
    bad = run_cli(args, env={"CHAINRULE_MAX_MEMORY": "lots"})
    assert bad.code == 2 and "CHAINRULE_MAX_MEMORY" in bad.one_line_error()


# ---- OS errors no machine produces on demand: patched, through main() -----------------


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.strip().splitlines() if not line.startswith("epoch ")]
    assert "Traceback" not in err and len(lines) == 1 and lines[0].startswith("chainrule: ")
    return lines[0]


def _failing(real: Any, error: int, when: Any) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        if when(*args):
            raise OSError(error, os.strerror(error), os.fspath(args[0]))
        return real(*args, **kwargs)

    return call


def test_read_only_resume_folder_says_to_pass_out(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "run"
    assert main([*XOR, "--out", str(run)]) == 0
    capsys.readouterr()
    monkeypatch.setattr(cli_run.os, "open", _failing(
        os.open, errno.EROFS, lambda path, *_: str(path).endswith(cli_run.LOCK_NAME)))
    assert main(["train", "--resume", str(run), "--epochs", "2"]) == 2
    line = _one_line(capsys)
    assert f"--resume {run}: cannot write to the run folder (Read-only file system)" in line
    assert "pass --out FOLDER" in line


def test_permission_denied_config(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "secret.toml"
    config.write_text("epochs = 1\n")
    monkeypatch.setattr(cli_train, "open", _failing(open, errno.EACCES, lambda *_: True),
                        raising=False)
    assert main(["train", "--config", str(config)]) == 2
    assert f"--config {config}: cannot read it (Permission denied)" in _one_line(capsys)


def test_permission_denied_out(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_run.os, "makedirs", _failing(
        os.makedirs, errno.EACCES, lambda path, *_: "denied" in str(path)))
    assert main([*XOR, "--out", str(tmp_path / "denied")]) == 2
    assert "cannot create the folder (Permission denied)" in _one_line(capsys)


def test_disk_full_while_saving_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    assert main([*XOR, "--out", str(tmp_path / "run")]) == 2
    assert "No space left on device" in _one_line(capsys)


def test_any_other_os_error_is_one_line(places: dict[str, str],
                                        capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    def unreadable(path: str) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO), path)

    monkeypatch.setattr(cli_info, "read_checkpoint", unreadable)  # an OS error nobody caught
    assert main(["info", places["run"]]) == 2
    assert _one_line(capsys) == (f"chainrule: error: {places['run']}/checkpoint.safetensors: "
                                 "Input/output error")
    assert _os_error(OSError(errno.EIO, "Input/output error")) == "Input/output error"
    assert _os_error(FileExistsError(errno.EEXIST, "File exists", "a", None, "b")) \
        == "a -> b: File exists"


def test_data_of_another_dtype_or_shape_is_one_line(
        places: dict[str, str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from chainrule.data import TensorDataset
    from chainrule.train import recipe

    for x, message in ((np.zeros((4, 2)), "float64"), (np.zeros((4, 3), np.float32), "(4, 3)")):
        data = TensorDataset(cr.tensor(x), cr.tensor(np.zeros(4, np.int64)))
        monkeypatch.setattr(recipe, "load_data", lambda *_, data=data, **__: (None, data, 2, 2))
        assert main(["eval", places["run"]]) == 2
        assert message in _one_line(capsys)


# ---- a closed stdout ------------------------------------------------------------------


def _info_child(run: Path, stdout: Any) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "0"}
    return subprocess.Popen([sys.executable, "-m", "chainrule.cli", "info", str(run)],
                            stdout=stdout, stderr=subprocess.PIPE, env=env)


def test_info_piped_to_head_exits_quietly(places: dict[str, str], tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.safetensors").write_bytes(
        (Path(places["run"]) / "checkpoint.safetensors").read_bytes())
    row = {"epoch": 1, "train_loss": 0.5, "train_accuracy": 0.5, "lr": 0.5,
           "samples_per_second": 1.0}
    # far more than a pipe holds: the child is still writing when the reader goes away
    (run / "metrics.jsonl").write_text((json.dumps(row) + "\n") * 20_000)
    proc = _info_child(run, subprocess.PIPE)  # chainrule info RUN | head -1
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"checkpoint: ")
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141 and err == ""

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte: the same, every time
    proc = _info_child(run, write_end)
    os.close(write_end)
    _, err_bytes = proc.communicate(timeout=60)
    assert proc.returncode == 141 and err_bytes == b""


def test_info_with_damaged_metrics_falls_back_to_the_checkpoint(
        places: dict[str, str], tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.safetensors").write_bytes(
        (Path(places["run"]) / "checkpoint.safetensors").read_bytes())
    (run / "metrics.jsonl").write_text("{not json\n")
    result = run_cli(["info", str(run)])
    assert result.code == 0 and "Traceback" not in result.err
    assert "notice: cannot read" in result.err and "\n      1      " in result.out
    (run / "metrics.jsonl").write_text('{"epoch": "one", "lr": null}\n[1, 2]\n')
    result = run_cli(["info", str(run)])  # rows of the wrong shape: shown, or not used
    assert result.code == 0 and "Traceback" not in result.err and "metrics:" in result.out
