"""What ``chainrule --help`` and the subcommands' help show, and the wording of messages."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

import chainrule as cr
from chainrule import nn
from chainrule.cli import build_parser, main
from chainrule.data import TensorDataset, random_split
from chainrule.nn.layers import ShapeError
from chainrule.train import recipe
from chainrule.wording import article

ROOT = Path(__file__).resolve().parents[1]


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_top_level_help_lists_every_subcommand_without_markup() -> None:
    parser = build_parser()
    text = parser.format_help()
    names = list(subcommands(parser))
    assert len(names) >= 7
    listed = re.findall(r"^  (\w+) {2,}\S", text.split("commands:")[1], flags=re.M)
    assert listed == names
    assert "{" not in text and "``" not in text
    for name in names:  # the description names no subset of them
        assert f"{name}," not in text.split("commands:")[0]


def test_every_flag_of_every_subcommand_has_help() -> None:
    for name, sub in subcommands(build_parser()).items():
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help and action.help != argparse.SUPPRESS, (name, action.dest)


def test_dataset_help_and_readme_name_every_data_set() -> None:
    train = subcommands(build_parser())["train"]
    help_text = next(a.help for a in train._actions if a.dest == "dataset") or ""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(text for text in readme.split("Other data sets:")[1:])
    for name in recipe.IMAGE_SETS + recipe.TOY_SETS:
        assert name in help_text.split(" | ") or f"| {name} " in help_text or \
            help_text.startswith(f"{name} "), name
    for name in recipe.TOY_SETS:
        assert re.search(rf"\b{name}\b", line.split("Flags:")[0]), name
    assert "gaussians" in recipe.TOY_SETS


def test_gaussians_is_accepted_by_dataset() -> None:
    assert recipe.resolve({"dataset": "gaussians"})["dataset"] == "gaussians"


def test_example_backprop_last_line_says_each_number_once(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["example", "backprop"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    numbers = re.findall(r"\d\.\d{6,}", last)
    assert numbers and len(numbers) == len(set(numbers)), last


def test_no_message_puts_a_before_a_type_name_or_counts_epochs_in_the_plural() -> None:
    """'expected a int' and '1 epochs' came from f-strings like these; wording.py has the
    helpers (article, plural)."""
    bad = re.compile(r"""\ba \{type\(|\{[^{}]*epochs?[^{}]*\} epochs\b""")
    for path in sorted((ROOT / "src" / "chainrule").rglob("*.py")):
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not bad.search(line), f"{path.relative_to(ROOT)}:{i}: {line.strip()}"


def test_counts_of_one_are_singular() -> None:
    with pytest.raises(ShapeError, match=r"the input has 2 features\. Fix: give it inputs "
                       r"with 1 feature,"):
        nn.Linear(1, 3)(cr.ones(4, 2))
    with pytest.raises(ValueError, match=r"\(1 element\) as"):
        cr.ones(1).reshape(2, 2)
    with pytest.raises(ValueError, match=r"the dataset has 1 sample$"):
        random_split(TensorDataset(cr.ones(1)), [1, 1])
    assert article("int") == "an int" and article("dict") == "a dict"


def test_train_header_says_1_epoch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--dataset", "xor", "--hidden", "4", "--epochs", "1", "--out",
                 str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert ", 1 epoch," in out and "1 epochs" not in out
