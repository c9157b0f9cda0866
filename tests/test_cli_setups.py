"""``chainrule train`` flags that express the published setups (issue 13): --val-split,
--loss bce, --init normal --init-std, --weight-decay with --no-bias-decay, --dtype and
--threads, through the CLI on mini-MNIST and toy data; their config keys, bad values, and
the resume rules."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.train import read_checkpoint, recipe
from chainrule.train.checkpoint import atomic_write, encode_checkpoint

MINI = ["train", "--dataset", "mini-mnist", "--hidden", "8"]


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def _meta(run: Path, name: str = "checkpoint.safetensors") -> dict:
    return read_checkpoint(run / name)[1]


# ---- --val-split ---------------------------------------------------------------------------

def test_val_split_holds_out_validation_images_and_tests_best_and_last_once(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    code, out, err = _run([*MINI, "--epochs", "2", "--val-split", "1000", "--out", str(run)],
                          capsys)
    assert code == 0, err
    assert "9,000 training, 1,000 validation (held out of the 10,000" in out
    meta = _meta(run)
    held = meta["validation"]
    assert held["of"] == 10_000 and len(held["indices"]) == 1000
    assert held["indices"] == sorted(set(held["indices"]))
    rows = meta["metrics"]
    assert all("val_accuracy" in row and "test_accuracy" not in row for row in rows)
    # best.safetensors is chosen on the validation column, not the test set
    assert meta["best_value"] == max(row["val_accuracy"] for row in rows)
    best, last = meta["test"]["best"], meta["test"]["last"]
    assert best["chosen_by"] == "val_accuracy" and best["chosen_value"] == meta["best_value"]
    assert last["epoch"] == 2 and last["count"] == 2000 and best["epoch"] == meta["best_epoch"]
    lines = out.strip().splitlines()
    assert lines[-2].startswith(f"best model (epoch {best['epoch']}, validation accuracy ")
    assert f"test accuracy {best['accuracy']:.2%} | test loss" in lines[-2]
    assert lines[-1].startswith(f"test accuracy {last['accuracy']:.2%} (last model, epoch 2)")
    assert "val loss" in err and "test loss" not in err  # the per-epoch lines: validation
    header = (run / "metrics.csv").read_text().splitlines()[0]
    assert "val_accuracy" in header and "test" not in header
    code, out, _ = _run(["info", str(run)], capsys)
    assert code == 0
    assert "validation: 1,000 of the 10,000 training samples held out" in out
    assert "   val_loss   val_acc" in out and "test set, evaluated once after training:" in out
    assert f"best model (epoch {best['epoch']}, chosen by validation accuracy" in out
    assert f"last model (epoch 2): accuracy {last['accuracy']:.2%}" in out


def test_val_split_is_the_same_on_resume(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert _run([*MINI, "--epochs", "1", "--val-split", "0.1", "--seed", "5", "--out",
                 str(run)], capsys)[0] == 0
    before = _meta(run)["validation"]
    assert len(before["indices"]) == 1000
    code, _, err = _run(["train", "--resume", str(run), "--epochs", "2"], capsys)
    assert code == 0, err
    meta = _meta(run)
    assert meta["validation"] == before and meta["epoch"] == 2
    assert [row["epoch"] for row in meta["metrics"]] == [1, 2]
    code, _, err = _run(["train", "--resume", str(run), "--epochs", "3", "--val-split", "0.2"],
                        capsys)
    assert code == 2 and "--val-split 0.2 (the run has 0.1)" in err


def test_resume_uses_the_saved_indices_not_a_new_draw(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Indices saved with the run are the split, whatever a new draw would give."""
    run = tmp_path / "run"
    assert _run([*MINI, "--epochs", "1", "--val-split", "500", "--out", str(run)], capsys)[0] == 0
    arrays, meta = read_checkpoint(run / "checkpoint.safetensors")
    meta["validation"]["indices"] = list(range(500))  # not what seed 0 draws
    atomic_write(run / "checkpoint.safetensors", encode_checkpoint(arrays, meta))
    assert _run(["train", "--resume", str(run), "--epochs", "2"], capsys)[0] == 0
    assert _meta(run)["validation"]["indices"] == list(range(500))
    meta["validation"] = {"of": 9999, "indices": list(range(500))}
    atomic_write(run / "checkpoint.safetensors", encode_checkpoint(arrays, meta))
    code, _, err = _run(["train", "--resume", str(run), "--epochs", "3"], capsys)
    assert code == 2 and "held out of a training set of 9999 images, this one has 10,000" in err


