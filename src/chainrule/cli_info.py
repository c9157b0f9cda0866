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

from chainrule.cli_run import checkpoint_of, saved_config
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


def _evaluated_note(config: dict[str, Any], rows: list[Any]) -> tuple[str, str]:
    """The set the per-epoch evaluation columns hold, and a line saying what it is."""
    if config.get("val_split") is not None:
        return "val", ("the val columns are the validation images held out by --val-split, "
                       "on which best.safetensors was chosen")
    old = any(isinstance(r, dict) and "val_loss" in r and "test_loss" not in r for r in rows)
    note = ("the test columns are the test set, evaluated every epoch (no --val-split), and "
            "best.safetensors was chosen on it")
    if old:
        note += "; this run is older than --val-split and saved them as val_*"
    return "test", note


def _validation_line(meta: dict[str, Any], config: dict[str, Any]) -> str | None:
    held = meta.get("validation")
    if not isinstance(held, dict):
        return None
    return (f"validation: {len(held.get('indices', [])):,} of the {held.get('of', 0):,} "
            f"training samples held out (--val-split {config.get('val_split')}, drawn from "
            f"seed {config.get('seed')}); trained on the other "
            f"{held.get('of', 0) - len(held.get('indices', [])):,}")


def _test_lines(tested: Any) -> list[str]:
    if not isinstance(tested, dict):
        return []
    lines = ["test set, evaluated once after training:"]
    for name in ("best", "last"):
        result = tested.get(name)
        if not isinstance(result, dict):
            continue
        how = ""
        if name == "best" and result.get("chosen_value") is not None:
            column = str(result.get("chosen_by", "")).replace("val_", "validation ")
            how = f", chosen by {column} {_cell(result['chosen_value'], '.2%')}"
        lines.append(f"  {name} model (epoch {result.get('epoch')}{how}): accuracy "
                     f"{_cell(result.get('accuracy'), '.2%')}, loss "
                     f"{_cell(result.get('loss'), '.4f')}, {_cell(result.get('count'), ',')} "
                     "samples")
    return lines


def cmd_info(args: argparse.Namespace) -> int:
    """Print a run's checkpoint, settings, validation split, per-epoch metrics (labelled by
    the set they were evaluated on), test results and environment (threads included)."""
    path = checkpoint_of(args.run)
    _, meta = read_checkpoint(path)
    config, env = saved_config(path, meta)
    print(f"checkpoint: {path} (epoch {meta.get('epoch')}, step {meta.get('step')}, best "
          f"epoch {meta.get('best_epoch')})")
    print("config:")
    for key in sorted(config):
        print(f"  {key}: {config[key]}")
    try:
        rows = read_metrics(os.path.dirname(path))
    except (OSError, ValueError, CheckpointError) as exc:  # the checkpoint has them too
        print(f"notice: cannot read {os.path.dirname(path) or '.'}/metrics.jsonl ({exc}); "
              "showing the metrics saved in the checkpoint", file=sys.stderr)
        rows = []
    rows = rows or meta.get("metrics") or []
    if isinstance(rows, dict):  # best.safetensors keeps the one row of its epoch
        rows = [rows]
    validation = _validation_line(meta, config)
    if validation:
        print(validation)
    if rows:
        evaluated, note = _evaluated_note(config, rows)
        print(f"per-epoch evaluation: {note}")
        print("metrics:")
        print(metric_header(evaluated))
        for row in rows:
            print(metric_line(row, evaluated))
    for line in _test_lines(meta.get("test")):
        print(line)
    print("environment:")
    for key, value in env.items():
        print(f"  {key}: {value}")
    return 0
