"""What the page draws, computed from a session: the boundary, every neuron's picture, the
weights, the gradient flow and the loss curves, packed for the WebSocket.

A frame is one forward pass of the network over the GRID x GRID points of the drawn square
(eval mode, no graph), keeping every hidden layer's output: the last layer's is the boundary,
the hidden ones are the neuron tiles (every TILE_STEP-th point). Pictures travel as bytes
(0..255, base64) with the scale that maps them back, so a 2-8-8-2 network's frame is about
30 kB of JSON and costs a few milliseconds to build.

>>> from chainrule.playground.session import Session
>>> frame = build_frame(Session({"data": "xor", "hidden": [3]}))
>>> frame["boundary"]["kind"], len(frame["layers"]), frame["layers"][0]["neurons"]
('binary', 1, 3)
>>> len(decode(frame["boundary"]["data"])) == GRID * GRID
True
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

from chainrule import nn
from chainrule.autograd.grad_mode import no_grad
from chainrule.playground.data import GRID, TILE_STEP
from chainrule.playground.session import Session, weight_layers
from chainrule.train.costs import probabilities

CURVE_POINTS = 300  # the loss curves travel thinned to this many points


def encode(values: np.ndarray) -> str:
    """uint8 bytes as base64 text."""
    return base64.b64encode(np.ascontiguousarray(values, dtype=np.uint8).tobytes()).decode()


def decode(text: str) -> np.ndarray:
    """The uint8 array :func:`encode` packed."""
    return np.frombuffer(base64.b64decode(text), dtype=np.uint8)


def to_bytes(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Map [low, high] linearly onto 0..255 (NaN to the middle)."""
    scaled = (np.nan_to_num(values, nan=(low + high) / 2) - low) / max(high - low, 1e-12)
    return np.clip(np.round(scaled * 255), 0, 255).astype(np.uint8)


def _symmetric_scale(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    peak = float(np.abs(finite).max()) if finite.size else 0.0
    return peak if peak > 1e-12 else 1.0


def hidden_outputs(session: Session, inputs: Any) -> tuple[list[np.ndarray], Any]:
    """Each hidden layer's output (after activation and dropout's eval identity) and the
    network's output, for ``inputs``."""
    outputs: list[np.ndarray] = []
    x = inputs
    for i, module in enumerate(session.model):
        if i > 0 and isinstance(module, nn.Linear | nn.Maxout):
            outputs.append(x.numpy())  # what the previous layer handed on
        x = module(x)
    return outputs, x


def _boundary(session: Session, output: Any) -> dict[str, Any]:
    if session.regression:
        values = output.numpy().reshape(-1)
        scale = _symmetric_scale(session.labels)
        return {"kind": "value", "scale": scale, "data": encode(to_bytes(values, -scale, scale))}
    probs = probabilities(session.setup["loss"], output).numpy()
    if session.classes == 2:
        share = probs[:, 1] / np.maximum(probs.sum(axis=1), 1e-12)
        return {"kind": "binary", "data": encode(to_bytes(share, 0.0, 1.0))}
    best = probs.argmax(axis=1)
    confidence = probs.max(axis=1) / np.maximum(probs.sum(axis=1), 1e-12)
    return {"kind": "classes", "classes": session.classes, "data": encode(best),
            "confidence": encode(to_bytes(confidence, 1.0 / session.classes, 1.0))}


def _tiles(outputs: list[np.ndarray]) -> list[dict[str, Any]]:
    layers = []
    for values in outputs:
        pictures = values.T.reshape(-1, GRID, GRID)[:, ::TILE_STEP, ::TILE_STEP]
        scale = _symmetric_scale(pictures)
        layers.append({"neurons": int(values.shape[1]), "scale": scale,
                       "data": encode(to_bytes(pictures, -scale, scale))})
    return layers


def weights(session: Session) -> list[list[list[float]]]:
    """Each weight layer as rows (outputs) of columns (inputs), rounded; a Maxout layer's
    two pieces per neuron shown as the larger in size."""
    layers = []
    for layer in weight_layers(session.model):
        W = layer.weight.detach().numpy().astype(np.float64)
        owner = next((m for m in session.model if isinstance(m, nn.Maxout)
                      and m.linear is layer), None)
        if owner is not None:
            pieces = W.reshape(owner.out_features, owner.pieces, -1)
            pick = np.abs(pieces).argmax(axis=1)[:, None, :]
            W = np.take_along_axis(pieces, pick, axis=1)[:, 0, :]
        layers.append(np.round(np.nan_to_num(W, posinf=1e6, neginf=-1e6), 4).tolist())
    return layers


def feature_tiles(session: Session) -> dict[str, Any]:
    """Each input feature over the grid (the first column of the drawn network)."""
    values = session.grid.numpy().astype(np.float64)
    pictures = values.T.reshape(-1, GRID, GRID)[:, ::TILE_STEP, ::TILE_STEP]
    scales = [_symmetric_scale(p) for p in pictures]
    return {"neurons": len(scales), "scales": scales,
            "data": encode(np.concatenate([to_bytes(p, -s, s).ravel()
                                           for p, s in zip(pictures, scales, strict=True)]))}


def curve(session: Session) -> list[list[float]]:
    """The loss history thinned to CURVE_POINTS [epoch, train, test] rows (JSON numbers:
    a NaN test loss, when there are no test points, becomes null)."""
    rows = session.history
    if len(rows) > CURVE_POINTS:
        picks = np.linspace(0, len(rows) - 1, CURVE_POINTS).round().astype(int)
        rows = [rows[i] for i in picks]
    return [[round(v, 6) if math.isfinite(v) else None for v in row]  # type: ignore[misc]
            for row in rows]


def build_frame(session: Session, record: bool = True) -> dict[str, Any]:
    """The frame of the session now (``record``: append the losses to the history)."""
    losses = session.record() if record else session.losses()
    session.model.eval()
    try:
        with no_grad():
            outputs, output = hidden_outputs(session, session.grid)
            boundary = _boundary(session, output)
    finally:
        session.model.train()
    return {
        "type": "frame", "step": session.steps, "epoch": round(session.epoch, 3),
        "playing": session.playing, "train_loss": _number(losses["train"]),
        "test_loss": _number(losses["test"]), "boundary": boundary,
        "layers": _tiles(outputs), "weights": weights(session),
        "grad_norms": [_number(v) for v in session.grad_norms()], "curve": curve(session),
        "stopped": session.stopped_because,
    }


def _number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def data_message(session: Session) -> dict[str, Any]:
    """The points, their split, the drawn square and the feature tiles: sent when the data
    change, not with every frame."""
    split = np.zeros(len(session.points), dtype=np.int8)
    split[session.test_idx] = 1
    return {
        "type": "data", "setup": session.setup, "box": list(session.box),
        "points": np.round(session.points, 5).tolist(),
        "labels": np.round(session.labels, 5).tolist(), "test": split.tolist(),
        "classes": session.classes, "regression": session.regression,
        "features": feature_tiles(session), "grid": GRID, "tile": GRID // TILE_STEP,
        "parameters": sum(p.numel() for p in session.model.parameters()),
    }

