"""The playground's setup: every choice on the page, its default, its limits, and the checks.

A setup is a plain dict (what the page sends and what its URL holds). :func:`check_setup`
fills in defaults and refuses anything else with a :class:`SetupError` naming the option,
the value and what is allowed, so a malformed or hostile message never reaches the model.
The caps (layers, neurons, points) keep one session's memory and step time small.

>>> setup = check_setup({"data": "spiral", "hidden": [8, 8, 8]})
>>> setup["activation"], setup["hidden"], setup["features"]
('tanh', [8, 8, 8], ['x', 'y'])
>>> try:
...     check_setup({"hidden": [8] * 9})
... except SetupError as error:
...     print(error)
hidden: 9 hidden layers, at most 8
"""

from __future__ import annotations

import math
from typing import Any

CLASSIFICATION_SETS = ("circles", "xor", "gaussians", "spiral", "moons")
REGRESSION_SETS = ("plane", "multigauss")
FEATURES = ("x", "y", "x2", "y2", "xy", "sinx", "siny")
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "gelu", "softplus",
               "maxout", "linear")
LOSSES = ("cross_entropy", "mse")
OPTIMIZERS = ("sgd", "momentum", "adam")
REGULARIZATIONS = ("none", "l1", "l2")

MAX_LAYERS = 8
MAX_NEURONS = 32  # wide enough for the tutorials' 20-neuron capacity net
MAX_POINTS = 2000  # generated, uploaded and clicked points together
MAX_ADDED = 200  # points added by clicking (they travel in the URL)
MAX_SEED = 2**31 - 1

DEFAULTS: dict[str, Any] = {
    "problem": "classification", "data": "circles", "points": 400, "noise": 0.1,
    "classes": 2, "ratio": 0.5, "features": ["x", "y"], "hidden": [8, 8],
    "activation": "tanh", "loss": "cross_entropy", "optimizer": "adam", "lr": 0.03,
    "batch_size": 10, "regularization": "none", "reg_rate": 0.001, "dropout": 0.0,
    "input_noise": 0.0, "seed": 0, "added": [],
}


class SetupError(ValueError):
    """A setup value is not allowed; ``key`` names the option (the page highlights it)."""

    def __init__(self, key: str, text: str) -> None:
        super().__init__(f"{key}: {text}")
        self.key, self.text = key, text


def _number(key: str, value: Any, low: float, high: float, integer: bool = False) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SetupError(key, f"expected a number from {low:g} to {high:g}, got {value!r:.40}")
    if not math.isfinite(value) or not low <= value <= high:
        raise SetupError(key, f"{value!r:.40} is outside {low:g} .. {high:g}")
    if integer:
        if value != int(value):
            raise SetupError(key, f"expected a whole number, got {value!r:.40}")
        return int(value)
    return float(value)


def _choice(key: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise SetupError(key, f"{value!r:.40} is not one of {', '.join(choices)}")
    return str(value)


def _hidden(value: Any) -> list[int]:
    if not isinstance(value, list):
        raise SetupError("hidden", f"expected a list of layer widths, got {value!r:.40}")
    if len(value) > MAX_LAYERS:
        raise SetupError("hidden", f"{len(value)} hidden layers, at most {MAX_LAYERS}")
    return [_number("hidden", width, 1, MAX_NEURONS, integer=True) for width in value]


def _features(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise SetupError("features", f"expected a non-empty list of {', '.join(FEATURES)}")
    chosen = {_choice("features", name, FEATURES) for name in value}
    return [name for name in FEATURES if name in chosen]  # in the page's order, no repeats


def _added(value: Any, problem: str) -> list[list[float]]:
    if not isinstance(value, list):
        raise SetupError("added", "expected a list of [x, y, label] points")
    if len(value) > MAX_ADDED:
        raise SetupError("added", f"{len(value)} added points, at most {MAX_ADDED}")
    points = []
    for point in value:
        if not isinstance(point, list) or len(point) != 3:
            raise SetupError("added", f"expected [x, y, label], got {point!r:.40}")
        x, y = (_number("added", v, -1e3, 1e3) for v in point[:2])
        if problem == "classification":
            label = float(_number("added", point[2], 0, 5, integer=True))
        else:
            label = _number("added", point[2], -1e3, 1e3)
        points.append([x, y, label])
    return points


def check_setup(given: Any) -> dict[str, Any]:
    """``given`` with defaults filled in and every value checked (SetupError otherwise)."""
    if not isinstance(given, dict):
        raise SetupError("setup", f"expected an object of options, got {type(given).__name__}")
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise SetupError(unknown[0], f"unknown option (the options are "
                         f"{', '.join(DEFAULTS)})")
    s = {**DEFAULTS, **given}
    s["problem"] = _choice("problem", s["problem"], ("classification", "regression"))
    sets = CLASSIFICATION_SETS if s["problem"] == "classification" else REGRESSION_SETS
    s["data"] = _choice("data", s["data"], sets + ("csv",))
    s["points"] = _number("points", s["points"], 10, MAX_POINTS, integer=True)
    s["noise"] = _number("noise", s["noise"], 0, 1)
    s["classes"] = _number("classes", s["classes"], 2, 6, integer=True)
    s["ratio"] = _number("ratio", s["ratio"], 0.1, 0.9)
    s["features"] = _features(s["features"])
    s["hidden"] = _hidden(s["hidden"])
    s["activation"] = _choice("activation", s["activation"], ACTIVATIONS)
    s["loss"] = _choice("loss", s["loss"], LOSSES)
    if s["problem"] == "regression" and s["loss"] != "mse":
        raise SetupError("loss", "regression trains with mse (cross-entropy needs classes)")
    s["optimizer"] = _choice("optimizer", s["optimizer"], OPTIMIZERS)
    s["lr"] = _number("lr", s["lr"], 1e-6, 10)
    s["batch_size"] = _number("batch_size", s["batch_size"], 1, MAX_POINTS, integer=True)
    s["regularization"] = _choice("regularization", s["regularization"], REGULARIZATIONS)
    s["reg_rate"] = _number("reg_rate", s["reg_rate"], 0, 10)
    s["dropout"] = _number("dropout", s["dropout"], 0, 0.9)
    s["input_noise"] = _number("input_noise", s["input_noise"], 0, 2)
    s["seed"] = _number("seed", s["seed"], 0, MAX_SEED, integer=True)
    s["added"] = _added(s["added"], s["problem"])
    if s["problem"] == "classification" and any(p[2] >= s["classes"] for p in s["added"]):
        raise SetupError("added", f"a clicked point's class is not below classes "
                         f"({s['classes']})")
    return s
