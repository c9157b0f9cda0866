"""``chainrule train --augment``: checked like every flag, saved with the run and fixed on
resume, bit-identical when a run is resumed (between epochs through the CLI, mid-epoch
through the Trainer), applied to training batches only, drawn by ``chainrule plot``."""

from __future__ import annotations

import importlib.util
import os
import signal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.data import Augment, DataLoader, TensorDataset
from chainrule.train import Trainer, TrainingInterrupted, read_checkpoint

from clirun import run_cli

MINI = ["train", "--dataset", "mini-mnist", "--hidden", "16"]
ALL_KINDS = "elastic,shift,rotate"  # stored in the order shift, rotate, elastic


def _weights(run: Path) -> dict[str, np.ndarray]:
    arrays, _ = read_checkpoint(str(run / "checkpoint.safetensors"))
    return {k: v for k, v in arrays.items() if k.startswith(("model/", "optimizer/"))}


def _accuracy(out: str) -> str:
    last = out.strip().splitlines()[-1]
    assert last.startswith("test accuracy "), out
    return last.split()[2]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two epochs straight, and one epoch resumed to two, both with --augment (and --plot
    when matplotlib is there); a run without --augment."""
    root = tmp_path_factory.mktemp("augment")
    plot = ["--plot"] if importlib.util.find_spec("matplotlib") else []
    straight = run_cli([*MINI, "--augment", ALL_KINDS, "--epochs", "2", "--out",
                        str(root / "straight"), *plot])
    first = run_cli([*MINI, "--augment", ALL_KINDS, "--epochs", "1", "--out",
                     str(root / "split")])
    resumed = run_cli(["train", "--resume", str(root / "split"), "--epochs", "2"])
    plain = run_cli([*MINI, "--epochs", "2", "--out", str(root / "plain"), *plot])
    for result in (straight, first, resumed, plain):
        assert result.code == 0, result.err
    return {"root": root, "straight": straight, "resumed": resumed, "plain": plain,
            "plot": bool(plot)}


def test_a_resumed_augmented_run_is_bit_identical_and_learns(runs: dict[str, Any]) -> None:
    root = runs["root"]
    straight, continued = _weights(root / "straight"), _weights(root / "split")
    assert straight.keys() == continued.keys() and straight
    for key, value in straight.items():
        assert np.array_equal(value, continued[key]), key
    plain = _weights(root / "plain")
    assert not np.array_equal(plain["model/1.weight"], straight["model/1.weight"])
    accuracy = float(_accuracy(runs["straight"].out).rstrip("%"))
    assert accuracy > 70, runs["straight"].out  # 84.05% when written (plain: 87.75%)


def test_augment_is_saved_and_only_training_batches_are_augmented(
        runs: dict[str, Any]) -> None:
    root = runs["root"]
    info = run_cli(["info", str(root / "straight")])
    assert info.code == 0 and "augment: ['shift', 'rotate', 'elastic']" in info.out
    assert "augment: []" in run_cli(["info", str(root / "plain")]).out
    # the last epoch's test columns and the final test: eval, which never augments, agrees
    evaluated = run_cli(["eval", str(root / "straight")])
    assert evaluated.code == 0, evaluated.err
    assert f"accuracy {_accuracy(runs['straight'].out)}," in evaluated.out


def test_plot_draws_the_augmented_images(runs: dict[str, Any]) -> None:
    if not runs["plot"]:
        pytest.skip("matplotlib is not installed")
    root = runs["root"]
    assert (root / "straight" / "augment.png").read_bytes().startswith(b"\x89PNG")
    assert f"wrote {root / 'straight' / 'augment.png'}" in runs["straight"].out
    assert not (root / "plain" / "augment.png").exists()  # a run without --augment
    replotted = run_cli(["plot", str(root / "split")])
    assert replotted.code == 0, replotted.err
    assert f"wrote {root / 'split' / 'augment.png'}" in replotted.out


@pytest.mark.parametrize("flags, message", [
    (["--augment", "shift"], "--augment shift (the run has shift,rotate,elastic)"),
    (["--augment", "none"], "--augment none (the run has shift,rotate,elastic)"),
])
def test_a_resume_keeps_the_runs_augmentation(runs: dict[str, Any], flags: list[str],
                                              message: str) -> None:
    result = run_cli(["train", "--resume", str(runs["root"] / "straight"), *flags])
    assert result.code == 2 and message in result.one_line_error()
    same = run_cli(["train", "--resume", str(runs["root"] / "straight"), "--augment",
                    "rotate,elastic,shift"])  # the same kinds in another order: the same run
    assert same.code == 0 and "nothing to train" in same.err


@pytest.mark.parametrize("args, message", [
    (["--augment", "blur"], "--augment blur: 'blur' is not one of shift, rotate, elastic "
     "(give a comma list of them, e.g. shift,elastic)"),
    (["--augment", "shift,,rotate"], "--augment shift,,rotate: '' is not one of shift"),
    (["--augment", "shift,rotate,shift"], "--augment shift,rotate,shift: shift is listed twice"),
    (["--dataset", "xor", "--augment", "rotate"], "--augment rotate: --dataset xor has 2-D "
     "points, augmentation moves the pixels of images; leave out --augment or choose one of "
     "mnist, fashion-mnist, kmnist, mini-mnist, cifar10"),
])
def test_wrong_augment_values_are_one_line_and_exit_2(tmp_path: Path, args: list[str],
                                                      message: str) -> None:
    result = run_cli(["train", *args, "--epochs", "0"], cwd=tmp_path)
    assert result.code == 2
    assert result.one_line_error() == f"chainrule: error: {message}" or \
        message in result.one_line_error()
    assert not (tmp_path / "runs").exists()


def test_a_config_file_sets_augment_as_a_list_or_a_string(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('dataset = "mini-mnist"\nhidden = [8]\naugment = ["rotate", "shift"]\n')
    result = run_cli(["train", "--config", str(good), "--epochs", "0", "--out",
                      str(tmp_path / "run")])
    assert result.code == 0, result.err
    bad = tmp_path / "bad.toml"
    bad.write_text('[train]\naugment = "shift,zoom"\n')
    result = run_cli(["train", "--config", str(bad), "--epochs", "0"], cwd=tmp_path)
    assert result.code == 2
    assert f"--config {bad}: augment shift,zoom: 'zoom' is not one of" in \
        result.one_line_error()


# ---- mid-epoch: the Trainer stopped by a signal, resumed into a new one -----------------------


class _Stopping:
    """A loader that sends SIGINT to this process at batch ``at`` of epoch 2."""

    def __init__(self, loader: DataLoader, at: int) -> None:
        self.loader, self.at, self.epoch = loader, at, 0

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Any:
        self.epoch += 1
        for i, batch in enumerate(self.loader):
            if self.epoch == 2 and i == self.at:
                os.kill(os.getpid(), signal.SIGINT)
            yield batch

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)


def _trainer(out: Path) -> tuple[Trainer, DataLoader]:
    cr.manual_seed(0)
    images = np.random.default_rng(0).random((40, 12, 12), dtype=np.float32)
    labels = np.arange(40) % 3
    model = nn.Sequential(nn.Flatten(), nn.Linear(144, 8), nn.Tanh(), nn.Linear(8, 3))
    loader = DataLoader(TensorDataset(images, labels), batch_size=8, shuffle=True,
                        generator=cr.Generator(1), augment=Augment(["shift", "rotate",
                                                                    "elastic"]))
    optimizer = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return Trainer(model, nn.CrossEntropyLoss(), optimizer, out_dir=out, progress=False,
                   log=None), loader


@pytest.mark.parametrize("at", [1, 3])
def test_a_run_stopped_mid_epoch_resumes_to_the_same_weights(tmp_path: Path, at: int) -> None:
    straight, loader = _trainer(tmp_path / "straight")
    straight.fit(loader, epochs=3)
    stopped, loader = _trainer(tmp_path / "stopped")
    with pytest.raises(TrainingInterrupted):
        stopped.fit(_Stopping(loader, at), epochs=3)
    meta = read_checkpoint(tmp_path / "stopped" / "checkpoint.safetensors")[1]
    assert meta["epoch"] == 1 and meta["loader"]["position"] == at + 1
    resumed, loader = _trainer(tmp_path / "stopped")
    resumed.resume(str(tmp_path / "stopped" / "checkpoint.safetensors"), loader)
    resumed.fit(loader, epochs=3)
    for (name, a), (_, b) in zip(straight.model.state_dict().items(),
                                 resumed.model.state_dict().items(), strict=True):
        assert np.array_equal(a.numpy(), b.numpy()), name
