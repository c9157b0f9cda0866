"""What the figures say: titles that fit, axis labels, integer epoch ticks, colour bars,
captions that fit the activation, the leaky ReLU's own slope, outputs named by class."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.explain import backprop
from chainrule.explain.backprop import output_names

pytest.importorskip("matplotlib")
from chainrule import viz  # noqa: E402
from chainrule.viz.weights import saturation  # noqa: E402

ROWS = [{"epoch": e, "train_loss": 1 / e, "train_accuracy": 1 - 1 / (e + 1),
         "val_loss": 1.2 / e, "val_accuracy": 1 - 1.2 / (e + 1)} for e in range(1, 4)]


def inside(fig: Any, artist: Any) -> bool:
    """Whether ``artist`` is drawn wholly inside the figure (not cut off)."""
    fig.canvas.draw()
    box = artist.get_window_extent(fig.canvas.get_renderer())
    return bool(fig.bbox.x0 - 1 <= box.x0 and box.x1 <= fig.bbox.x1 + 1
                and fig.bbox.y0 - 1 <= box.y0 and box.y1 <= fig.bbox.y1 + 1)


def plot_axes(fig: Any) -> list[Any]:
    """The axes that show data (not colour bars, not image tiles with the axis off)."""
    return [ax for ax in fig.axes if ax.axison and (ax.lines or ax.collections or ax.patches)
            and not hasattr(ax, "_colorbar")]


def labelled(fig: Any) -> None:
    """Every data axes has a title (or the figure one), x and y labels, and a legend when it
    draws more than one line."""
    suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
    assert plot_axes(fig)
    for ax in plot_axes(fig):
        assert ax.get_title() or suptitle, ax
        assert ax.get_xlabel() and ax.get_ylabel(), (ax.get_title(), ax.get_xlabel())
        if len([line for line in ax.lines if not line.get_label().startswith("_")]) > 1:
            assert ax.get_legend() is not None, ax.get_title()


def test_curves_have_y_labels_integer_epochs_and_a_legend() -> None:
    fig = viz.training_curves(ROWS)
    loss, acc = fig.axes
    assert loss.get_ylabel().startswith("loss") and acc.get_ylabel() == "accuracy (%)"
    fig.canvas.draw()
    for ax in (loss, acc):
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "validation"]
    labelled(fig)


def test_curves_read_any_evaluated_set() -> None:
    rows = [{"epoch": 1, "train_loss": 1.0, "train_accuracy": 0.5, "test_loss": 0.9,
             "test_accuracy": 0.6}]
    fig = viz.training_curves(rows)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["train", "test"]


def test_confusion_matrix_title_fits_for_three_classes() -> None:
    fig = viz.confusion_matrix(np.array([[304, 9, 21], [1, 302, 30], [1, 0, 332]]))
    ax = fig.axes[0]
    assert "93.80%" in ax.get_title()
    assert inside(fig, ax.title)
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"


def test_weights_share_one_scale_with_a_colour_bar() -> None:
    cr.manual_seed(0)
    fig = viz.first_layer_weights(nn.Sequential(nn.Linear(784, 6), nn.ReLU(),
                                                nn.Linear(6, 10)))
    bars = [ax for ax in fig.axes if hasattr(ax, "_colorbar")]
    assert len(bars) == 1 and bars[0].get_ylabel() == "weight value"
    limits = {ax.images[0].get_clim() for ax in fig.axes if ax.images}
    assert len(limits) == 1
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert titles == [f"h{k}" for k in range(1, 7)]
    assert inside(fig, fig._suptitle)


def test_a_linear_classifiers_weights_are_titled_by_digit() -> None:
    fig = viz.first_layer_weights(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)))
    assert [ax.get_title() for ax in fig.axes if ax.images] == [f"class {d}" for d in range(10)]


def test_histogram_caption_fits_the_activation() -> None:
    cr.manual_seed(0)
    relu = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4), nn.Sigmoid())
    with cr.no_grad():
        relu[0].bias[...] = 100.0  # every unit positive for inputs in [0, 1)^3 ...
        relu[0].bias[1] = -100.0  # ... but unit 2, 0 for every sample: dead
    fig = viz.activation_histograms(relu, cr.rand(50, 3))
    first, second = (ax.get_title() for ax in fig.axes)
    assert "ReLU" in first and "dead units: 1 of 4" in first and "within" not in first
    assert "Sigmoid" in second and "saturated (< 0.01 or > 0.99)" in second
    labelled(fig)


def test_saturation_by_kind() -> None:
    values = np.array([[0.0, -0.995, 0.5], [0.0, 0.999, -0.2]])
    assert saturation("Tanh", values) == "33% saturated (|out| > 0.99)"
    assert saturation("ReLU", values).startswith("33% exactly 0; dead units: 1 of 3")
    assert saturation("LeakyReLU", values, nn.LeakyReLU(0.2)) == "33% negative (slope 0.2)"
    assert saturation("GELU", values) == ""
    maps = np.zeros((2, 3, 4, 4))
    maps[:, 0] = 1.0
    assert saturation("ReLU", maps).endswith("dead channels: 2 of 3")


def test_plotted_leaky_relu_has_the_modules_slope() -> None:
    x = np.linspace(-3, 3, 13)
    _, slope = viz.activation_derivatives(x)["leaky_relu"]
    assert np.allclose(slope[x < 0], nn.LeakyReLU().negative_slope)
    fig = viz.activation_functions()
    assert any("slope 0.01" in text.get_text() for text in fig.axes[0].get_legend().get_texts())
    labelled(fig)


def test_every_standard_figure_is_labelled() -> None:
    X, y = cr.data.make_spiral(300, seed=0)
    model = nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 3))
    flows = {"a": np.ones((4, 3)), "b": np.ones((4, 3)) * 2}
    for fig in (viz.decision_boundary(model, X, y, resolution=30),
                viz.neuron_boundaries(model, X, y, resolution=20),
                viz.gradient_flow(flows), viz.compare_curves([("a", ROWS), ("b", ROWS)])):
        labelled(fig)
        if fig._suptitle is not None:
            assert inside(fig, fig._suptitle)


def test_a_linear_classifiers_units_are_its_classes() -> None:
    X, y = cr.data.make_xor(40, seed=0)
    fig = viz.neuron_boundaries(nn.Sequential(nn.Linear(2, 2)), X, y, resolution=10)
    assert [ax.get_title().split(":")[0] for ax in fig.axes[:2]] == ["class 0", "class 1"]


def test_compare_curves_names_each_run() -> None:
    fig = viz.compare_curves([("a (loss=mse)", ROWS), ("b (loss=cross_entropy)", ROWS[:2])])
    assert [t.get_text() for t in fig.legends[0].get_texts()] == \
        ["a (loss=mse)", "b (loss=cross_entropy)"]
    assert len(fig.axes[0].lines) == 4  # two runs, train and validation each
    assert inside(fig, fig.legends[0])


def test_explain_names_a_digit_classifiers_outputs_by_digit() -> None:
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 2), nn.Sigmoid(), nn.Linear(2, 10))
    walk = backprop(model, cr.rand(784), cr.zeros(10), file=None)
    assert "out_7" in walk.values and "dE/dout_0" in walk.values
    assert not any(key.endswith("_o1") for key in walk.values)
    assert output_names(model, "abcdefghij") == list("abcdefghij")
    with pytest.raises(ValueError, match="3 output names for 10 outputs"):
        output_names(model, ["a", "b", "c"])
    small = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 2), nn.Sigmoid())
    assert output_names(small) == ["o1", "o2"]
