"""A session being served: its training thread, its newest frame, and the messages of its tab.

The training thread steps while the session plays and publishes a frame at most
``FRAME_RATE`` times a second; the WebSocket's sender takes the newest frame when it is free
to send, so a slow browser skips frames and never slows training. Control messages from the
page (:meth:`Live.handle`) run under the session's lock; their replies (the data, errors, an
explanation) queue in order and are never dropped.

Messages the page may send (JSON objects with a ``type``)::

    hello {setup?}   setup {setup}   play   pause   step   reset
    add_point {x, y, label}   csv {text}   explain {x, y}   export

>>> live = Live(None)
>>> live.handle({"type": "hello", "setup": {"data": "moons", "hidden": [3]}})
>>> [m["type"] for m in live.take_messages()], live.take_frame()["step"]
(['data'], 0)
>>> live.handle({"type": "fly"})
>>> live.take_messages()[0]["text"]
"message: unknown message type 'fly' (expected one of hello, setup, play, pause, step, reset, \
add_point, csv, explain, export)"
>>> live.stop()
"""

from __future__ import annotations

import collections
import math
import os
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, cast

from chainrule.cli_run import UsageError
from chainrule.playground.data import MAX_ABS, parse_csv
from chainrule.playground.explain_point import explain
from chainrule.playground.frames import build_frame, data_message
from chainrule.playground.options import MAX_ADDED, SetupError, check_setup
from chainrule.playground.session import ENGINE_LOCK, Session
from chainrule.train.checkpoint import CheckpointError

FRAME_RATE = 30  # frames per second at most while playing
MAX_QUEUED = 64  # messages waiting for a page that does not read them
LOAD_ERRORS = (CheckpointError, UsageError, ValueError)  # export and load refusals
MESSAGES = ("hello", "setup", "play", "pause", "step", "reset", "add_point", "csv",
            "explain", "export")


