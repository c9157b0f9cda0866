"""Every example script runs with --quick and asserts its own key result.

(How long --quick takes is not asserted: it depends on the machine.)
"""

import importlib
from pathlib import Path

import pytest

EXAMPLES = ["mnist_mlp", "neural_network_class", "worked_example", "linear_classifiers",
            "capacity_and_regularization", "activations", "vanishing_gradients",
            "autograd_tour", "universal_approximation", "mnist_cnn"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_runs_quick(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    assert module.__doc__ and "Run:" in module.__doc__
    result = module.main(["--quick", "--out", str(tmp_path / "out")]
                         if name != "worked_example" else ["--quick"])
    assert result is not None
    assert capsys.readouterr().out.strip()


def test_figures_are_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    module = importlib.import_module("vanishing_gradients")
    module.main(["--quick", "--out", str(tmp_path)])
    data = (tmp_path / "gradient_flow.png").read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 10_000
