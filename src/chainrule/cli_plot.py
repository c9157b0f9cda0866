"""``chainrule plot RUN1 RUN2 ...``: several runs' curves overlaid in one figure.

Each run is read from its checkpoint (its settings) and its ``metrics.jsonl`` (or, without
one, the metrics saved in the checkpoint); no data set and no model is loaded. The legend
names each run by its folder and the settings that differ between the runs
(``mnist-a (loss=mse)`` vs ``mnist-b (loss=cross_entropy)``), so quadratic vs cross-entropy,
ReLU vs tanh or one seed vs another read off the figure. The figure goes to ``--out FILE``
or to ``compare.png`` in the folder holding the runs (the current folder when they are in
different folders).

>>> differing([{"loss": "mse", "lr": 0.5}, {"loss": "cross_entropy", "lr": 0.5}])
['loss']
>>> run_label("a", {"loss": "mse", "lr": 0.5}, ["loss"])
'a (loss=mse)'
"""

from __future__ import annotations

import os
from typing import Any

from chainrule.cli_lang import Text, error, path_kind
from chainrule.cli_run import UsageError, checkpoint_of, need_matplotlib, saved_config
from chainrule.i18n import messages
from chainrule.paths import what_is_at
from chainrule.train.checkpoint import read_checkpoint
from chainrule.train.metrics import read_metrics

# settings that say where a run read its data or ran, not what it trained
NOT_COMPARED = ("data_dir", "download", "device")
DEFAULT_NAME = "compare.png"


def differing(configs: list[dict[str, Any]]) -> list[str]:
    """The settings whose values are not the same in every config (sorted)."""
    keys = sorted({key for config in configs for key in config} - set(NOT_COMPARED))
    return [key for key in keys
            if len({repr(config.get(key)) for config in configs}) > 1]


def run_label(name: str, config: dict[str, Any], keys: list[str]) -> str:
    """``NAME (key=value, ...)``: a run's name and its values of ``keys``."""
    settings = ", ".join(f"{key}={config.get(key)}" for key in keys)
    return f"{name} ({settings})" if settings else name


def _read_run(run: str) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    """(run folder, settings, metrics rows) of one run."""
    path = checkpoint_of(run)
    _, meta = read_checkpoint(path)
    config, _ = saved_config(path, meta)
    folder = os.path.dirname(path) or "."
    rows = read_metrics(folder) or meta.get("metrics") or []
    if isinstance(rows, dict):  # best.safetensors keeps the one row of its epoch
        rows = [rows]
    if not isinstance(rows, list) or not rows:
        raise error(UsageError, "plot.no_metrics", run=run)
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("epoch"), int):
            raise error(UsageError, "plot.bad_row", run=run, row=str(row)[:80])
    return folder, config, rows


def default_path(folders: list[str]) -> str:
    """``compare.png`` in the folder holding every run, else in the current folder."""
    parents = {os.path.dirname(os.path.abspath(folder)) for folder in folders}
    parent = parents.pop() if len(parents) == 1 else os.getcwd()
    relative = os.path.relpath(parent)  # runs/compare.png, not /home/.../runs/compare.png
    return os.path.normpath(os.path.join(parent if relative.startswith("..") else relative,
                                         DEFAULT_NAME))


def compare_runs(runs: list[str], out: str | None, lang: str | None = None) -> str:
    """Overlay the curves of ``runs`` (two or more) in one PNG; return its path. ``lang``:
    the language of the figure's titles, labels and legend titles ("en", "zh"; default
    ``$CHAINRULE_LANG`` or the locale); the run labels stay as they are (folder names and
    settings). The line saying what it wrote is in that language too.
    """
    need_matplotlib()
    if out is not None and (not out or os.path.isdir(out)):
        raise error(UsageError, "plot.out_file", out=repr(out),
                    found=path_kind(what_is_at(out)) if out else Text("plot.empty_name"))
    read = [_read_run(run) for run in runs]
    keys = differing([config for _, config, _ in read])
    names = [os.path.basename(os.path.abspath(folder)) for folder, _, _ in read]
    if len(set(names)) < len(names):  # one folder name in two places: the paths tell apart
        names = [os.path.normpath(folder) for folder, _, _ in read]
    labels = [run_label(name, config, keys)
              for name, (_, config, _) in zip(names, read, strict=True)]
    path = out if out is not None else default_path([folder for folder, _, _ in read])
    from chainrule.viz.training import compare_curves

    compare_curves([(label, rows) for label, (_, _, rows) in zip(labels, read, strict=True)],
                   save=path, lang=lang)
    print(messages(lang)("plot.compared", path=path, count=len(runs), labels=", ".join(labels)))
    return path
