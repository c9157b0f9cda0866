"""Seeded 2-D toy data sets for teaching and the playground.

Each returns ``(X, y)``: X a float32 Tensor (n, 2), y an int64 Tensor (n,) of class
labels. The same seed gives the same points.

>>> X, y = make_spiral(300, classes=3, seed=0)
>>> X.shape, sorted(set(y.tolist()))
(chainrule.Size([300, 2]), [0, 1, 2])
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from chainrule.tensor import Tensor


def _pack(points: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
          shuffle: bool = True) -> tuple[Tensor, Tensor]:
    if shuffle:
        order = rng.permutation(len(labels))
        points, labels = points[order], labels[order]
    return Tensor._wrap(points.astype(np.float32)), Tensor._wrap(labels.astype(np.int64))


def _split(n: int, parts: int) -> list[int]:
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


def make_circles(n: int = 200, noise: float = 0.05, factor: float = 0.5,
                 seed: int = 0) -> tuple[Tensor, Tensor]:
    """Two concentric circles: class 0 outside, class 1 inside (radius ``factor``)."""
    if not 0 < factor < 1:
        raise ValueError(f"make_circles: factor must be in (0, 1), got {factor}")
    rng = np.random.default_rng(seed)
    n_out, n_in = _split(n, 2)
    t_out = rng.uniform(0, 2 * np.pi, n_out)
    t_in = rng.uniform(0, 2 * np.pi, n_in)
    points = np.concatenate([np.c_[np.cos(t_out), np.sin(t_out)],
                             factor * np.c_[np.cos(t_in), np.sin(t_in)]])
    points += rng.normal(0, noise, points.shape)
    return _pack(points, np.r_[np.zeros(n_out), np.ones(n_in)], rng)


def make_moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Two interleaving half circles."""
    rng = np.random.default_rng(seed)
    n_a, n_b = _split(n, 2)
    t_a = rng.uniform(0, np.pi, n_a)
    t_b = rng.uniform(0, np.pi, n_b)
    points = np.concatenate([np.c_[np.cos(t_a), np.sin(t_a)],
                             np.c_[1 - np.cos(t_b), 0.5 - np.sin(t_b)]])
    points += rng.normal(0, noise, points.shape)
    return _pack(points, np.r_[np.zeros(n_a), np.ones(n_b)], rng)


def make_xor(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Four clusters at (+-1, +-1); the label is 1 where the signs differ (XOR)."""
    rng = np.random.default_rng(seed)
    corners = rng.integers(0, 2, (n, 2))
    points = (2.0 * corners - 1) + rng.normal(0, noise, (n, 2))
    return _pack(points, corners[:, 0] ^ corners[:, 1], rng, shuffle=False)


def make_spiral(n: int = 300, classes: int = 3, noise: float = 0.2,
                seed: int = 0) -> tuple[Tensor, Tensor]:
    """``classes`` interleaved spiral arms (the classic 'not linearly separable' set)."""
    rng = np.random.default_rng(seed)
    points, labels = [], []
    for k, m in enumerate(_split(n, classes)):
        r = np.linspace(0.0, 1.0, m)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, m) + rng.normal(0, noise, m)
        points.append(np.c_[r * np.sin(t), r * np.cos(t)])
        labels.append(np.full(m, k))
    return _pack(np.concatenate(points), np.concatenate(labels), rng)


def make_gaussians(n: int = 300, centers: int = 3, std: float = 0.5, spread: float = 3.0,
                   seed: int = 0) -> tuple[Tensor, Tensor]:
    """Gaussian blobs around ``centers`` points evenly spaced on a circle of radius ``spread``."""
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(centers) / centers
    means = spread * np.c_[np.cos(angles), np.sin(angles)]
    points, labels = [], []
    for k, m in enumerate(_split(n, centers)):
        points.append(means[k] + rng.normal(0, std, (m, 2)))
        labels.append(np.full(m, k))
    return _pack(np.concatenate(points), np.concatenate(labels), rng)


TOY_SETS: dict[str, Callable[..., tuple[Tensor, Tensor]]] = {
    "circles": make_circles, "moons": make_moons, "xor": make_xor, "spiral": make_spiral,
    "gaussians": make_gaussians,
}
