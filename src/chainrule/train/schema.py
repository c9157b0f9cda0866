"""The schema of a checkpoint's JSON metadata: what each key written by the Trainer may hold.

:func:`check_metadata` runs after the checksum has passed, so a file that is intact but
holds wrong values (a negative epoch, a NaN learning rate, a random-number state numpy
would refuse) is refused too, with a message naming the key, what was expected and what
was found. Keys the library does not read are left alone (``extra`` may hold anything
JSON-able); the optimizer, scheduler and data loader check their own states in depth
when they load them.

>>> check_metadata({"format": FORMAT, "version": VERSION, "epoch": -1})
Traceback (most recent call last):
...
ValueError: metadata 'epoch': expected an integer >= 0, found -1
"""

from __future__ import annotations

import math
from typing import Any

from chainrule.random import check_state

FORMAT = "chainrule-checkpoint"
VERSION = 2


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fail(key: str, expected: str, found: Any) -> ValueError:
    return ValueError(f"metadata {key!r}: expected {expected}, found {found!r:.80}")


def _count(key: str, value: Any) -> None:
    if not is_int(value) or value < 0:
        raise _fail(key, "an integer >= 0", value)


_ROW_KEYS = ("epoch", "step", "train_loss", "train_accuracy", "lr", "seconds",
             "samples_per_second")


# the per-epoch evaluation: on a validation split (val_*) or, without one, the test set (test_*)
_EVAL_KEYS = ("val_loss", "val_accuracy", "test_loss", "test_accuracy")


def _row(key: str, row: Any) -> None:
    if not isinstance(row, dict):
        raise _fail(key, "a metrics row {name: number}", row)
    for name in _ROW_KEYS:
        if name not in row:
            raise _fail(key, f"a metrics row with {', '.join(_ROW_KEYS)}", row)
    for name, value in row.items():
        if name in _ROW_KEYS or name in _EVAL_KEYS:
            if not _is_number(value):
                raise _fail(f"{key}.{name}", "a number", value)
        elif not (value is None or isinstance(value, str | int | float)):
            raise _fail(f"{key}.{name}", "a number or a string", value)
    if not is_int(row["epoch"]) or row["epoch"] < 1:
        raise _fail(f"{key}.epoch", "an integer >= 1", row["epoch"])
    _count(f"{key}.step", row["step"])


def _metrics(key: str, value: Any) -> None:
    if isinstance(value, dict):  # best.safetensors keeps the best epoch's row
        _row(key, value)
        return
    if not isinstance(value, list):
        raise _fail(key, "a list of metrics rows", value)
    for i, row in enumerate(value):
        _row(f"{key}[{i}]", row)


_PARTIAL_KEYS = {"loss", "correct", "count", "seconds"}


def _partial(key: str, value: Any) -> None:
    if not isinstance(value, dict) or (value and set(value) != _PARTIAL_KEYS):
        raise _fail(key, f"{{}} or the sums {sorted(_PARTIAL_KEYS)}", value)
    for name, number in value.items():
        low = -math.inf if name == "loss" else 0
        if not _is_number(number) or not math.isfinite(number) or number < low:
            raise _fail(f"{key}.{name}", "a finite number" + (" >= 0" if low == 0 else ""),
                        number)
    if value and value["correct"] > value["count"]:
        raise _fail(f"{key}.correct", f"at most count ({value['count']})", value["correct"])


def _optimizer(key: str, value: Any) -> None:
    if not isinstance(value, dict) or set(value) != {"type", "param_groups", "state"}:
        raise _fail(key, "{type, param_groups, state}", value)
    if not isinstance(value["type"], str):
        raise _fail(f"{key}.type", "an optimizer class name", value["type"])
    groups = value["param_groups"]
    if not isinstance(groups, list) or not groups:
        raise _fail(f"{key}.param_groups", "a list of parameter groups", groups)
    for i, group in enumerate(groups):
        where = f"{key}.param_groups[{i}]"
        indices = group.get("params") if isinstance(group, dict) else None
        if not isinstance(indices, list) or not all(is_int(n) and n >= 0 for n in indices):
            raise _fail(where, "a dict with params: [indices]", group)
        for name, setting in group.items():
            settings = setting if isinstance(setting, list) else [setting]
            if not all(v is None or isinstance(v, str | bool)
                       or _is_number(v) and math.isfinite(v) for v in settings):
                raise _fail(f"{where}.{name}", "finite numbers, flags or names", setting)
    if not isinstance(value["state"], dict):
        raise _fail(f"{key}.state", "{index: {name: number}}", value["state"])
    for idx, entry in value["state"].items():
        if not idx.isascii() or not idx.isdigit() or not isinstance(entry, dict):
            raise _fail(f"{key}.state", "{index: {name: number}}", {idx: entry})
        for name, number in entry.items():
            if not _is_number(number) or not math.isfinite(number):
                raise _fail(f"{key}.state.{idx}.{name}", "a finite number", number)


