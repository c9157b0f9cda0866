"""What a training run shows while it runs: one permanent line per epoch, and on a terminal a
live bar for the epoch in progress, drawn below the lines printed so far.

Every epoch ends in one line that stays (train loss and accuracy, then each evaluated set's,
the learning rate, the speed and the time), on a terminal and off it alike (a pipe, a file,
a CI log: there only the lines are written, no carriage returns). On a terminal a tqdm bar
shows the epoch's batches, running loss, accuracy and samples/s; it is erased when the epoch
ends and the epoch's line is printed in its place, so the lines pile up above the bar.

The bar is cut to the terminal's width less one column, so it never wraps (a wrapped bar
cannot be redrawn in place and fills the screen with copies); under 40 columns it is only
``epoch 2/5:  40%``. A terminal that reports 0
columns (a serial console, some containers and editors' shells) is taken as ``$COLUMNS``
wide, or 80.

>>> import io
>>> log = io.StringIO()
>>> progress = Progress(log, bar=False)
>>> progress.epoch_end({"epoch": 1, "train_loss": 0.5, "train_accuracy": 0.75,
...                     "val_loss": 0.25, "val_accuracy": 0.875, "lr": 0.1,
...                     "samples_per_second": 1234.5, "seconds": 2.0}, epochs=3)
>>> print(log.getvalue(), end="")
epoch 1/3  train loss 0.5000 acc 75.00%  val loss 0.2500 acc 87.50%  lr 0.1  1,234 samples/s  2.0s

The words are English unless the caller passes a catalogue (``chainrule train --lang zh``
passes Chinese); the numbers are the same in every language:

>>> from chainrule.i18n import messages
>>> print(epoch_line({"epoch": 1, "train_loss": 0.5, "test_accuracy": 0.875, "lr": 0.1},
...                  epochs=3, say=messages("zh")))
第 1/3 轮  训练损失 0.5000  测试集准确率 87.50%  学习率 0.1
"""

from __future__ import annotations

import os
import sys
from typing import Any

from chainrule.i18n import ENGLISH, Messages

FALLBACK_COLUMNS = 80  # for a terminal that reports 0 columns, when $COLUMNS says nothing
NARROW = 40  # below this many columns the bar is only 'epoch 2/5:  40%'


def terminal_columns(stream: Any) -> int | None:
    """The width of the terminal ``stream`` writes to, None when it is no terminal.

    A terminal that reports 0 columns is taken as ``$COLUMNS`` wide, or 80.
    """
    try:
        if not stream.isatty():
            return None
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return None
    if columns > 0:
        return columns
    try:
        return max(int(os.environ.get("COLUMNS", "")), 1)
    except ValueError:
        return FALLBACK_COLUMNS


def evaluated_sets(row: dict[str, Any]) -> list[str]:
    """The prefixes of the ``<set>_loss`` / ``<set>_accuracy`` columns of a metrics row, in
    the row's order (``['train', 'val']``, or ``['train', 'test']``...)."""
    sets: list[str] = []
    for key in row:
        for suffix in ("_loss", "_accuracy"):
            name = key[:-len(suffix)]
            if key.endswith(suffix) and name and name not in sets:
                sets.append(name)
    return sets


def _english() -> Messages:
    """The English catalogue: the words of a library call that names no language."""
    return Messages("en")


def set_name(name: str, say: Messages) -> str:
    """An evaluated set's name in ``say``'s language (train, val and test; any other
    prefix as it is).

    >>> from chainrule.i18n import messages
    >>> set_name("val", messages("zh")), set_name("holdout", messages("zh"))
    ('验证集', 'holdout')
    """
    key = f"progress.set.{name}"
    return say(key) if key in ENGLISH else name


def epoch_line(row: dict[str, Any], epochs: int, say: Messages | None = None) -> str:
    """The permanent line of one epoch's metrics row: every evaluated set's loss and
    accuracy, the learning rate, samples per second and seconds (what the row has), in the
    words of ``say`` (None: English)."""
    say = say or _english()
    parts = [say("progress.epoch", epoch=row["epoch"], epochs=epochs)]
    for name in evaluated_sets(row):
        fields = {"name": set_name(name, say)}
        if f"{name}_loss" in row:
            fields["loss"] = _number(row[f"{name}_loss"], ".4f")
        if f"{name}_accuracy" in row:
            fields["accuracy"] = _number(row[f"{name}_accuracy"], ".2%")
        key = ("progress.loss_acc" if len(fields) == 3
               else "progress.loss" if "loss" in fields else "progress.acc")
        parts.append(say(key, **fields))
    if "lr" in row:
        parts.append(say("progress.lr", lr=_number(row["lr"], ".4g")))
    tail = []
    if "samples_per_second" in row:
        tail.append(say("progress.speed", speed=_number(row["samples_per_second"], ",.0f")))
    if "seconds" in row:
        tail.append(say("progress.seconds", seconds=_number(row["seconds"], ".1f")))
    if tail:
        parts.append("  ".join(tail))
    return "  ".join(parts)


