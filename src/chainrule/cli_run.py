"""Runs on disk for the ``chainrule`` command: finding a run's checkpoint and config, its
figures, and claiming the folder of a new run so that no two runs ever share one.


* A default folder, ``runs/<dataset>-<YYYYmmdd-HHMMSS>``, is created with ``os.mkdir``,
  which fails when the name exists: a run started in the same second as another gets
  ``-2``, ``-3``, ... appended, so concurrent and back-to-back runs never share a folder.
* Every run, into a default folder, ``--out`` or ``--resume``, holds an exclusive lock
  (``flock``) on ``.chainrule.lock`` in its folder for as long as it runs. A second
  chainrule process that wants to write there is refused at once; the kernel drops the
  lock when the process ends, however it ends, so a killed run can be resumed.
* A folder that holds another run's checkpoint is refused. Metrics files (and a best
  checkpoint) in a folder *without* a checkpoint were left by a run that died before
  its first checkpoint: they are removed, so stale rows never mix with the new run's.
* The folder is created and written to (the lock file) before training starts, so an
  unwritable ``--out`` fails in seconds with the reason, not after the first epoch.

>>> import tempfile
>>> tmp = tempfile.TemporaryDirectory()
>>> root = tmp.name
>>> a = claim(None, os.path.join(root, "xor-20260101-120000"))
>>> b = claim(None, os.path.join(root, "xor-20260101-120000"))
>>> os.path.basename(a.path), os.path.basename(b.path)
('xor-20260101-120000', 'xor-20260101-120000-2')
>>> claim(a.path, "")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
chainrule.cli_run.RunFolderError: --out ...: another chainrule process (pid ...) is writing ...
>>> a.release(), b.release(), tmp.cleanup()
(None, None, None)
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

from chainrule.train.checkpoint import CheckpointError

LOCK_NAME = ".chainrule.lock"
CHECKPOINT = "checkpoint.safetensors"
STALE = ("metrics.jsonl", "metrics.csv", "best.safetensors")
MAX_SUFFIX = 1000


class UsageError(Exception):
    """Wrong use of a command: printed as one line, exit status 2."""


class RunFolderError(UsageError):
    """The run folder cannot be used: printed as one line, exit status 2."""


def checkpoint_of(run: str, flag: str = "") -> str:
    """The checkpoint file of ``run`` (a run folder, or a checkpoint file itself)."""
    name = f"{flag} {run}".strip()
    if not run:
        raise RunFolderError(f"{flag or 'run'}: expected a run folder or a checkpoint file, "
                             "got an empty name")
    path = Path(run)
    if path.is_dir():
        path = path / CHECKPOINT
    if not path.is_file():
        found = f"a folder without {CHECKPOINT}" if Path(run).is_dir() else "nothing"
        raise RunFolderError(f"{name}: expected a run folder or a checkpoint file, found "
                             f"{found}")
    return str(path)


def saved_config(path: str, meta: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A checkpoint's training config and, apart, the environment it was trained in."""
    config = meta.get("config") or {}
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: its config is not a table of settings")
    config = dict(config)
    environment = config.pop("environment", {})
    return config, environment if isinstance(environment, dict) else {}


def need_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError("plotting needs matplotlib: pip install 'chainrule[viz]'") from None


def plot_figures(folder: str, model: Any, test_set: Any, features: int, classes: int) -> None:
    """Write a run's standard figures next to it, printing each path."""
    need_matplotlib()
    from chainrule.viz.run import plot_run

    for path in plot_run(folder, model, test_set, features, classes):
        print(f"wrote {path}")


class RunFolder:
    """A claimed run folder: ``path``, and the lock held on it until :meth:`release`."""

    def __init__(self, path: str, fd: int, created: list[str]) -> None:
        self.path, self._fd, self._created = path, fd, created
        self.removed: list[str] = []  # stale files of a run that died before its checkpoint

    def release(self, keep: bool = True) -> None:
        """Drop the lock (and remove the lock file); without ``keep``, remove the folders
        this run created if it left them empty."""
        if self._fd < 0:
            return
        try:
            os.unlink(os.path.join(self.path, LOCK_NAME))  # while still holding the lock
        except OSError:
            pass
        if not keep:
            for folder in self._created:  # deepest first; rmdir leaves non-empty ones alone
                try:
                    os.rmdir(folder)
                except OSError:
                    break
        os.close(self._fd)
        self._fd = -1


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _missing_parents(path: str) -> list[str]:
    """``path`` and its parents that do not exist yet, deepest first."""
    missing = []
    current = Path(os.path.abspath(path))
    while not os.path.lexists(current) and current != current.parent:
        missing.append(str(current))
        current = current.parent
    return missing


