"""The README's table of published results: each setup trained with ``chainrule train``.

Every row holds its source, the accuracy the source reports (with where it says so), and
the exact ``chainrule train`` arguments that express the setup. The script runs the rows one
after another (``--threads 1`` by default: on a busy machine one BLAS thread is often the
fastest), reads each run's own output (the per-epoch lines, ``best model (epoch N,
validation accuracy V%): test accuracy T%`` and the last line, ``test accuracy T% (last
model, epoch N) | ... | time Ss``) and prints a Markdown table of what it measured, with the
date and the load average the run saw.

Run:  python benchmarks/published_results.py                 # every row (15-25 min here)
      python benchmarks/published_results.py --rows network.py-30,tutorial-16-16
      python benchmarks/published_results.py --list          # the rows and their commands

Full MNIST must be where ``chainrule train`` finds it (``$CHAINRULE_DATA/mnist/`` or
``~/.cache/chainrule/mnist/``); a row that trained on another data set (the mini-MNIST
fallback) is reported as an error, never as a result. The rows are long (minutes each):
they belong here, not in the test suite.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

NIELSEN_1 = "Nielsen ch. 1"
NIELSEN_3 = "Nielsen ch. 3"
LECUN = "LeCun's MNIST table (Simard et al. 2003)"
NETWORK_PY = ("--activation", "sigmoid", "--loss", "mse", "--lr", "3.0", "--batch-size", "10",
              "--epochs", "30", "--init", "normal", "--val-split", "10000")
NETWORK2_PY = ("--activation", "sigmoid", "--loss", "bce", "--batch-size", "10", "--epochs",
               "30", "--weight-decay", "1e-4", "--no-bias-decay", "--val-split", "10000")
ELASTIC_EPOCHS = 40  # what fits in about 10 minutes here; Simard et al. trained far longer


@dataclass(frozen=True)
class Row:
    """One published setup: ``args`` are ``chainrule train``'s arguments for it; ``reported``
    is the source's own number (or "not confirmed"), ``note`` what the table cannot say."""

    key: str
    source: str
    setup: str
    reported: str
    args: tuple[str, ...]
    note: str = ""
    dataset: str = "mnist"


ROWS: tuple[Row, ...] = (
    Row("network.py-30", NIELSEN_1, "`network.py` 784-30-10",
        "95.42% test (peak, epoch 28 of 30; best of 3 runs)", ("--hidden", "30", *NETWORK_PY),
        note="quadratic cost, eta 3.0, batch 10, 30 epochs, weights and biases N(0, 1), "
        "50,000 training images."),
    Row("network.py-100", NIELSEN_1, "`network.py` 784-100-10", "96.59% test (best of 3 runs)",
        ("--hidden", "100", *NETWORK_PY),
        note="Nielsen's footnote: readers' runs of this setup vary a lot, some much worse."),
    Row("network2.py-30", NIELSEN_3 + ", Regularization",
        "`network2.py` 784-30-10, L2 5.0, eta 0.5, N(0, 1) init", "96.49% test",
        ("--hidden", "30", "--lr", "0.5", "--init", "normal", *NETWORK2_PY),
        note="cross-entropy, lambda 5.0 (--weight-decay 5.0 / 50,000, weights only), batch 10, "
        "30 epochs, net.large_weight_initializer(): weights and biases N(0, 1)."),
    Row("network2.py-100", NIELSEN_3 + ", Regularization",
        "`network2.py` 784-100-10, L2 5.0, eta 0.5, N(0, 1) init", "97.92% validation",
        ("--hidden", "100", "--lr", "0.5", "--init", "normal", *NETWORK2_PY)),
    Row("network2.py-30-fan-in", NIELSEN_3 + ", Weight initialization",
        "`network2.py` 784-30-10, L2 5.0, eta 0.1, default init",
        "\"somewhat over 96 percent\" validation",
        ("--hidden", "30", "--lr", "0.1", "--init", "normal_fan_in", *NETWORK2_PY),
        note="network2.py's default_weight_initializer: weights N(0, 1/n_in), biases N(0, 1) "
        "(--init normal_fan_in). The figure's data in Nielsen's repository "
        "(fig/weight_initialization_30.json) peaks at 96.53% validation."),
    Row("network2.py-100-fan-in", NIELSEN_3 + ", Weight initialization",
        "`network2.py` 784-100-10, L2 5.0, eta 0.1, default init",
        "not confirmed (a graph only)",
        ("--hidden", "100", "--lr", "0.1", "--init", "normal_fan_in", *NETWORK2_PY)),
    Row("lecun-800", LECUN, "784-800-10, cross-entropy", "1.6% test error (98.4%)",
        ("--hidden", "800", "--activation", "relu", "--optimizer", "momentum", "--epochs",
         "20"),
        note="the paper's architecture and cost on all 60,000 training images; the activation "
        "(ReLU), SGD with momentum 0.9, lr 0.01, batch 32 and 20 epochs are ours, not the "
        "paper's."),
    Row("lecun-800-elastic", LECUN, "784-800-10, cross-entropy, elastic distortions",
        "0.7% test error (99.3%)",
        ("--hidden", "800", "--activation", "relu", "--optimizer", "momentum", "--epochs",
         str(ELASTIC_EPOCHS), "--augment", "elastic"),
        note=f"{ELASTIC_EPOCHS} epochs, what fits in about 10 minutes here: far fewer than the "
        "paper trained, so this row does not reproduce 0.7%."),
    Row("tutorial-16-16", "3Blue1Brown, Deep learning ch. 2", "784-16-16-10 (the defaults)",
        "about 96% (per transcripts; not confirmed from the video)", (),
        note="`chainrule train`'s defaults: sigmoid, cross-entropy, SGD lr 0.5, batch 32, 5 "
        "epochs; the video trains Nielsen's code (quadratic cost)."),
)

