"""Gradient descent as a picture: paths on a 1-D and a 2-D loss surface, from several starts
and with several learning rates, each step's gradient taken by chainrule's autograd.

Both surfaces have two minima, a global one on the left and a local one on the right:

    1-D: f(x) = x^4 - 3 x^2 + x               minima near x = -1.30 (global), 1.13 (local)
    2-D: f(x, y) = (x^2 - 1)^2 / 2 + 0.3 x + 5 y^2   minima near (-1.07, 0) and (0.91, 0)

Where a path ends depends on where it starts (the side of the hump between the minima),
and how it gets there on the learning rate: too small crawls, too large zig-zags across
the steep direction of the valley or flies off.

>>> path = descend(surface_1d, [0.5], lr=0.02, steps=300)
>>> which_minimum(path[-1], MINIMA_1D)
'local'
>>> which_minimum(descend(surface_1d, [0.0], lr=0.02, steps=300)[-1], MINIMA_1D)
'global'
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule import creation
from chainrule.autograd.grad_mode import no_grad
from chainrule.i18n import Messages, messages, pad
from chainrule.tensor import Tensor
from chainrule.viz.fonts import draw_in


def surface_1d(p: Tensor) -> Tensor:
    """f(x) = x^4 - 3 x^2 + x for p = (x,)."""
    x = p[0]
    return x ** 4 - 3 * x ** 2 + x


def surface_2d(p: Tensor) -> Tensor:
    """f(x, y) = (x^2 - 1)^2 / 2 + 0.3 x + 5 y^2: a valley along x, steep across it in y."""
    x, y = p[0], p[1]
    return 0.5 * (x ** 2 - 1) ** 2 + 0.3 * x + 5 * y ** 2


# where f' = 0: the roots of 4x^3 - 6x + 1 and of 2x^3 - 2x + 0.3 (numpy.roots)
MINIMA_1D = {"global": np.array([-1.30083957]), "local": np.array([1.13090112])}
MINIMA_2D = {"global": np.array([-1.06792301, 0.0]), "local": np.array([0.91429732, 0.0])}
STARTS_1D = [-2.0, -0.6, 0.0, 0.5, 1.9]
STARTS_2D = [(-1.9, 1.2), (-0.3, -1.4), (0.15, 1.5), (0.6, -1.3), (1.9, 0.9)]
RATES_1D = [0.002, 0.02, 0.13, 0.16]
RATES_2D = [0.02, 0.08, 0.17, 0.22]
RATE_START_1D, RATE_START_2D = [-0.2], (1.8, 1.0)


def descend(fn: Callable[[Tensor], Tensor], start: Sequence[float], lr: float, steps: int
            ) -> np.ndarray:
    """The points of gradient descent p <- p - lr * grad f(p) from ``start``, the gradient
    from ``backward``; stops early when the point flies off (|p| > 1e3 or not finite).
    Returns an array (points, dims), the start first."""
    p = creation.tensor(np.asarray(start, dtype=np.float64), requires_grad=True)
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        fn(p).backward()
        grad = p.grad
        assert grad is not None
        with no_grad():
            p -= lr * grad
        p.grad = None
        point = p.detach().numpy().copy()
        path.append(point)
        if not np.all(np.isfinite(point)) or np.abs(point).max() > 1e3:
            break
    return np.array(path)


def which_minimum(point: np.ndarray, minima: dict[str, np.ndarray], tol: float = 1e-2
                  ) -> str:
    """'global', 'local', 'diverged' or 'none' (still moving after the steps)."""
    if not np.all(np.isfinite(point)) or np.abs(point).max() > 1e3:
        return "diverged"
    for name, where in minima.items():
        if np.abs(point - where).max() < tol:
            return name
    return "none"


def steps_to_arrive(path: np.ndarray, minima: dict[str, np.ndarray], tol: float = 1e-2
                    ) -> int | None:
    """The first step after which the path stays within ``tol`` of the minimum it ends in."""
    end = which_minimum(path[-1], minima, tol)
    if end not in minima:
        return None
    near = np.abs(path - minima[end]).max(axis=1) < tol
    far = np.flatnonzero(~near)
    return int(far[-1] + 1) if far.size else 0


@dataclass
class Run:
    start: tuple[float, ...]
    lr: float
    path: np.ndarray
    end: str
    steps: int | None
    loss: float


def _run(fn: Callable[[Tensor], Tensor], minima: dict[str, np.ndarray], start: Sequence[float],
         lr: float, steps: int) -> Run:
    path = descend(fn, start, lr, steps)
    last = path[-1]
    loss = float(fn(creation.tensor(last)).item()) if np.all(np.isfinite(last)) else np.inf
    return Run(tuple(float(v) for v in start), lr, path, which_minimum(last, minima),
               steps_to_arrive(path, minima), loss)


def gradient_descent(quick: bool = False, save: str | os.PathLike[str] | None = None,
                     file: Any = "stdout", lang: str | None = None) -> dict[str, list[Run]]:
    """Run every path, print what they reached (``lang``: the language, see
    :func:`chainrule.i18n.resolve`), draw the figure (when ``save`` is given; in ``lang``
    too when a font with Chinese characters is found, else in English)."""
    say = messages(lang)
    steps = 120 if quick else 400
    runs = {
        "1d_starts": [_run(surface_1d, MINIMA_1D, [s], 0.02, steps) for s in STARTS_1D],
        "1d_rates": [_run(surface_1d, MINIMA_1D, RATE_START_1D, lr, steps) for lr in RATES_1D],
        "2d_starts": [_run(surface_2d, MINIMA_2D, s, 0.05, steps) for s in STARTS_2D],
        "2d_rates": [_run(surface_2d, MINIMA_2D, RATE_START_2D, lr, steps) for lr in RATES_2D],
    }
    lines = [say("descent.title", steps=steps), say("descent.surface_1d")]
    lines += _table(runs["1d_starts"], say)
    lines += _table(runs["1d_rates"], say)
    lines += ["", say("descent.surface_2d")]
    lines += _table(runs["2d_starts"], say)
    lines += _table(runs["2d_rates"], say)
    lines += ["", say("descent.moral")]
    if file is not None:
        print("\n".join(lines), file=file if file != "stdout" else None)
    if save is not None:
        draw_descent(runs, save, lang)
    return runs


def _table(runs: list[Run], say: Messages) -> list[str]:
    rows = [""]
    for run in runs:
        start = ", ".join(f"{v:g}" for v in run.start)
        label = say("descent.from", start=start, lr=f"{run.lr:g}")
        end = ", ".join(f"{v:.4f}".replace("-0.0000", "0.0000") for v in run.path[-1])
        steps = len(run.path) - 1
        if run.end == "diverged":
            what = say("descent.diverged", steps=steps)
        elif run.end == "none":
            how = say("descent.bounces" if bounces(run.path) else "descent.moving")
            what = say("descent.none", steps=steps, how=how, end=end, loss=f"{run.loss:.4f}")
        else:
            what = say("descent.reached", which=say(f"descent.{run.end}"), steps=run.steps,
                       end=end, loss=f"{run.loss:.4f}")
        rows.append(f"  {pad(label, 28)} -> {what}")
    return rows


def _ended(run: Run, words: Messages) -> str:
    """Where the run ended, for the figure's legend."""
    if run.end == "none":
        return words("fig.descent.bounces" if bounces(run.path) else "fig.descent.moving")
    return words(f"fig.descent.{run.end}")


