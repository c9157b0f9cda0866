"""The command line speaks the language of ``--lang`` (before or after the subcommand), else
``$CHAINRULE_LANG``, else the locale: every case of bad input prints one line, in Chinese
with ``zh``, with the numbers and paths of the English line and the same exit status; an
unknown language is one line listing the available ones, exit 2, for every command."""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from chainrule import bench
from chainrule.cli import build_parser, main
from chainrule.i18n import Messages, display_width, messages
from chainrule.train.divergence import Divergence, DivergenceWatch
from chainrule.train.progress import Progress, epoch_line, held_back_line, held_written_line

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")
CJK = re.compile(r"[\u4e00-\u9fff]")
LOCALE = ("CHAINRULE_LANG", "LC_ALL", "LC_MESSAGES", "LANG")
XOR = ["train", "--dataset", "xor", "--hidden", "4", "--epochs", "1"]
IDX = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
       "t10k-labels-idx1-ubyte")

# (id, argv, exit status, an English phrase the Chinese line must not keep); {tmp}: a
# folder with the files below, {xor}: a trained xor run, {digits}: a trained mini-MNIST run
CASES: list[tuple[str, list[str], int, str]] = [
    ("eval-missing-run", ["eval", "{tmp}/missing"], 2, "expected a run folder"),
    ("info-folder-without-run", ["info", "{tmp}/empty"], 2, "a folder without"),
    ("plot-missing-run", ["plot", "{tmp}/missing"], 2, "expected a run folder"),
    ("predict-not-an-image", ["predict", "{digits}", "{tmp}/notes.txt"], 2, "zzz"),
    ("predict-toy-run", ["predict", "{xor}", "{tmp}/notes.txt"], 2, "predict needs"),
    ("predict-limit-0", ["predict", "{digits}", "{tmp}/notes.txt", "--limit", "0"], 2,
     "expected a whole number"),
    ("predict-no-images", ["predict", "{digits}"], 2, "the following arguments"),
    ("eval-other-kind", ["eval", "{xor}", "--dataset", "mnist"], 2, "choose a data set"),
    ("info-corrupt-checkpoint", ["info", "{tmp}/bad.safetensors"], 2, "zzz"),
    ("train-bad-epochs", ["train", "--epochs", "abc"], 2, "zzz"),
    ("train-bad-batch", [*XOR, "--batch-size", "0"], 2, "zzz"),
    ("train-unknown-flag", ["train", "--epoch", "3", "--bogus"], 2, "unrecognized arguments"),
    ("train-missing-config", ["train", "--config", "{tmp}/none.toml"], 2, "no such file"),
    ("train-config-sets-resume", ["train", "--config", "{tmp}/resume.toml"], 2,
     "cannot be set in a config file"),
    ("train-unknown-config-key", ["train", "--config", "{tmp}/typo.toml"], 2,
     "unknown config keys"),
    ("train-data-dir-for-toy", [*XOR, "--data-dir", "{tmp}/empty"], 2, "reads no files"),
    ("train-empty-data-dir", ["train", "--data-dir", "{tmp}/empty", "--epochs", "1"], 2, "zzz"),
    ("train-incomplete-idx", ["train", "--data-dir", "{tmp}/part", "--epochs", "1"], 2,
     "zzz"),
    ("train-corrupt-idx", ["train", "--data-dir", "{tmp}/idx", "--epochs", "1"], 2, "zzz"),
    ("train-out-holds-a-run", [*XOR, "--out", "{xor}"], 2, "already holds a run"),
    ("train-out-is-a-file", [*XOR, "--out", "{tmp}/notes.txt/run"], 2, "expected a folder"),
    ("unknown-command", ["trian"], 2, "invalid choice"),
    ("no-command", [], 2, "the following arguments"),
    ("playground-bad-port", ["playground", "--port", "70000"], 2, "expected a port"),
    ("example-out-is-a-file", ["example", "cycle", "--out", "{tmp}/notes.txt"], 2,
     "expected a folder for the figures"),
    ("example-unknown", ["example", "nope"], 2, "invalid choice"),
    ("launch-no-command", ["launch", "-n", "2"], 2, "name the command"),
    ("launch-zero-ranks", ["launch", "-n", "0", "train"], 2, "expected a whole number"),
    ("plot-out-is-a-folder", ["plot", "{xor}", "{digits}", "--out", "{tmp}/empty"], 2,
     "expected a file name"),
]


