"""The chainrule command: the main job, exit codes and messages, Ctrl-C, resume, predict,
run folders (never shared, never appended to by another run). Hostile input is in
test_cli_errors.py."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.data import MiniMNIST, write_idx
from chainrule.train import read_checkpoint

from clirun import run_cli

FAST = ["--dataset", "mini-mnist", "--epochs", "1"]
XOR = ["train", "--dataset", "xor", "--epochs", "1", "--hidden", "4"]


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_default_train_on_embedded_mini_mnist_reaches_85_percent(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHAINRULE_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    code, out, err = _run(["train", "--out", str(tmp_path / "run")], capsys)
    assert code == 0, err
    assert "notice: full MNIST not found" in err and "embedded mini-MNIST" in err
    assert out.startswith("Layer (type)") and "Total params: 13,002" in out
    last = out.strip().splitlines()[-1]
    assert last.startswith("test accuracy ") and "checkpoint" in last
    accuracy = float(last.split()[2].rstrip("%")) / 100
    assert accuracy >= 0.85, last
    assert (tmp_path / "run" / "metrics.jsonl").exists()
    code, out, _ = _run(["info", str(tmp_path / "run")], capsys)
    assert code == 0 and "dataset: mini-mnist" in out and "numpy:" in out
    code, out, _ = _run(["eval", str(tmp_path / "run")], capsys)
    assert code == 0 and f"accuracy {accuracy:.2%}" in out and "confusion matrix" in out
    lines = out.splitlines()
    table = lines[next(i for i, line in enumerate(lines) if "confusion matrix" in line) + 1:]
    assert [int(v) for v in table[0].split()] == list(range(10))  # predicted classes
    rows = [[int(v) for v in line.split()] for line in table[1:11]]
    assert [row[0] for row in rows] == list(range(10))  # true classes
    counts = np.array([row[1:] for row in rows])
    assert np.trace(counts) / counts.sum() == pytest.approx(accuracy, abs=5e-5)


def test_default_train_on_real_mnist_reaches_94_percent(
        mnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["train", "--out", str(tmp_path / "run")], capsys)
    assert code == 0, err
    assert "data: mnist, 60,000 training" in out and "notice" not in err
    accuracy = float(out.strip().splitlines()[-1].split()[2].rstrip("%")) / 100
    assert accuracy >= 0.94


@pytest.mark.parametrize(("args", "message"), [
    (["train", "--activation", "swish"], "--activation: 'swish' is not one of"),
    (["train", "--lr", "fast"], "--lr: expected a finite number, got 'fast'"),
    (["train", "--hidden", "16,x"], "--hidden: expected sizes like 16,16"),
    (["train", "--epochs", "-1"], "--epochs: -1 is out of range"),
    (["train", "--dataset", "cifar"], "--dataset: 'cifar' is not one of"),
    (["train", "--dataset", "mnist", "--data-dir", "/nonexistent"], "expected a folder"),
    (["train", "--config", "/nonexistent.toml"], "no such file"),
    (["eval", "/nonexistent"], "expected a run folder or a checkpoint file"),
    (["predict", "/nonexistent", "x.png"], "expected a run folder"),
])
def test_bad_input_exits_2_with_one_clear_line(args: list[str], message: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(args, capsys)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_missing_dataset_is_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHAINRULE_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    code, _, err = _run(["train", "--dataset", "fashion-mnist"], capsys)
    assert code == 2 and "fashion-mnist: expected the IDX files" in err and "--download" in err


def test_config_file_and_flag_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "run.toml"
    config.write_text('dataset = "xor"\nhidden = [8]\nactivation = "tanh"\nepochs = 2\n')
    code, out, _ = _run(["train", "--config", str(config), "--epochs", "1", "--out",
                         str(tmp_path / "r")], capsys)
    assert code == 0
    meta = read_checkpoint(tmp_path / "r" / "checkpoint.safetensors")[1]
    assert meta["config"]["hidden"] == [8] and meta["config"]["epochs"] == 1
    assert meta["config"]["activation"] == "tanh"
    config.write_text(f'dataset = "xor"\nepochs = 1\nout = "{tmp_path / "from_file"}"\n')
    assert _run(["train", "--config", str(config)], capsys)[0] == 0  # out in the file is used
    assert (tmp_path / "from_file" / "checkpoint.safetensors").exists()
    config.write_text("dataset = [unclosed")
    code, _, err = _run(["train", "--config", str(config)], capsys)
    assert code == 2 and "not valid TOML" in err
    config.write_text('colour = "blue"\n')
    code, _, err = _run(["train", "--config", str(config)], capsys)
    assert code == 2 and "unknown config keys: colour" in err


def test_wrong_architecture_and_corrupt_checkpoints_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert _run(["train", *FAST, "--out", str(run)], capsys)[0] == 0
    code, _, err = _run(["train", "--resume", str(run), "--hidden", "32,16"], capsys)
    assert code == 2 and "--hidden 32,16 (the run has 16,16)" in err
    code, _, err = _run(["train", *FAST, "--out", str(run)], capsys)
    assert code == 2 and "already holds a run" in err
    ckpt = run / "checkpoint.safetensors"
    ckpt.write_bytes(ckpt.read_bytes()[:-100])
    for args in (["eval", str(run)], ["info", str(run)], ["train", "--resume", str(run)]):
        code, _, err = _run(args, capsys)
        assert code == 2 and "truncated or corrupt" in err


def _weights(run: Path) -> dict[str, np.ndarray]:
    arrays, _ = read_checkpoint(run / "checkpoint.safetensors")
    return {k: v for k, v in arrays.items() if k.startswith("model/")}


def test_resume_is_bit_exact(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--dataset", "mini-mnist", "--dropout", "0.1", "--optimizer", "adam"]
    assert _run(["train", *args, "--epochs", "2", "--out", str(tmp_path / "a")], capsys)[0] == 0
    assert _run(["train", *args, "--epochs", "1", "--out", str(tmp_path / "b")], capsys)[0] == 0
    code, out, _ = _run(["train", "--resume", str(tmp_path / "b"), "--epochs", "2"], capsys)
    assert code == 0 and "resumed from" in out
    a, b = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_ctrl_c_saves_a_checkpoint_exits_130_and_resumes_exactly(tmp_path: Path) -> None:
    args = ["--dataset", "mini-mnist", "--hidden", "256,256", "--batch-size", "8",
            "--activation", "relu", "--optimizer", "momentum"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "chainrule.cli", "train", *args]
    proc = subprocess.Popen([*cmd, "--epochs", "50", "--out", str(tmp_path / "stopped")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    for line in proc.stderr:  # wait for the first epoch to finish, then press Ctrl-C
        if line.startswith("epoch 1/"):
            break
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted at epoch 2" in err and "checkpoint saved" in err
    meta = read_checkpoint(tmp_path / "stopped" / "checkpoint.safetensors")[1]
    assert meta["epoch"] == 1 and meta["loader"]["position"] > 0  # stopped mid-epoch 2
    resumed = subprocess.run([*cmd, "--resume", str(tmp_path / "stopped"), "--epochs", "2"],
                             capture_output=True, text=True, env=env, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    straight = subprocess.run([*cmd, "--epochs", "2", "--out", str(tmp_path / "straight")],
                              capture_output=True, text=True, env=env, timeout=300)
    assert straight.returncode == 0, straight.stderr
    a, b = _weights(tmp_path / "stopped"), _weights(tmp_path / "straight")
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_nan_stops_training_with_op_and_module(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["train", "--dataset", "mini-mnist", "--activation", "relu", "--lr",
                         "1e30", "--out", str(tmp_path / "nan")], capsys)
    assert code == 1
    # which non-finite value BLAS produces first (nan, inf or -inf) depends on the machine
    assert re.search(r"loss became (nan|-?inf) ", err), err
    assert re.search(r"Linear produced (nan|-?inf) ", err) and "in module '" in err, err
    assert "RuntimeWarning" not in err


def _png(path: Path, image: np.ndarray) -> None:
    h, w = image.shape
    raw = b"".join(b"\x00" + image[y].astype(np.uint8).tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (len(data).to_bytes(4, "big") + kind + data
                + zlib.crc32(kind + data).to_bytes(4, "big"))

    header = w.to_bytes(4, "big") + h.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_predict_png_pgm_and_idx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert _run(["train", "--dataset", "mini-mnist", "--out", str(run)], capsys)[0] == 0
    test = MiniMNIST(train=False)
    index = int(np.flatnonzero(test.targets == 7)[0])
    digit = test.images[index]
    _png(tmp_path / "seven.png", 255 - np.kron(digit, np.ones((2, 2), np.uint8)))  # dark on light
    (tmp_path / "seven.pgm").write_bytes(b"P5\n# a comment\n28 28\n255\n" + digit.tobytes())
    write_idx(str(tmp_path / "few.idx"), test.images[:12])
    code, out, err = _run(["predict", str(run), str(tmp_path / "seven.png"),
                           str(tmp_path / "seven.pgm"), str(tmp_path / "few.idx"),
                           "--limit", "3"], capsys)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].startswith(f"{tmp_path / 'seven.png'}: 7 (")
    assert lines[1].startswith(f"{tmp_path / 'seven.pgm'}: 7 (")
    assert lines[2].startswith(f"{tmp_path / 'few.idx'}[0]: ") and "9 more images" in out
    assert lines[0].count("%") == 3
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    code, _, err = _run(["predict", str(run), str(tmp_path / "bad.png")], capsys)
    assert code == 2 and "bad.png" in err


# ---- run folders ------------------------------------------------------------------------


def _metrics(folder: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def test_back_to_back_runs_never_share_a_folder(tmp_path: Path) -> None:
    for _ in range(6):  # several start in the same second: same name, so -2, -3, ...
        result = run_cli(XOR, cwd=tmp_path)
        assert result.code == 0, result.err
    folders = sorted((tmp_path / "runs").iterdir())
    assert len(folders) == 6 and all(f.name.startswith("xor-") for f in folders)
    for folder in folders:
        assert (folder / "checkpoint.safetensors").exists()
        assert [row["epoch"] for row in _metrics(folder)] == [1]
        assert not (folder / ".chainrule.lock").exists()


def test_concurrent_runs_get_distinct_folders_and_their_own_rows(tmp_path: Path) -> None:
    def run(seed: int) -> str:
        result = run_cli([*XOR, "--epochs", "3", "--seed", str(seed)], cwd=tmp_path)
        assert result.code == 0, result.err
        return result.out.strip().splitlines()[-1].split("checkpoint ")[-1]

    with ThreadPoolExecutor(2) as pool:
        checkpoints = list(pool.map(run, (1, 2)))
    assert len(set(checkpoints)) == 2
    for seed, checkpoint in zip((1, 2), checkpoints, strict=True):
        meta = read_checkpoint(tmp_path / checkpoint)[1]
        assert meta["config"]["seed"] == seed
        assert _metrics((tmp_path / checkpoint).parent) == meta["metrics"]  # its own 3 rows
        assert len(meta["metrics"]) == 3


def test_stale_metrics_of_a_run_without_checkpoint_are_started_over(tmp_path: Path) -> None:
    out = tmp_path / "died"  # a run killed before its first checkpoint left these
    out.mkdir()
    (out / ".chainrule.lock").write_text("12345\n")  # and its lock file: chainrule's files
    (out / "metrics.jsonl").write_text(json.dumps({"epoch": 7, "train_loss": 9.9}) + "\n")
    (out / "metrics.csv").write_text("epoch,train_loss\n7,9.9\n")
    result = run_cli([*XOR, "--out", str(out)])
    assert result.code == 0, result.err
    assert f"notice: {out} held metrics.jsonl, metrics.csv of a run that stopped" in result.err
    assert [row["epoch"] for row in _metrics(out)] == [1]
    assert (out / "metrics.csv").read_text().count("\n") == 2  # header and one row


def test_a_folder_in_use_is_refused_until_its_process_dies(tmp_path: Path) -> None:
    run, busy = tmp_path / "run", tmp_path / "busy"
    assert run_cli([*XOR, "--out", str(run)]).code == 0
    hold = ("import sys, time\nfrom chainrule.cli_run import claim\n"
            "claim(sys.argv[1], '', sys.argv[1] + '/checkpoint.safetensors')\n"
            "claim(sys.argv[2], '')\nprint('held', flush=True)\ntime.sleep(300)\n")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(run), str(busy)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        for args, folder in ((["train", "--resume", str(run), "--epochs", "2"], run),
                             ([*XOR, "--out", str(busy)], busy)):
            result = run_cli(args)
            assert result.code == 2
            assert (f"{folder}: another chainrule process (pid {holder.pid}) is writing to this "
                    "run folder") in result.one_line_error()
    finally:
        holder.kill()  # SIGKILL: the kernel drops its locks
        holder.wait()
    result = run_cli(["train", "--resume", str(run), "--epochs", "2"])
    assert result.code == 0, result.err
    assert [row["epoch"] for row in _metrics(run)] == [1, 2]


def test_resume_keeps_the_runs_settings(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert run_cli([*XOR, "--out", str(run)]).code == 0
    result = run_cli(["train", "--resume", str(run), "--optimizer", "adam"])
    assert result.code == 2
    assert "--optimizer adam (the run has sgd)" in result.one_line_error()
    result = run_cli(["train", "--resume", str(run), "--lr", "0.1", "--hidden", "8"])
    line = result.one_line_error()
    assert "--hidden 8 (the run has 4); --lr 0.1 (the run has 0.5)" in line
    assert "only --epochs, --data-dir, --download, --device, --threads may change" in line
    (tmp_path / "more.toml").write_text("lr = 0.25\n")
    result = run_cli(["train", "--resume", str(run), "--config", str(tmp_path / "more.toml")])
    assert "--lr 0.25 (the run has 0.5)" in result.one_line_error()
    # the same values are no change; --epochs may change
    result = run_cli(["train", "--resume", str(run), "--optimizer", "sgd", "--lr", "0.5",
                      "--hidden", "4", "--epochs", "2"])
    assert result.code == 0, result.err
    assert read_checkpoint(run / "checkpoint.safetensors")[1]["epoch"] == 2
    # a cosine schedule spans the run's epochs: a resumed run with more would go past it
    cosine = tmp_path / "cosine"
    assert run_cli([*XOR, "--schedule", "cosine", "--out", str(cosine)]).code == 0
    result = run_cli(["train", "--resume", str(cosine), "--epochs", "3"])
    assert "--epochs 3 (the run has 1, over which its cosine schedule is laid out)" in \
        result.one_line_error()


def test_resume_with_no_epochs_left_says_so_and_info_reads_a_best_checkpoint(
        tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert run_cli([*XOR, "--epochs", "2", "--out", str(run)]).code == 0
    result = run_cli(["train", "--resume", str(run)])  # the run's own --epochs: all done
    assert result.code == 0, result.err
    assert "notice: the run has already trained 2 of --epochs 2: nothing to train" in result.err
    assert "pass --epochs 3 or more" in result.err
    # best.safetensors keeps one metrics row (a table, not a list): shown as a row of numbers
    # when no metrics.jsonl lies beside it
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "best.safetensors").write_bytes((run / "best.safetensors").read_bytes())
    result = run_cli(["info", str(alone / "best.safetensors")])
    assert result.code == 0, result.err
    rows = result.out.split("metrics:\n")[1].split("environment:")[0].strip().splitlines()
    assert len(rows) == 2 and rows[1].split()[0] in ("1", "2") and "None" not in rows[1], rows
