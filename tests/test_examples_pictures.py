"""``chainrule example NAME``: the worked example's biases and figures, the training cycle,
and the runnable pictures (each in --quick mode, each writing its figure)."""

import re

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.explain import worked
from chainrule.explain.biases import bias_walkthrough, step, trainable

PNG = b"\x89PNG\r\n\x1a\n"


def test_bias_gradients_are_the_deltas_and_training_them_changes_the_error() -> None:
    walk = bias_walkthrough(steps=20, file=None)
    values = walk.values
    assert values["dE/db_o1"] == pytest.approx(0.138498562, abs=1e-9)  # = delta_o1
    shared = values["dE/db_o1"] + values["dE/db_o2"]
    assert values["dE/db2"] == pytest.approx(shared, rel=1e-12)
    assert values["b_o1+"] == pytest.approx(0.6 - 0.5 * 0.138498562, abs=1e-9)
    assert values["E_after_1/fixed"] == pytest.approx(0.291027774, abs=1e-9)
    assert values["E_after_1/per_neuron"] < values["E_after_1/fixed"]
    assert "(-0.038098237)" in walk.text and "shared b1 feeds h1 and h2" in walk.text


def test_shared_biases_stay_equal_and_fixed_ones_do_not_move() -> None:
    shared, fixed = trainable("shared"), trainable("fixed")
    for _ in range(3):
        step(shared, "shared")
        step(fixed, "fixed")
    b = shared[2].bias.detach().numpy()
    assert b[0] == b[1] and b[0] != worked.B_OUTPUT
    assert fixed[2].bias.detach().numpy().tolist() == [worked.B_OUTPUT] * 2
    with pytest.raises(ValueError, match="expected one of fixed, per_neuron, shared"):
        trainable("tied")


