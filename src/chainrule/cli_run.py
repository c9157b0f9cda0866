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
  checkpoint) in a folder *without* a checkpoint but with the lock file were left by a
  run that died before its first checkpoint (a run that fails keeps its lock file when
  it leaves such files): they are removed, so stale rows never mix with the new run's.
  Without the lock file no chainrule run made them: the folder is refused, nothing lost.
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
import sys
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.cli_lang import Text, error, os_reason, path_kind, text_of
from chainrule.i18n import Messages, messages
from chainrule.paths import what_is_at
from chainrule.train.checkpoint import CheckpointError
from chainrule.train.rundata import BUILT_IN

LOCK_NAME = ".chainrule.lock"
CHECKPOINT = "checkpoint.safetensors"
STALE = ("metrics.jsonl", "metrics.csv", "best.safetensors")
MAX_SUFFIX = 1000


class UsageError(Exception):
    """Wrong use of a command: printed as one line, exit status 2 (made with
    :func:`chainrule.cli_lang.error`, in the command's language)."""


class RunFolderError(UsageError):
    """The run folder cannot be used: printed as one line, exit status 2."""


def checkpoint_of(run: str, flag: str = "") -> str:
    """The checkpoint file of ``run`` (a run folder, or a checkpoint file itself)."""
    name = f"{flag} {run}".strip()
    if not run:
        raise error(RunFolderError, "cli.run.empty_name", flag=flag or "run")
    path = Path(run)
    if path.is_dir():
        path = path / CHECKPOINT
    if not path.is_file():
        found = (Text("cli.path.no_checkpoint", file=CHECKPOINT) if Path(run).is_dir()
                 else path_kind(what_is_at(path)))
        raise error(RunFolderError, "cli.run.not_a_run", name=name, found=found)
    return str(path)


def refuse_unread_data(name: str, data_dir: str | None, download: bool | None,
                       run: str | None = None, evaluate: bool = False) -> None:
    """UsageError when ``--data-dir`` or ``--download`` is given for a data set that reads no
    files (mini-MNIST, the toy sets), instead of ignoring the flag. ``run``: the run whose
    data set ``name`` is (evaluated, or resumed)."""
    if name not in BUILT_IN or (data_dir is None and not download):
        return
    flag = "--data-dir" if data_dir is not None else "--download"
    given = f"--data-dir {data_dir}" if data_dir is not None else flag
    kind = Text("cli.data.built_in" if name == "mini-mnist" else "cli.data.generated")
    subject = (Text("cli.data.subject_run", run=run, name=name) if run
               else Text("cli.data.subject_set", name=name))
    fix = Text("cli.data.leave_out", flag=flag)
    if name == "mini-mnist" and (evaluate or not run):
        key = "cli.data.fix_eval" if evaluate else "cli.data.fix_train"
        fix = Text(key + ("_dir" if data_dir is not None else ""), flag=flag, given=given)
    raise error(UsageError, "cli.data.unread", given=given, subject=subject, kind=kind, fix=fix)


def finite_weights(path: str, arrays: dict[str, Any], prefix: str = "model/") -> None:
    """CheckpointError naming the first array under ``prefix`` that holds NaN or infinity:
    such weights only make NaN predictions, and training on from them goes nowhere."""
    for key, array in arrays.items():
        if key.startswith(prefix) and array.dtype.kind == "f" and not np.isfinite(array).all():
            bad = "nan" if np.isnan(array).any() else "inf"
            raise error(CheckpointError, "cli.run.diverged_weights", path=path, key=key, bad=bad)


