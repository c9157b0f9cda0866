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


def test_mnist_mlp_without_full_mnist_says_so_and_checks_a_bar_for_mini_mnist(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHAINRULE_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # no MNIST anywhere
    monkeypatch.setenv("HOME", str(tmp_path))
    module = importlib.import_module("mnist_mlp")
    result = module.main(["--out", str(tmp_path / "out")])  # 5 epochs, not --quick
    out = capsys.readouterr().out
    assert "full MNIST not found" in out and "mini-MNIST" in out
    assert result["cross-entropy"] > module.ACCURACY_BAR[("mini-MNIST", False)]
    assert module.ACCURACY_BAR[("MNIST", False)] > module.ACCURACY_BAR[("mini-MNIST", False)]


def test_vanishing_gradients_prints_the_steps_it_ran(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = importlib.import_module("vanishing_gradients")
    assert len(list(module.batches(range(3), 7))) == 7  # another pass when one ends
    result = module.main(["--quick", "--out", str(tmp_path)])
    assert {len(flow) for flow in result["flows"].values()} == {100}
    assert "100 SGD steps" in capsys.readouterr().out


def test_activations_names_the_slowest_only_when_measured_so() -> None:
    module = importlib.import_module("activations")

    def results(**epochs: int | None) -> dict[str, dict[str, int | None]]:
        return {name: {"epochs_to_loss": e} for name, e in epochs.items()}

    tie = module.conclusion(results(sigmoid=10, tanh=9, relu=8), 60)
    assert tie.startswith("no activation is clearly slowest") and "sigmoid" in tie
    slow = module.conclusion(results(sigmoid=35, tanh=11, relu=8), 60)
    assert "slowest to reach the loss: sigmoid" in slow and "3.2x" in slow
    never = module.conclusion(results(sigmoid=None, tanh=11, relu=8), 60)
    assert "slowest to reach the loss: sigmoid" in never and "not in 60 epochs" in never
    other = module.conclusion(results(sigmoid=8, tanh=30, relu=8), 60)
    assert "tanh" in other and "1/4" not in other