def bounces(path: np.ndarray, last: int = 20) -> bool:
    """Whether the path's last steps alternate direction (it jumps across a valley)."""
    steps = np.diff(path[-last:], axis=0)
    turns = np.sum(steps[1:] * steps[:-1], axis=1) < 0
    return bool(turns.size and turns.all())


def draw_descent(runs: dict[str, list[Run]], save: str | os.PathLike[str] | None = None,
                 lang: str | None = None) -> Any:
    """Four panels: the 1-D and 2-D paths from several starts, and with several rates;
    titles, labels and legends in ``lang`` (see :func:`chainrule.viz.fonts.figure_language`).

    >>> fig = draw_descent(gradient_descent(quick=True, file=None), lang="en")
    >>> fig.axes[0].get_xlabel(), fig.axes[1].get_xlabel()
    ('x', 'step')
    """
    return draw_in(lang, _draw_descent, runs, save)


def _draw_descent(runs: dict[str, list[Run]], save: str | os.PathLike[str] | None,
                  words: Messages) -> Any:
    from chainrule.viz._mpl import finish, new_figure

    fig = new_figure(13, 9.5)
    axes = fig.subplots(2, 2)
    xs = np.linspace(-2.2, 2.1, 400)
    curve = xs ** 4 - 3 * xs ** 2 + xs
    ax = axes[0][0]
    ax.plot(xs, curve, color="#555555", linewidth=1.2)
    for run in runs["1d_starts"]:
        path = run.path[:, 0]
        ax.plot(path, path ** 4 - 3 * path ** 2 + path, "o-", markersize=2.5, linewidth=0.8,
                label=words("fig.descent.start", start=f"{run.start[0]:g}",
                            end=_ended(run, words)))
    ax.set_ylim(-4.2, 6)
    ax.set_title(words("fig.descent.starts", dims=1, lr=f"{runs['1d_starts'][0].lr:g}"),
                 fontsize=10)
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.legend(fontsize=7.5)
    ax = axes[0][1]
    for run in runs["1d_rates"]:
        ax.plot(run.path[:, 0], "o-", markersize=1.8, linewidth=0.8,
                label=words("fig.descent.rate", lr=f"{run.lr:g}", end=_ended(run, words)))
    for name, where in MINIMA_1D.items():
        ax.axhline(float(where[0]), color="#888888", linestyle="--", linewidth=0.8)
        ax.annotate(words(f"fig.descent.{name}"),
                    (len(runs["1d_rates"][0].path) - 1, float(where[0])),
                    textcoords="offset points", xytext=(0, 4), ha="right", fontsize=8,
                    color="#555555", bbox={"facecolor": "white", "edgecolor": "none",
                                           "alpha": 0.8, "pad": 1}, zorder=5)
    ax.set_title(words("fig.descent.rates", dims=1, start=f"x = {RATE_START_1D[0]:g}"),
                 fontsize=10)
    ax.set_xlabel(words("fig.descent.step"))
    ax.set_ylabel("x")
    ax.legend(fontsize=7.5, loc="center right")
    gx, gy = np.meshgrid(np.linspace(-2.2, 2.2, 200), np.linspace(-1.7, 1.7, 160))
    surface = 0.5 * (gx ** 2 - 1) ** 2 + 0.3 * gx + 5 * gy ** 2
    start_2d = ", ".join(f"{v:g}" for v in RATE_START_2D)
    titles = {"2d_starts": words("fig.descent.starts", dims=2,
                                 lr=f"{runs['2d_starts'][0].lr:g}"),
              "2d_rates": words("fig.descent.rates", dims=2, start=f"({start_2d})")}
    for ax, key in ((axes[1][0], "2d_starts"), (axes[1][1], "2d_rates")):
        ax.contour(gx, gy, surface, levels=-0.35 + np.linspace(0, 3.5, 22) ** 2,
                   cmap="Greys", linewidths=0.6)
        for run in runs[key]:
            outside = np.flatnonzero(np.abs(run.path).max(axis=1) > 3)
            path = run.path[:outside[0] + 1] if outside.size else run.path
            label = (words("fig.descent.start", start=f"({run.start[0]:g}, {run.start[1]:g})",
                           end=_ended(run, words)) if key == "2d_starts"
                     else words("fig.descent.rate", lr=f"{run.lr:g}", end=_ended(run, words)))
            ax.plot(path[:, 0], path[:, 1], "o-", markersize=2, linewidth=0.8, label=label)
        for name, where in MINIMA_2D.items():
            ax.plot(*where, marker="*", markersize=13, color="gold", markeredgecolor="k")
            ax.annotate(words(f"fig.descent.{name}"), where, textcoords="offset points",
                        xytext=(0, -16), ha="center", fontsize=8)
        ax.set_xlim(-2.2, 2.2)
        ax.set_ylim(-1.7, 1.7)
        ax.set_title(titles[key], fontsize=10)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.legend(fontsize=7, loc="upper center")
    fig.suptitle(words("fig.descent.title"), fontsize=11)
    return finish(fig, save)
