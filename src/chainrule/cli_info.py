"""``chainrule info RUN``: a run's checkpoint, settings, validation split, per-epoch metrics,
the test set's results after training, and the environment it was trained in (threads
included).

The per-epoch evaluation columns are named for the set they were computed on: ``val`` for a
run with ``--val-split`` (its held-out training images), ``test`` without one. Runs made
before the split existed saved their test-set columns as ``val_*``; they are shown, and
labelled, as the test set's.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from chainrule.cli_lang import say_of
from chainrule.cli_run import checkpoint_of, saved_config
from chainrule.i18n import Messages
from chainrule.train.checkpoint import CheckpointError, read_checkpoint
from chainrule.train.metrics import read_metrics

# (row key, header, width, format); <set> is val or test, the set the epoch was evaluated on
METRIC_COLUMNS = (("epoch", "epoch", 5, "d"), ("train_loss", "train_loss", 10, ".4f"),
                  ("train_accuracy", "train_acc", 9, ".2%"), ("<set>_loss", "<set>_loss", 9, ".4f"),
                  ("<set>_accuracy", "<set>_acc", 8, ".2%"), ("lr", "lr", 8, ".4g"),
                  ("samples_per_second", "samples/s", 9, ",.0f"))


def _cell(value: Any, spec: str) -> str:
    try:
        return format(value, spec)
    except (TypeError, ValueError):  # a value of the wrong type is shown as it is
        return format(str(value), spec[:2])


def metric_line(row: Any, evaluated: str = "val") -> str:
    """One row of the metrics table; ``evaluated``: the set of the evaluation columns
    (``val`` or ``test``; an older run's ``val_*`` columns stand in for ``test``)."""
    cells = []
    for key, _, width, kind in METRIC_COLUMNS:
        spec = f">{width}{kind}"
        if not isinstance(row, dict):
            cells.append(_cell(None, spec))
            continue
        name = key.replace("<set>", evaluated)
        fallback = row.get(key.replace("<set>", "val"), float("nan"))
        cells.append(_cell(row.get(name, fallback), spec))
    return "  " + "  ".join(cells)


def metric_header(evaluated: str) -> str:
    """The metrics table's header line, its columns aligned with :func:`metric_line`'s."""
    return "  " + "  ".join(format(title.replace("<set>", evaluated), f">{width}")
                            for _, title, width, _ in METRIC_COLUMNS)


def _evaluated_note(config: dict[str, Any], rows: list[Any], say: Messages) -> tuple[str, str]:
    """The set the per-epoch evaluation columns hold, and a line saying what it is."""
    if config.get("val_split") is not None:
        return "val", say("cli.info.note_val")
    old = any(isinstance(r, dict) and "val_loss" in r and "test_loss" not in r for r in rows)
    return "test", say("cli.info.note_test_old" if old else "cli.info.note_test")


def _validation_line(meta: dict[str, Any], config: dict[str, Any], say: Messages) -> str | None:
    held = meta.get("validation")
    if not isinstance(held, dict):
        return None
    count, total = len(held.get("indices", [])), held.get("of", 0)
    return say("cli.info.validation", held=f"{count:,}", total=f"{total:,}",
               split=config.get("val_split"), seed=config.get("seed"),
               rest=f"{total - count:,}")


def _test_lines(tested: Any, say: Messages) -> list[str]:
    if not isinstance(tested, dict):
        return []
    lines = [say("cli.info.tested")]
    for name in ("best", "last"):
        result = tested.get(name)
        if not isinstance(result, dict):
            continue
        how = ""
        if name == "best" and result.get("chosen_value") is not None:
            chosen_by = str(result.get("chosen_by", ""))
            column = (say(f"cli.info.{chosen_by}") if chosen_by in ("val_accuracy", "val_loss")
                      else chosen_by.replace("val_", "validation "))
            how = say("cli.info.chosen_by", column=column,
                      value=_cell(result["chosen_value"], ".2%"))
        lines.append(say("cli.info.model", name=say(f"cli.info.{name}"),
                         epoch=result.get("epoch"), how=how,
                         accuracy=_cell(result.get("accuracy"), ".2%"),
                         loss=_cell(result.get("loss"), ".4f"),
                         count=_cell(result.get("count"), ",")))
    return lines


def cmd_info(args: argparse.Namespace) -> int:
    """Print a run's checkpoint, settings, validation split, per-epoch metrics (labelled by
    the set they were evaluated on), test results and environment (threads included)."""
    say = say_of(args)
    path = checkpoint_of(args.run)
    _, meta = read_checkpoint(path)
    config, env = saved_config(path, meta)
    print(say("cli.info.checkpoint", path=path, epoch=meta.get("epoch"), step=meta.get("step"),
              best=meta.get("best_epoch")))
    print(say("cli.info.config"))
    for key in sorted(config):
        print(f"  {key}: {config[key]}")
    try:
        rows = read_metrics(os.path.dirname(path))
    except (OSError, ValueError, CheckpointError) as exc:  # the checkpoint has them too
        print(say("cli.info.metrics_unreadable", folder=os.path.dirname(path) or ".",
                  detail=str(exc)), file=sys.stderr)
        rows = []
    rows = rows or meta.get("metrics") or []
    if isinstance(rows, dict):  # best.safetensors keeps the one row of its epoch
        rows = [rows]
    validation = _validation_line(meta, config, say)
    if validation:
        print(validation)
    if rows:
        evaluated, note = _evaluated_note(config, rows, say)
        print(say("cli.info.per_epoch", note=note))
        print(say("cli.info.metrics"))
        print(metric_header(evaluated))
        for row in rows:
            print(metric_line(row, evaluated))
    for line in _test_lines(meta.get("test"), say):
        print(line)
    print(say("cli.info.environment"))
    for key, value in env.items():
        print(f"  {key}: {value}")
    return 0