def _make_folder(path: str, flag: str) -> list[str]:
    """Create ``path`` (and parents) if needed; the folders created, deepest first."""
    missing = _missing_parents(path)
    try:
        os.makedirs(path, exist_ok=True)
    except FileExistsError:
        raise RunFolderError(f"{flag} {path}: expected a folder, found a file there") from None
    except OSError as exc:
        raise RunFolderError(f"{flag} {path}: cannot create the folder ({_reason(exc)})"
                             ) from None
    return missing


def _unwritable(path: str, flag: str, exc: OSError) -> RunFolderError:
    hint = "; pass --out FOLDER to continue the run in another folder" if flag == "--resume" \
        else ""
    return RunFolderError(f"{flag} {path}: cannot write to the run folder ({_reason(exc)}){hint}")


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 32).decode().strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (pid {text})" if text.isdigit() else ""


def _flock(fd: int) -> bool:
    """Take the exclusive lock of ``fd`` without waiting: False if another process has it.

    Where there is no flock (Windows) or the file system refuses locks, the run goes on
    unlocked: the exclusive mkdir still keeps default folders apart.
    """
    try:
        import fcntl
    except ImportError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        return exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN)
    return True


def _lock(path: str, flag: str, created: list[str]) -> RunFolder:
    """Hold the exclusive lock of ``path`` (RunFolderError if another process holds it)."""
    lock_path = os.path.join(path, LOCK_NAME)
    for _ in range(100):
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:  # the folder went away between creating and locking it
            created = _make_folder(path, flag) or created
            continue
        except OSError as exc:
            raise _unwritable(path, flag, exc) from None
        if not _flock(fd):
            holder = _holder(fd)
            os.close(fd)
            raise RunFolderError(
                f"{flag} {path}: another chainrule process{holder} is writing to this run "
                "folder; wait for it to finish, or choose another folder with --out")
        try:  # a run that just finished may have removed the file we locked: lock the new one
            same = os.stat(lock_path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    else:
        raise RunFolderError(f"{flag} {path}: could not lock the run folder")
    folder = RunFolder(path, fd, created)
    try:  # the write probe: a read-only or full disk fails here, before any training
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
    except OSError as exc:
        folder.release(keep=False)
        raise _unwritable(path, flag, exc) from None
    return folder


def _claim_new(base: str) -> RunFolder:
    """``base``, or ``base-2``, ``base-3``, ...: the first that this process creates."""
    parent = os.path.dirname(base) or "."
    try:
        created = _make_folder(parent, "run folder")
    except RunFolderError as exc:
        raise RunFolderError(f"{exc}; choose a writable folder with --out") from None
    for n in range(1, MAX_SUFFIX + 1):
        path = base if n == 1 else f"{base}-{n}"
        try:
            os.mkdir(path)
        except FileExistsError:
            continue
        except OSError as exc:
            raise RunFolderError(f"run folder {path}: cannot create it ({_reason(exc)}); "
                                 "choose a writable folder with --out") from None
        return _lock(path, "run folder", [path, *created])
    raise RunFolderError(f"run folder {base}: {MAX_SUFFIX} runs of that name exist; choose "
                         "a folder with --out")


def claim(out: str | None, default: str, resume_path: str | None = None,
          flag: str = "--out") -> RunFolder:
    """Claim ``out`` (or a new folder named after ``default``) for a run, locked.

    ``resume_path``: the checkpoint this run continues from; ``out`` may hold that one
    checkpoint and no other. Stale files of a run that died before its first checkpoint
    are removed (their names end up in ``removed``).
    """
    if out is None:
        return _claim_new(default)
    if not out:
        raise RunFolderError(f"{flag}: expected a folder name, got an empty string")
    folder = _lock(out, flag, _make_folder(out, flag))
    existing = os.path.join(out, CHECKPOINT)
    if os.path.lexists(existing):
        if resume_path is None or os.path.realpath(resume_path) != os.path.realpath(existing):
            folder.release()
            raise RunFolderError(f"{flag} {out} already holds a run ({existing}); choose "
                                 f"another folder, or continue it with --resume {out}")
        return folder
    for name in STALE:
        path = os.path.join(out, name)
        if os.path.lexists(path):
            try:
                os.unlink(path)
            except OSError as exc:
                folder.release()
                raise RunFolderError(f"{flag} {out}: cannot remove the stale {name} of an "
                                     f"earlier run ({_reason(exc)})") from None
            folder.removed.append(name)
    return folder
