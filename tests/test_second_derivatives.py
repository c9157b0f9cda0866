"""chainrule.explain.second_derivatives and `chainrule example second-derivatives`: the
activations' f' and f'' come from autograd and equal the closed forms; Newton beats
gradient descent on the 1-D loss."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np

from chainrule.explain import second_derivatives as sd

CLI = [sys.executable, "-c", "import sys; from chainrule.cli import main; sys.exit(main())"]


def test_autograd_derivatives_equal_the_closed_forms():
    x = np.linspace(-5, 5, 41)
    s = 1 / (1 + np.exp(-x))
    f, d1, d2 = sd.derivatives("sigmoid", x)
    np.testing.assert_allclose(d1, s * (1 - s), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(d2, s * (1 - s) * (1 - 2 * s), rtol=1e-10, atol=1e-15)
    t = np.tanh(x)
    _, d1, d2 = sd.derivatives("tanh", x)
    np.testing.assert_allclose(d1, 1 - t * t, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(d2, -2 * t * (1 - t * t), rtol=1e-10, atol=1e-15)
    _, d1, d2 = sd.derivatives("relu", x[x != 0])
    assert set(d1.tolist()) == {0.0, 1.0} and not d2.any()


def test_sigmoid_curvature_peaks_where_the_formula_says():
    found = sd.activation_derivatives(points=6001)
    assert abs(found["sigmoid"]["peak_curvature"] - math.sqrt(3) / 18) < 1e-6
    assert abs(found["sigmoid"]["curvature_at"] - math.log(2 + math.sqrt(3))) < 3e-3


def test_newton_needs_far_fewer_steps_and_both_find_the_minimum():
    race = sd.newton_vs_descent(lr=1.0)
    newton, descent = race["newton"], race["descent"]
    assert newton["steps"] < 10 < descent["steps"]
    assert abs(newton["w"] - descent["w"]) < 1e-8


def test_cli_example_prints_and_writes_the_figure(tmp_path):
    result = subprocess.run([*CLI, "example", "second-derivatives", "--quick", "--out",
                             str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Newton:" in result.stdout and "gradient descent:" in result.stdout
    assert (tmp_path / "second_derivatives.png").stat().st_size > 10_000