@pytest.fixture(autouse=True)
def _no_language_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LOCALE:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The files the cases name, and two trained runs (an xor and a mini-MNIST one)."""
    tmp = tmp_path_factory.mktemp("lang")
    (tmp / "empty").mkdir()
    for folder, names in (("part", IDX[:1]), ("idx", IDX)):  # one file only; all, truncated
        (tmp / folder).mkdir()
        for name in names:
            (tmp / folder / name).write_bytes(b"\x00\x00\x08\x03\x00\x00\x00\x05garbage")
    (tmp / "notes.txt").write_text("not a picture\n")
    (tmp / "bad.safetensors").write_bytes(b"\xff" * 64)
    (tmp / "typo.toml").write_text("epochz = 3\n")
    (tmp / "resume.toml").write_text('resume = "runs/x"\n')
    runs = {"xor": [*XOR], "digits": ["train", "--dataset", "mini-mnist", "--hidden", "4",
                                      "--epochs", "1", "--batch-size", "256"]}
    for name, argv in runs.items():
        assert main([*argv, "--out", str(tmp / name)]) == 0
    return {"tmp": str(tmp), "xor": str(tmp / "xor"), "digits": str(tmp / "digits")}


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith("chainrule: "), err
    return lines[0]


@pytest.mark.parametrize(("argv", "code", "english"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_bad_input_is_one_line_in_chinese_with_the_english_numbers_and_paths(
        argv: list[str], code: int, english: str, places: dict[str, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    argv = [arg.format(**places) for arg in argv]
    en_code, en_out, en_err = _run(["--lang", "en", *argv], capsys)
    zh_code, zh_out, zh_err = _run(["--lang", "zh", *argv], capsys)
    assert en_code == zh_code == code
    en_line, zh_line = _one_line(en_err), _one_line(zh_err)
    assert not CJK.search(en_line) and CJK.search(zh_line), zh_line
    assert Counter(NUMBER.findall(zh_line)) == Counter(NUMBER.findall(en_line)), zh_line
    for path in [arg for arg in argv if arg.startswith(places["tmp"])]:
        assert (path in en_line) == (path in zh_line), (path, zh_line)
    assert english not in zh_line, zh_line  # said in Chinese, not passed through
    assert "cli." not in zh_line  # never a key name
    assert zh_out == en_out == ""
    # --lang after the subcommand says the same (where there is a subcommand to follow)
    if argv and not argv[0].startswith("-") and argv[0] != "trian":
        assert _run([*argv, "--lang", "zh"], capsys) == (zh_code, zh_out, zh_err)


COMMANDS = [["train"], ["eval", "run"], ["predict", "run", "a.png"], ["info", "run"],
            ["bench"], ["plot", "run"], ["example", "backprop"], ["playground"]]


@pytest.mark.parametrize("command", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_an_unknown_language_is_one_line_for_every_command(
        command: list[str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    for argv in (["--lang", "xx", *command], [*command, "--lang", "xx"],
                 [*command, "--lang=xx"]):
        code, out, err = _run(argv, capsys)
        assert (code, out) == (2, ""), argv
        assert "--lang 'xx': no such language; available: en (English), zh" in _one_line(err)
    monkeypatch.setenv("CHAINRULE_LANG", "klingon")
    code, out, err = _run(command, capsys)
    assert (code, out) == (2, "")
    assert "CHAINRULE_LANG 'klingon': no such language; available: en" in _one_line(err)


def test_a_small_training_run_speaks_chinese(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "run")
    code, text, err = _run(["--lang", "zh", *XOR, "--out", out], capsys)
    assert code == 0, err
    for words in ("数据：xor，1,000 个训练样本和 1,000 个测试样本", "学习率 0.5", "批大小 32",
                  "1 轮", "随机种子 0", "线程：", "测试集准确率", "测试集损失",
                  f"检查点 {out}/checkpoint.safetensors"):
        assert words in text, (words, text)
    assert "test accuracy" not in text and "checkpoint " not in text
    # resumed: the notices of a resumed run, and the test set evaluated again
    code, text, err = _run(["train", "--resume", out, "--lang", "zh"], capsys)
    assert code == 0, err
    assert f"已从 {out}/checkpoint.safetensors 恢复训练：第 1 轮" in text
    assert "提示：这次运行已经训练了 --epochs 1 中的 1 轮" in err
    assert "--epochs 2 或更多" in err


@pytest.mark.parametrize("command", [["eval"], ["info"]], ids=["eval", "info"])
def test_eval_and_info_of_a_run_say_the_english_numbers(
        command: list[str], places: dict[str, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    en_code, english, _ = _run([*command, places["xor"]], capsys)
    zh_code, chinese, _ = _run([*command, places["xor"], "--lang", "zh"], capsys)
    assert en_code == zh_code == 0
    assert Counter(NUMBER.findall(chinese)) == Counter(NUMBER.findall(english))
    assert CJK.search(chinese) and not CJK.search(english)
    first = chinese.splitlines()[0]
    assert first.startswith("xor 测试集：准确率" if command == ["eval"] else "检查点：")


@pytest.mark.parametrize(("environ", "chinese"), [
    ({"CHAINRULE_LANG": "zh"}, True),
    ({"LANG": "zh_CN.UTF-8"}, True),
    ({"LC_MESSAGES": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}, True),
    ({"LC_ALL": "zh_CN.UTF-8"}, True),
    ({"CHAINRULE_LANG": "en", "LANG": "zh_CN.UTF-8"}, False),  # the environment beats the locale
    ({"LANG": "en_US.UTF-8"}, False),
])
def test_the_language_comes_from_the_environment_or_the_locale(
        environ: dict[str, str], chinese: bool, tmp_path: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    code, _, err = _run(["eval", str(tmp_path / "missing")], capsys)
    assert code == 2
    assert bool(CJK.search(_one_line(err))) == chinese, err
    if chinese:  # the flag beats the environment and the locale, before or after the command
        for argv in (["--lang", "en", "eval", str(tmp_path)], ["eval", str(tmp_path), "--lang",
                                                               "en"]):
            code, _, err = _run(argv, capsys)
            assert code == 2 and not CJK.search(_one_line(err)), err


def test_python_m_chainrule_speaks_chinese_without_a_traceback(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing")
    result = subprocess.run([sys.executable, "-m", "chainrule", "--lang", "zh", "info",
                             missing], capture_output=True, text=True, timeout=120,
                            env={"PATH": "", "PYTHONIOENCODING": "utf-8"})
    assert result.returncode == 2 and result.stdout == ""
    line = _one_line(result.stderr)
    assert line.startswith("chainrule: 错误：") and missing in line


def test_help_in_chinese_keeps_the_english_numbers_and_english_help_is_unchanged(
        capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--help"], ["eval", "--help"], ["train", "--help"]):
        texts = {}
        for lang in ("en", "zh"):
            with pytest.raises(SystemExit) as stop:
                main([*argv, "--lang", lang])
            assert stop.value.code == 0
            texts[lang] = capsys.readouterr().out
        english, chinese = texts["en"], texts["zh"]
        assert chinese.startswith("用法：chainrule") and "选项：" in chinese
        assert "usage:" not in chinese and "options:" not in chinese
        assert Counter(NUMBER.findall(chinese)) == Counter(NUMBER.findall(english))
        if argv == ["--help"]:  # the command list and the examples
            assert "命令：" in chinese and "  train        训练一个网络" in chinese
            assert "教程中的 784-16-16-10 sigmoid 网络" in chinese
        elif argv[0] == "eval":  # eval's options
            assert "--dataset DATASET  在另一个同样形状的数据集上评估" in chinese
            assert "evaluate on another data set" in english
        else:  # train's flags and epilog
            assert "训练的轮数（默认 5）" in chinese and "number of epochs (default 5)" in english
            assert "恢复的运行保留训练时的每一项设置" in chinese
    english_parsers = (build_parser(), build_parser(messages("en")))
    assert english_parsers[0].format_help() == english_parsers[1].format_help()
    for name in ("train", "eval", "playground"):
        helps = [_subcommand(parser, name).format_help() for parser in english_parsers]
        assert helps[0] == helps[1], name


def _subcommand(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def test_plot_in_chinese_says_what_it_wrote(tmp_path: Path, places: dict[str, str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "xor"
    assert main([*XOR, "--out", str(run)]) == 0
    capsys.readouterr()
    code, out, _ = _run(["plot", str(run), "--lang", "zh"], capsys)
    assert code == 0
    assert f"已写入 {run}/curves.png" in out.splitlines() and "wrote" not in out
    assert (run / "curves.png").read_bytes().startswith(b"\x89PNG")
    code, out, _ = _run(["--lang", "zh", "plot", str(run), places["xor"], "--out",
                         str(tmp_path / "both.png")], capsys)
    assert code == 0 and (tmp_path / "both.png").exists()
    assert out == f"已写入 {tmp_path / 'both.png'}（2 次运行：{run}, {places['xor']}）\n"


def test_the_mini_mnist_notice_is_the_librarys_in_english_and_chinese_with_zh(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from chainrule.train import recipe, rundata

    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path / "no-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "no-cache"))
    monkeypatch.chdir(tmp_path)
    library = rundata.choose_dataset(recipe.resolve({}))[1]
    assert library is not None and library.startswith("notice: full MNIST not found")
    argv = ["train", "--epochs", "0", "--hidden", "2"]
    code, _, english = _run(argv, capsys)
    assert code == 0 and english.splitlines()[0] == library
    code, _, chinese = _run([*argv, "--lang", "zh"], capsys)
    first = chinese.splitlines()[0]
    assert code == 0 and first.startswith("提示：没有找到完整的 MNIST")
    assert Counter(NUMBER.findall(first)) == Counter(NUMBER.findall(library))
    assert str(tmp_path / "no-data") in first


# chainrule train's own lines: (flags, English words said in Chinese instead); the summary
# and the epoch lines (but their speed and time) have the English numbers
TRAIN_WORDS = [
    ([], [("Layer (type)              Output shape         Params",
           "层（类型）                输出形状               参数"),
          ("Total params: 22", "参数总数：22"), ("Trainable params: 22", "可训练参数：22"),
          ("epoch 2/2  train loss ", "第 2/2 轮  训练损失 "), ("test loss", "测试集损失"),
          ("samples/s", "样本/秒")]),
    (["--val-split", "200"], [("epoch 1/2  train loss ", "第 1/2 轮  训练损失 "),
                              ("val loss", "验证集损失"), ("lr 0.5", "学习率 0.5")]),
]


def _run_numbers(out: str, err: str) -> Counter[str]:
    """The numbers of the summary (stdout up to its totals) and of the epoch lines but
    their last two columns (speed and time, which differ between runs)."""
    table = out.split("\n\n")[0].splitlines()[:8]
    epochs = ["  ".join(line.split("  ")[:-2]) for line in err.splitlines()
              if line.startswith(("epoch ", "第 "))]
    return Counter(NUMBER.findall("\n".join(table + epochs)))


@pytest.mark.parametrize(("flags", "words"), TRAIN_WORDS, ids=["test-set", "val-split"])
def test_training_lines_and_the_summary_in_chinese_have_the_english_numbers(
        flags: list[str], words: list[tuple[str, str]], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    argv = [*XOR[:-1], "2", *flags]
    runs = {lang: _run(["--lang", lang, *argv, "--out", str(tmp_path / lang)], capsys)
            for lang in ("en", "zh")}
    (en_code, en_out, en_err), (zh_code, zh_out, zh_err) = runs["en"], runs["zh"]
    assert en_code == zh_code == 0
    assert _run_numbers(zh_out, zh_err) == _run_numbers(en_out, en_err)
    assert len([line for line in zh_err.splitlines() if line.startswith("第 ")]) == 2
    for english, chinese in words:
        assert english in en_out + en_err and english not in zh_out + zh_err, english
        assert chinese in zh_out + zh_err, (chinese, zh_out, zh_err)
    header = zh_out.splitlines()[0]  # aligned in terminal columns: a character is two
    assert display_width(header) == len(en_out.splitlines()[0]) == 53
    assert display_width(header[:header.index("输出形状")]) == 26


def _bar(say: Messages | None) -> str:
    stream = io.StringIO()
    progress = Progress(io.StringIO(), bar=True, stream=stream, say=say)
    progress.start(1, 3, 4)
    time.sleep(0.25)  # past the bar's 0.2 s between redraws: the update is drawn
    progress.update(0.5, 0.75, 1234.5)
    progress.clear()
    return stream.getvalue()


def test_the_live_bar_speaks_chinese_and_english_is_unchanged() -> None:
    english, chinese = _bar(None), _bar(messages("zh"))
    assert "epoch 1/3: " in english and "acc=75.00%, loss=0.5000, sample" in english
    assert NUMBER.sub("#", _bar(messages("en"))) == NUMBER.sub("#", english)  # but its speed
    assert "第 1/3 轮: " in chinese and "准确率=75.00%, 损失=0.5000" in chinese  # 80 columns
    assert "1/4 [" in chinese and "批/s" in chinese and not CJK.search(english)


def _watch() -> DivergenceWatch:
    watch = DivergenceWatch(Divergence())
    for loss in (1.0, 50.0, 60.0, 0.5):
        watch.seen(loss)
    return watch


BENCH_ROW = {"seconds": 2.0, "accuracy": 0.9, "steps": 100}
BENCH = {"chainrule": BENCH_ROW, "torch": dict(BENCH_ROW, seconds=4.0), "gemm": dict(
    BENCH_ROW, seconds=0.5), "numpy": dict(BENCH_ROW, seconds=1.0, accuracy=0.8975)}
# what library functions print, given a catalogue (None: English), and the Chinese words
LINES: list[tuple[str, Callable[[Messages | None], str], tuple[str, ...]]] = [
    ("epoch-line", lambda say: epoch_line({"epoch": 2, "train_loss": 0.5, "train_accuracy": 0.75,
                                           "val_loss": 0.25, "val_accuracy": 0.875, "lr": 0.1,
                                           "samples_per_second": 1234.5, "seconds": 2.0}, 3, say),
     ("第 2/3 轮", "训练损失 0.5000 准确率 75.00%", "验证集损失", "学习率 0.1", "1,234 样本/秒")),
    ("held-back", lambda say: held_back_line(3, 2, _watch(), say),
     ("第 3 轮：暂不写入检查点", "保留第 2 轮", "最近 3 个批次的损失中有 2 个高于 10")),
    ("held-none", lambda say: held_back_line(1, None, _watch(), say), ("还没有写入任何检查点",)),
    ("held-written", lambda say: held_written_line(4, say), ("第 4 轮",)),
    ("bench-table", lambda say: "\n".join(bench.table("a", BENCH, say=say)),
     ("配置", "框架", "准确率", "每步开销 us", "（仅矩阵乘法）", "相差不超过 0.25%")),
]  # launch's lines: tests/test_distributed_launch.py


@pytest.mark.parametrize(("make", "words"), [line[1:] for line in LINES],
                         ids=[line[0] for line in LINES])
def test_library_lines_in_chinese_have_the_english_numbers(
        make: Callable[[Messages | None], str], words: tuple[str, ...]) -> None:
    english, chinese = make(None), make(messages("zh"))
    assert make(messages("en")) == english and not CJK.search(english)
    assert Counter(NUMBER.findall(chinese)) == Counter(NUMBER.findall(english)), chinese
    for word in words:
        assert word in chinese, (word, chinese)
    rows = chinese.splitlines()  # a table keeps its columns: each row as wide as the header
    if len(rows) > 2:
        assert {display_width(row) for row in rows[:-1]} == {len(english.splitlines()[0])}


def test_bench_in_chinese(capsys: pytest.CaptureFixture[str],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    # chainrule --lang zh bench, its measurements replaced (the real ones take 10 s or more)
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    monkeypatch.setattr(bench, "load_mnist", lambda: (np.zeros((1234, 784)),))
    measured = {k: v for k, v in BENCH.items() if k != "torch"}
    monkeypatch.setattr(bench, "measure", lambda frameworks, config, repeats: measured)
    english, chinese = _run(["bench"], capsys), _run(["bench", "--lang", "zh"], capsys)
    assert english[0] == chinese[0] == 0 and english[1].startswith("PyTorch is not installed")
    assert Counter(NUMBER.findall(chinese[1])) == Counter(NUMBER.findall(english[1]))
    lines = chinese[1].splitlines()
    assert lines[0] == "没有安装 PyTorch（pip install torch）：省略它的行和 /torch 列"
    assert lines[1].startswith("预热一轮之后计时一轮（1,234 张图像），取 1 个新进程的中位数")
    assert lines[2].startswith("配置    框架") and not CJK.search(lines[3])
