"""The training loop: ``Trainer.fit`` / ``fit(...)`` with progress, metrics, checkpoints.

What it does for you, and how each part behaves:
  * one permanent line per epoch (train and validation loss and accuracy, lr, speed, time)
    on a terminal and off it, and on a terminal a live tqdm bar below the lines
    (:mod:`chainrule.train.progress`);
  * one row per epoch in ``metrics.jsonl`` and ``metrics.csv``;
  * a checkpoint after every epoch (``checkpoint.safetensors``) and of the best epoch
    (``best.safetensors``), each written atomically before the epoch's metrics row; resuming
    is bit-exact; a run that ends normally always leaves the checkpoint of its last epoch;
  * Ctrl-C (or SIGTERM, SIGHUP) finishes the current step, saves a checkpoint and raises
    :class:`TrainingInterrupted` (the CLI exits 128 + the signal's number: 130 for Ctrl-C);
  * a NaN/Inf loss re-runs the failing batch under ``detect_anomaly`` to name the op and
    module, keeps the last good checkpoint, and raises :class:`TrainingDiverged`;
  * so does a finite loss that stays far above its starting value (more than half of the
    last 32 batch losses over 10 times the first one, :mod:`chainrule.train.divergence`):
    the message names the layer with the largest gradient norm and suggests a learning rate
    (or, when the weight decay times the learning rate is 1 or more, a lower weight decay);
    while more than a quarter of those losses are that high at an epoch's end, that
    epoch's checkpoint is held back so a stop keeps the last good one;
  * early stopping on a monitored metric.

>>> import chainrule as cr
>>> from chainrule import nn
>>> X, y = cr.data.make_xor(64, seed=0)
>>> loader = cr.data.DataLoader(cr.data.TensorDataset(X, y), batch_size=16)
>>> model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
>>> trainer = Trainer(model, nn.CrossEntropyLoss(), cr.optim.SGD(model.parameters(), lr=0.5),
...                   progress=False, log=None)
>>> history = trainer.fit(loader, epochs=30)
>>> history[-1]["train_accuracy"] > 0.9
True
"""

from __future__ import annotations

import math
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from chainrule.autograd.anomaly import AnomalyError, detect_anomaly
from chainrule.i18n import Messages
from chainrule.random import default_generator
from chainrule.tensor import Tensor
from chainrule.train.callbacks import Callback, EarlyStopping  # noqa: F401 (re-exported)
from chainrule.train.checkpoint import (
    apply_checkpoint,
    check_resumable,
    check_writable,
    read_checkpoint,
    restoring,
    save_checkpoint,
)
from chainrule.train.divergence import (
    DEFAULT_DIVERGENCE,
    Divergence,
    DivergenceWatch,
    layer_label,
    layer_norms,
    weight_decay_advice,
)
from chainrule.train.evaluation import evaluate
from chainrule.train.metrics import MetricsLog, correct_count
from chainrule.train.progress import Progress, held_back_line, held_written_line
from chainrule.train.signals import STOP_SIGNALS, catch_stop_signals  # noqa: F401


class TrainingStopped(Exception):
    """Training ended early; ``checkpoint`` is the last good checkpoint (or None)."""

    def __init__(self, message: str, checkpoint: str | None = None) -> None:
        super().__init__(message)
        self.checkpoint = checkpoint


class TrainingInterrupted(TrainingStopped):
    """Ctrl-C, SIGTERM or SIGHUP (``signum``): a checkpoint was saved at the step where
    training stopped."""

    def __init__(self, message: str, checkpoint: str | None = None,
                 signum: int = signal.SIGINT) -> None:
        super().__init__(message, checkpoint)
        self.signum = int(signum)


