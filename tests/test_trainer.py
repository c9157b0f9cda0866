"""Trainer: bit-exact resume, NaN stop naming op and module, metrics files, early stopping."""

import json
from pathlib import Path

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
    read_metrics,
)


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
