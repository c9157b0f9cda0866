"""``chainrule train --model lenet | cnn`` through the real entry point: it learns, and
checkpoints, resume, eval, predict, info and plot work for convolutional runs; wrong uses
are one line and exit 2; the memory estimate covers what training really takes."""

from __future__ import annotations

import importlib.util
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.data import MiniMNIST
from chainrule.train import models, read_checkpoint, recipe

from clirun import run_cli

MINI = ["--dataset", "mini-mnist"]
# resumable with more epochs (the default cosine schedule is laid out over --epochs)
EXPONENTIAL = ["--schedule", "exponential"]


def _accuracy(out: str) -> float:
    last = out.strip().splitlines()[-1]
    assert last.startswith("test accuracy "), out
    return float(last.split()[2].rstrip("%")) / 100


def _weights(run: Path) -> dict[str, np.ndarray]:
    arrays, _ = read_checkpoint(str(run / "checkpoint.safetensors"))
    return {k: v for k, v in arrays.items() if k.startswith(("model/", "optimizer/"))}


def test_lenet_learns_mini_mnist_and_every_command_reads_its_run(tmp_path: Path) -> None:
    run = tmp_path / "lenet"
    plot = ["--plot"] if importlib.util.find_spec("matplotlib") else []
    result = run_cli(["train", "--model", "lenet", *MINI, *EXPONENTIAL, "--epochs", "2",
                      "--out", str(run), *plot])
    assert result.code == 0, result.err
    assert "Total params: 61,706" in result.out and "(N, 16, 5, 5)" in result.out
    assert "momentum lr 0.05, batch 64" in result.out
    accuracy = _accuracy(result.out)
    assert accuracy > 0.90, result.out  # 94.35% when written; 87.9% after one epoch

    if plot:  # the filters and feature maps instead of the MLP's first-layer weights
        for name in ("filters.png", "feature_maps.png", "misclassified.png", "curves.png"):
            assert (run / name).read_bytes().startswith(b"\x89PNG"), name
            assert f"wrote {run / name}" in result.out
        assert not (run / "weights.png").exists()

    info = run_cli(["info", str(run)])
    assert info.code == 0 and "model: lenet" in info.out and "hidden: []" in info.out
    evaluated = run_cli(["eval", str(run)])
    assert evaluated.code == 0 and f"accuracy {accuracy:.2%}" in evaluated.out

    images = MiniMNIST(train=False)
    digits = tmp_path / "digits.idx"
    cr.data.write_idx(str(digits), images.images[:3])
    predicted = run_cli(["predict", str(run), str(digits)])
    assert predicted.code == 0, predicted.err
    assert len(predicted.out.strip().splitlines()) == 3

    changed = run_cli(["train", "--resume", str(run), "--model", "cnn"])
    assert changed.code == 2
    assert "--model cnn (the run has lenet)" in changed.one_line_error()

    # one epoch, then resumed to two: the same weights and momentum as the straight run
    split = tmp_path / "split"
    first = run_cli(["train", "--model", "lenet", *MINI, *EXPONENTIAL, "--epochs", "1",
                     "--out", str(split)])
    assert first.code == 0, first.err
    resumed = run_cli(["train", "--resume", str(split), "--epochs", "2"])
    assert resumed.code == 0, resumed.err
    straight, continued = _weights(run), _weights(split)
    assert straight.keys() == continued.keys() and straight
    for key, value in straight.items():
        assert np.array_equal(value, continued[key]), key


def test_convolutional_models_have_their_own_documented_defaults() -> None:
    for name in ("lenet", "cnn"):
        config = recipe.resolve({"model": name})
        assert (config["activation"], config["optimizer"], config["lr"], config["batch_size"],
                config["schedule"], config["hidden"]) == ("relu", "momentum", 0.05, 64,
                                                          "cosine", [])
        assert recipe.resolve({"model": name, "optimizer": "adam"})["lr"] == 1e-3
    assert recipe.resolve({"model": "cnn"})["dropout"] == 0.25
    assert recipe.resolve({})["model"] == "mlp" and recipe.resolve({})["batch_size"] == 32
    assert recipe.resolve({"model": "lenet", "batch_size": 32})["batch_size"] == 32