class TrainingDiverged(TrainingStopped):
    """The loss became NaN or Inf (the message names the op and module that made it), or
    stayed far above its starting value (the message names the layer with the largest
    gradient norm). ``suggested_lr``: a learning rate to try instead (None if unknown);
    ``layer``: the path of the layer named (None if none)."""

    def __init__(self, message: str, checkpoint: str | None = None,
                 suggested_lr: float | None = None, layer: str | None = None) -> None:
        super().__init__(message, checkpoint)
        self.suggested_lr, self.layer = suggested_lr, layer


class Trainer:
    """Runs epochs of mini-batch training for a classification model.

    Args:
        model, loss_fn, optimizer: the usual trio; ``loss_fn(model(x), y)``.
        scheduler: stepped once per epoch, or per batch when ``step_scheduler_per_batch``.
        out_dir: folder for checkpoints and metrics (None: keep nothing on disk).
        progress: a live tqdm bar while an epoch trains (None: only when stderr is a
            terminal).
        log: where the per-epoch lines go, bar or no bar (None: silent).
        config: JSON-able dict saved in every checkpoint (the CLI's full config).
        monitor: the metrics row's column that picks the best epoch (``best.safetensors``;
            default ``<eval_name>_accuracy``, or ``train_accuracy`` without a ``val_loader``).
        eval_name: the name of the set ``fit``'s ``val_loader`` holds, which prefixes its
            per-epoch columns: ``val`` (``val_loss``, ``val_accuracy``) by default; the CLI
            passes ``test`` when it evaluates the test set every epoch (no validation split).
        fast: capture the training step once and replay it (:mod:`chainrule.compile`);
            bit-identical to eager training, which it falls back to when needed.
        divergence: when a finite loss counts as diverged (:class:`Divergence`: by default
            when more than half of the last 32 batch losses, or one epoch's if shorter, are
            above 10 times the first batch loss and above it by at least 1); training then
            stops with :class:`TrainingDiverged`, naming the layer with the largest gradient
            norm and a suggested learning rate. At an epoch's end (not the last) where more
            than a quarter of those recent losses are that high, halfway to the stop, the
            checkpoint and the best one are held back: the last ones stay the state to fall
            back to; the next epoch's save, or the end of training, writes the held-back
            state after all. None: never stop on a finite loss (NaN and Inf losses always
            stop).
        say: the catalogue (:func:`chainrule.i18n.messages`) of the epoch lines, the bar
            and the held-back notices (None: English; ``chainrule train`` passes its
            ``--lang``'s).
    """

    def __init__(self, model: Any, loss_fn: Callable[[Any, Any], Tensor], optimizer: Any,
                 scheduler: Any = None, callbacks: Iterable[Callback] = (),
                 out_dir: str | os.PathLike[str] | None = None, progress: bool | None = None,
                 log: Any = sys.stderr, config: dict[str, Any] | None = None,
                 step_scheduler_per_batch: bool = False, monitor: str | None = None,
                 device: Any = None, fast: bool = True,
                 divergence: Divergence | None = DEFAULT_DIVERGENCE,
                 eval_name: str = "val", say: Messages | None = None) -> None:
        self.model, self.loss_fn, self.optimizer, self.scheduler = model, loss_fn, optimizer, \
            scheduler
        self.callbacks = list(callbacks)
        self.out_dir = os.fspath(out_dir) if out_dir is not None else None
        if self.out_dir is not None:
            os.makedirs(self.out_dir, exist_ok=True)
        self.progress = sys.stderr.isatty() if progress is None else progress
        self.log, self.config = log, dict(config or {})
        self.per_batch, self.device = step_scheduler_per_batch, device
        self.eval_name, self.say = eval_name, say
        self.monitor = monitor or f"{eval_name}_accuracy"
        self.extra: dict[str, Any] = {}  # more JSON metadata for every checkpoint
        self.epoch, self.step = 0, 0
        self.metrics = MetricsLog(self.out_dir)
        self.best_value: float | None = None
        self.best_epoch: int | None = None
        self._partial: dict[str, float] = {}
        self._interrupted, self._signum = False, int(signal.SIGINT)
        self._train_loader: Any = None
        self._watch = DivergenceWatch(divergence) if divergence is not None else None
        self._saved_epoch: int | None = None  # the checkpoint's epoch when not self.epoch
        self._held: dict[str, Any] | None = None  # the row of an epoch whose save is held
        self.compiled = None
        if fast and optimizer is not None:
            from chainrule.compile import CompiledStep

            self.compiled = CompiledStep(model, loss_fn, optimizer)

    # ---- paths ----------------------------------------------------------------------
    @property
    def checkpoint_path(self) -> str | None:
        return None if self.out_dir is None else os.path.join(self.out_dir,
                                                              "checkpoint.safetensors")

    @property
    def best_path(self) -> str | None:
        return None if self.out_dir is None else os.path.join(self.out_dir, "best.safetensors")

    # ---- one step -------------------------------------------------------------------
    def _to_device(self, x: Any) -> Any:
        return x if self.device is None else x.to(self.device)

    def train_step(self, x: Tensor, y: Tensor) -> tuple[float, float]:
        """Forward, backward, update; returns (loss, number of correct predictions)."""
        x, y = self._to_device(x), self._to_device(y)
        if self.compiled is not None:  # captured and replayed; bit-identical to the lines below
            loss = self.compiled(x, y, step=False)
            output = self.compiled.last_output
        else:
            self.optimizer.zero_grad()
            output = self.model(x)
            loss = self.loss_fn(output, y)
        value = float(loss.item())
        correct: float = correct_count(output, y)
        value, correct = self._across_ranks(value, correct)
        if not math.isfinite(value):
            self._diagnose(x, y, value)
        if self.compiled is None:
            loss.backward()
        if self._watch is not None and self._watch.seen(value):
            self._diverged(value)  # before the update: .grad and weights made this loss
        self.optimizer.step()
        if self.scheduler is not None and self.per_batch:
            self.scheduler.step()
        self.step += 1
        return value, correct

    def _across_ranks(self, value: float, correct: float) -> tuple[float, float]:
        """The step's loss and correct count as every rank should see them (one process:
        as they are; :class:`chainrule.distributed.DistributedTrainer` sums them over
        ranks, the loss as a mean)."""
        return value, correct

    def _samples_in(self, y: Tensor) -> int:
        """How many samples the step trained on (on several ranks: all ranks' together)."""
        return len(y)

    def _diagnose(self, x: Tensor, y: Tensor, value: float) -> None:
        where = "no single op was flagged (the loss itself overflowed)"
        try:
            with detect_anomaly():
                self.loss_fn(self.model(x), y).backward()
        except AnomalyError as err:
            where = str(err).splitlines()[0]
        good, kept = self._kept_checkpoint()
        group = self.optimizer.param_groups[0]
        lr = group["lr"]
        suggested = self._watch.suggested_lr(lr) if self._watch is not None else lr / 10
        fix = weight_decay_advice(lr, group.get("weight_decay") or 0.0) or (
            f"Fix: lower the learning rate (it is {lr:g}; try {suggested:.2g} or lower), check "
            "the inputs for NaN, or clip gradients")
        raise TrainingDiverged(
            f"training stopped: the loss became {value} at epoch {self.epoch + 1}, step "
            f"{self.step + 1}. First bad op: {where}. {kept}. {fix}", good, suggested)

    def _kept_checkpoint(self) -> tuple[str | None, str]:
        """The last good checkpoint (never overwritten by a diverged step) and a sentence."""
        good = self.checkpoint_path if self.checkpoint_path and os.path.exists(
            self.checkpoint_path) else None
        epoch = self.epoch if self._saved_epoch is None else self._saved_epoch
        kept = (f"The last good checkpoint is {good} (epoch {epoch})" if good
                else "No checkpoint was written before this point")
        return good, kept

    def _diverged(self, value: float) -> None:
        """Stop a run whose loss stayed far above its start, naming the layer whose
        gradient norm is largest and a learning rate to try."""
        watch = self._watch
        assert watch is not None and watch.reference is not None
        rows = layer_norms(self.model)
        layer, group = None, self.optimizer.param_groups[0]
        where = "no parameter has a gradient"
        if rows:
            name, module, grad_norm, weight_norm = rows[0]
            layer = name or type(module).__name__
            others = ", ".join(f"'{n or type(m).__name__}' {g:.3g}" for n, m, g, _ in rows[1:])
            where = (f"the largest gradient norm is {grad_norm:.3g}, in layer "
                     f"{layer_label(name, module)} (weight norm {weight_norm:.3g}"
                     + (f"; gradient norms of the other layers: {others})" if others else ")"))
            group = self._group_of(module, group)
        lr = float(group["lr"])
        suggested = watch.suggested_lr(lr)
        fix = weight_decay_advice(lr, group.get("weight_decay") or 0.0) or (
            f"Fix: lower the learning rate from {lr:g} to {suggested:.2g} or lower, or clip "
            "gradients")
        good, kept = self._kept_checkpoint()
        seen = len(watch.recent())
        raise TrainingDiverged(
            f"training stopped: the loss diverged at epoch {self.epoch + 1}, step "
            f"{self.step + 1}: {'all' if watch.above == seen else watch.above} of the last "
            f"{seen} batch losses are above "
            f"{watch.threshold:.4g} (the first batch's loss was {watch.reference:.4g}; their "
            f"median is {watch.median():.4g}, this batch's {value:.4g}). "
            f"{where[0].upper()}{where[1:]}. {kept}. {fix}", good, suggested, layer)

    def _group_of(self, module: Any, default: dict[str, Any]) -> dict[str, Any]:
        """The optimizer's parameter group holding ``module``'s parameters."""
        ids = {id(p) for p in module._parameters.values() if p is not None}
        for group in self.optimizer.param_groups:
            if any(id(p) in ids for p in group["params"]):
                return group
        return default

    # ---- epochs ---------------------------------------------------------------------
    def fit(self, train_loader: Any, val_loader: Any = None, epochs: int = 1
            ) -> list[dict[str, Any]]:
        """Train until ``epochs`` (counting epochs already done when resumed)."""
        self._train_loader = train_loader
        if self._watch is not None:
            self._watch.resize(len(train_loader) if hasattr(train_loader, "__len__") else None)
        restore = self._install_sigint()
        try:
            while self.epoch < epochs:
                row = self._run_epoch(train_loader, val_loader, epochs)
                if any(cb.on_epoch_end(self, row) for cb in self.callbacks):
                    break
            if self._held is not None:  # a callback stopped the run after a held-back save
                self._save_epoch(self._held, logged=True)
                self._log_held_written()
        finally:
            restore()
        return self.metrics.rows

    def _run_epoch(self, loader: Any, val_loader: Any, epochs: int) -> dict[str, Any]:
        start = time.perf_counter()
        sums = self._partial or {"loss": 0.0, "correct": 0.0, "count": 0.0, "seconds": 0.0}
        self._partial = {}
        progress = Progress(self.log, self.progress, say=self.say)
        progress.start(self.epoch + 1, epochs, len(loader))
        try:
            for x, y in loader:
                loss, correct = self.train_step(x, y)
                n = self._samples_in(y)
                sums["loss"] += loss * n
                sums["correct"] += correct
                sums["count"] += n
                if progress.active:
                    elapsed = sums["seconds"] + time.perf_counter() - start
                    progress.update(sums["loss"] / sums["count"],
                                    sums["correct"] / sums["count"],
                                    sums["count"] / max(elapsed, 1e-9))
                if self._interrupted:
                    sums["seconds"] += time.perf_counter() - start
                    self._stop_interrupted(sums, progress)
        finally:  # erased before any message: a stop's, or the epoch's line
            progress.clear()
        seconds = sums["seconds"] + time.perf_counter() - start
        row: dict[str, Any] = {
            "epoch": self.epoch + 1, "step": self.step,
            "train_loss": sums["loss"] / max(sums["count"], 1),
            "train_accuracy": sums["correct"] / max(sums["count"], 1),
            "lr": self.optimizer.param_groups[0]["lr"], "seconds": round(seconds, 3),
            "samples_per_second": round(sums["count"] / max(seconds, 1e-9), 1),
        }
        if val_loader is not None:
            result = self.evaluate(val_loader)
            row[f"{self.eval_name}_loss"] = result["loss"]
            row[f"{self.eval_name}_accuracy"] = result["accuracy"]
        if self.scheduler is not None and not self.per_batch:
            if hasattr(self.scheduler, "patience"):
                self.scheduler.step(row.get(f"{self.eval_name}_loss", row["train_loss"]))
            else:
                self.scheduler.step()
        self.epoch += 1
        progress.epoch_end(row, epochs)
        if self._watch is not None and self.epoch < epochs and self._watch.near_stop():
            self._hold_back(row)  # perhaps diverging: keep the last checkpoint and best
        else:
            self._save_epoch(row)
        return row

    def _save_epoch(self, row: dict[str, Any], logged: bool = False) -> None:
        """The epoch's checkpoint, then best.safetensors if it is the best, then its metrics
        row (unless ``logged`` already): a write that fails (disk full) leaves no file
        holding an epoch the checkpoint does not have."""
        key = self.monitor if self.monitor in row else "train_accuracy"
        value, higher = row[key], "acc" in key
        best = self.best_value is None or (value > self.best_value if higher
                                           else value < self.best_value)
        before = self.best_value, self.best_epoch
        if best:
            self.best_value, self.best_epoch = value, row["epoch"]
        try:
            self.save(rows=None if logged else [*self.metrics.rows, row])
        except BaseException:
            self.best_value, self.best_epoch = before
            raise
        self._held, self._saved_epoch = None, None  # the checkpoint is of self.epoch
        if best and self.best_path is not None:
            save_checkpoint(self.best_path, self.model,
                            extra={"epoch": row["epoch"], "config": self.config,
                                   "metrics": row})
        if not logged:
            self.metrics.append(row)

    def _hold_back(self, row: dict[str, Any]) -> None:
        """Leave the last checkpoint (and best) as they are: more than a quarter of the recent
        losses are far above the start, halfway to the divergence stop (see ``near_stop``).
        The next epoch's save, or the end of training, writes this state after all."""
        watch = self._watch
        assert watch is not None and watch.reference is not None
        self.metrics.append(row)  # the record of what was trained, saved or not
        self._held = row
        if self._saved_epoch is None:
            self._saved_epoch = self.epoch - 1
        if self.log is None or self.checkpoint_path is None:
            return
        kept = self._saved_epoch if os.path.exists(self.checkpoint_path) else None
        print(held_back_line(self.epoch, kept, watch, self.say), file=self.log, flush=True)

    def _log_held_written(self) -> None:
        if self.log is not None and self.checkpoint_path is not None:
            print(held_written_line(self.epoch, self.say), file=self.log, flush=True)

    # ---- evaluation -----------------------------------------------------------------
    def evaluate(self, loader: Any, num_classes: int | None = None) -> dict[str, Any]:
        """Mean loss, accuracy and confusion matrix over ``loader`` (eval mode, no grad;
        :func:`chainrule.train.evaluation.evaluate`)."""
        return evaluate(self.model, self.loss_fn, loader, num_classes,
                        None if self.device is None else self._to_device)

    # ---- checkpoints ----------------------------------------------------------------
    def state(self, rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Everything besides arrays that a bit-exact resume needs (JSON-able); ``rows``:
        the metrics rows (by default those logged so far)."""
        loader = self._train_loader
        return {
            **self.extra, "epoch": self.epoch, "step": self.step, "config": self.config,
            "metrics": self.metrics.rows if rows is None else rows,
            "best_value": self.best_value,
            "best_epoch": self.best_epoch, "partial": self._partial,
            "rng": default_generator.get_state(),
            "loader": loader.state_dict() if hasattr(loader, "state_dict") else None,
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "divergence": self._watch.state_dict() if self._watch is not None else None,
        }

    def save(self, path: str | None = None, rows: list[dict[str, Any]] | None = None
             ) -> str | None:
        """Write the full training state (atomically) to ``path`` or the run's checkpoint;
        ``rows``: the metrics rows to keep in it (by default those logged so far)."""
        path = path or self.checkpoint_path
        if path is not None:
            save_checkpoint(path, self.model, self.optimizer, extra=self.state(rows))
        return path

    def resume(self, path: str, train_loader: Any = None) -> dict[str, Any]:
        """Restore model, optimizer, scheduler, RNGs, data order and counters from ``path``.

        The file must pass its checksum (every byte) and its schema, hold a whole training
        state (not only weights, like ``best.safetensors``) and fit this trainer's model,
        optimizer, scheduler and loader; the run folder must be writable. Otherwise
        :class:`CheckpointError` names what is wrong (the trainer may then be partly
        restored: build a new one).
        """
        if self.out_dir is not None:
            check_writable(self.out_dir)
        arrays, meta = read_checkpoint(path)
        check_resumable(path, meta, optimizer=self.optimizer is not None)
        apply_checkpoint(path, arrays, meta, self.model, self.optimizer)
        if self._watch is not None and meta.get("divergence"):
            with restoring(path, "divergence"):
                self._watch.load_state_dict(meta["divergence"])
        default_generator.set_state(meta["rng"])  # checked by read_checkpoint
        if self.scheduler is not None and meta["scheduler"]:
            with restoring(path, "scheduler"):
                self.scheduler.load_state_dict(meta["scheduler"])
        loader = train_loader or self._train_loader
        if loader is not None and meta["loader"] and hasattr(loader, "load_state_dict"):
            with restoring(path, "loader"):
                loader.load_state_dict(meta["loader"])
        self._train_loader = loader
        self.epoch, self.step = meta["epoch"], meta["step"]
        self.best_value, self.best_epoch = meta["best_value"], meta["best_epoch"]
        self._partial = dict(meta["partial"])
        self.metrics.rewrite(list(meta["metrics"]))
        return meta

    # ---- Ctrl-C, and the SIGTERM of timeout, docker stop and Slurm; SIGHUP -------------
    def _install_sigint(self) -> Callable[[], None]:
        return catch_stop_signals(self._on_stop_signal)

    def _on_stop_signal(self, signum: int) -> bool:
        """The first stop signal: finish the step, save, raise; False for a second one."""
        if self._interrupted:
            return False
        self._interrupted, self._signum = True, signum
        return True

    def _stop_interrupted(self, sums: dict[str, float], progress: Progress) -> None:
        progress.clear()
        self._partial = dict(sums)
        path = self.save()
        self._held, self._saved_epoch = None, None  # the checkpoint is of this very step
        where = f"; resume with --resume {path}" if path else ""
        by = "" if self._signum == signal.SIGINT else f" by {signal.Signals(self._signum).name}"
        raise TrainingInterrupted(
            f"interrupted{by} at epoch {self.epoch + 1}, step {self.step}: checkpoint "
            f"saved{where}", path, self._signum)


def fit(model: Any, loss: Callable[[Any, Any], Tensor], optimizer: Any, train_loader: Any,
        val_loader: Any = None, epochs: int = 1, scheduler: Any = None,
        callbacks: Iterable[Callback] = (), **kwargs: Any) -> list[dict[str, Any]]:
    """Functional form of :class:`Trainer` (returns the per-epoch metric rows)."""
    trainer = Trainer(model, loss, optimizer, scheduler, callbacks, **kwargs)
    return trainer.fit(train_loader, val_loader, epochs)
