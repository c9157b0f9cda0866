"""Playground speed: frames per second through the real server, and what a session's step
costs over the plain training loop a user writes.

Starts ``chainrule playground --no-browser`` as a user does, opens a WebSocket as the page
does, chooses the 2-8-8-2 tanh network on the spiral (the boundary is a 100 x 100 grid),
presses play and counts the frames and steps that arrive in ``--seconds``. In the same
process it then times, interleaved over rounds, (1) ``Session.step()`` against (2) the same
network, data and batches in the plain chainrule loop (forward, loss, zero_grad, backward,
step), and the time one frame takes to build against one step.

    python benchmarks/playground.py [--seconds 10] [--rounds 7]

Ratios and rates only (the machine is noisy); the README of this folder keeps the table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

SETUP = {"data": "spiral", "hidden": [8, 8], "activation": "tanh", "optimizer": "adam",
         "lr": 0.03, "batch_size": 10}
CLI = [sys.executable, "-c", "import sys; from chainrule.cli import main; sys.exit(main())"]


def stream(seconds: float) -> dict[str, float]:
    """Frames and steps per second a client receives while the session plays."""
    from websockets.sync.client import connect

    server = subprocess.Popen([*CLI, "playground", "--no-browser"], stdout=subprocess.PIPE,
                              text=True)
    try:
        url = server.stdout.readline().split(" on ")[1].split()[0]  # type: ignore[union-attr]
        with connect(url.replace("http", "ws") + "ws", max_size=None) as ws:
            ws.send(json.dumps({"type": "hello", "setup": SETUP}))
            while json.loads(ws.recv())["type"] != "frame":
                pass
            ws.send(json.dumps({"type": "play"}))
            frames, sizes, first_step = 0, [], None
            start = time.perf_counter()
            while time.perf_counter() - start < seconds:
                text = ws.recv()
                message = json.loads(text)
                if message["type"] != "frame":
                    continue
                first_step = message["step"] if first_step is None else first_step
                frames += 1
                sizes.append(len(text))
                last_step = message["step"]
            elapsed = time.perf_counter() - start
            ws.send(json.dumps({"type": "pause"}))
    finally:
        server.terminate()
        server.wait(timeout=20)
    return {"fps": frames / elapsed, "steps_per_s": (last_step - first_step) / elapsed,
            "frame_kb": statistics.median(sizes) / 1024}


def plain_loop(session, steps):  # the loop a user writes, on the session's own batches
    import chainrule as cr
    from chainrule import nn
    from chainrule.playground.options import check_setup
    from chainrule.playground.session import build_network

    cr.manual_seed(SETUP.get("seed", 0))
    model = build_network(check_setup(SETUP), 2, session.classes)
    opt = cr.optim.Adam(model.parameters(), lr=SETUP["lr"])
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    order = rng.permutation(session.train_idx)
    batches = [order[i:i + 10] for i in range(0, len(order) - 9, 10)]
    start = time.perf_counter()
    for k in range(steps):
        batch = batches[k % len(batches)]
        loss = loss_fn(model(session.inputs[batch]), session.targets[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss.item()
    return time.perf_counter() - start


def in_process(rounds: int, steps: int = 400) -> dict[str, float]:
    from threadpoolctl import threadpool_limits

    from chainrule.playground.frames import build_frame
    from chainrule.playground.session import Session

    threadpool_limits(limits=1)  # as the server runs
    session = Session(SETUP)
    step_ratio, frame_per_step = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(steps):
            session.step()
        mine = time.perf_counter() - start
        plain = plain_loop(session, steps)
        start = time.perf_counter()
        for _ in range(10):
            build_frame(session)
        frame = (time.perf_counter() - start) / 10
        step_ratio.append(mine / plain)
        frame_per_step.append(frame / (mine / steps))
    return {"step_ratio": statistics.median(step_ratio),
            "frame_in_steps": statistics.median(frame_per_step)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    streamed = stream(args.seconds)
    timed = in_process(args.rounds)
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.1f}")
    print(f"streamed while playing: {streamed['fps']:.1f} frames/s, "
          f"{streamed['steps_per_s']:.0f} steps/s, {streamed['frame_kb']:.0f} kB per frame")
    print(f"Session.step / plain loop step: {timed['step_ratio']:.2f} (median of "
          f"{args.rounds} rounds)")
    print(f"one frame costs {timed['frame_in_steps']:.1f} steps")


if __name__ == "__main__":
    main()
