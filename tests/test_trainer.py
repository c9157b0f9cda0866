"""Trainer: bit-exact resume, NaN stop naming op and module, metrics files, early stopping,
a finite blow-up stopped naming the layer and a learning rate (in-process and through the CLI).
"""

import io
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.data import DataLoader, TensorDataset
from chainrule.train import (
    Callback,
    EarlyStopping,
    Trainer,
    TrainingDiverged,
    load_checkpoint,
    read_checkpoint,
    read_metrics,
)
from chainrule.train.divergence import (
    DEFAULT_DIVERGENCE,
    Divergence,
    DivergenceWatch,
    weight_decay_advice,
)

from clirun import run_cli


def _setup(out: Path | None, seed: int = 0) -> tuple[Trainer, DataLoader, DataLoader]:
    cr.manual_seed(seed)
    X, y = cr.data.make_spiral(300, seed=1)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))
    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = cr.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True,
                        generator=cr.Generator(seed + 1))
    val = DataLoader(TensorDataset(X, y), batch_size=100)
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, sched, out_dir=out, progress=False,
                      log=None, config={"note": "test"})
    return trainer, loader, val


def _weights(trainer: Trainer) -> list[np.ndarray]:
    return [p.detach().numpy().copy() for p in trainer.model.parameters()]


def test_two_epochs_equal_one_plus_resume_plus_one(tmp_path: Path) -> None:
    straight, loader, val = _setup(tmp_path / "a")
    straight.fit(loader, val, epochs=2)
    first, loader1, val1 = _setup(tmp_path / "b")
    first.fit(loader1, val1, epochs=1)
    resumed, loader2, val2 = _setup(None, seed=123)  # different init: all must come from disk
    resumed.out_dir = str(tmp_path / "b")
    resumed.metrics.folder = resumed.out_dir
    resumed.resume(str(tmp_path / "b" / "checkpoint.safetensors"), loader2)
    resumed.fit(loader2, val2, epochs=2)
    for a, b in zip(_weights(straight), _weights(resumed), strict=True):
        assert np.array_equal(a, b)
    def untimed(folder: Path) -> list[dict]:
        return [{k: v for k, v in r.items() if k not in ("seconds", "samples_per_second")}
                for r in read_metrics(folder)]

    assert untimed(tmp_path / "a") == untimed(tmp_path / "b")


def test_metrics_files_and_best_checkpoint(tmp_path: Path) -> None:
    trainer, loader, val = _setup(tmp_path)
    trainer.fit(loader, val, epochs=3)
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    csv_lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert csv_lines[0].startswith("epoch,step,train_loss") and len(csv_lines) == 4
    assert rows[0]["lr"] == pytest.approx(0.1) and rows[1]["lr"] == pytest.approx(0.07)
    meta = load_checkpoint(tmp_path / "best.safetensors", trainer.model)
    assert meta["epoch"] == trainer.best_epoch
    result = trainer.evaluate(val, 3)
    assert result["confusion"].shape == (3, 3) and result["confusion"].sum() == 300


class Poison(Callback):
    """Put a NaN into the first layer's weights after epoch 1."""

    def on_epoch_end(self, trainer: Trainer, row: dict) -> None:
        if row["epoch"] == 1:
            with cr.no_grad():
                trainer.model[0].weight.data[0, 0] = float("nan")


def test_nan_loss_stops_naming_op_and_module_and_keeps_last_good(tmp_path: Path) -> None:
    trainer, loader, val = _setup(tmp_path)
    trainer.callbacks.append(Poison())
    with pytest.raises(TrainingDiverged) as err:
        trainer.fit(loader, val, epochs=3)
    message = str(err.value)
    assert "loss became nan at epoch 2" in message
    assert "Linear produced nan" in message and "module '0'" in message
    assert "checkpoint.safetensors (epoch 1)" in message
    fresh, _, _ = _setup(None)
    meta = load_checkpoint(tmp_path / "checkpoint.safetensors", fresh.model)
    assert meta["epoch"] == 1
    assert all(np.isfinite(p.detach().numpy()).all() for p in fresh.model.parameters())


def test_early_stopping() -> None:
    trainer, loader, val = _setup(None)
    stopper = EarlyStopping(monitor="train_loss", patience=1, min_delta=10.0)
    trainer.callbacks.append(stopper)
    rows = trainer.fit(loader, val, epochs=10)
    assert len(rows) == 2


