"""The playground's web server: the WebSocket protocol under hostile input, independent tabs,
the session limit and idle freeing, and ``chainrule playground`` itself (127.0.0.1 only,
Ctrl-C, a taken port)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import warnings

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
pytest.importorskip("httpx")  # starlette's test client (the test extra installs it)
with warnings.catch_warnings():  # starlette's note that httpx has a successor
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: E402

from chainrule.playground.server import MAX_MESSAGE, create_app  # noqa: E402

CLI = [sys.executable, "-c", "import sys; from chainrule.cli import main; sys.exit(main())"]


def _until(ws, kind, limit=50):
    """Messages up to and including the first of type ``kind``."""
    seen = []
    for _ in range(limit):
        message = ws.receive_json()
        seen.append(message)
        if message["type"] == kind:
            return seen
    raise AssertionError(f"no {kind} in {[m['type'] for m in seen]}")


def _hello(ws, setup=None):
    ws.send_json({"type": "hello", "setup": setup})
    _until(ws, "data")
    return _until(ws, "frame")[-1]


def test_page_and_scripts_are_served():
    with TestClient(create_app()) as client:
        page = client.get("/")
        assert page.status_code == 200 and "chainrule" in page.text
        for name in ("app.js", "draw.js", "i18n.js", "style.css"):
            assert client.get(f"/static/{name}").status_code == 200
        assert client.get("/static/../server.py").status_code == 404


def test_hostile_messages_leave_the_connection_working():
    with TestClient(create_app()) as client, client.websocket_connect("/ws") as ws:
        assert _hello(ws, {"data": "xor", "hidden": [3]})["step"] == 0
        for bad, words in [("{not json", "not JSON"), ("[]", "unknown message type"),
                           (json.dumps({"type": "explode"}), "unknown message type"),
                           ("x" * (MAX_MESSAGE + 1), "bytes, at most"),
                           (json.dumps({"type": "csv", "text": "1,2,0\n" * 50_000}),
                            "bytes, at most")]:
            ws.send_text(bad)
            error = _until(ws, "error")[-1]
            assert words in error["text"], (bad[:30], error)
        ws.send_bytes(b"\x00\x01")
        assert "unknown message type" in _until(ws, "error")[-1]["text"]
        ws.send_json({"type": "step"})
        assert _until(ws, "frame")[-1]["step"] == 1


def test_tabs_are_independent_sessions():
    with TestClient(create_app()) as client, client.websocket_connect("/ws") as one, \
            client.websocket_connect("/ws") as two:
        _hello(one, {"data": "moons", "hidden": [4]})
        _hello(two, {"data": "spiral", "hidden": [2, 2]})
        for _ in range(3):
            one.send_json({"type": "step"})
            _until(one, "frame")
        two.send_json({"type": "step"})
        frame = _until(two, "frame")[-1]
        assert frame["step"] == 1 and len(frame["layers"]) == 2
        assert len(client.app.state.registry.open) == 2


def test_play_streams_frames_while_the_loop_runs():
    with TestClient(create_app()) as client, client.websocket_connect("/ws") as ws:
        _hello(ws, {"data": "circles", "hidden": [4]})
        ws.send_json({"type": "play"})
        steps = [_until(ws, "frame")[-1]["step"] for _ in range(5)]
        ws.send_json({"type": "pause"})
        assert steps == sorted(steps) and steps[-1] > steps[0]


def test_session_limit_and_idle_sessions_are_freed():
    app = create_app(limit=1, idle_seconds=0.3)
    with TestClient(app) as client:
        with client.websocket_connect("/ws") as first:
            _hello(first)
            with client.websocket_connect("/ws") as second:
                refused = second.receive_json()
                assert refused["type"] == "closed" and "1 playground tabs" in refused["text"]
            closed = _until(first, "closed")[-1]
            assert "idle" in closed["text"]
        deadline = time.monotonic() + 5
        while app.state.registry.open and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not app.state.registry.open


def _start(args, cwd):
    process = subprocess.Popen([*CLI, "playground", "--no-browser", *args], cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    return process, line


def _listening_addresses(port):
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table) as f:
            for row in f.readlines()[1:]:
                local, state = row.split()[1], row.split()[3]
                address, hex_port = local.rsplit(":", 1)
                if int(hex_port, 16) == port and state == "0A":  # LISTEN
                    found.append(address)
    return found


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads Linux's socket table")
def test_cli_listens_on_loopback_only_and_stops_on_ctrl_c(tmp_path):
    process, line = _start([], tmp_path)
    try:
        assert line.startswith("chainrule playground on http://127.0.0.1:"), line
        port = int(line.split("127.0.0.1:")[1].split("/")[0])
        assert _listening_addresses(port) == ["0100007F"]  # 127.0.0.1, nothing else
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
            assert b"200 OK" in conn.recv(200)
        from websockets.sync.client import connect  # the page's WebSocket, served for real

        with connect(f"ws://127.0.0.1:{port}/ws", max_size=None, open_timeout=20) as ws:
            ws.send(json.dumps({"type": "hello", "setup": {"data": "xor", "hidden": [2]}}))
            assert json.loads(ws.recv(timeout=20))["type"] == "data"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err


def test_cli_refuses_a_taken_port(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run([*CLI, "playground", "--no-browser", "--port", str(port)],
                                capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "in use" in result.stderr


def test_load_starts_every_new_tab_with_the_trained_run(tmp_path):
    import functools

    import numpy as np

    from chainrule.playground.runs import load_run
    from chainrule.train.checkpoint import read_checkpoint

    run = tmp_path / "run"
    trained = subprocess.run([*CLI, "train", "--dataset", "moons", "--hidden", "5",
                              "--activation", "relu", "--epochs", "1", "--out", str(run)],
                             capture_output=True, text=True, timeout=300)
    assert trained.returncode == 0, trained.stderr
    arrays, _ = read_checkpoint(str(run / "checkpoint.safetensors"))
    app = create_app(start=functools.partial(load_run, str(run)))
    with TestClient(app) as client:
        for _ in range(2):  # two tabs, each its own copy of the run
            with client.websocket_connect("/ws") as ws:
                ws.send_json({"type": "hello", "setup": None})
                data = _until(ws, "data")[-1]
                assert data["setup"]["data"] == "moons" and data["setup"]["hidden"] == [5]
                frame = _until(ws, "frame")[-1]
                np.testing.assert_allclose(frame["weights"][0],
                                           np.round(arrays["model/0.weight"], 4), atol=1e-12)
                ws.send_json({"type": "step"})
                _until(ws, "frame")


def test_other_origins_and_hosts_are_refused():
    """A page of another web site (or a DNS-rebound name) cannot open the WebSocket."""
    with TestClient(create_app()) as client:
        for headers in ({"origin": "http://evil.example"}, {"host": "evil.example:80"},
                        {"origin": "http://127.0.0.1:9"}):
            with pytest.raises(Exception):  # noqa: B017 - closed before it was accepted
                with client.websocket_connect("/ws", headers=headers) as ws:
                    ws.receive_json()
        with client.websocket_connect("/ws", headers={"origin": "http://testserver"}) as ws:
            assert _hello(ws)["step"] == 0  # the page's own origin


def test_a_page_that_does_not_read_is_bounded():
    from chainrule.playground.live import MAX_QUEUED, Live

    live = Live(None)
    live.handle({"type": "hello", "setup": {"points": 2000, "hidden": [2]}})
    for _ in range(300):
        live.handle({"type": "reset"})
        live.handle({"type": "fly"})
    kinds = [m["type"] for m in live.outbox]
    assert len(kinds) <= MAX_QUEUED and kinds.count("data") == 1
    live.stop()


def test_a_bad_url_option_is_left_out_and_the_rest_kept():
    from chainrule.playground.live import Live

    live = Live(None)
    live.handle({"type": "hello", "setup": {"data": "spiral", "lr": "abc", "wings": 3,
                                            "hidden": [5]}})
    errors = [m["text"] for m in live.take_messages() if m["type"] == "error"]
    assert live.session.setup["data"] == "spiral" and live.session.setup["hidden"] == [5]
    assert len(errors) == 2 and all("left out" in e for e in errors)
    live.handle({"type": "setup", "setup": {**live.session.setup, "lr": 0.3}})
    assert [m for m in live.take_messages() if m["type"] == "setup"][0]["setup"]["lr"] == 0.3
    live.stop()


def test_two_tabs_playing_at_once_both_train():
    """Sessions take turns with chainrule's process-wide grad mode (no step fails)."""
    from chainrule.playground.live import Live

    lives = [Live(None) for _ in range(3)]
    for k, live in enumerate(lives):
        live.handle({"type": "hello", "setup": {"data": "spiral", "hidden": [8, 8], "seed": k}})
        live.handle({"type": "play"})
    deadline = time.monotonic() + 30
    while min(live.session.steps for live in lives) < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    for live in lives:
        live.handle({"type": "pause"})
        errors = [m for m in live.take_messages() if m["type"] == "error"]
        assert not errors and live.session.steps >= 200 and live.session.stopped_because is None
        live.stop()
