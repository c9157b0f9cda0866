"""``chainrule train --config FILE``: top-level keys and a [train] table merged, a key set
twice refused, value errors that name the file and the key, and a FIFO refused unopened."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chainrule.cli import main
from chainrule.train import read_checkpoint

from clirun import run_cli


def _train(config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
           *flags: str) -> tuple[int, str]:
    code = main(["train", "--config", str(config), *flags])
    return code, capsys.readouterr().err


def test_top_level_keys_and_a_train_table_are_merged(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "run.toml"
    config.write_text(f'dataset = "xor"\nout = "{tmp_path / "run"}"\n\n[train]\nepochs = 1\n'
                      "hidden = [4]\n")
    code, err = _train(config, tmp_path, capsys)
    assert code == 0, err
    saved = read_checkpoint(tmp_path / "run" / "checkpoint.safetensors")[1]["config"]
    assert (saved["dataset"], saved["epochs"], saved["hidden"]) == ("xor", 1, [4])


@pytest.mark.parametrize(("text", "message"), [
    ('dataset = "xor"\nepochs = 2\n[train]\nepochs = 1\n',
     "epochs is set both at the top level and in [train]; set it once"),
    ('[train]\nbatch-size = 8\nbatch_size = 16\n', "batch_size is set twice in [train]"),
    ("train = 5\n", "train: expected a [train] table of settings, got 5"),
    ("hidden = [true]\n", ": hidden: expected sizes like 16,16, got [True]"),
    ("batch_size = 0\n", ": batch_size: 0 is out of range"),
    ('[train]\nactivation = "swish"\n', ": activation: 'swish' is not one of"),
    ('colour = "blue"\n', "unknown config keys: colour (known: activation, augment, batch_size, "),
])
def test_config_errors_name_the_file_and_the_key(tmp_path: Path, text: str, message: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "run.toml"
    config.write_text(text)
    code, err = _train(config, tmp_path, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"chainrule: error: --config {config}: ")
    assert message in lines[0], lines[0]
    assert "--hidden" not in lines[0] and "--batch-size" not in lines[0]


def test_the_known_keys_are_the_ones_accepted(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "run.toml"
    config.write_text('colour = "blue"\n')
    line = _train(config, tmp_path, capsys)[1]
    known = line.split("(known: ")[1].split(")")[0].split(", ")
    assert "out" in known and "plot" in known and "resume" not in known, known
    config.write_text(f'dataset = "xor"\nepochs = 0\nplot = false\nout = "{tmp_path / "o"}"\n')
    assert _train(config, tmp_path, capsys)[0] == 0  # each known key is accepted


def test_a_flag_still_overrides_a_valid_file_value(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "run.toml"
    config.write_text('dataset = "xor"\nhidden = [4]\nepochs = 3\n')
    code, err = _train(config, tmp_path, capsys, "--epochs", "1", "--out", str(tmp_path / "r"))
    assert code == 0, err
    assert read_checkpoint(tmp_path / "r" / "checkpoint.safetensors")[1]["config"]["epochs"] == 1


@pytest.mark.parametrize("kind", ["fifo", "dangling", "dev-zero"])
def test_a_config_that_is_not_a_regular_file_is_refused_unopened(tmp_path: Path,
                                                                 kind: str) -> None:
    path = tmp_path / "run.toml"
    if kind == "fifo":
        os.mkfifo(path)  # no writer: opening it would wait forever
    elif kind == "dangling":
        os.symlink(tmp_path / "nowhere.toml", path)
    else:
        os.symlink("/dev/zero", path)
    result = run_cli(["train", "--config", str(path)], timeout=30)
    assert result.code == 2
    expected = {"fifo": "a named pipe (FIFO), not a regular file",
                "dangling": f"a broken symlink (to {tmp_path / 'nowhere.toml'})",
                "dev-zero": "a character device, not a regular file"}[kind]
    assert result.one_line_error() == (f"chainrule: error: --config {path}: expected a TOML "
                                       f"file, found {expected}")