def test_without_val_split_the_columns_are_called_test(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    code, out, err = _run([*MINI, "--epochs", "1", "--out", str(run)], capsys)
    assert code == 0, err
    assert "no --val-split: the per-epoch columns and best.safetensors use the test set" in out
    assert "test loss" in err and "val" not in err
    meta = _meta(run)
    assert "validation" not in meta and set(meta["test"]) == {"last"}
    assert all("test_accuracy" in row and "val_accuracy" not in row for row in meta["metrics"])
    assert "val" not in (run / "metrics.csv").read_text().splitlines()[0]
    code, out, _ = _run(["info", str(run)], capsys)
    assert "  test_loss  test_acc" in out and "the test columns are the test set" in out
    assert "validation" not in out


def test_an_older_runs_val_columns_are_shown_and_resumed_as_test(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Runs from before --val-split saved the test set's per-epoch columns as val_*."""
    run = tmp_path / "run"
    assert _run([*MINI, "--epochs", "1", "--out", str(run)], capsys)[0] == 0
    arrays, meta = read_checkpoint(run / "checkpoint.safetensors")
    for row in meta["metrics"]:
        row["val_loss"], row["val_accuracy"] = row.pop("test_loss"), row.pop("test_accuracy")
    for key in ("val_split", "init_std", "no_bias_decay", "dtype", "threads"):
        del meta["config"][key]  # an older run's config has none of them
    del meta["test"]
    atomic_write(run / "checkpoint.safetensors", encode_checkpoint(arrays, meta))
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in meta["metrics"]))
    code, out, _ = _run(["info", str(run)], capsys)
    accuracy = meta["metrics"][0]["val_accuracy"]
    assert code == 0 and "saved them as val_*" in out and "  test_loss  test_acc" in out
    assert f"{accuracy:.2%}" in out
    code, _, err = _run(["train", "--resume", str(run), "--epochs", "2"], capsys)
    assert code == 0, err
    rows = _meta(run)["metrics"]
    assert [sorted(k for k in row if "loss" in k) for row in rows] == \
        [["test_loss", "train_loss"]] * 2
    assert rows[0]["test_accuracy"] == accuracy


# ---- --loss bce, --init normal, --no-bias-decay -------------------------------------------

