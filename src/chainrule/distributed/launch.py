"""``chainrule launch -n 4 train ...``: run a command on several ranks through ``mpiexec``,
and when a rank dies say which rank it was.

``mpiexec`` (MPICH's Hydra, Open MPI's mpirun) reports a rank that was killed or crashed by
its process id and host only::

    =   BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES
    =   PID 19286 RUNNING AT node2
    =   EXIT CODE: 9

and ends every other rank at once (with SIGKILL: no rank lives long enough to say more).
``chainrule train`` prints every rank's pid and host on its first line under MPI
(``rank 1 pid 19286 on node2``); the launcher runs ``mpiexec -n N python -m mpi4py -m
chainrule ...``, passes every line through unchanged, remembers that map, and turns the
report into one line naming the rank:

>>> ranks = parse_ranks("distributed: 2 ranks over MPI (rank 0 pid 7 on a, rank 1 pid 9 on b)")
>>> ranks
{(7, 'a'): 0, (9, 'b'): 1}
>>> report = Obituary()
>>> for line in ("=   PID 9 RUNNING AT b", "=   EXIT CODE: 9"):
...     report.feed(line)
>>> report.message(ranks)
'rank 1 (pid 9 on b) was killed by signal 9 (SIGKILL); mpiexec ended the other ranks'

The line is English unless a catalogue is passed (``chainrule --lang zh launch`` passes
Chinese):

>>> from chainrule.i18n import messages
>>> report.message(ranks, say=messages("zh"))
'1 号进程（b 上的 pid 9）被信号 9（SIGKILL）杀死；mpiexec 结束了其他进程'
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from chainrule.i18n import Messages

RANK_ENTRY = re.compile(r"rank (\d+) pid (\d+)(?: on (\S+?))?(?=[,)]|$)")
PID_LINE = re.compile(r"PID (\d+) RUNNING AT (\S+)")
EXIT_LINE = re.compile(r"EXIT CODE: (\d+)")
SIGNAL_LINE = re.compile(r"KILLED BY SIGNAL: (\d+)")


def find_mpiexec() -> str | None:
    """The ``mpiexec`` beside this Python (the ``mpich`` wheel's), else the one on PATH."""
    local = Path(sys.executable).parent / "mpiexec"
    return str(local) if local.exists() else shutil.which("mpiexec")


def parse_ranks(line: str) -> dict[tuple[int, str | None], int]:
    """``{(pid, host): rank}`` from the first line ``chainrule train`` prints under MPI
    (empty when the line is not that one; host None for lines without hosts)."""
    if not line.startswith("distributed:"):
        return {}
    return {(int(pid), host or None): int(rank)
            for rank, pid, host in RANK_ENTRY.findall(line)}


def signal_name(number: int) -> str:
    """``9`` -> ``SIGKILL`` (the number itself when it names no signal here)."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


@dataclass
class Obituary:
    """What ``mpiexec`` said about the process that ended the job (fed line by line)."""

    pid: int | None = None
    host: str | None = None
    exit_code: int | None = None
    killed_by: int | None = None
    aborted: list[str] = field(default_factory=list)

    def feed(self, line: str) -> None:
        found = PID_LINE.search(line)
        if found and self.pid is None:
            self.pid, self.host = int(found.group(1)), found.group(2)
            return
        found = EXIT_LINE.search(line)
        if found and self.pid is not None and self.exit_code is None:
            self.exit_code = int(found.group(1))
            return
        found = SIGNAL_LINE.search(line)
        if found and self.pid is not None:
            self.killed_by = int(found.group(1))

    def message(self, ranks: dict[tuple[int, str | None], int],
                say: Messages | None = None) -> str | None:
        """One line naming the rank that ended the job, or None when mpiexec named none;
        in the words of ``say`` (None: English)."""
        if self.pid is None:
            return None
        say = say or Messages("en")
        rank = _rank_of(ranks, self.pid, self.host)
        who = (say("launch.rank", rank=rank, pid=self.pid, host=self.host) if rank is not None
               else say("launch.unknown_rank", pid=self.pid, host=self.host))
        number = self.killed_by if self.killed_by is not None else self.exit_code
        if number is None:
            return say("launch.ended", who=who)
        if self.killed_by is not None or number in (6, 9, 11, 15):
            return say("launch.killed", who=who, number=number, name=signal_name(number))
        return say("launch.exited", who=who, number=number)


def _rank_of(ranks: dict[tuple[int, str | None], int], pid: int, host: str | None
             ) -> int | None:
    """The rank of ``pid``: on ``host`` when the map has hosts (pids repeat across
    machines), else by pid alone when only one rank has it."""
    if (pid, host) in ranks:
        return ranks[(pid, host)]
    same_pid = [rank for (known, _), rank in ranks.items() if known == pid]
    return same_pid[0] if len(same_pid) == 1 else None


def command(mpiexec: str, ranks: int, args: Sequence[str], hostfile: str | None = None,
            per_node: int | None = None) -> list[str]:
    """The ``mpiexec`` command line that runs ``chainrule ARGS`` on ``ranks`` ranks
    (``python -m mpi4py`` so that an exception on one rank aborts them all).

    >>> command("mpiexec", 2, ["train", "--epochs", "1"])[-6:]
    ['mpi4py', '-m', 'chainrule', 'train', '--epochs', '1']
    """
    line = [mpiexec, "-n", str(ranks)]
    if hostfile is not None:
        line += ["-f", hostfile]
    if per_node is not None:
        line += ["-ppn", str(per_node)]
    return line + [sys.executable, "-m", "mpi4py", "-m", "chainrule", *args]


class Launch:
    """Runs the job, echoing its output line by line, and names a rank that died (in the
    words of ``say``, None: English)."""

    def __init__(self, argv: list[str], stdout: IO[str] | None = None,
                 stderr: IO[str] | None = None, say: Messages | None = None) -> None:
        self.argv, self.say = argv, say
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr
        self.ranks: dict[tuple[int, str | None], int] = {}
        self.obituary = Obituary()
        self.lock = threading.Lock()

    def _pump(self, source: IO[str], sink: IO[str]) -> None:
        for line in source:
            with self.lock:
                if not self.ranks:
                    self.ranks = parse_ranks(line)
                self.obituary.feed(line)
                sink.write(line)
                sink.flush()

    def run(self) -> tuple[int, str | None]:
        """Runs to the end; returns mpiexec's exit status and the line naming a dead rank."""
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        job = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, bufsize=1, env=env)
        assert job.stdout is not None and job.stderr is not None
        pumps = [threading.Thread(target=self._pump, args=(job.stdout, self.stdout)),
                 threading.Thread(target=self._pump, args=(job.stderr, self.stderr))]
        for pump in pumps:
            pump.start()
        # Ctrl-C reaches mpiexec and every rank from the terminal: the launcher waits for
        # them to stop after the same step; SIGTERM to the launcher is passed on
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        term = signal.signal(signal.SIGTERM, lambda *_: job.send_signal(signal.SIGTERM))
        try:
            status = job.wait()
        finally:
            signal.signal(signal.SIGINT, previous)
            signal.signal(signal.SIGTERM, term)
        for pump in pumps:
            pump.join()
        return status, (self.obituary.message(self.ranks, self.say) if status != 0 else None)
