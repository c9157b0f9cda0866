"""stdout and stderr for the length of one ``chainrule`` command, whatever they are.

* A stream that cannot encode a character (``PYTHONIOENCODING=ascii``, a C locale) writes
  it as a backslash escape (``runs/\\xfcni``) instead of ending in a UnicodeEncodeError.
* A closed stream (``chainrule info RUN >&-``: Python sets ``sys.stdout`` to None) writes
  to ``os.devnull``.
* stderr only carries logs, progress and the final message: a write to it that fails (a
  full disk, ``2>/dev/full``, a terminal that went away) is dropped, and the run goes on
  to its checkpoint. When one failed, the stream's descriptor is pointed at
  ``os.devnull`` at the end, so that the interpreter's last flush does not fail too.

Everything is put back when the command ends, so a command called in-process (the tests)
leaves the streams as it found them.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO


class QuietStream:
    """A text stream whose ``write`` and ``flush`` never raise an OS error (they are
    dropped and ``failed`` is set); everything else is the wrapped stream's."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.failed = False

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except (OSError, ValueError):  # ValueError: the stream was closed
            self.failed = True
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except (OSError, ValueError):
            self.failed = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _forgiving(stream: Any) -> str | None:
    """Make ``stream`` escape what it cannot encode; its old ``errors`` (None: unchanged)."""
    old = getattr(stream, "errors", None)
    if old is None or old == "backslashreplace" or not hasattr(stream, "reconfigure"):
        return None
    try:
        stream.reconfigure(errors="backslashreplace")
    except (ValueError, OSError, AttributeError):
        return None
    return str(old)


def _to_devnull(stream: Any) -> None:
    """Point the descriptor under ``stream`` at os.devnull (its pending bytes go there)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


@contextlib.contextmanager
def standard_streams() -> Iterator[None]:
    """sys.stdout and sys.stderr as described above until the block ends."""
    saved = sys.stdout, sys.stderr
    opened: list[TextIO] = []
    old_errors: list[tuple[Any, str]] = []
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:  # the descriptor was closed when Python started
            stream = open(os.devnull, "w")  # noqa: SIM115 - closed below
            opened.append(stream)
            setattr(sys, name, stream)
        errors = _forgiving(stream)
        if errors is not None:
            old_errors.append((stream, errors))
    quiet = QuietStream(sys.stderr)
    sys.stderr = quiet
    try:
        yield
    finally:
        quiet.flush()
        if quiet.failed:
            _to_devnull(quiet._stream)
        sys.stdout, sys.stderr = saved
        for stream, errors in old_errors:
            with contextlib.suppress(ValueError, OSError):
                stream.reconfigure(errors=errors)
        for stream in opened:
            stream.close()