class Live:
    """The served state of one tab. ``start``: a function making its first session (the
    run of ``--load``), used when the page's hello carries no setup of its own.
    ``notify``: called (from any thread) when there is something new to send."""

    def __init__(self, start: Callable[[], Session] | None,
                 notify: Callable[[], None] | None = None, export_dir: str | None = None,
                 ) -> None:
        self.start, self.notify, self.export_dir = start, notify or (lambda: None), export_dir
        self.session: Session | None = None
        self.outbox: collections.deque[dict[str, Any]] = collections.deque()
        self.frame: dict[str, Any] | None = None
        self.last_active = time.monotonic()
        self._wake = threading.Event()
        self._alive = True
        self._thread = threading.Thread(target=self._train, daemon=True,
                                        name="playground-session")
        self._thread.start()

    # ---- what the sender takes -------------------------------------------------------
    def take_messages(self) -> list[dict[str, Any]]:
        messages = []
        while self.outbox:
            messages.append(self.outbox.popleft())
        return messages

    def take_frame(self) -> dict[str, Any] | None:
        frame, self.frame = self.frame, None
        return frame

    def say(self, message: dict[str, Any]) -> None:
        """Queue a message for the page, in order. A page that does not read is bounded:
        a newer ``data`` or ``setup`` message replaces the unsent older ones, and past
        MAX_QUEUED messages the oldest are dropped."""
        if message.get("type") in ("data", "setup"):
            kind = message["type"]
            kept = [m for m in self.outbox if m.get("type") != kind]
            if len(kept) != len(self.outbox):
                self.outbox = collections.deque(kept)
        self.outbox.append(message)
        while len(self.outbox) > MAX_QUEUED:
            self.outbox.popleft()
        self.notify()

    def _publish(self, session: Session, record: bool = True) -> None:
        self.frame = build_frame(session, record=record)
        self.notify()

    # ---- the training thread ---------------------------------------------------------
    def _train(self) -> None:
        last, cost = 0.0, 0.0
        while self._alive:
            session = self.session
            if session is None or not session.playing:
                self._wake.wait(0.25)
                self._wake.clear()
                continue
            with session.lock:
                if not session.playing or session is not self.session:
                    continue
                try:
                    session.step()
                    now = time.perf_counter()
                    if now - last >= max(1.0 / FRAME_RATE, cost) or not session.playing:
                        self._publish(session)
                        # a frame no more often than it takes to build one: on a busy
                        # machine pictures thin out first, and training keeps at least
                        # half the thread
                        cost = time.perf_counter() - now
                        last = now
                        self.last_active = time.monotonic()
                except Exception as exc:  # a bug must not kill the thread silently
                    session.playing = False
                    self.say(_error("internal", f"training stopped: {exc}"))
                    traceback.print_exc()
            time.sleep(0)  # let the server's thread take the lock between steps

    def stop(self) -> None:
        """End the training thread (the session is dropped)."""
        self._alive = False
        self._wake.set()
        self._thread.join(timeout=5)
        self.session = None

    @property
    def playing(self) -> bool:
        return self.session is not None and self.session.playing

    # ---- messages from the page ------------------------------------------------------
    def handle(self, message: Any) -> None:
        """Act on one message from the page; anything wrong becomes an error message."""
        self.last_active = time.monotonic()
        with ENGINE_LOCK:
            self._handle(message)

    def _handle(self, message: Any) -> None:
        try:
            kind = message.get("type") if isinstance(message, dict) else None
            if kind not in MESSAGES:
                raise SetupError("message", f"unknown message type {kind!r:.40} (expected "
                                 f"one of {', '.join(MESSAGES)})")
            if kind == "hello":
                self._hello(message)
                return
            if self.session is None:
                raise SetupError("message", "say hello first (the page sends its setup)")
            with self.session.lock:
                getattr(self, "_" + kind)(self.session, message)
        except SetupError as exc:
            self.say(_error(exc.key, exc.text))
        except LOAD_ERRORS as exc:
            self.say(_error("load", str(exc)))
        except Exception as exc:  # the server must survive anything a page sends
            traceback.print_exc()
            self.say(_error("internal", f"{type(exc).__name__}: {exc}"))

    def _hello(self, message: dict[str, Any]) -> None:
        setup = message.get("setup")
        if setup is None and self.start is not None:
            session = self.start()
        else:
            session = self._first_session(setup)
        self.session = session
        self._send_all(session)

    def _first_session(self, setup: Any) -> Session:
        """The page's setup (its URL); each option that is refused is dropped, with a
        message, and the rest kept (a malformed setup as a whole: the default one)."""
        given = dict(setup) if isinstance(setup, dict) else {}
        if setup is not None and not isinstance(setup, dict):
            self.say(_error("setup", "expected an object of options (the default setup is "
                            "shown)"))
        for _ in range(len(given) + 1):
            try:
                return Session(given)
            except SetupError as exc:
                # the option named, else (a clash of options, as regression with
                # cross-entropy) the problem type
                dropped = exc.key if exc.key in given else (
                    "problem" if "problem" in given else None)
                self.say(_error(exc.key, f"{exc.text} (left out: "
                                f"{dropped or 'the whole setup'})"))
                if dropped is None:
                    break
                given.pop(dropped)
        return Session()

    def _send_all(self, session: Session) -> None:
        self.say(data_message(session))
        self._publish(session)

    def _setup(self, session: Session, message: dict[str, Any]) -> None:
        changed = session.set_setup(message.get("setup"))
        if set(changed) - {"lr", "regularization", "reg_rate", "input_noise"}:
            self._send_all(session)
            return
        self.say({"type": "setup", "setup": session.setup})  # kept, training goes on
        if not session.playing:
            self._publish(session, record=False)

    def _play(self, session: Session, message: dict[str, Any]) -> None:
        if session.stopped_because is not None:
            raise SetupError("play", f"stopped: {session.stopped_because}")
        session.playing = True
        self._wake.set()

    def _pause(self, session: Session, message: dict[str, Any]) -> None:
        session.playing = False
        self._publish(session, record=False)

    def _step(self, session: Session, message: dict[str, Any]) -> None:
        if session.stopped_because is not None:
            raise SetupError("step", f"stopped: {session.stopped_because}")
        session.playing = False
        session.step()
        self._publish(session)

    def _reset(self, session: Session, message: dict[str, Any]) -> None:
        session.configure(session.setup)
        self._send_all(session)

    def _add_point(self, session: Session, message: dict[str, Any]) -> None:
        x, y, label = (message.get(k) for k in ("x", "y", "label"))
        added = [*session.setup["added"], [x, y, label]]
        if len(added) > MAX_ADDED:
            raise SetupError("added", f"at most {MAX_ADDED} points can be added by clicking")
        setup = check_setup({**session.setup, "added": added})
        if not session.regression and setup["added"][-1][2] >= session.classes:
            raise SetupError("added", f"class {label} is not one of this data's "
                             f"{session.classes} classes")
        session.add_point(*setup["added"][-1])
        session.setup = setup
        self.say(data_message(session))
        if not session.playing:
            self._publish(session, record=False)

    def _csv(self, session: Session, message: dict[str, Any]) -> None:
        points, labels = parse_csv(message.get("text"), session.setup["problem"])
        previous = session.csv
        session.csv = (points, labels)
        changes: dict[str, Any] = {"data": "csv", "added": []}
        if session.setup["problem"] == "classification":
            changes["classes"] = max(2, int(labels.max()) + 1)  # (labels are 0 to 5)
        try:
            session.configure(check_setup({**session.setup, **changes}))
        except SetupError:
            session.csv = previous
            raise
        self._send_all(session)

    def _explain(self, session: Session, message: dict[str, Any]) -> None:
        x, y = message.get("x"), message.get("y")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                   and abs(v) <= MAX_ABS for v in (x, y)):
            raise SetupError("explain", f"expected finite x and y, got {x!r:.20}, {y!r:.20}")
        self.say(explain(session, float(cast(float, x)), float(cast(float, y)),
                         message.get("lang", "en")))

    def _export(self, session: Session, message: dict[str, Any]) -> None:
        from chainrule.playground.runs import export_run

        path = export_run(session, parent=self.export_dir)
        self.say({"type": "exported", "path": os.path.abspath(path)})


def _error(key: str, text: str) -> dict[str, Any]:
    return {"type": "error", "key": key, "text": f"{key}: {text}" if key not in (
        "internal", "load") else text}