def saved_config(path: str, meta: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A checkpoint's training config and, apart, the environment it was trained in."""
    config = meta.get("config") or {}
    if not isinstance(config, dict):
        raise error(CheckpointError, "cli.run.config_not_table", path=path)
    config = dict(config)
    environment = config.pop("environment", {})
    return config, environment if isinstance(environment, dict) else {}


def need_matplotlib() -> None:
    """UsageError (one line, exit 2) when matplotlib, a dependency of chainrule, does not
    import: checked before a command trains or loads anything, not after."""
    try:
        import matplotlib.backends.backend_agg  # noqa: F401
        import matplotlib.figure  # noqa: F401
    except Exception as exc:  # ImportError, or a broken install failing in its own way
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise error(UsageError, "cli.matplotlib", reason=reason) from None


def figure_note(say: Messages) -> None:
    """A 'note:' line on stderr when the figures cannot speak ``say``'s language (Chinese
    needs a CJK font: they are drawn in English then)."""
    from chainrule.viz.fonts import figure_language

    notice = figure_language(say.lang).notice
    if notice is not None:
        print(say("cli.note", notice=notice), file=sys.stderr)


def plot_figures(folder: str, model: Any, test_set: Any, features: int, classes: int,
                 augment: list[str] | None = None, seed: int = 0,
                 say: Messages | None = None) -> None:
    """Write a run's standard figures next to it, printing each path (``augment``: the
    run's ``--augment``, drawn as a grid of augmented images too; ``say``: the language
    of the notices and of the figures' words, English by default)."""
    need_matplotlib()
    from chainrule.viz.run import plot_run

    say = say or messages("en")
    figure_note(say)
    for path in plot_run(folder, model, test_set, features, classes, augment, seed,
                         lang=say.lang):
        print(say("cli.wrote", path=path))


class RunFolder:
    """A claimed run folder: ``path``, and the lock held on it until :meth:`release`."""

    def __init__(self, path: str, fd: int, created: list[str]) -> None:
        self.path, self._fd, self._created = path, fd, created
        self.removed: list[str] = []  # stale files of a run that died before its checkpoint

    def release(self, keep: bool = True) -> None:
        """Drop the lock (and remove the lock file); without ``keep``, remove the folders
        this run created if it left them empty.

        A run that leaves metrics but no checkpoint (it failed in its first epochs) keeps
        the lock file: the sign, for the next run into this folder, that chainrule wrote
        them and they may be started over.
        """
        if self._fd < 0:
            return
        if os.path.lexists(os.path.join(self.path, CHECKPOINT)) or not _stale(self.path):
            _unlink_lock(self.path)  # while still holding the lock
        if not keep:
            for folder in self._created:  # deepest first; rmdir leaves non-empty ones alone
                try:
                    os.rmdir(folder)
                except OSError:
                    break
        os.close(self._fd)
        self._fd = -1


def _unlink_lock(path: str) -> None:
    try:
        os.unlink(os.path.join(path, LOCK_NAME))
    except OSError:
        pass


def _stale(path: str) -> list[str]:
    """The metrics files (and best checkpoint) in ``path``."""
    return [name for name in STALE if os.path.lexists(os.path.join(path, name))]


def _reason(exc: OSError) -> Text | str:
    return os_reason(exc)


def _missing_parents(path: str) -> list[str]:
    """``path`` and its parents that do not exist yet, deepest first."""
    missing = []
    current = Path(os.path.abspath(path))
    while not os.path.lexists(current) and current != current.parent:
        missing.append(str(current))
        current = current.parent
    return missing


def _make_folder(path: str, flag: Text | str) -> list[str]:
    """Create ``path`` (and parents) if needed; the folders created, deepest first."""
    missing = _missing_parents(path)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        blocker = _not_a_folder(path)  # a file, or a broken symlink, where a folder must be
        if blocker is None:
            raise error(RunFolderError, "cli.folder.cannot_create", flag=flag, path=path,
                        reason=_reason(exc)) from None
        found = path_kind(what_is_at(blocker))
        if blocker == os.path.normpath(path):
            raise error(RunFolderError, "cli.folder.not_folder", flag=flag, path=path,
                        found=found) from None
        raise error(RunFolderError, "cli.folder.not_folder_at", flag=flag, path=path,
                    found=found, blocker=blocker) from None
    return missing


def _not_a_folder(path: str) -> str | None:
    """``path`` or the parent of it that exists (a file, a broken symlink) but is not a
    folder; None if there is none."""
    current = os.path.normpath(path)
    while current and not os.path.isdir(current):
        if os.path.lexists(current):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return None


def _unwritable(path: str, flag: Text | str, exc: OSError) -> RunFolderError:
    key = "cli.folder.unwritable_resume" if flag == "--resume" else "cli.folder.unwritable"
    return error(RunFolderError, key, flag=flag, path=path, reason=_reason(exc))


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


def _lock(path: str, flag: Text | str, created: list[str]) -> RunFolder:
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
            raise error(RunFolderError, "cli.folder.locked", flag=flag, path=path,
                        holder=holder)
        try:  # a run that just finished may have removed the file we locked: lock the new one
            same = os.stat(lock_path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    else:
        raise error(RunFolderError, "cli.folder.cannot_lock", flag=flag, path=path)
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
    run_folder = Text("cli.folder.run_folder")
    try:
        created = _make_folder(parent, run_folder)
    except RunFolderError as exc:
        raise error(RunFolderError, "cli.folder.choose_writable",
                    error=text_of(exc) or str(exc)) from None
    for n in range(1, MAX_SUFFIX + 1):
        path = base if n == 1 else f"{base}-{n}"
        try:
            os.mkdir(path)
        except FileExistsError:
            continue
        except OSError as exc:
            raise error(RunFolderError, "cli.folder.cannot_create_run", path=path,
                        reason=_reason(exc)) from None
        return _lock(path, run_folder, [path, *created])
    raise error(RunFolderError, "cli.folder.too_many", base=base, count=MAX_SUFFIX)


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
        raise error(RunFolderError, "cli.folder.empty_name", flag=flag)
    marked = os.path.lexists(os.path.join(out, LOCK_NAME))  # a chainrule run was here
    folder = _lock(out, flag, _make_folder(out, flag))
    existing = os.path.join(out, CHECKPOINT)
    if os.path.lexists(existing):
        if resume_path is None or os.path.realpath(resume_path) != os.path.realpath(existing):
            folder.release()
            raise error(RunFolderError, "cli.folder.holds_run", flag=flag, out=out,
                        existing=existing)
        return folder
    stale = _stale(out)
    if stale and not marked:  # not left by a run: someone's own files, never removed
        _unlink_lock(out)
        folder.release()
        raise error(RunFolderError, "cli.folder.foreign_files", flag=flag, out=out,
                    stale=", ".join(stale), lock=LOCK_NAME)
    for name in stale:
        path = os.path.join(out, name)
        if os.path.lexists(path):
            try:
                os.unlink(path)
            except OSError as exc:
                folder.release()
                raise error(RunFolderError, "cli.folder.cannot_remove", flag=flag, out=out,
                            name=name, reason=_reason(exc)) from None
            folder.removed.append(name)
    return folder