def test_bce_run_trains_and_predicts_sigmoid_probabilities(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    code, out, err = _run([*MINI, "--epochs", "1", "--loss", "bce", "--out", str(run)], capsys)
    assert code == 0, err
    accuracy = float(out.strip().splitlines()[-1].split()[2].rstrip("%"))
    assert accuracy > 50
    digits = str(Path(cr.data.datasets.MINI_DIR) / "t10k-images-idx3-ubyte.gz")
    code, out, _ = _run(["predict", str(run), digits, "--limit", "3"], capsys)
    assert code == 0 and "own sigmoid probability" in out
    shares = [float(part.split("(")[1].rstrip("%),")) for line in out.splitlines()[1:4]
              for part in line.split(": ", 1)[1].split(", ")]
    assert sum(shares[:3]) != pytest.approx(100.0, abs=0.05)  # not a softmax
    code, out, _ = _run(["eval", str(run)], capsys)
    assert code == 0 and f"accuracy {accuracy:.2f}%" in out


@pytest.mark.parametrize(("flags", "weight_std", "bias_std"), [
    (["--init", "normal"], 1.0, 1.0),  # network.py: weights and biases N(0, 1)
    (["--init", "normal", "--init-std", "0.1"], 0.1, 0.1),
    (["--init", "kaiming_normal", "--activation", "relu"], np.sqrt(2 / 784), 0.0),
    (["--init", "normal_fan_in"], np.sqrt(1 / 784), 1.0),  # network2.py's default
])
def test_init_scales(flags: list[str], weight_std: float, bias_std: float) -> None:
    given = dict(zip([f[2:].replace("-", "_") for f in flags[::2]], flags[1::2], strict=True))
    config = recipe.resolve({"hidden": "1000", **given})
    model = recipe.build_model(config, 784, 10)
    weight, bias = model[1].weight.detach().numpy(), model[1].bias.detach().numpy()
    assert weight.std() == pytest.approx(weight_std, rel=0.02)
    assert bias.std() == pytest.approx(bias_std, rel=0.1, abs=1e-12)
    assert abs(weight.mean()) < 0.01 * max(weight_std, 1e-3) * 10


def test_init_normal_fan_in_scales_each_layer_by_its_own_fan_in() -> None:
    """network2.py's default_weight_initializer: weights N(0, 1/n_in) with n_in the layer's
    inputs (784, then 400, then 100), biases N(0, 1), in every layer; no --init-std."""
    config = recipe.resolve({"hidden": "400,100", "init": "normal_fan_in"})
    assert config["init_std"] is None
    model = recipe.build_model(config, 784, 10)
    layers = [m for m in model.modules() if isinstance(m, cr.nn.Linear)]
    assert [layer.weight.shape[1] for layer in layers] == [784, 400, 100]
    for layer in layers:
        weight = layer.weight.detach().numpy()
        assert weight.std() == pytest.approx(1 / np.sqrt(weight.shape[1]), rel=0.05)
    biases = np.concatenate([layer.bias.detach().numpy() for layer in layers])
    assert biases.std() == pytest.approx(1.0, rel=0.1)  # 510 draws
    with pytest.raises(recipe.ConfigError, match="only --init normal takes"):
        recipe.resolve({"init": "normal_fan_in", "init_std": 0.5})


def test_no_bias_decay_decays_weights_only(tmp_path: Path) -> None:
    """One training step of the CLI's optimizer (captured and replayed by the Trainer) vs
    the update by hand: w -= lr * (grad + wd * w); b -= lr * grad."""
    lr, wd = 0.5, 0.1
    config = recipe.resolve({"dataset": "xor", "hidden": [4], "lr": lr, "weight_decay": wd,
                             "no_bias_decay": True})
    model = recipe.build_model(config, 2, 2)
    optimizer = recipe.build_optimizer(config, model)
    assert [g["weight_decay"] for g in optimizer.param_groups] == [wd, 0.0]
    X, y = cr.data.make_xor(16, seed=0)
    before = {name: p.detach().numpy().copy() for name, p in model.named_parameters()}
    loss = recipe.build_loss(config, 2)(model(X), y)
    loss.backward()
    grads = {name: p.grad.numpy().copy() for name, p in model.named_parameters()}
    optimizer.zero_grad()
    trainer = cr.train.Trainer(model, recipe.build_loss(config, 2), optimizer, log=None)
    trainer.train_step(X, y)
    for name, p in model.named_parameters():
        decay = 0.0 if name.endswith("bias") else wd
        expected = before[name] - lr * (grads[name] + decay * before[name])
        np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-6, atol=1e-7)


def test_no_bias_decay_exempts_batch_norm_parameters() -> None:
    config = recipe.resolve({"model": "cnn", "no_bias_decay": True, "weight_decay": 1e-4})
    decayed, exempt = recipe.decay_groups(recipe.build_model(config, 784, 10))
    assert sorted(p.ndim for p in decayed) == [2, 4, 4]  # conv, conv, linear weights
    assert len(exempt) == 2 + 2 * 2 + 1  # conv biases, BatchNorm weight and bias, linear bias


# ---- --dtype, --threads -------------------------------------------------------------------

def test_float64_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    code, out, err = _run([*MINI, "--epochs", "1", "--dtype", "float64", "--out", str(run)],
                          capsys)
    assert code == 0, err
    arrays, meta = read_checkpoint(run / "checkpoint.safetensors")
    assert meta["config"]["dtype"] == "float64"
    assert {a.dtype for k, a in arrays.items() if k.startswith("model/")} == {np.dtype(np.float64)}
    assert {a.dtype for k, a in arrays.items() if k.startswith("optim/")} <= {np.dtype(np.float64)}
    accuracy = out.strip().splitlines()[-1].split()[2]
    code, out, _ = _run(["eval", str(run)], capsys)
    assert code == 0 and f"accuracy {accuracy}" in out
    digits = str(Path(cr.data.datasets.MINI_DIR) / "t10k-images-idx3-ubyte.gz")
    assert _run(["predict", str(run), digits, "--limit", "1"], capsys)[0] == 0
    code, _, err = _run(["train", "--resume", str(run), "--epochs", "2"], capsys)
    assert code == 0, err
    assert {a.dtype for k, a in read_checkpoint(run / "checkpoint.safetensors")[0].items()
            if k.startswith("model/")} == {np.dtype(np.float64)}
    code, _, err = _run(["train", "--resume", str(run), "--epochs", "3", "--dtype", "float32"],
                        capsys)
    assert code == 2 and "--dtype float32 (the run has float64)" in err


