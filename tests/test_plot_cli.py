"""``chainrule plot RUN1 RUN2 ...`` overlays runs; a matplotlib that does not import stops
``--plot`` and ``plot`` before anything is trained or loaded."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from chainrule.cli import main

from clirun import run_cli

PNG = b"\x89PNG\r\n\x1a\n"
TRAIN = ["train", "--dataset", "xor", "--hidden", "4", "--epochs", "2"]
needs_matplotlib = pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                                      reason="matplotlib is not installed")


def broken_matplotlib(tmp_path: Path) -> dict[str, str]:
    """An environment whose ``import matplotlib`` fails, as without the package."""
    fake = tmp_path / "fake" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError(\"No module named 'matplotlib'\")\n")
    return {"PYTHONPATH": str(tmp_path / "fake")}


@needs_matplotlib
def test_plot_overlays_runs_naming_the_settings_that_differ(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mse, ce = tmp_path / "mse", tmp_path / "ce"
    assert main([*TRAIN, "--loss", "mse", "--out", str(mse)]) == 0
    assert main([*TRAIN, "--loss", "cross_entropy", "--out", str(ce)]) == 0
    capsys.readouterr()
    figure = tmp_path / "figs" / "both.png"
    assert main(["plot", str(mse), str(ce), "--out", str(figure)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {figure} (2 runs: mse (loss=mse), ce (loss=cross_entropy))" in out
    assert figure.read_bytes().startswith(PNG) and figure.stat().st_size > 10_000
    assert not (mse / "curves.png").exists()  # the single-run figures are not written
    # default: compare.png in the folder holding the runs; a checkpoint file names a run too
    assert main(["plot", str(mse / "checkpoint.safetensors"), str(ce)]) == 0
    assert f"wrote {tmp_path / 'compare.png'} (2 runs" in capsys.readouterr().out
    assert (tmp_path / "compare.png").read_bytes().startswith(PNG)


def test_plot_out_needs_several_runs_and_a_file(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert main([*TRAIN, "--out", str(run)]) == 0
    single = run_cli(["plot", str(run), "--out", str(tmp_path / "x.png")])
    assert single.code == 2 and "--out" in single.one_line_error()
    folder = run_cli(["plot", str(run), str(run), "--out", str(tmp_path)])
    assert folder.code == 2 and "expected a file name" in folder.one_line_error()
    missing = run_cli(["plot", str(run), str(tmp_path / "nothing")])
    assert missing.code == 2 and "nothing" in missing.one_line_error()


def test_train_plot_without_matplotlib_stops_before_training(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = run_cli([*TRAIN, "--plot", "--out", str(run)], env=broken_matplotlib(tmp_path))
    assert result.code == 2
    line = result.one_line_error()
    assert "matplotlib" in line and "pip install matplotlib" in line
    assert "epoch" not in result.err + result.out  # nothing trained
    assert not run.exists()


def test_plot_without_matplotlib_is_one_line(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert main([*TRAIN, "--out", str(run)]) == 0
    env = broken_matplotlib(tmp_path)
    for args in (["plot", str(run)], ["plot", str(run), str(run)]):
        result = run_cli(args, env=env)
        assert result.code == 2 and "pip install matplotlib" in result.one_line_error()
