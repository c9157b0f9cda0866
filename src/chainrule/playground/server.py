"""The playground's web server: Starlette on uvicorn, bound to 127.0.0.1 only.

``GET /`` serves the page and ``/static/`` its scripts (all inside the package: no CDN, no
build step, works offline). ``/ws`` is one WebSocket per tab: each connection is its own
:class:`~chainrule.playground.live.Live` session, freed when the tab closes or after
``idle_seconds`` without a message while paused. Text messages only, JSON, at most
``MAX_MESSAGE`` bytes (an uploaded CSV file travels in one); anything malformed gets an
error message and the connection stays open. A WebSocket from another origin (a page of
another web site open in the same browser) is refused: see :func:`same_origin`.

>>> app = create_app()
>>> sorted(route.path for route in app.routes)
['/', '/static', '/ws']
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.responses import FileResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from chainrule.playground.live import Live
from chainrule.playground.session import Session

HOST = "127.0.0.1"  # never another interface: the page runs code on this machine's CPU
MAX_MESSAGE = 512 * 1024  # bytes of one message (the CSV limit is 256 kB of text)
WS_MAX_SIZE = 4 * 1024 * 1024  # beyond this uvicorn closes the connection (code 1009)
MAX_SESSIONS = 8
IDLE_SECONDS = 30 * 60


def static_dir() -> str:
    return str(resources.files("chainrule.playground") / "static")


class Registry:
    """The open sessions, at most ``limit``; idle paused ones are closed by :meth:`reap`."""

    def __init__(self, limit: int = MAX_SESSIONS, idle_seconds: float = IDLE_SECONDS) -> None:
        self.limit, self.idle_seconds = limit, idle_seconds
        self.open: dict[int, tuple[Live, WebSocket]] = {}

    def idle(self) -> list[WebSocket]:
        now = time.monotonic()
        return [ws for live, ws in self.open.values()
                if not live.playing and now - live.last_active > self.idle_seconds]


def create_app(start: Callable[[], Session] | None = None, export_dir: str | None = None,
               limit: int = MAX_SESSIONS, idle_seconds: float = IDLE_SECONDS) -> Starlette:
    """The ASGI app. ``start`` makes a tab's first session when its URL holds no setup
    (``--load``); exports go to ``export_dir`` (default ``runs``)."""
    registry = Registry(limit, idle_seconds)
    folder = static_dir()

    async def index(request: Any) -> FileResponse:
        return FileResponse(f"{folder}/index.html", headers={"Cache-Control": "no-store"})

    async def reaper() -> None:
        while True:
            await asyncio.sleep(min(30.0, max(registry.idle_seconds / 4, 0.05)))
            for ws in registry.idle():
                with contextlib.suppress(Exception):
                    await ws.send_text(json.dumps({
                        "type": "closed", "text": f"this tab was idle for "
                        f"{registry.idle_seconds / 60:g} min and its session was freed: "
                        "reload the page (its address keeps the setup)"}))
                    await ws.close(code=1001)

    async def endpoint(ws: WebSocket) -> None:
        if not same_origin(ws):  # another web site's page may not drive this machine
            await ws.close(code=1008)
            return
        await ws.accept()
        if len(registry.open) >= registry.limit:
            await ws.send_text(json.dumps({"type": "closed", "text": f"{registry.limit} "
                                           "playground tabs are open, the most this server "
                                           "keeps: close one and reload this page"}))
            await ws.close(code=1013)
            return
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()
        def notify() -> None:  # called from the session's threads
            loop.call_soon_threadsafe(ready.set)

        live = Live(start, notify=notify, export_dir=export_dir)
        registry.open[id(live)] = (live, ws)
        sender = asyncio.create_task(_send(ws, live, ready))
        try:
            await _receive(ws, live)
        finally:
            sender.cancel()
            registry.open.pop(id(live), None)
            await asyncio.to_thread(live.stop)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(reaper())
        try:
            yield
        finally:
            task.cancel()
            for live, _ in list(registry.open.values()):
                live.stop()

    app = Starlette(routes=[
        Route("/", index), Mount("/static", StaticFiles(directory=folder), name="static"),
        WebSocketRoute("/ws", endpoint),
    ], lifespan=lifespan)
    app.state.registry = registry
    return app


def same_origin(ws: WebSocket) -> bool:
    """Whether a WebSocket comes from this server's own page: its Host is 127.0.0.1 or
    localhost at this port (no DNS rebinding) and so is its Origin, which browsers always
    send (a script outside a browser sends none, and may connect: it runs here anyway)."""
    bound, port = ws.scope.get("server") or ("127.0.0.1", 0)
    names = {str(bound), "127.0.0.1", "localhost"}  # (bound: 127.0.0.1 under uvicorn)
    allowed = {f"{name}:{port}" for name in names} | (names if port == 80 else set())
    host = ws.headers.get("host")
    if host is not None and host not in allowed:
        return False
    origin = ws.headers.get("origin")
    return origin is None or origin in {f"http://{name}" for name in allowed}


async def _receive(ws: WebSocket, live: Live) -> None:
    while True:
        try:
            event = await ws.receive()
        except (WebSocketDisconnect, RuntimeError):
            return
        if event["type"] == "websocket.disconnect":
            return
        text = event.get("text")
        if text is None:
            live.handle({"type": None})  # binary frames are not part of the protocol
            continue
        size = len(text.encode("utf-8", "replace"))
        if size > MAX_MESSAGE:
            live.say({"type": "error", "key": "message", "text": f"message: {size:,} bytes, "
                      f"at most {MAX_MESSAGE:,} (a CSV file may have 256 kB)"})
            continue
        try:
            message = json.loads(text)
        except ValueError as exc:
            live.say({"type": "error", "key": "message", "text": f"message: not JSON ({exc})"})
            continue
        await asyncio.to_thread(live.handle, message)


async def _send(ws: WebSocket, live: Live, ready: asyncio.Event) -> None:
    try:
        while True:
            await ready.wait()
            ready.clear()
            for message in live.take_messages():
                await ws.send_text(json.dumps(message, allow_nan=False))
            frame = live.take_frame()
            if frame is not None:
                await ws.send_text(json.dumps(frame, allow_nan=False))
    except (WebSocketDisconnect, RuntimeError, ConnectionError):
        return


def bind(port: int = 0) -> socket.socket:
    """A listening socket on 127.0.0.1 (``port`` 0: a free one). OSError when taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
        sock.listen(64)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def serve(sock: socket.socket, app: Starlette) -> None:
    """Run until Ctrl-C (uvicorn's signal handling stops it cleanly)."""
    import uvicorn
    from threadpoolctl import threadpool_limits

    # the playground's matrices are tiny: one BLAS thread each is fastest, and leaves the
    # other cores to the browser and the other tabs
    threadpool_limits(limits=1)
    config = uvicorn.Config(app, log_level="warning", ws_max_size=WS_MAX_SIZE,
                            ws_ping_interval=None, timeout_graceful_shutdown=2,
                            lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])