def test_small_cnn_with_batchnorm_and_dropout_learns_and_evaluates(tmp_path: Path) -> None:
    """One epoch of mini-MNIST (eager: batch norm's running statistics keep the step from
    being captured); eval reads the statistics back and gets the same accuracy."""
    run = tmp_path / "cnn"
    result = run_cli(["train", "--model", "cnn", *MINI, "--epochs", "1", "--out", str(run)],
                     timeout=600)
    assert result.code == 0, result.err
    assert "Total params: 20,586" in result.out and "BatchNorm2d" in result.out
    accuracy = _accuracy(result.out)
    assert accuracy > 0.6, result.out  # 80.30% when written
    evaluated = run_cli(["eval", str(run)])
    assert evaluated.code == 0 and f"accuracy {accuracy:.2%}" in evaluated.out


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "lenet", "--dataset", "xor"], "--model lenet needs 28x28 images"),
    (["--model", "cnn", "--hidden", "100"], "--model cnn has fixed layers"),
    (["--model", "vgg"], "--model: 'vgg' is not one of mlp, lenet, cnn"),
    (["--model", "lenet", "--activation", "maxout"], "maxout is a linear layer of --model mlp"),
    (["--model", "cnn", "--batch-size", "1000000"], "would need"),
])
def test_wrong_uses_of_model_are_one_line_and_exit_2(tmp_path: Path, args: list[str],
                                                      message: str) -> None:
    result = run_cli(["train", *args, "--epochs", "1", "--out", str(tmp_path / "run")])
    assert result.code == 2
    assert message in result.one_line_error()
    assert not (tmp_path / "run").exists()


def test_lenet_reaches_97_percent_on_real_mnist_in_one_epoch(mnist_dir: Path,
                                                             tmp_path: Path) -> None:
    result = run_cli(["train", "--model", "lenet", "--epochs", "1",
                      "--out", str(tmp_path / "run")], timeout=600,
                     env={"CHAINRULE_DATA": str(mnist_dir.parent)})
    assert result.code == 0, result.err
    assert "data: mnist, 60,000 training" in result.out
    assert _accuracy(result.out) >= 0.97, result.out  # 97.37% when written


def _peak(run: Callable[[], object]) -> int:
    """Peak NumPy memory (tracemalloc) of two calls of ``run`` after a first one."""
    run()
    tracemalloc.start()
    try:
        for _ in range(2):
            run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", ["lenet", "cnn"])
def test_the_memory_estimate_covers_training_and_evaluation(name: str) -> None:
    """tracemalloc's peak of a training step at batch 64 and of an evaluation batch of 1,000
    (NumPy's own allocations) stays under the estimate, which is not wildly above it."""
    config = recipe.resolve({"model": name})
    model = recipe.build_model(config, 784, 10)
    plan = models.layer_plan(name, config["activation"], config["dropout"], 10)
    optimizer = recipe.build_optimizer(config, model)
    loss_fn = nn.CrossEntropyLoss()
    x, y = cr.randn(64, 28, 28), cr.randint(0, 10, (64,))

    def step() -> None:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()

    estimate, _ = models.cnn_memory(plan, 64, 0, 4, 1, training=True)
    peak = _peak(step)
    assert peak < estimate < 10 * peak, (peak, estimate)

    model.eval()
    images = cr.randn(1000, 28, 28)

    def evaluate() -> None:
        with cr.no_grad():
            model(images)

    estimate, _ = models.cnn_memory(plan, 0, 1000, 4, 1, training=False)
    peak = _peak(evaluate)
    assert peak < estimate < 10 * peak, (peak, estimate)
