"""Run the real ``chainrule`` entry point in a child process and measure it.

Tests of hostile input use this: exit status, stdout, stderr and the child's own peak
resident memory (``os.wait4`` reports the rusage of that one child, not the largest of
every child the test process ever had, as ``getrusage(RUSAGE_CHILDREN)`` would).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

MB = 1 << 20


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
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-m", "chainrule.cli", *args], stdout=out,
                                stderr=err, stdin=stdin, cwd=cwd, env=full_env)
        deadline = time.monotonic() + timeout
        while True:  # reap it ourselves: wait4 gives this child's own rusage
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                os.kill(proc.pid, signal.SIGKILL)
                os.wait4(proc.pid, 0)
                proc.returncode = -9
                raise subprocess.TimeoutExpired(proc.args, timeout)
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Result(proc.returncode, out.read().decode(errors="replace"),
                      err.read().decode(errors="replace"), usage.ru_maxrss * 1024)
