"""draw_network: the network drawn neuron by neuron, its weights, values and parameter counts."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

pytest.importorskip("matplotlib")
from chainrule.explain import worked  # noqa: E402
from chainrule.viz import draw_network  # noqa: E402
from chainrule.viz.network import (  # noqa: E402
    NEGATIVE,
    POSITIVE,
    cs231n_nets,
    draw_cs231n_nets,
    layers_of,
)

PNG = b"\x89PNG\r\n\x1a\n"


def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_cs231n_nets_have_the_notes_parameter_counts(tmp_path) -> None:
    nets = cs231n_nets()
    assert [net.num_parameters() for net in nets.values()] == [26, 41]
    fig = draw_cs231n_nets(save=tmp_path / "cs231n.png")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["3-4-2 network: 26 parameters (20 weights + 6 biases)",
                      "3-4-4-1 network: 41 parameters (32 weights + 9 biases)"]
    assert (tmp_path / "cs231n.png").read_bytes().startswith(PNG)


def test_every_weight_is_a_line_coloured_by_its_sign_and_thick_by_its_size() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    with cr.no_grad():
        model[0].weight.copy_(cr.tensor([[1.0, -2.0], [0.5, 0.0], [-4.0, 3.0]]))
        model[2].weight.copy_(cr.tensor([[0.1, -0.2, 0.3]]))
    fig = draw_network(model)
    lines = fig.axes[0].lines
    assert len(lines) == 2 * 3 + 3 * 1
    first = lines[:6]  # drawn neuron by neuron: into h1 from i1, i2, then h2, h3
    colours = [line.get_color() for line in first]
    assert colours == [POSITIVE, NEGATIVE, POSITIVE, POSITIVE, NEGATIVE, POSITIVE]
    widths = [line.get_linewidth() for line in first]
    assert widths[4] == max(widths) and widths[3] == min(widths)  # -4 largest, 0 smallest
    assert "w5" in _texts(fig) and "w9" in _texts(fig)  # 9 weights: all named


def test_worked_example_values_on_the_nodes_match_the_walkthrough() -> None:
    model = worked.build()
    x, target = worked.data()
    fig = draw_network(model, x, target)
    texts = "\n".join(_texts(fig))
    assert "net 0.3775\nout 0.59327" in texts  # the tutorial's net_h1 and out_h1
    assert "out 0.751365" in texts and "E_o1 = 0.274811" in texts
    assert "E_total = 0.298371109" in texts
    assert "\u03b4 0.138499" in texts  # delta_o1 = 0.74136507 * 0.186815602
    assert "w5 = 0.4" in texts and "b1 = 0.35" in texts


def test_wide_layers_are_collapsed_with_their_width_written() -> None:
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 16), nn.Sigmoid(), nn.Linear(16, 16), nn.Sigmoid(),
                          nn.Linear(16, 10))
    fig = draw_network(model, cr.rand(784))
    ax = fig.axes[0]
    assert ax.get_title() == "784-16-16-10 network: 13,002 parameters (12,960 weights + 42 biases)"
    assert len(ax.lines) == 16 * 16 + 16 * 16 + 16 * 10  # 16 of the 784 inputs drawn
    texts = _texts(fig)
    assert "input\n784 neurons" in texts and "\u22ee" in texts
    assert "the input image" in texts and len(ax.images) == 1  # the 28x28 input beside it
    assert "output\n(shaded by softmax)" in texts
    assert [str(d) for d in range(10)] == [t for t in texts if len(t) == 1 and t.isdigit()][-10:]
    shades = {patch.get_facecolor() for patch in ax.patches}
    assert len(shades) > 3  # filled by the activations, not all white


def test_models_that_are_not_fully_connected_are_refused_clearly() -> None:
    with pytest.raises(TypeError, match="Conv2d cannot be drawn neuron by neuron"):
        layers_of(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()))
    with pytest.raises(ValueError, match="no Linear layer"):
        layers_of(nn.Sequential(nn.Flatten()))
    sizes = [c.size for c in layers_of(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)))]
    assert sizes == [4, 2]
    assert np.isclose(layers_of(worked.build())[1].weight, worked.W_HIDDEN).all()