def test_fast_trainer_is_bit_identical_to_eager() -> None:
    def run(fast: bool) -> tuple[list[np.ndarray], list[dict]]:
        cr.manual_seed(0)
        X, y = cr.data.make_spiral(300, seed=1)
        model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 3))
        opt = cr.optim.Adam(model.parameters(), lr=0.01)
        loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True,
                            generator=cr.Generator(1))
        trainer = Trainer(model, nn.CrossEntropyLoss(), opt, progress=False, log=None,
                          fast=fast)
        rows = trainer.fit(loader, epochs=3)
        if fast:
            assert trainer.compiled is not None and trainer.compiled.stats["replayed"] > 0
        return [p.detach().numpy().copy() for p in model.parameters()], rows

    (fast_w, fast_rows), (eager_w, eager_rows) = run(True), run(False)
    assert all(np.array_equal(a, b) for a, b in zip(fast_w, eager_w, strict=True))
    assert [r["train_loss"] for r in fast_rows] == [r["train_loss"] for r in eager_rows]
    assert [r["train_accuracy"] for r in fast_rows] == [r["train_accuracy"] for r in eager_rows]


# ---- a finite loss that blows up ---------------------------------------------------------


def _blow_up(out: Path | None, fast: bool = True, lr_after: float = 1e3,
             divergence: Any = DEFAULT_DIVERGENCE, loss_fn: Any = None, log: Any = None
             ) -> tuple[Trainer, DataLoader]:
    """A tanh network on the spiral: one healthy epoch at lr 0.1, then ``lr_after``. With
    1e3 the tanh units saturate and the output layer's weights grow by about lr per step:
    the loss grows into the thousands and stays finite."""
    cr.manual_seed(0)
    X, y = cr.data.make_spiral(300, seed=1)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 3))
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True,
                        generator=cr.Generator(1))

    class RaiseLr(Callback):
        def on_epoch_end(self, trainer: Trainer, row: dict) -> None:
            opt.param_groups[0]["lr"] = lr_after

    trainer = Trainer(model, loss_fn or nn.CrossEntropyLoss(), opt, callbacks=[RaiseLr()],
                      out_dir=out, progress=False, log=log, fast=fast, divergence=divergence)
    return trainer, loader


@pytest.mark.parametrize("fast", [True, False])
def test_finite_blow_up_stops_naming_the_layer_and_a_learning_rate(tmp_path: Path,
                                                                   fast: bool) -> None:
    trainer, loader = _blow_up(tmp_path, fast)
    with pytest.raises(TrainingDiverged) as err:
        trainer.fit(loader, epochs=5)
    message = str(err.value)
    assert "the loss diverged at epoch 2" in message, message
    # 19 batches an epoch: a window of 19, stopped once 10 of them are over 10x the start
    assert re.search(r"(all|1\d) of the last 1\d batch losses are above", message), message
    # the layer named is the one whose .grad (left as the diverged step made it) is largest
    norms = {name: math.sqrt(sum(float((p.grad.numpy().astype(np.float64) ** 2).sum())
                                 for p in module.parameters(recurse=False)))
             for name, module in trainer.model.named_modules() if name in ("0", "2")}
    layer = max(norms, key=norms.__getitem__)
    assert err.value.layer == layer
    assert f"largest gradient norm is {norms[layer]:.3g}, in layer '{layer}' Linear(" in message
    assert "weight norm" in message
    assert err.value.suggested_lr is not None and err.value.suggested_lr <= 100
    assert f"from 1000 to {err.value.suggested_lr:.2g} or lower" in message
    assert "checkpoint.safetensors (epoch 1)" in message and "Traceback" not in message
    fresh, _ = _blow_up(None)
    meta = load_checkpoint(tmp_path / "checkpoint.safetensors", fresh.model)
    assert meta["epoch"] == 1  # the diverged state was not saved
    assert max(float(np.abs(p.detach().numpy()).max()) for p in fresh.model.parameters()) < 10


def test_divergence_none_trains_on() -> None:
    trainer, loader = _blow_up(None, divergence=None)
    rows = trainer.fit(loader, epochs=3)
    assert len(rows) == 3 and 100 < rows[-1]["train_loss"] < math.inf


