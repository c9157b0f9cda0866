"""Run the real ``chainrule`` entry point in a child process and measure it.

Tests of hostile input use this: exit status, stdout, stderr and the child's own peak
resident memory (``os.wait4`` reports the rusage of that one child, not the largest of
every child the test process ever had, as ``getrusage(RUSAGE_CHILDREN)`` would).

A child's peak RSS also counts the memory of the process it was forked from (Linux copies
the parent's page counts at fork, and records the old memory's peak at exec), so a child
of a test process grown to 1 GB would report at least 1 GB. The command is therefore
started from a small launcher process (:data:`LAUNCHER`), which forks it, waits for it
and reports its rusage: the peak is the command's own, whatever the suite ran before.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Any

MB = 1 << 20

# argv: the file for the peak RSS (KiB), then the command's arguments; exits as the command
LAUNCHER = """
import os, signal, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-m", "chainrule.cli", *sys.argv[2:]])
for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(signum, lambda n, _: os.kill(pid, n))
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
if code < 0:
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
sys.exit(code)
"""


@dataclass
class Result:
    code: int
    out: str
    err: str
    peak_rss: int  # bytes

    def one_line_error(self) -> str:
        """stderr, asserted to be one 'chainrule: ...' line without a traceback."""
        lines = self.err.strip().splitlines()
        assert "Traceback" not in self.err, self.err
        assert len(lines) == 1 and lines[0].startswith("chainrule: "), self.err
        return lines[0]


def run_cli(args: list[str], timeout: float = 120.0, cwd: Any = None,
            env: dict[str, str] | None = None, unset: tuple[str, ...] = (),
            stdin: Any = subprocess.DEVNULL) -> Result:
    """``python -m chainrule.cli ARGS`` in a child; its exit status, output and peak RSS.

    ``env`` adds variables, ``unset`` removes them (e.g. ``("CHAINRULE_DATA",)``).
    """
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    for name in unset:
        full_env.pop(name, None)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryDirectory() as tmp:
        peak_file = os.path.join(tmp, "peak")
        proc = subprocess.Popen([sys.executable, "-c", LAUNCHER, peak_file, *args],
                                stdout=out, stderr=err, stdin=stdin, cwd=cwd, env=full_env,
                                start_new_session=True)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the launcher and the command
            proc.wait()
            raise
        with open(peak_file) as f:
            peak_kib = int(f.read())
        out.seek(0)
        err.seek(0)
        return Result(proc.returncode, out.read().decode(errors="replace"),
                      err.read().decode(errors="replace"), peak_kib * 1024)
