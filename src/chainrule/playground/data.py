"""The playground's points: the toy sets, the regression surfaces, uploaded CSV files, the
train/test split, the input features and the grid the boundary is drawn on.

Points are float64 NumPy arrays ``(n, 2)`` with labels ``(n,)`` (a class index, or the
value to fit in regression). The same setup gives the same points: everything is drawn from
``numpy.random.default_rng(seed)``, and the classification sets are chainrule's own toy sets
(:mod:`chainrule.data.toy`), so a run trained with ``chainrule train --dataset spiral`` sees
the same kind of data.

>>> from chainrule.playground.options import check_setup
>>> points, labels = generate(check_setup({"data": "xor", "points": 100}))
>>> points.shape, sorted(set(labels.tolist()))
((100, 2), [0.0, 1.0])
>>> feature_matrix(np.array([[0.5, 2.0]]), ["x", "xy", "y2"]).tolist()
[[0.5, 1.0, 4.0]]
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import numpy as np

from chainrule.data import toy
from chainrule.playground.options import MAX_POINTS, SetupError

GRID = 100  # the boundary is drawn from a GRID x GRID field of predictions
TILE_STEP = 2  # neuron tiles: every other grid point (50 x 50)
MAX_CSV_BYTES = 256 * 1024
MAX_ABS = 1e3  # coordinates and values beyond this are refused, not clipped

FEATURE_FUNCTIONS = {
    "x": lambda x, y: x, "y": lambda x, y: y, "x2": lambda x, y: x * x,
    "y2": lambda x, y: y * y, "xy": lambda x, y: x * y, "sinx": lambda x, y: np.sin(x),
    "siny": lambda x, y: np.sin(y),
}


def _plane(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    points = rng.uniform(-1, 1, (n, 2))
    return points, (points[:, 0] + points[:, 1]) / 2 + rng.normal(0, noise, n)


# multigauss: bumps of either sign, as TensorFlow Playground's "multi-Gaussian" surface
_BUMPS = ((-0.5, 0.5, 1), (0.5, 0.5, -1), (-0.5, -0.5, -1), (0.5, -0.5, 1), (0, 0, 1))


def _multigauss(n: int, noise: float, rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray]:
    points = rng.uniform(-1, 1, (n, 2))
    value = np.zeros(n)
    for cx, cy, sign in _BUMPS:
        value += sign * np.exp(-((points[:, 0] - cx) ** 2 + (points[:, 1] - cy) ** 2) / 0.08)
    return points, np.clip(value, -1, 1) + rng.normal(0, noise, n)


def generate(setup: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The generated points of ``setup`` (its clicked points not included)."""
    n, noise, seed = setup["points"], setup["noise"], setup["seed"]
    name = setup["data"]
    if name in ("plane", "multigauss"):
        maker = _plane if name == "plane" else _multigauss
        return maker(n, noise, np.random.default_rng(seed))
    if name == "spiral":
        X, y = toy.make_spiral(n, classes=setup["classes"], noise=noise, seed=seed)
    elif name == "gaussians":
        X, y = toy.make_gaussians(n, centers=setup["classes"], std=0.3 + 2 * noise, seed=seed)
    elif name == "circles":
        X, y = toy.make_circles(n, noise=noise, seed=seed)
    else:
        X, y = toy.TOY_SETS[name](n, noise=noise, seed=seed)
    return X.numpy().astype(np.float64), y.numpy().astype(np.float64)


def with_added(points: np.ndarray, labels: np.ndarray, added: list[list[float]]
               ) -> tuple[np.ndarray, np.ndarray]:
    """The points with the clicked ones appended (all of them training points)."""
    if not added:
        return points, labels
    extra = np.asarray(added, dtype=np.float64).reshape(-1, 3)
    return np.concatenate([points, extra[:, :2]]), np.concatenate([labels, extra[:, 2]])


def split(n: int, ratio: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and the test points: a seeded shuffle, the first ``ratio``
    of it for training (at least one point on each side)."""
    order = np.random.default_rng(seed + 1).permutation(n)
    cut = min(max(1, round(ratio * n)), n - 1) if n > 1 else n
    return np.sort(order[:cut]), np.sort(order[cut:])


def feature_matrix(points: np.ndarray, names: list[str]) -> np.ndarray:
    """The network's inputs: one column per chosen feature of the (x, y) points."""
    x, y = points[:, 0], points[:, 1]
    return np.stack([FEATURE_FUNCTIONS[name](x, y) for name in names], axis=1)


def view_box(points: np.ndarray) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1): a square around the points with a 10% margin (the drawn area)."""
    if len(points) == 0:
        return -1.0, 1.0, -1.0, 1.0
    low, high = points.min(axis=0), points.max(axis=0)
    centre, half = (low + high) / 2, max(float((high - low).max()) / 2, 0.5) * 1.1
    return (float(centre[0] - half), float(centre[0] + half), float(centre[1] - half),
            float(centre[1] + half))


def grid_points(box: tuple[float, float, float, float], size: int = GRID) -> np.ndarray:
    """(size * size, 2) cell centres, row by row from the top (y high) to the bottom, as the
    page draws them."""
    x0, x1, y0, y1 = box
    xs = x0 + (np.arange(size) + 0.5) * (x1 - x0) / size
    ys = y1 - (np.arange(size) + 0.5) * (y1 - y0) / size
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def parse_csv(text: Any, problem: str) -> tuple[np.ndarray, np.ndarray]:
    """Points from CSV text with the columns x, y, label (a header line is allowed).

    Classification labels are class numbers 0 to 5; regression labels any number. Refused,
    with the line number: more than MAX_CSV_BYTES or MAX_POINTS rows, a row without exactly
    three columns, a value that is not a number, NaN, infinite or larger than 1000.
    """
    if not isinstance(text, str):
        raise SetupError("csv", "expected the file's text")
    size = len(text.encode("utf-8", "replace"))
    if size > MAX_CSV_BYTES:
        raise SetupError("csv", f"the file has {size:,} bytes, at most {MAX_CSV_BYTES:,}")
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if rows and not _is_number(rows[0][0]):
        rows = rows[1:]  # a header line
    if not rows:
        raise SetupError("csv", "no data rows (expected lines of x, y, label)")
    if len(rows) > MAX_POINTS:
        raise SetupError("csv", f"{len(rows):,} rows, at most {MAX_POINTS:,}")
    values = np.empty((len(rows), 3))
    for line, row in enumerate(rows, start=1):
        if len(row) != 3:
            raise SetupError("csv", f"data row {line} has {len(row)} columns, expected 3 "
                             "(x, y, label)")
        for j, cell in enumerate(row):
            if not _is_number(cell):
                raise SetupError("csv", f"data row {line}: {cell.strip()!r:.20} is not a number")
            value = float(cell)
            if not math.isfinite(value) or abs(value) > MAX_ABS:
                raise SetupError("csv", f"data row {line}: {cell.strip()!r:.20} is NaN, "
                                 f"infinite or beyond +-{MAX_ABS:g}")
            values[line - 1, j] = value
    labels = values[:, 2]
    if problem == "classification":
        if not np.all((labels == np.round(labels)) & (labels >= 0) & (labels <= 5)):
            raise SetupError("csv", "classification labels must be class numbers 0 to 5")
        if len(np.unique(labels)) < 2:
            raise SetupError("csv", "all points have the same class: at least 2 are needed")
    return values[:, :2], labels


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