def test_noisy_batches_do_not_stop_a_healthy_run(tmp_path: Path) -> None:
    """Every 13th batch reports a loss 100 above the truth (gradients unchanged): single
    wild batches, never most of a window; checkpoints are written every epoch."""
    calls = [0]
    ce = nn.CrossEntropyLoss()

    def noisy(output: cr.Tensor, target: cr.Tensor) -> cr.Tensor:
        calls[0] += 1
        return ce(output, target) + (100.0 if calls[0] % 13 == 0 else 0.0)

    trainer, loader = _blow_up(tmp_path, fast=False, lr_after=0.1, loss_fn=noisy)
    rows = trainer.fit(loader, epochs=6)
    assert len(rows) == 6 and max(r["train_loss"] for r in rows) > 5
    assert load_checkpoint(tmp_path / "checkpoint.safetensors", trainer.model)["epoch"] == 6


class SavedEpochs(Callback):
    """Records, at each epoch's end, the epochs of checkpoint.safetensors and best.safetensors
    (None: no file); returns True (stop) after epoch ``stop_after``."""

    def __init__(self, folder: Path, stop_after: int | None = None) -> None:
        self.folder, self.stop_after = folder, stop_after
        self.seen: list[tuple[int | None, int | None]] = []

    def on_epoch_end(self, trainer: Trainer, row: dict) -> bool:
        fresh, _ = _blow_up(None)
        self.seen.append(tuple(  # type: ignore[arg-type]
            load_checkpoint(path, fresh.model)["epoch"] if path.exists() else None
            for path in (self.folder / "checkpoint.safetensors",
                         self.folder / "best.safetensors")))
        return row["epoch"] == self.stop_after


def _wild(calls: set[int] | None = None, every: int = 0) -> Any:
    """Cross entropy plus 100 on the given calls (or every ``every``-th): the reported loss
    jumps far above the start, the gradients stay those of a healthy run."""
    count = [0]
    ce = nn.CrossEntropyLoss()

    def loss(output: cr.Tensor, target: cr.Tensor) -> cr.Tensor:
        count[0] += 1
        wild = count[0] in (calls or ()) or bool(every) and count[0] % every == 0
        return ce(output, target) + (100.0 if wild else 0.0)

    return loss


@pytest.mark.parametrize(("wild", "held"), [(range(37, 39), False), (range(33, 39), True)])
def test_wild_batches_at_an_epoch_end_hold_the_checkpoint_back(
        tmp_path: Path, wild: range, held: bool) -> None:
    """Wild batches at the end of epoch 2 (of 19 a window): two are not a quarter of it and
    the epoch is saved; six are (and not more than half: no stop): epoch 2's checkpoint
    and best are held back, epoch 1's kept; epoch 3, calm again, is saved."""
    log = io.StringIO()
    trainer, loader = _blow_up(tmp_path, fast=False, lr_after=0.1, loss_fn=_wild(set(wild)),
                               log=log)
    saved = SavedEpochs(tmp_path)
    trainer.callbacks.append(saved)
    trainer.fit(loader, epochs=3)
    assert [epochs[0] for epochs in saved.seen] == [1, 1 if held else 2, 3]
    assert saved.seen[1] == ((1, 1) if held else (2, 2))  # best (train accuracy) follows
    line = ("epoch 2: checkpoint held back (the last one, of epoch 1, is kept): 6 of the last "
            "19 batch losses are above")
    assert (line in log.getvalue()) == held, log.getvalue()
    assert [row["epoch"] for row in read_metrics(tmp_path)] == [1, 2, 3]


def test_a_run_held_back_every_epoch_still_ends_with_its_checkpoint(tmp_path: Path) -> None:
    """A third of all batch losses far above the start (a quarter is the hold-back line,
    half the stop): epochs 1 and 2 are held back with no checkpoint yet, and the log says
    so; the last epoch is always written, best too, and the run resumes from it."""
    log = io.StringIO()
    trainer, loader = _blow_up(tmp_path, fast=False, lr_after=0.1, loss_fn=_wild(every=3),
                               log=log)
    saved = SavedEpochs(tmp_path)
    trainer.callbacks.append(saved)
    rows = trainer.fit(loader, epochs=3)
    assert saved.seen == [(None, None), (None, None), (3, 3)]
    text = log.getvalue()
    assert "epoch 1: checkpoint held back (no checkpoint is written yet): " in text, text
    assert "epoch 2: checkpoint held back (no checkpoint is written yet): " in text, text
    assert "kept at epoch 0" not in text and "epoch 3: checkpoint held" not in text
    resumed, loader2 = _blow_up(None)
    meta = resumed.resume(str(tmp_path / "checkpoint.safetensors"), loader2)
    assert meta["epoch"] == 3 and meta["metrics"] == rows


