"""explain: the walk-through prints the graph's own numbers, to the tutorials' digits."""

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.cli import main
from chainrule.explain import backprop, error_split, worked
from chainrule.explain.convolution import IMAGE, KERNEL, convolution, correlate

from clirun import run_cli


def test_worked_example_numbers_in_the_walkthrough() -> None:
    model = worked.build()
    x, t = worked.data()
    walk = backprop(model, x, t, lr=0.5, file=None)
    text = walk.text
    for expected in ("net_h1 = w1 * i1 + w2 * i2 + b = 0.15 * 0.05 + 0.2 * 0.1 + 0.35 = 0.3775",
                     "out_h1 = sigmoid(net_h1) = 0.593269992",
                     "out_o1 = sigmoid(net_o1) = 0.75136507",
                     "E_total = 0.298371109",
                     "dE/dw5 = dE/dout_o1 * dout_o1/dnet_o1 * dnet_o1/dw5 = "
                     "0.74136507 * 0.186815602 * 0.593269992 = 0.082167041",
                     "w5+ = 0.4 - 0.5 * 0.082167041 = 0.35891648",
                     "w1+ = 0.15 - 0.5 * 0.000438568 = 0.149780716"):
        assert expected in text, expected
    assert walk.values["dE/dw5"] == model[2].weight.grad.tolist()[0][0]


def test_printed_gradients_equal_grad_for_a_3_4_4_1_tanh_network() -> None:
    cr.manual_seed(2)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 4), nn.Tanh(),
                          nn.Linear(4, 1), nn.Tanh()).double()
    assert model.num_parameters() == 41
    x = cr.tensor([[0.5, -1.0, 2.0]], dtype=cr.float64)
    t = cr.tensor([[0.25]], dtype=cr.float64)
    walk = backprop(model, x, t, lr=0.1, file=None)
    printed = {m.group(1): float(m.group(2)) for m in
               re.finditer(r"^dE/d(w\d+) = .* = (-?[\d.]+)$", walk.text, re.M)}
    grads = np.concatenate([m.weight.grad.numpy().ravel() for m in model
                            if isinstance(m, nn.Linear)])
    assert len(printed) == grads.size == 12 + 16 + 4
    for i, g in enumerate(grads):
        assert printed[f"w{i + 1}"] == pytest.approx(g, abs=1e-9)
    deltas = [walk.values[f"delta_h2_{k}"] for k in range(1, 5)]
    np.testing.assert_allclose(deltas, model[2].bias.grad.numpy(), atol=1e-15)
    assert "h1_1" in walk.text and "(W^T delta_next)_h2_1" in walk.text


def test_explain_rejects_models_it_cannot_walk() -> None:
    with pytest.raises(TypeError, match="expected Linear layers"):
        backprop(nn.Sequential(nn.Tanh(), nn.Linear(2, 1)), [[1.0, 2.0]], [[1.0]], file=None)


def test_error_split_prints_the_shares_and_the_contrast() -> None:
    walk = error_split(file=None)
    assert ("share of e1 assigned to w11 = 0.08 * 0.6 / (0.6 + 0.1 + 0.15 + 0.25) = 0.0436"
            in walk.text)
    assert "the tutorial prints 0.0343" in walk.text
    assert "e_h1 = 0.6 * 0.08 + 0.2 * 0.82 = 0.212" in walk.text
    assert walk.values["grad_h1"] < 0 < walk.values["wte_h1"]


def test_cli_example_backprop_and_error_split(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["example", "backprop"]) == 0
    out = capsys.readouterr().out
    assert "net_h1 = " in out and "= 0.3775" in out and "0.082167041" in out
    assert "AFTER ONE STEP: E_total = 0.291027774" in out and "0.291027924" in out
    assert main(["example", "error-split"]) == 0
    assert "0.0436" in capsys.readouterr().out


def test_convolution_by_hand_matches_conv2d_and_autograd() -> None:
    walk = convolution(file=None)
    text = walk.text
    assert "y[1,2] = x[1,2]*k[0,0] + x[1,3]*k[0,1] + x[1,4]*k[0,2]" in text
    assert "= 0*1 + 2*0 + 1*(-1)" in text
    assert walk.values["y[1,2]"] == 2.0 and walk.values["L"] == 38.0
    assert walk.values["dL/dk[0,0]"] == -4.0 and walk.values["equal"] == 1.0
    assert "agree in every entry" in text
    image = np.array(IMAGE, dtype=np.float64)
    assert correlate(image, np.array(KERNEL, dtype=np.float64))[1, 2] == 2.0


def test_cli_example_convolution_runs_the_real_entry_point() -> None:
    result = run_cli(["example", "convolution"])
    assert result.code == 0 and not result.err
    assert "output y = conv2d(x, k):" in result.out
    assert "by hand and autograd agree in every entry, to the last bit" in result.out
    by_hand = result.out.split("KERNEL GRADIENT")[1].split("by hand:")[1].split("autograd")[0]
    assert by_hand.split() == ["-4", "3", "-17", "11", "1", "-24", "8", "-18", "-20"]