def held_back_line(epoch: int, kept_epoch: int | None, watch: Any,
                   say: Messages | None = None) -> str:
    """The trainer's line for an epoch whose checkpoint is held back (the loss runs high):
    ``kept_epoch`` is the epoch of the checkpoint kept (None: none written yet), ``watch``
    the :class:`~chainrule.train.divergence.DivergenceWatch` that counted the losses.

    >>> from chainrule.train.divergence import Divergence, DivergenceWatch
    >>> watch = DivergenceWatch(Divergence())
    >>> for loss in (1.0, 50.0, 60.0, 0.5):
    ...     _ = watch.seen(loss)
    >>> held_back_line(3, 2, watch).startswith("epoch 3: checkpoint held back (the last one,")
    True
    """
    say = say or _english()
    kept = (say("progress.kept_last", epoch=kept_epoch) if kept_epoch is not None
            else say("progress.none_yet"))
    return say("progress.held_back", epoch=epoch, kept=kept, above=watch.above,
               recent=len(watch.recent()), threshold=f"{watch.threshold:.4g}",
               reference=f"{watch.reference:.4g}", half=watch.half)


def held_written_line(epoch: int, say: Messages | None = None) -> str:
    """The trainer's line when training stops after a held-back epoch: its state is written.

    >>> held_written_line(4)
    'epoch 4: checkpoint written, held back above: training stopped here'
    """
    return (say or _english())("progress.held_written", epoch=epoch)


def _number(value: Any, spec: str) -> str:
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return str(value)


class Progress:
    """Epoch lines to ``log`` and, with ``bar``, a live tqdm bar on ``stream``.

    Args:
        log: where the per-epoch lines and notices go (None: nowhere).
        bar: draw a bar while an epoch trains (the trainer's ``progress``, by default
            whether stderr is a terminal); off a terminal it is 80 columns wide.
        stream: where the bar goes (default: stderr at the time the bar starts).
        say: the catalogue of the lines' and the bar's words (None: English).
    """

    def __init__(self, log: Any, bar: bool, stream: Any = None,
                 say: Messages | None = None) -> None:
        self.log, self.want_bar = log, bar
        self.stream = stream
        self.say = say or _english()
        self._bar: Any = None

    def start(self, epoch: int, epochs: int, batches: int | None) -> None:
        """Begin the bar of epoch ``epoch`` (1-based) of ``epochs``, ``batches`` long."""
        self.clear()
        if not self.want_bar:
            return
        from tqdm import tqdm

        stream = self.stream if self.stream is not None else sys.stderr
        columns = terminal_columns(stream) or FALLBACK_COLUMNS
        narrow = {"bar_format": "{desc}: {percentage:3.0f}%"} if columns < NARROW else {}
        self._bar = tqdm(total=batches, desc=self.say("progress.epoch", epoch=epoch,
                                                     epochs=epochs),
                         unit=self.say("progress.bar.unit"),
                         leave=self.log is None, file=stream, mininterval=0.2,
                         ncols=max(columns - 1, 1), dynamic_ncols=False, **narrow)

    @property
    def active(self) -> bool:
        """Whether a bar is being drawn (the trainer skips the bar's numbers otherwise)."""
        return self._bar is not None

    def update(self, loss: float, accuracy: float, samples_per_second: float) -> None:
        """One batch done; the running loss, accuracy and speed of the epoch so far."""
        if self._bar is None:
            return
        say = self.say
        self._bar.set_postfix({say("progress.bar.acc"): f"{accuracy:.2%}",  # tqdm's order
                               say("progress.bar.loss"): f"{loss:.4f}",
                               say("progress.bar.speed"): f"{samples_per_second:,.0f}"},
                              refresh=False)
        self._bar.update(1)

    def clear(self) -> None:
        """Erase the bar (kept, as tqdm leaves it, when there are no lines to replace it)."""
        if self._bar is not None:
            bar, self._bar = self._bar, None
            bar.close()

    def epoch_end(self, row: dict[str, Any], epochs: int) -> None:
        """Erase the bar and print the epoch's line (see :func:`epoch_line`)."""
        self.clear()
        self.line(epoch_line(row, epochs, self.say))

    def line(self, text: str) -> None:
        """Print one line to the log, below the lines so far (the bar is erased first)."""
        self.clear()
        if self.log is not None:
            print(text, file=self.log, flush=True)