def test_a_callback_stop_after_a_held_back_epoch_writes_it(tmp_path: Path) -> None:
    log = io.StringIO()
    trainer, loader = _blow_up(tmp_path, fast=False, lr_after=0.1, loss_fn=_wild(every=3),
                               log=log)
    saved = SavedEpochs(tmp_path, stop_after=2)
    trainer.callbacks.append(saved)
    trainer.fit(loader, epochs=5)
    assert saved.seen == [(None, None), (None, None)]  # as the callback saw them
    fresh, _ = _blow_up(None)
    assert load_checkpoint(tmp_path / "checkpoint.safetensors", fresh.model)["epoch"] == 2
    assert load_checkpoint(tmp_path / "best.safetensors", fresh.model)["epoch"] == 2
    assert "epoch 2: checkpoint written, held back above: training stopped here" in log.getvalue()


def test_a_stop_after_a_held_back_epoch_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    """Epoch 2 held back (six wild batches at its end), epoch 3 diverges (lr 1000): the
    stop names epoch 1's checkpoint, which is the one on disk."""
    trainer, loader = _blow_up(tmp_path, fast=False, lr_after=0.1,
                               loss_fn=_wild(set(range(33, 39))))

    class Blow(Callback):
        def on_epoch_end(self, trainer: Trainer, row: dict) -> None:
            if row["epoch"] == 2:
                trainer.optimizer.param_groups[0]["lr"] = 1e3

    trainer.callbacks.append(Blow())
    with pytest.raises(TrainingDiverged) as err:
        trainer.fit(loader, epochs=5)
    assert "diverged at epoch 3" in str(err.value)
    assert "checkpoint.safetensors (epoch 1)" in str(err.value)
    fresh, _ = _blow_up(None)
    assert load_checkpoint(tmp_path / "checkpoint.safetensors", fresh.model)["epoch"] == 1


def test_bounded_loss_never_triggers() -> None:
    """Sigmoid outputs against one-hot targets (the tutorials' quadratic cost) are at most
    1.5 here: never 10 times a start near 0.4, whatever the learning rate does."""
    def quadratic(output: cr.Tensor, target: cr.Tensor) -> cr.Tensor:
        onehot = nn.functional.one_hot(target, 3, dtype=output.dtype)
        return 0.5 * ((output.sigmoid() - onehot) ** 2).sum() / len(target)

    trainer, loader = _blow_up(None, lr_after=1e3, loss_fn=quadratic)
    assert len(trainer.fit(loader, epochs=4)) == 4


def test_resume_keeps_the_starting_loss_and_window(tmp_path: Path) -> None:
    first, loader = _blow_up(tmp_path, lr_after=0.1)
    first.fit(loader, epochs=1)
    state = first.state()["divergence"]
    assert state["reference"] > 0 and len(state["recent"]) == 18  # the first is the start
    resumed, loader2 = _blow_up(None, lr_after=0.1)
    resumed.resume(str(tmp_path / "checkpoint.safetensors"), loader2)
    assert resumed.state()["divergence"] == state


def test_watch_rule() -> None:
    rule = Divergence(factor=10.0, margin=1.0, window=32)
    assert rule.threshold(2.0) == 20.0
    assert rule.threshold(0.01) == pytest.approx(1.01)  # tiny start: the margin decides
    assert rule.threshold(-5.0) == 40.0  # a negative start: 9 |L0| above it
    watch = DivergenceWatch(rule, steps_per_epoch=19)  # the window is one epoch: 19
    assert len(watch.values) == 19 and not watch.seen(2.0)
    for _ in range(9):  # nine wild batches in 19: the median is still healthy
        assert not watch.seen(1e6)
    for _ in range(9):
        assert not watch.seen(1.0)
    assert watch.above == 9 and watch.median() == 1.0
    assert watch.seen(1e6)  # the tenth: more than half of the window is above 20
    assert watch.suggested_lr(1.0) == pytest.approx(1e-6)  # grew 5e5-fold: lr / 1e6
    watch.start(2.0)
    assert [watch.seen(v) for v in (15.0, 15.0)] == [False, False]
    assert watch.suggested_lr(0.5) == pytest.approx(0.05)  # at least lr / 10
    assert [watch.seen(v) for v in (80.0, 80.0, 80.0)] == [False] * 3
    assert watch.suggested_lr(0.5) == pytest.approx(0.005)  # grew 39-fold: lr / 100
    short = DivergenceWatch(rule, steps_per_epoch=1)  # full-batch: a window of 5
    assert len(short.values) == 5
    with pytest.raises(ValueError, match="window >= 1"):
        Divergence(window=0)