def _rng(key: str, value: Any) -> None:
    try:
        check_state(value, key)
    except ValueError as exc:
        raise ValueError(f"metadata {exc}") from None


def _optional(kind: type, expected: str) -> Any:
    def check(key: str, value: Any) -> None:
        if value is not None and not isinstance(value, kind):
            raise _fail(key, expected, value)
    return check


def _best_value(key: str, value: Any) -> None:
    if value is not None and not _is_number(value):
        raise _fail(key, "null or a number", value)


def _best_epoch(key: str, value: Any) -> None:
    if value is not None:
        _count(key, value)


def _divergence(key: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dict) or set(value) != {"reference", "recent"}:
        raise _fail(key, "null or {reference, recent}", value)
    reference, recent = value["reference"], value["recent"]
    if reference is not None and not (_is_number(reference) and math.isfinite(reference)):
        raise _fail(f"{key}.reference", "null or a finite number", reference)
    if not isinstance(recent, list) or not all(_is_number(v) and math.isfinite(v)
                                               for v in recent):
        raise _fail(f"{key}.recent", "a list of finite losses", recent)


def _validation(key: str, value: Any) -> None:
    """The training images a run holds out (``--val-split``): {of: n, indices: [...]},
    the indices increasing and in [0, n)."""
    if not isinstance(value, dict) or set(value) != {"of", "indices"}:
        raise _fail(key, "{of, indices}", value)
    of, indices = value["of"], value["indices"]
    if not is_int(of) or of < 2:
        raise _fail(f"{key}.of", "the number of training images (an integer >= 2)", of)
    if not isinstance(indices, list) or not indices:
        raise _fail(f"{key}.indices", "a list of image indices", indices)
    previous = -1
    for index in indices:
        if not is_int(index) or not previous < index < of:
            raise _fail(f"{key}.indices", f"increasing integers in [0, {of})", index)
        previous = index
    if len(indices) >= of:
        raise _fail(f"{key}.indices", f"fewer than {of} indices", len(indices))


_RESULT_KEYS = {"epoch", "loss", "accuracy", "count"}


def _test(key: str, value: Any) -> None:
    """The test set's one evaluation after training: {last: result, best: result}, each
    {epoch, loss, accuracy, count} (best also chosen_by and chosen_value)."""
    if not isinstance(value, dict) or not value or not set(value) <= {"last", "best"}:
        raise _fail(key, "{last, best} results", value)
    for name, result in value.items():
        where = f"{key}.{name}"
        if not isinstance(result, dict) or not _RESULT_KEYS <= set(result):
            raise _fail(where, f"a result with {', '.join(sorted(_RESULT_KEYS))}", result)
        for field in ("epoch", "count"):
            _count(f"{where}.{field}", result[field])
        for field in ("loss", "accuracy"):
            if not _is_number(result[field]):
                raise _fail(f"{where}.{field}", "a number", result[field])
        if not isinstance(result.get("chosen_by", ""), str):
            raise _fail(f"{where}.chosen_by", "a metrics column name", result["chosen_by"])
        chosen = result.get("chosen_value")
        if chosen is not None and not _is_number(chosen):
            raise _fail(f"{where}.chosen_value", "null or a number", chosen)


_SCHEMA = {
    "epoch": _count, "step": _count, "best_value": _best_value, "best_epoch": _best_epoch,
    "partial": _partial, "metrics": _metrics, "config": _optional(dict, "a dict of settings"),
    "rng": _rng, "loader": _optional(dict, "null or a loader state"),
    "scheduler": _optional(dict, "null or a scheduler state"), "optimizer": _optimizer,
    "divergence": _divergence, "validation": _validation, "test": _test,
}


def check_metadata(meta: Any) -> None:
    """ValueError naming the key unless every known key of ``meta`` has a valid value."""
    if not isinstance(meta, dict):
        raise _fail("(top level)", "a JSON object", meta)
    if meta.get("format") != FORMAT:
        raise _fail("format", repr(FORMAT), meta.get("format"))
    if meta.get("version") != VERSION or not is_int(meta["version"]):
        raise _fail("version", f"{VERSION} (this chainrule's checkpoint format)",
                    meta.get("version"))
    for key, check in _SCHEMA.items():
        if key in meta:
            check(key, meta[key])
    best: Any = meta.get("best_epoch")
    epoch: Any = meta.get("epoch")
    if is_int(best) and is_int(epoch) and best > epoch:
        raise _fail("best_epoch", f"at most epoch ({epoch})", best)
    if isinstance(meta.get("metrics"), list) and is_int(epoch):
        for i, row in enumerate(meta["metrics"]):
            if row["epoch"] > epoch:
                raise _fail(f"metrics[{i}].epoch", f"at most epoch ({epoch})", row["epoch"])
