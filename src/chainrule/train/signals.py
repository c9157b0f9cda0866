"""Ctrl-C, and the SIGTERM of ``timeout``, ``docker stop`` and Slurm, and SIGHUP, while a
:class:`chainrule.train.Trainer` trains: the first one asks training to stop after the
current step (with a checkpoint); a second one stops at once (KeyboardInterrupt).

A signal that was ignored when training started (nohup's SIGHUP) stays ignored, and
outside the main thread (where Python cannot install handlers) nothing is caught.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

# the signals that stop training at the end of the current step, with a checkpoint
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))


def catch_stop_signals(on_signal: Callable[[int], bool]) -> Callable[[], None]:
    """Route :data:`STOP_SIGNALS` to ``on_signal(signum)``, which returns False when a stop
    was already asked for: then the handlers are put back and KeyboardInterrupt raised.
    Returns the function that puts the previous handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    previous = {signum: old for signum, old in previous.items()  # nohup's SIGHUP stays
                if old is not signal.SIG_IGN and old is not None}  # ignored

    def restore() -> None:
        for signum, old in previous.items():
            signal.signal(signum, old)

    def handler(signum: int, frame: Any) -> None:
        if not on_signal(signum):  # a second signal: stop now
            restore()
            raise KeyboardInterrupt

    for signum in previous:
        signal.signal(signum, handler)
    return restore
