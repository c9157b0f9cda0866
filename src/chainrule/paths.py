"""What is at a path, in words, for the messages that refuse it.

A file argument can be anything: a broken symlink, a loop of symlinks, ``/dev/zero``, a
named pipe that blocks whoever opens it. The readers refuse what is not a regular file
*before* opening it and say what they found instead of "nothing at that path".

>>> import os, tempfile
>>> tmp = tempfile.TemporaryDirectory()
>>> what_is_at(tmp.name), what_is_at(os.path.join(tmp.name, "missing"))
('a folder', 'nothing')
>>> os.symlink("nowhere", os.path.join(tmp.name, "link"))
>>> what_is_at(os.path.join(tmp.name, "link"))
'a broken symlink (to nowhere)'
>>> what_is_at("/dev/null"), tmp.cleanup()
('a character device, not a regular file', None)
"""

from __future__ import annotations

import errno
import os
import stat

KINDS = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
         (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"))


def what_is_at(path: str | os.PathLike[str]) -> str:
    """'nothing', 'a regular file', 'a folder', 'a broken symlink (to T)', 'a symlink loop',
    'a character device, not a regular file', ... (symlinks to something are followed)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symlink loop"
        if os.path.islink(path):
            try:
                target = os.readlink(path)
            except OSError:
                target = "?"
            return f"a broken symlink (to {os.fsdecode(target)})"
        if exc.errno == errno.ENOENT:
            return "nothing"
        if exc.errno == errno.ENOTDIR:
            return "nothing (a part of the path is a file, not a folder)"
        return f"a path that cannot be looked at ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISDIR(mode):
        return "a folder"
    for test, name in KINDS:
        if test(mode):
            return f"{name}, not a regular file"
    return "something that is not a regular file"
