"""``chainrule launch``: mpiexec's report of a dead process turned into the rank's name, and
bad launches refused in one line (the real killed-rank run is in test_distributed_cli.py)."""

from __future__ import annotations

import re
import sys
from collections import Counter

import pytest

from chainrule.cli import main
from chainrule.cli_launch import resume_hint
from chainrule.distributed.launch import Obituary, command, parse_ranks
from chainrule.i18n import messages


def _numbers(text: str) -> Counter[str]:
    return Counter(re.findall(r"\d+", text))


FIRST_LINE = ("distributed: 4 ranks over MPI (rank 0 pid 101 on a, rank 1 pid 102 on a, "
              "rank 2 pid 101 on b, rank 3 pid 205 on b); each trains on 1/4 of every batch")
HYDRA = """
===================================================================================
=   BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES
=   PID {pid} RUNNING AT {host}
=   EXIT CODE: {code}
=   CLEANING UP REMAINING PROCESSES
=   YOU CAN IGNORE THE BELOW CLEANUP MESSAGES
===================================================================================
"""


def test_the_first_line_maps_every_pid_and_host_to_its_rank() -> None:
    assert parse_ranks(FIRST_LINE) == {(101, "a"): 0, (102, "a"): 1, (101, "b"): 2,
                                       (205, "b"): 3}
    # the form without hosts (older runs) and lines that are not the first line
    assert parse_ranks("distributed: 2 ranks over MPI (rank 0 pid 7, rank 1 pid 9); ...") == {
        (7, None): 0, (9, None): 1}
    assert parse_ranks("epoch 1/3 rank 1 pid 9 on a") == {}


@pytest.mark.parametrize("pid, host, code, expected", [
    (102, "a", 9, "rank 1 (pid 102 on a) was killed by signal 9 (SIGKILL)"),
    (101, "b", 9, "rank 2 (pid 101 on b) was killed by signal 9 (SIGKILL)"),  # same pid as 0
    (205, "b", 11, "rank 3 (pid 205 on b) was killed by signal 11 (SIGSEGV)"),
    (102, "a", 1, "rank 1 (pid 102 on a) exited with code 1"),
    (205, "node-b.cluster", 9, "rank 3 (pid 205 on node-b.cluster) was killed by signal 9"),
    (333, "a", 9, "the process with pid 333 on a (its rank is unknown: the run had not "
                  "printed its ranks yet) was killed by signal 9 (SIGKILL)"),
])
def test_mpiexecs_report_names_the_rank(pid: int, host: str, code: int, expected: str) -> None:
    report = Obituary()
    for line in HYDRA.format(pid=pid, host=host, code=code).splitlines():
        report.feed(line)
    message = report.message(parse_ranks(FIRST_LINE))
    assert message is not None and message.startswith(expected)
    assert message.endswith("; mpiexec ended the other ranks")


@pytest.mark.parametrize("pid, host, code, expected", [
    (102, "a", 9, "1 号进程（a 上的 pid 102）被信号 9（SIGKILL）杀死；mpiexec 结束了其他进程"),
    (102, "a", 1, "1 号进程（a 上的 pid 102）以退出码 1 退出；mpiexec 结束了其他进程"),
    (333, "a", 9, "a 上 pid 为 333 的进程（编号未知：这次运行还没有打印各进程的编号）被信号 9"
                  "（SIGKILL）杀死；mpiexec 结束了其他进程"),
])
def test_the_rank_is_named_in_chinese_with_the_english_numbers(pid: int, host: str, code: int,
                                                               expected: str) -> None:
    """``chainrule --lang zh launch``: the same line in Chinese, and the English unchanged
    by an explicit English catalogue."""
    report = Obituary()
    for line in HYDRA.format(pid=pid, host=host, code=code).splitlines():
        report.feed(line)
    ranks = parse_ranks(FIRST_LINE)
    english, chinese = report.message(ranks), report.message(ranks, messages("zh"))
    assert chinese == expected and english == report.message(ranks, messages("en"))
    assert english is not None and _numbers(chinese) == _numbers(english)
    hints = [resume_hint(["train", "--out", "runs/b2"], messages(lang)) for lang in ("en", "zh")]
    assert hints == [resume_hint(["train", "--out", "runs/b2"]),
                     "最后一个检查点完好无损：用 --resume runs/b2 继续训练"]


def test_no_report_no_message() -> None:
    report = Obituary()
    report.feed("Abort(2) on node 0 (rank 0 in comm 0): application called MPI_Abort")
    assert report.message(parse_ranks(FIRST_LINE)) is None  # MPICH named the rank itself


def test_the_command_runs_chainrule_under_python_m_mpi4py() -> None:
    line = command("/x/mpiexec", 4, ["train", "--epochs", "2"], hostfile="hosts", per_node=2)
    assert line == ["/x/mpiexec", "-n", "4", "-f", "hosts", "-ppn", "2", sys.executable, "-m",
                    "mpi4py", "-m", "chainrule", "train", "--epochs", "2"]


@pytest.mark.parametrize("job, where", [
    (["train", "--out", "runs/a"], "runs/a"),
    (["train", "--out=runs/b", "--epochs", "3"], "runs/b"),
    (["train"], "RUN (the run's folder)"),
])
def test_the_resume_hint_names_the_run_folder(job: list[str], where: str) -> None:
    assert resume_hint(job).endswith(f"--resume {where}")


@pytest.mark.parametrize("argv, words", [
    (["launch", "-n", "2"], "launch: name the command every rank runs"),
    (["launch", "-n", "0", "train"], "'0': expected a whole number of at least 1"),
    (["launch", "-n", "2", "--mpiexec", "/no/such/mpiexec", "train"],
     "launch: cannot run /no/such/mpiexec: no such file"),
])
def test_bad_launches_are_one_line_and_exit_2(capsys, argv: list[str], words: str) -> None:
    pytest.importorskip("mpi4py")
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = int(exc.code or 0)
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err, err


def test_without_mpi4py_the_launcher_says_what_to_install(capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py raises ImportError
    assert main(["launch", "-n", "2", "train"]) == 2
    assert "pip install 'chainrule[mpi]'" in capsys.readouterr().err
