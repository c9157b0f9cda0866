"""Per-epoch lines and the live bar: ``chainrule train`` under a pseudo-terminal of several
widths (0 columns included), and off a terminal."""

from __future__ import annotations

import io
import os
import re
import select
import signal
import struct
import sys
import time
from pathlib import Path

import pytest

from chainrule.train.progress import Progress, epoch_line, evaluated_sets, terminal_columns

from clirun import run_cli

pty = pytest.importorskip("pty")
fcntl = pytest.importorskip("fcntl")
termios = pytest.importorskip("termios")

EPOCHS = 3
TRAIN = ["train", "--dataset", "xor", "--hidden", "4", "--epochs", str(EPOCHS)]
# an epoch's permanent line: train, then one more evaluated set (val, test, ...), then lr
LINE = re.compile(r"^epoch (\d+)/(\d+)  train loss \d+\.\d{4} acc [\d.]+%  (?!train)\w+ loss "
                  r"\d+\.\d{4} acc [\d.]+%  lr \S+  [\d,]+ samples/s  [\d.]+s$")


def set_columns(fd: int, columns: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))


def run_on_terminal(args: list[str], columns: int, tmp: Path, timeout: float = 120) -> str:
    """Run ``chainrule ARGS`` with stdin, stdout and stderr on a pseudo-terminal ``columns``
    wide (set in the child before it starts, so it cannot read the size too early); what
    the terminal received."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["PYTHONUNBUFFERED"] = "1"
    pid, fd = pty.fork()
    if pid == 0:  # the child: its stdio is the terminal
        try:
            set_columns(1, columns)
            os.chdir(tmp)
            os.execve(sys.executable, [sys.executable, "-m", "chainrule.cli", *args], env)
        finally:
            os._exit(127)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1.0)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        else:
            os.kill(pid, signal.SIGKILL)
            raise AssertionError(f"chainrule {' '.join(args)} ran over {timeout} s")
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    output = b"".join(chunks).decode("utf-8", "replace")
    assert os.waitstatus_to_exitcode(status) == 0, output
    return output


def screen(raw: str) -> list[str]:
    """The lines a terminal shows after ``raw``: a carriage return moves back to column 0
    and later characters overwrite earlier ones (the bar's redraws)."""
    lines: list[str] = []
    line: list[str] = []
    column = 0
    for ch in raw:
        if ch == "\n":
            lines.append("".join(line).rstrip())
            line, column = [], 0
        elif ch == "\r":
            column = 0
        else:
            if column < len(line):
                line[column] = ch
            else:
                line.append(ch)
            column += 1
    if line:
        lines.append("".join(line).rstrip())
    return lines


def epoch_lines(lines: list[str]) -> list[int]:
    return [int(m.group(1)) for m in map(LINE.match, lines) if m and m.group(2) == str(EPOCHS)]


def test_screen_keeps_what_was_written_last() -> None:
    assert screen("epoch 1: 10%\r              \repoch 1/3  done\r\nnext\n") == \
        ["epoch 1/3  done", "next"]


@pytest.mark.parametrize("columns", [80, 0, 20])
def test_every_epoch_line_stays_above_the_bar(tmp_path: Path, columns: int) -> None:
    raw = run_on_terminal([*TRAIN, "--out", str(tmp_path / "run")], columns, tmp_path)
    assert "\x1b" not in raw  # no cursor movement: one bar, redrawn with \r only
    shown = screen(raw)
    assert epoch_lines(shown) == list(range(1, EPOCHS + 1)), raw
    bars = [part for part in re.split(r"[\r\n]", raw) if re.match(r"epoch \d+/\d+:", part)]
    assert len(bars) >= EPOCHS, raw  # a live bar was drawn in every epoch
    width = columns or 80  # a terminal of 0 columns is taken as 80 wide
    assert max(len(bar) for bar in bars) < width, bars  # a bar never wraps
    assert not any(re.match(r"epoch \d+/\d+:", line) for line in shown), shown  # all erased
    assert any(line.startswith("test accuracy") for line in shown)


def test_off_a_terminal_only_the_lines(tmp_path: Path) -> None:
    result = run_cli([*TRAIN, "--out", str(tmp_path / "run")])
    assert result.code == 0, result.err
    assert "\r" not in result.err and "\x1b" not in result.err
    lines = result.err.splitlines()
    assert epoch_lines(lines) == list(range(1, EPOCHS + 1)), result.err


def test_terminal_columns_of_a_zero_column_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    leader, follower = os.openpty()
    try:
        stream = os.fdopen(follower, "w", closefd=False)
        set_columns(follower, 0)
        monkeypatch.delenv("COLUMNS", raising=False)
        assert terminal_columns(stream) == 80
        monkeypatch.setenv("COLUMNS", "132")
        assert terminal_columns(stream) == 132
        set_columns(follower, 33)
        assert terminal_columns(stream) == 33
        assert terminal_columns(io.StringIO()) is None
    finally:
        os.close(leader)
        os.close(follower)


def test_epoch_line_reads_any_evaluated_set() -> None:
    row = {"epoch": 2, "step": 10, "train_loss": 1.0, "train_accuracy": 0.5,
           "test_loss": 0.75, "test_accuracy": 0.625, "lr": 0.01,
           "samples_per_second": 5000.0, "seconds": 1.25}
    assert evaluated_sets(row) == ["train", "test"]
    assert epoch_line(row, 4) == ("epoch 2/4  train loss 1.0000 acc 50.00%  test loss 0.7500 "
                                  "acc 62.50%  lr 0.01  5,000 samples/s  1.2s")
    assert epoch_line({"epoch": 1, "train_loss": 0.5}, 1) == "epoch 1/1  train loss 0.5000"


def test_bar_off_a_terminal_is_erased_before_each_line() -> None:
    bar, log = io.StringIO(), io.StringIO()
    progress = Progress(log, bar=True, stream=bar)
    progress.start(1, 2, 4)
    assert progress.active
    for _ in range(4):
        progress.update(0.5, 0.75, 1000.0)
    progress.epoch_end({"epoch": 1, "train_loss": 0.5, "train_accuracy": 0.75}, 2)
    assert not progress.active
    assert "epoch 1/2:" in bar.getvalue()
    assert screen(bar.getvalue()) == [""]  # nothing of the bar is left on its line
    assert log.getvalue() == "epoch 1/2  train loss 0.5000 acc 75.00%\n"