def test_example_backprop_plot_writes_the_network_and_the_cycle(tmp_path, capsys) -> None:
    assert main(["example", "backprop", "--plot", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "AFTER ONE STEP: E_total = 0.291027774" in out
    assert "the tutorial keeps b1 = 0.35 and b2 = 0.6 fixed" in out
    assert "dE/db_o1 = delta_o1 = 0.138498562" in out
    assert "b_o1+ = 0.6 - 0.5 * 0.138498562 = 0.530750719" in out
    assert "after 100 steps" in out
    for name in ("backprop_network.png", "backprop_cycle.png"):
        assert f"wrote {tmp_path / name}" in out
        assert (tmp_path / name).read_bytes().startswith(PNG)


def test_example_cycle_takes_one_real_step(tmp_path, capsys) -> None:
    assert main(["example", "cycle", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "E_total 0.298371109 -> 0.291027774" in out
    assert (tmp_path / "cycle.png").read_bytes().startswith(PNG)


def test_draw_cycle_updates_every_weight_by_its_gradient() -> None:
    from chainrule.viz.cycle import draw_cycle

    model = worked.build()
    x, target = worked.data()
    fig = draw_cycle(model, x, target, lr=0.5)
    after = model[0].weight.detach().numpy()
    assert np.allclose(after, [[0.149780716, 0.19956143], [0.24975114, 0.29950229]], atol=1e-8)
    texts = [t.get_text() for t in fig.axes[2].texts]  # the update panel
    assert "w5: 0.4 \u2192 0.3589" in texts


def test_example_out_must_be_a_folder(tmp_path, capsys) -> None:
    afile = tmp_path / "f"
    afile.write_text("x")
    assert main(["example", "cycle", "--out", str(afile)]) == 2
    assert "expected a folder for the figures" in capsys.readouterr().err


def test_gradient_descent_starts_and_learning_rates(tmp_path, capsys) -> None:
    from chainrule.explain.pictures_descent import MINIMA_1D, descend, surface_1d

    assert main(["example", "gradient-descent", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "from (-2), lr 0.02           -> global minimum after" in out
    assert "from (0.5), lr 0.02          -> local minimum after" in out
    assert "from (-0.2), lr 0.16         -> no minimum in 120 steps: bounces across it" in out
    assert "from (1.8, 1), lr 0.22       -> diverged" in out
    assert (tmp_path / "gradient_descent.png").read_bytes().startswith(PNG)
    path = descend(surface_1d, [0.0], lr=0.02, steps=300)  # f'(0) = 1: downhill is left
    assert path[1, 0] == pytest.approx(-0.02) and path[-1] == pytest.approx(
        MINIMA_1D["global"], abs=1e-6)


def test_vanishing_gradients_sigmoid_shrinks_most(tmp_path, capsys) -> None:
    from chainrule.explain.pictures_vanishing import build, layer_gradient_norms, spiral

    assert main(["example", "vanishing-gradients", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "the 6-layer net, ||dL/dW|| per layer" in out and "after 40 SGD steps" in out
    assert (tmp_path / "vanishing_gradients.png").read_bytes().startswith(PNG)
    x, y = spiral()
    deep = {name: layer_gradient_norms(build(name, 10), x, y)
            for name in ("sigmoid", "relu+He")}
    ratio = {name: norms[0] / norms[-1] for name, norms in deep.items()}
    assert ratio["sigmoid"] < 1e-6 < 1e-2 < ratio["relu+He"]  # 10 layers: 6e-9 vs 0.37
    assert len(deep["sigmoid"]) == 10


def test_follow_one_digit(tmp_path, capsys) -> None:
    from chainrule.explain.pictures_digit import follow_one_digit

    assert main(["example", "follow-one-digit", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "FOLLOW ONE DIGIT: training image 5 of mini-MNIST, a 2" in out
    assert "trained 2 epochs on 10,000 images" in out
    assert "  0: 0." in out and "  9: 0." in out  # the outputs labelled by digit
    for name in ("follow_one_digit.png", "follow_one_digit_network.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG)
    follow = follow_one_digit(quick=True, file=None)
    probs = follow.probabilities
    # the point: a trained net, reading the 2 as a 2 (1 epoch on 2,000 images: 14%, a 7)
    assert follow.test_accuracy > 0.75 and probs.argmax() == 2 and probs[2] > 0.8
    wanted = np.eye(10)[2]
    assert np.allclose(follow.output_grad, probs - wanted, atol=1e-6)  # softmax - one-hot
    assert follow.output_grad[2] < 0 and (np.delete(follow.output_grad, 2) >= 0).all()
    # dL/dW1[k, :] = delta_k * x: every first-layer map is the image times one number
    grad = follow.first_layer_grad.astype(np.float64)
    k = int(np.abs(grad).sum(axis=1).argmax())
    on = follow.image > 0
    ratio = grad[k, on] / follow.image[on]
    assert np.allclose(ratio, ratio[0], rtol=1e-4) and (grad[k, ~on] == 0).all()
    assert sum(follow.layer_share.values()) == pytest.approx(1.0)


def test_convergence_counts_steps_to_the_threshold(tmp_path, capsys) -> None:
    from chainrule.explain.pictures_convergence import (
        best,
        build,
        convergence,
        data,
        steps_to_threshold,
    )

    assert main(["example", "convergence", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "lr         sigmoid      tanh      relu   relu+He" in out
    assert "the notes say about 6x" in out
    assert (tmp_path / "convergence.png").read_bytes().startswith(PNG)
    # the full run's measurement, on the quick run: ReLU with He's init fastest, then tanh,
    # then ReLU with PyTorch's default init (nowhere near 6x faster than tanh), sigmoid last
    runs = convergence(quick=True, file=None)
    winners = {name: best(name_runs) for name, name_runs in runs.items()}
    he, tanh, relu = winners["relu+He"], winners["tanh"], winners["relu"]
    assert he is not None and tanh is not None and relu is not None
    assert he.steps and tanh.steps and relu.steps and winners["sigmoid"] is None
    assert he.steps * 1.1 < tanh.steps and tanh.steps * 1.3 < relu.steps
    relu, tanh = build("relu"), build("tanh")
    assert np.array_equal(relu[0].weight.detach().numpy(), tanh[0].weight.detach().numpy())
    arrays = data(300)
    never = steps_to_threshold("sigmoid", 0.1, max_steps=5, window=2, threshold=0.01,
                               arrays=arrays)
    assert never.steps is None and len(never.curve) == 5 and not never.diverged
    soon = steps_to_threshold("tanh", 0.5, max_steps=50, window=2, threshold=2.2,
                              arrays=arrays)
    assert soon.steps is not None and soon.curve[soon.steps - 1] < 2.2
    assert all(value >= 2.2 for value in soon.curve[1:soon.steps - 1])


def test_linear_collapse_is_one_matrix(tmp_path, capsys) -> None:
    from chainrule.explain.pictures_activations import linear_collapse

    assert main(["example", "linear-collapse", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Linear(2, 16) -> Linear(16, 2) is one matrix" in out
    assert (tmp_path / "linear_collapse.png").read_bytes().startswith(PNG)
    result = linear_collapse(quick=True, file=None)
    assert result["max_difference"] < 1e-5 and np.asarray(result["W"]).shape == (2, 2)
    assert result["accuracy"]["linear"] < 0.7 < 0.95 < result["accuracy"]["tanh"]


def test_saturation_and_dead_relus(tmp_path, capsys) -> None:
    from chainrule.explain.pictures_activations import saturation

    assert main(["example", "saturation", "--quick", "--out", str(tmp_path)]) == 0
    assert "init N(0, 1)  saturated: layer 1" in capsys.readouterr().out
    result = saturation(quick=True, file=None)
    assert min(result["N(0, 1)"]["saturated"]) > 0.2 > 0.01 > max(result["Xavier"]["saturated"])
    assert result["Xavier"]["accuracy"] > result["N(0, 1)"]["accuracy"] + 0.03  # the point
    assert main(["example", "dead-relus", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[1]: line for line in out.splitlines() if line.startswith("  lr ")}
    assert set(lines) == {"0.01", "0.5", "2"}
    dead_at_2 = [int(n) for n in re.findall(r"layer \d (\d+) of 64", lines["2"])]
    dead_at_half = [int(n) for n in re.findall(r"layer \d (\d+) of 64", lines["0.5"])]
    assert sum(dead_at_2) > 20 > sum(dead_at_half)  # a too-large rate kills units
    for name in ("saturation.png", "dead_relus.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG)


def test_zigzag_positive_inputs_move_all_weights_together(tmp_path, capsys) -> None:
    from chainrule.explain.pictures_activations import zigzag

    assert main(["example", "zigzag", "--quick", "--out", str(tmp_path)]) == 0
    assert "steps moving both weights the same way: 100%" in capsys.readouterr().out
    assert (tmp_path / "zigzag.png").read_bytes().startswith(PNG)
    result = zigzag(quick=True, file=None)
    positive, centred = result["sigmoid (all > 0)"], result["tanh (centred)"]
    assert positive["same_sign"] == 1.0 and 0.2 < centred["same_sign"] < 0.8
    assert centred["steps"] is not None and positive["steps"] is not None
    assert centred["steps"] < positive["steps"]


def test_depth_overfitting_and_seed_spread(tmp_path, capsys) -> None:
    from chainrule.explain.pictures_capacity import depth, overfitting, seed_spread

    for name in ("depth", "overfitting", "seed-spread"):
        assert main(["example", name, "--quick", "--out", str(tmp_path)]) == 0
        assert (tmp_path / f"{name.replace('-', '_')}.png").read_bytes().startswith(PNG)
    out = capsys.readouterr().out
    assert "4 x 8   (267 parameters)" in out and "1 x 44  (267 parameters)" in out
    # as in the full run: one wide layer about as good as four narrow ones with as many
    # parameters (after 200 steps the wide one lagged: "depth used them better")
    assert "about the same (within 2 points)" in out
    nets = depth(quick=True, file=None)
    assert abs(nets["4 x 8"]["test"] - nets["1 x 44"]["test"]) < 0.015
    assert nets["1 x 8"]["test"] + 0.05 < nets["2 x 8"]["test"]  # too few units
    result = overfitting(quick=True, file=None)
    history = result["history"]
    step, train_loss, test_loss = history[-1]
    best = [row for row in history if row[0] == result["best_step"]][0]
    assert step == 2000 and best[0] < step
    assert test_loss - train_loss > best[2] - best[1]  # the gap grew after the best step
    assert test_loss > result["best_test"] + 0.03 and train_loss < best[1]  # test loss up
    spread = seed_spread(quick=True, file=None)
    losses = np.array(spread["losses"])
    assert len(losses) == 16
    # the seeds end apart: one finds a clearly better solution than most
    assert losses.min() < np.median(losses) - 0.05 and max(spread["accuracies"]) > 0.85


def test_example_networks_counts_every_parameter(tmp_path, capsys) -> None:
    assert main(["example", "networks", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "3-4-2         weights 3 x 4 + 4 x 2 = 20; biases 4 + 2 = 6; total 26" in out
    assert "3-4-4-1       weights 3 x 4 + 4 x 4 + 4 x 1 = 32; biases 4 + 4 + 1 = 9; total 41" in out
    assert "total 13,002" in out
    for name in ("cs231n_nets.png", "network_784.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG)


def test_example_help_lists_every_example_on_its_own_line(capsys) -> None:
    from chainrule.cli_example import EXAMPLES

    with pytest.raises(SystemExit) as stop:
        main(["example", "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    listed = [line.split()[0] for line in out.split("examples:\n")[1].splitlines()
              if line.startswith("  ") and not line.startswith("   ")]
    assert listed == list(EXAMPLES)
