"""Plots: each returns a Figure, writes a real PNG with save=, and the CLI writes a run's set."""

from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.cli import main

pytest.importorskip("matplotlib")
from chainrule import viz  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path: Path, min_bytes: int = 5000) -> bool:
    data = path.read_bytes()
    return data.startswith(PNG) and len(data) > min_bytes


def test_every_plot_returns_a_figure_and_saves_a_png(tmp_path: Path) -> None:
    X, y = cr.data.make_moons(200, seed=0)
    model = nn.Sequential(nn.Linear(2, 6), nn.Tanh(), nn.Linear(6, 2))
    rows = [{"epoch": e, "train_loss": 1 / e, "train_accuracy": 1 - 1 / (e + 1),
             "val_loss": 1.2 / e, "val_accuracy": 1 - 1.2 / (e + 1)} for e in range(1, 6)]
    mnist_like = nn.Sequential(nn.Linear(784, 9), nn.Sigmoid(), nn.Linear(9, 10))
    cnn = nn.Sequential(nn.Unflatten(1, (1, 28)), nn.Conv2d(1, 4, 5), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 12 * 12, 10))
    images = np.random.default_rng(0).random((30, 28, 28)).astype(np.float32)
    flows = {"sigmoid": np.abs(np.random.default_rng(1).normal(size=(20, 8))) * 1e-3,
             "relu": np.abs(np.random.default_rng(2).normal(size=(20, 8)))}
    figures = {
        "curves": lambda p: viz.training_curves(rows, save=p),
        "confusion": lambda p: viz.confusion_matrix(np.eye(3) * 5 + 1, save=p),
        "misclassified": lambda p: viz.misclassified(images, np.zeros(30, int),
                                                     np.arange(30) % 3, save=p),
        "weights": lambda p: viz.first_layer_weights(mnist_like, save=p),
        "filters": lambda p: viz.conv_filters(cnn, save=p),
        "feature_maps": lambda p: viz.feature_map_grid(cnn, images[0], save=p),
        "histograms": lambda p: viz.activation_histograms(model, X, save=p),
        "boundary": lambda p: viz.decision_boundary([("a", model), ("b", model)], X, y,
                                                    resolution=50, save=p),
        "neurons": lambda p: viz.neuron_boundaries(model, X, y, resolution=40, save=p),
        "flow": lambda p: viz.gradient_flow(flows, save=p),
        "activations": lambda p: viz.activation_functions(save=p),
    }
    for name, make in figures.items():
        path = tmp_path / f"{name}.png"
        fig = make(path)
        assert fig.axes, name
        assert _is_png(path), name


def test_activation_derivatives_come_from_autograd() -> None:
    x = np.linspace(-4, 4, 81)
    curves = viz.activation_derivatives(x)
    y, dy = curves["sigmoid"]
    np.testing.assert_allclose(dy, y * (1 - y), atol=1e-12)
    assert dy.max() <= 0.25 + 1e-12
    np.testing.assert_allclose(curves["tanh"][1], 1 - np.tanh(x) ** 2, atol=1e-12)


def test_plot_command_and_train_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "toy"
    assert main(["train", "--dataset", "circles", "--hidden", "6", "--epochs", "3", "--plot",
                 "--out", str(run)]) == 0
    for name in ("curves", "confusion", "activations", "boundary", "neurons"):
        assert _is_png(run / f"{name}.png"), name
    mini = tmp_path / "mini"
    assert main(["train", "--dataset", "mini-mnist", "--epochs", "1", "--out", str(mini)]) == 0
    assert main(["plot", str(mini)]) == 0
    out = capsys.readouterr().out
    for name in ("curves", "confusion", "misclassified", "weights", "activations"):
        assert _is_png(mini / f"{name}.png") and f"wrote {mini / name}.png" in out