EPOCH_LINE = re.compile(r"^epoch (\d+)/(\d+)\s.*?\s(val|test) loss \S+ acc ([\d.]+)%", re.M)
BEST_LINE = re.compile(r"^best model \(epoch (\d+), validation accuracy ([\d.]+)%\): test "
                       r"accuracy ([\d.]+)%", re.M)
LAST_LINE = re.compile(r"^test accuracy ([\d.]+)% \(last model, epoch (\d+)\) \| test loss "
                       r"\S+ \| time ([\d.]+)s", re.M)
DATA_LINE = re.compile(r"^data: (\S+?),", re.M)
LOAD_LINE = re.compile(r"^threads: .*load average ([\d.]+)", re.M)


@dataclass
class Result:
    """What one run printed: the evaluated set's peak (``val`` with a validation split, else
    ``test``), the test accuracy of the best and of the last model, the run's own time."""

    dataset: str
    eval_set: str
    epochs: int
    peak_accuracy: float
    peak_epoch: int
    test_best: float | None
    test_best_epoch: int | None
    test_last: float
    time_s: float
    load_at_start: float | None
    wall_s: float = 0.0
    load_after: float = 0.0
    date: str = ""


def parse_output(text: str) -> Result:
    """Read a ``chainrule train`` run's stdout and stderr (in any order); a ValueError names
    the line that is missing."""
    epochs = [(int(m[1]), m[3], float(m[4])) for m in EPOCH_LINE.finditer(text)]
    last = LAST_LINE.search(text)
    data = DATA_LINE.search(text)
    if not epochs or last is None or data is None:
        missing = "no per-epoch line" if not epochs else "no 'data: ...' line" if data is None \
            else "no last line ('test accuracy ... (last model, epoch N) | ... | time Ss')"
        raise ValueError(f"not a finished chainrule train run: {missing}")
    peak_epoch, eval_set, peak = max(epochs, key=lambda e: (e[2], -e[0]))  # earliest best
    best = BEST_LINE.search(text)
    load = LOAD_LINE.search(text)
    return Result(dataset=data[1], eval_set=eval_set, epochs=int(last[2]),
                  peak_accuracy=peak, peak_epoch=peak_epoch,
                  test_best=None if best is None else float(best[3]),
                  test_best_epoch=None if best is None else int(best[1]),
                  test_last=float(last[1]), time_s=float(last[3]),
                  load_at_start=None if load is None else float(load[1]))


def train_args(row: Row, threads: int | None, seed: int | None = None) -> list[str]:
    """The arguments of ``chainrule train`` as the table prints them."""
    return [*row.args, *([] if seed is None else ["--seed", str(seed)]),
            *([] if threads is None else ["--threads", str(threads)])]


def command_text(row: Row, threads: int | None, seed: int | None = None) -> str:
    return shlex.join(["chainrule", "train", *train_args(row, threads, seed)])