def test_threads_flag_limits_blas_and_may_change_on_resume(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    code, out, err = _run(["train", "--dataset", "xor", "--epochs", "1", "--threads", "1",
                           "--out", str(run)], capsys)
    assert code == 0, err
    assert "threads: 1 " in out and "(set by --threads)" in out
    meta = _meta(run)
    assert meta["config"]["threads"] == 1 and meta["config"]["environment"]["blas_threads"] == 1
    code, out, err = _run(["train", "--resume", str(run), "--epochs", "2", "--threads", "2"],
                          capsys)
    assert code == 0, err
    assert _meta(run)["config"]["threads"] == 2
    code, out, _ = _run(["info", str(run)], capsys)
    assert "  threads: 2" in out and "blas_threads: " in out


# ---- config keys, bad values, help ----------------------------------------------------------

def test_config_file_sets_the_new_settings(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "run.toml"
    config.write_text('dataset = "xor"\nepochs = 1\nhidden = [4]\n[train]\nval-split = 0.2\n'
                      'loss = "bce"\ninit = "normal"\ninit_std = 0.5\nno_bias_decay = true\n'
                      'weight_decay = 1e-4\ndtype = "float64"\nthreads = 1\n')
    code, _, err = _run(["train", "--config", str(config), "--out", str(tmp_path / "r")],
                        capsys)
    assert code == 0, err
    saved = _meta(tmp_path / "r")["config"]
    assert (saved["val_split"], saved["loss"], saved["init_std"], saved["no_bias_decay"],
            saved["dtype"], saved["threads"]) == (0.2, "bce", 0.5, True, "float64", 1)


@pytest.mark.parametrize(("args", "message"), [
    (["--val-split", "abc"], "--val-split: expected a count of training images"),
    (["--val-split", "-5"], "--val-split: expected a count"),
    (["--val-split", "2.5"], "--val-split: 2.5 is neither a whole count nor a fraction"),
    (["--val-split", "10000"], "--val-split 10000: the training set has 10,000 images"),
    (["--val-split", "0.00001"], "holds out no image of the 10,000"),
    (["--loss", "bce2"], "--loss: 'bce2' is not one of cross_entropy, mse, bce"),
    (["--init-std", "0.5"], "--init-std 0.5: only --init normal takes a standard deviation"),
    (["--init", "normal", "--init-std", "0"], "--init-std: expected a standard deviation > 0"),
    (["--init", "normal", "--init-std", "x"], "--init-std: expected a finite number"),
    (["--dtype", "float16"], "--dtype: 'float16' is not one of float32, float64"),
    (["--threads", "0"], "--threads: 0 is out of range [1, 4096]"),
    (["--threads", "two"], "--threads: expected a whole number, got 'two'"),
])
def test_bad_values_exit_2_with_one_line(args: list[str], message: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run([*MINI, "--epochs", "1", *args], capsys)
    assert code == 2 and message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(("text", "message"), [
    ("val_split = true\n", "val_split: expected a count of training images"),
    ("no_bias_decay = 1\n", "no_bias_decay: expected true or false, got 1"),
    ("dtype = 64\n", "dtype: '64' is not one of float32, float64"),
    ("threads = 0\n", "threads: 0 is out of range"),
])
def test_bad_config_values_name_the_file_and_key(tmp_path: Path, text: str, message: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "run.toml"
    config.write_text(text)
    code, _, err = _run(["train", "--config", str(config)], capsys)
    assert code == 2 and f"--config {config}: {message}" in err, err


def test_help_documents_the_costs_scales_and_weight_decay(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for phrase in ("1/2 * sum over the classes of (a - y)^2, mean over the batch",
                   "-[y ln a + (1 - y) ln(1 - a)] summed over the classes",
                   "U(-1/sqrt(fan_in), 1/sqrt(fan_in))", "N(0, g^2 / fan_in)",
                   "N(0, S^2) for the weights AND the biases", "default 1.0",
                   "lambda 5.0 with n = 50,000 training images is --weight-decay 1e-4",
                   "--no-bias-decay", "--val-split 10000", "--dtype", "--threads",
                   "--device, --threads"):
        assert phrase in text, phrase
