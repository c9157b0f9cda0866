"""benchmarks/published_results.py: its rows are valid ``chainrule train`` settings, and its
parser reads what a real run prints (a tiny mini-MNIST run through the script's own
machinery; the full-MNIST rows themselves take minutes each and stay out of the suite)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from chainrule.cli import build_parser
from chainrule.train import read_checkpoint, recipe

PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "published_results.py"


def _script() -> Any:
    spec = importlib.util.spec_from_file_location("published_results", PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["published_results"] = module
    spec.loader.exec_module(module)
    return module


pr = _script()


@pytest.mark.parametrize("row", pr.ROWS, ids=[row.key for row in pr.ROWS])
def test_every_row_is_a_valid_train_command(row: Any) -> None:
    """The row's arguments go through ``chainrule train``'s own parser and settings checks
    (a misspelt flag or a bad value fails here, not an hour into the benchmark)."""
    args = build_parser().parse_args(["train", *pr.train_args(row, 1)])
    given = {k: v for k, v in vars(args).items() if k in recipe.DEFAULTS and v is not None}
    config = recipe.resolve(given)
    assert config["threads"] == 1
    assert row.source and row.setup and row.reported
    assert pr.command_text(row, 1).startswith("chainrule train")


def test_rows_have_unique_keys_and_the_published_setups() -> None:
    keys = [row.key for row in pr.ROWS]
    assert len(keys) == len(set(keys))
    by_key = {row.key: row for row in pr.ROWS}
    network = by_key["network.py-30"].args
    assert " ".join(network) == ("--hidden 30 --activation sigmoid --loss mse --lr 3.0 "
                                 "--batch-size 10 --epochs 30 --init normal --val-split 10000")
    for key in ("network2.py-30", "network2.py-100", "network2.py-30-fan-in"):
        args = " ".join(by_key[key].args)
        assert "--loss bce" in args and "--weight-decay 1e-4 --no-bias-decay" in args
    assert "--init normal_fan_in" in " ".join(by_key["network2.py-30-fan-in"].args)
    assert by_key["tutorial-16-16"].args == ()  # the defaults


def test_a_real_run_is_parsed_through_the_scripts_machinery(tmp_path: Path) -> None:
    row = pr.Row("tiny", "test", "mini-MNIST 784-8-10", "n/a",
                 ("--dataset", "mini-mnist", "--hidden", "8", "--epochs", "1",
                  "--val-split", "1000"), dataset="mini-mnist")
    result = pr.run_row(row, tmp_path / "run", threads=1)
    meta = read_checkpoint(tmp_path / "run" / "checkpoint.safetensors")[1]
    tested = meta["test"]
    assert (result.dataset, result.eval_set, result.epochs) == ("mini-mnist", "val", 1)
    assert result.peak_epoch == 1 and result.test_best_epoch == 1
    assert result.test_last == pytest.approx(100 * tested["last"]["accuracy"], abs=0.006)
    assert result.test_best == pytest.approx(100 * tested["best"]["accuracy"], abs=0.006)
    assert result.peak_accuracy == pytest.approx(100 * tested["best"]["chosen_value"],
                                                 abs=0.006)
    assert 0 < result.time_s <= result.wall_s and result.date
    table = pr.table([(row, result)])
    assert "| test: mini-MNIST 784-8-10 | n/a | `chainrule train --dataset mini-mnist" in table
    assert f"{result.peak_accuracy:.2f}% (1 of 1)" in table


def test_a_run_without_validation_split_reports_the_last_model_only() -> None:
    text = ("data: mnist, 60,000 training and 10,000 test samples; sgd lr 0.5\n"
            "threads: 1 openblas BLAS thread(s) (set by --threads), 2 cores, load average 3.10\n"
            "epoch 1/2  train loss 1.0 acc 70.00%  test loss 0.6 acc 90.50%  lr 0.5  1 s  1s\n"
            "epoch 2/2  train loss 0.5 acc 80.00%  test loss 0.5 acc 90.25%  lr 0.5  1 s  1s\n"
            "test accuracy 90.25% (last model, epoch 2) | test loss 0.5000 | time 12.5s | "
            "checkpoint runs/x/checkpoint.safetensors\n")
    result = pr.parse_output(text)
    assert (result.eval_set, result.peak_accuracy, result.peak_epoch) == ("test", 90.5, 1)
    assert (result.test_best, result.test_last, result.time_s) == (None, 90.25, 12.5)
    assert result.load_at_start == 3.1
    with pytest.raises(ValueError, match="no last line"):
        pr.parse_output(text.rsplit("test accuracy", 1)[0])