def run_row(row: Row, out: Path, threads: int | None = 1, seed: int | None = None) -> Result:
    """Train ``row`` into the folder ``out`` in a fresh process; its parsed result, with the
    wall time, the date and the load averages around it. A failed run raises RuntimeError
    with the run's last lines."""
    cmd = [sys.executable, "-m", "chainrule.cli", "train", *train_args(row, threads, seed),
           "--out", str(out)]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    text = done.stdout + "\n" + done.stderr
    if done.returncode != 0:
        tail = "\n".join(text.strip().splitlines()[-5:])
        raise RuntimeError(f"{row.key}: chainrule train exited {done.returncode}:\n{tail}")
    result = parse_output(text)
    if result.dataset != row.dataset:
        raise RuntimeError(f"{row.key}: trained on {result.dataset}, not {row.dataset} (is "
                           "MNIST in $CHAINRULE_DATA/mnist/?)")
    result.wall_s, result.load_after = wall, os.getloadavg()[0]
    result.date = time.strftime("%Y-%m-%d")
    return result


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}%"


def table(measured: list[tuple[Row, Result]], threads: int | None = 1,
          seed: int | None = None) -> str:
    """The Markdown table (and its notes) of the measured rows."""
    lines = ["| source: setup | reported | command | peak validation (epoch) | "
             "test: best / last model | time | date, load average |",
             "|---|---|---|---|---|---|---|"]
    for row, r in measured:
        if r.eval_set == "val":
            peak = f"{_pct(r.peak_accuracy)} ({r.peak_epoch} of {r.epochs})"
        else:
            peak = "— (no validation split)"
        load = "?" if r.load_at_start is None else f"{r.load_at_start:.1f}"
        lines.append(f"| {row.source}: {row.setup} | {row.reported} | "
                     f"`{command_text(row, threads, seed)}` | {peak} | {_pct(r.test_best)} / "
                     f"{_pct(r.test_last)} | {r.time_s:.1f} s | {r.date}, "
                     f"{load}-{r.load_after:.1f} |")
    notes = [textwrap.fill(f"- `{row.key}`: {row.note}", width=92, subsequent_indent="  ",
                           break_on_hyphens=False)
             for row, _ in measured if row.note]
    return "\n".join(lines + ([""] + notes if notes else []))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", help="comma list of row keys (default: all; see --list)")
    parser.add_argument("--list", action="store_true", help="print the rows and exit")
    parser.add_argument("--threads", type=int, default=1,
                        help="--threads of every run (default 1; 0: leave it out)")
    parser.add_argument("--seed", type=int, help="add --seed N to every run (default: "
                        "none, the CLI's seed 0)")
    parser.add_argument("--out", help="keep the run folders here (default: a temporary "
                        "folder, removed afterwards)")
    parser.add_argument("--json", help="also write the measured results to this file")
    parser.add_argument("--table", metavar="JSON", help="print the table of results saved "
                        "with --json (with the rows' current labels), training nothing")
    args = parser.parse_args(argv)
    threads = args.threads or None
    rows = list(ROWS)
    if args.rows:
        known = {row.key: row for row in ROWS}
        unknown = [k for k in args.rows.split(",") if k not in known]
        if unknown:
            parser.error(f"unknown row {', '.join(unknown)}; rows: {', '.join(known)}")
        rows = [known[k] for k in args.rows.split(",")]
    if args.table:
        saved = {entry.pop("key"): Result(**entry)
                 for entry in json.loads(Path(args.table).read_text())}
        print(table([(row, saved[row.key]) for row in rows if row.key in saved], threads,
                    args.seed))
        return 0
    if args.list:
        for row in rows:
            print(f"{row.key}: {row.source}; reported {row.reported}\n    "
                  f"{command_text(row, threads, args.seed)}")
        return 0
    measured: list[tuple[Row, Result]] = []
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(args.out or scratch)
        base.mkdir(parents=True, exist_ok=True)
        for row in rows:
            print(f"{row.key}: {command_text(row, threads, args.seed)}", file=sys.stderr,
                  flush=True)
            result = run_row(row, base / row.key, threads, args.seed)
            print(f"  peak {result.eval_set} {result.peak_accuracy:.2f}% (epoch "
                  f"{result.peak_epoch}), test best {_pct(result.test_best)}, last "
                  f"{result.test_last:.2f}%, {result.time_s:.1f} s", file=sys.stderr,
                  flush=True)
            measured.append((row, result))
            if args.json:
                Path(args.json).write_text(json.dumps(
                    [{"key": r.key, **dataclasses.asdict(m)} for r, m in measured], indent=1))
    print(table(measured, threads, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