# ---- the real command line ---------------------------------------------------------------

_NAN = r"loss became (nan|-?inf) at epoch 1"
_FINITE = (r"the loss diverged at epoch 1, step \d+: .* batch losses are above .*"
           r"largest gradient norm is .*, in layer '\d' Linear\(in_features")


@pytest.mark.parametrize("args", [["--lr", "1e30"], ["--optimizer", "adam", "--lr", "1e10"]])
def test_cli_stops_a_diverging_run(tmp_path: Path, args: list[str]) -> None:
    result = run_cli(["train", "--dataset", "mini-mnist", *args, "--out", str(tmp_path)])
    assert result.code == 1, result.err
    line = result.one_line_error()  # one 'chainrule: ...' line, no traceback
    # the loss stays finite on the machines we know (4e30, 6e10); a BLAS that overflows
    # first would stop it at the NaN check instead: either way one line, a layer, an lr
    assert re.search(_FINITE, line) or (re.search(_NAN, line) and "module '" in line), line
    assert re.search(r"to \S+ or lower", line), line
    assert "No checkpoint was written before this point" in line
    assert not (tmp_path / "checkpoint.safetensors").exists()


def test_cli_noisy_but_healthy_run_finishes(tmp_path: Path) -> None:
    """Batch size 1 on xor at lr 2: single samples' losses reach 15 times the start, the
    run learns (the median loss falls to 0.1)."""
    result = run_cli(["train", "--dataset", "xor", "--batch-size", "1", "--lr", "2",
                      "--epochs", "3", "--out", str(tmp_path)])
    assert result.code == 0, result.err
    assert "Traceback" not in result.err and "diverged" not in result.err
    assert (tmp_path / "checkpoint.safetensors").exists()


@pytest.mark.parametrize("args", [
    ["--dataset", "xor", "--lr", "20", "--epochs", "3"],  # epoch 1 held back
    ["--dataset", "xor", "--lr", "20", "--epochs", "1"],  # the last epoch: always saved
    ["--dropout", "0.99", "--epochs", "1"],
])
def test_cli_run_with_high_losses_that_ends_normally_leaves_its_checkpoint(
        tmp_path: Path, args: list[str]) -> None:
    """The tester's runs: losses far above the start but no stop. They used to end with
    exit 0, "checkpoint none (no epoch trained)" and a folder eval could not use."""
    run = tmp_path / "run"
    result = run_cli(["train", *args, "--out", str(run)])
    assert result.code == 0, result.err
    assert "kept at epoch 0" not in result.err and "none (no epoch" not in result.out
    assert f"checkpoint {run / 'checkpoint.safetensors'}" in result.out, result.out
    epochs = int(args[args.index("--epochs") + 1])
    assert read_checkpoint(run / "checkpoint.safetensors")[1]["epoch"] == epochs
    evaluated = run_cli(["eval", str(run)])
    assert evaluated.code == 0, evaluated.err


@pytest.mark.parametrize("args", [
    ["--weight-decay", "1e308"],  # w * 1e308 overflows: a NaN loss
    ["--weight-decay", "100", "--lr", "0.1"],  # w *= 1 - 10 a step: a finite blow-up
    ["--weight-decay", "1e308", "--optimizer", "adam"],
])
def test_cli_blames_a_weight_decay_that_alone_blows_the_weights_up(
        tmp_path: Path, args: list[str]) -> None:
    result = run_cli(["train", "--dataset", "xor", *args, "--out", str(tmp_path)])
    assert result.code == 1, result.err
    line = result.one_line_error()
    assert re.search(r"The weight decay \(\S+\) times the learning rate \(\S+\) is \S+, 1 or "
                     r"more: .* Fix: lower the weight decay below 1/lr = ", line), line
    assert "lower the learning rate" not in line, line


def test_weight_decay_advice_only_when_the_decay_alone_overshoots() -> None:
    assert weight_decay_advice(0.5, 1.0) is None and weight_decay_advice(0.1, 0.0) is None
    assert "by -0.5 a step, flipping its sign. Fix" in str(weight_decay_advice(0.5, 3.0))
    assert "by -2 a step, flipping its sign and growing it" in str(weight_decay_advice(1, 3))
