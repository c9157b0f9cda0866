"""Second derivatives from autograd: why sigmoid saturates, and Newton's method.

Both halves differentiate twice with ``create_graph=True`` and write no derivative by hand.

1. Sigmoid, tanh and ReLU with their first and second derivatives on [-6, 6]: sigmoid's
   slope peaks at 1/4 (x = 0) and its curvature is largest at x = +-1.317 (where
   sigma'' = -+sqrt(3)/18), after which the slope dies away: the saturation that makes deep
   sigmoid nets learn slowly; tanh's slope peaks at 1; ReLU's is 0 or 1 and its second
   derivative 0 (away from the kink).
2. Newton's method (w -= L'(w) / L''(w)) against gradient descent (w -= lr L'(w)) on a 1-D
   loss, L(w) = log(1 + e^w) - 0.8 w + 0.05 w^2: the steps each needs until |L'(w)| < 1e-10.

>>> found = activation_derivatives(points=201)
>>> round(found["sigmoid"]["peak_slope"], 6), found["sigmoid"]["peak_at"]
(0.25, 0.0)
>>> race = newton_vs_descent(lr=1.0)
>>> race["newton"]["steps"] < 10 < race["descent"]["steps"]
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import chainrule as cr
from chainrule.i18n import messages

ACTIVATIONS = ("sigmoid", "tanh", "relu")


def derivatives(name: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """f, f' and f'' of activation ``name`` at the points ``x``, all from autograd."""
    t = cr.tensor(x, dtype=cr.float64, requires_grad=True)
    y = getattr(cr, name)(t)
    (d1,) = cr.autograd.grad(y.sum(), t, create_graph=True)
    if not d1.requires_grad:  # ReLU: f' is a constant mask, so f'' is 0 (away from 0)
        return y.detach().numpy(), d1.numpy(), np.zeros_like(x)
    (d2,) = cr.autograd.grad(d1.sum(), t, allow_unused=True)
    second = np.zeros_like(x) if d2 is None else d2.numpy()
    return y.detach().numpy(), d1.detach().numpy(), second


def activation_derivatives(points: int = 1201) -> dict[str, dict[str, Any]]:
    """Per activation: its curves and where its slope and curvature peak."""
    x = np.linspace(-6.0, 6.0, points)
    found: dict[str, dict[str, Any]] = {}
    for name in ACTIVATIONS:
        f, d1, d2 = derivatives(name, x)
        found[name] = {"x": x, "f": f, "d1": d1, "d2": d2,
                       "peak_slope": float(d1.max()), "peak_at": float(x[d1.argmax()]),
                       "peak_curvature": float(np.abs(d2).max()),
                       "curvature_at": float(abs(x[np.abs(d2).argmax()])),
                       "slope_at_4": float(d1[np.abs(x - 4).argmin()])}
    return found


def loss(w: Any) -> Any:
    """The 1-D loss of the race: convex, not quadratic (so Newton needs several steps)."""
    return (1 + w.exp()).log() - 0.8 * w + 0.05 * w * w


def _slope_and_curvature(w: float) -> tuple[float, float, float]:
    t = cr.tensor([w], dtype=cr.float64, requires_grad=True)
    value = loss(t).sum()
    (g,) = cr.autograd.grad(value, t, create_graph=True)
    (h,) = cr.autograd.grad(g.sum(), t)
    return float(value.item()), float(g.item()), float(h.item())


def newton_vs_descent(start: float = -4.0, lr: float = 1.0, tol: float = 1e-10,
                      max_steps: int = 10_000) -> dict[str, dict[str, Any]]:
    """Iterates of Newton's method and of gradient descent from ``start``."""
    race: dict[str, dict[str, Any]] = {}
    for method in ("newton", "descent"):
        w, path = start, [start]
        steps = max_steps
        for k in range(max_steps):
            _, g, h = _slope_and_curvature(w)
            if abs(g) < tol:
                steps = k
                break
            w = w - (g / h if method == "newton" else lr * g)
            path.append(w)
        race[method] = {"steps": steps, "w": w, "path": path}
    return race


def report(found: dict[str, dict[str, Any]], race: dict[str, dict[str, Any]], lr: float,
           lang: str | None = "en") -> list[str]:
    """What the example prints, in ``lang`` (the same numbers in English and Chinese)."""
    say = messages(lang)
    lines = [say("second.title")]
    for name in ACTIVATIONS:
        info = found[name]
        lines.append(say("second.row", name=f"{name:8s}", slope=f"{info['peak_slope']:.4f}",
                         at=f"{info['peak_at']:+.2f}",
                         curvature=f"{info['peak_curvature']:.4f}",
                         curvature_at=f"{info['curvature_at']:.3f}",
                         slope4=f"{info['slope_at_4']:.5f}"))
    lines.append(say("second.saturation", slope4=f"{found['sigmoid']['slope_at_4']:.4f}"))
    newton, descent = race["newton"], race["descent"]
    lines.append(say("second.race", lr=f"{lr:g}"))
    lines.append(say("second.newton", steps=newton["steps"], w=f"{newton['w']:.10f}"))
    lines.append(say("second.descent", steps=descent["steps"], w=f"{descent['w']:.10f}"))
    return lines


def plot(found: dict[str, dict[str, Any]], race: dict[str, dict[str, Any]], path: str) -> None:
    """Three activation panels (f, f', f'') and the race: L(w) with the iterates, and
    |L'(w)| per step on a log scale."""
    from chainrule.viz._mpl import finish, new_figure

    fig = new_figure(19, 3.8)
    axes = fig.subplots(1, 5)
    for ax, name in zip(axes[:3], ACTIVATIONS, strict=True):
        info = found[name]
        ax.plot(info["x"], info["f"], label="f", color="#183d4e")
        ax.plot(info["x"], info["d1"], label="f'", color="#0877bd")
        ax.plot(info["x"], info["d2"], label="f''", color="#f59322")
        ax.axhline(0, color="#999", lw=0.5)
        ax.set_title(f"{name}: f, f', f'' (autograd)")
        ax.set_xlabel("x")
        ax.legend(loc="upper left", fontsize=8)
    w = np.linspace(-5, 9, 400)
    values = loss(cr.tensor(w, dtype=cr.float64)).numpy()
    axes[3].plot(w, values, color="#555")
    for method, colour in (("descent", "#f59322"), ("newton", "#0877bd")):
        path_w = np.array(race[method]["path"][:60])
        axes[3].plot(path_w, loss(cr.tensor(path_w, dtype=cr.float64)).numpy(), "o-",
                     ms=3, lw=0.8, color=colour, label=f"{method} ({race[method]['steps']} steps)")
    axes[3].set_title("L(w) and the iterates from w = -4")
    axes[3].set_xlabel("w")
    axes[3].legend(fontsize=8)
    for method, colour in (("descent", "#f59322"), ("newton", "#0877bd")):
        slopes = [abs(_slope_and_curvature(v)[1]) for v in race[method]["path"][:200]]
        axes[4].semilogy(np.maximum(slopes, 1e-17), color=colour, label=method)
    axes[4].set_title("|L'(w)| per step")
    axes[4].set_xlabel("step")
    axes[4].legend(fontsize=8)
    finish(fig, path)


def run(lr: float = 1.0, save: str | None = None, points: int = 1201,
        lang: str | None = "en") -> dict[str, Any]:
    """Print the measurements in ``lang`` (and write the figure to ``save``); returns them."""
    found = activation_derivatives(points)
    race = newton_vs_descent(lr=lr)
    for line in report(found, race, lr, lang):
        print(line)
    if save is not None:
        plot(found, race, save)
    return {"activations": found, "race": race, "sqrt3_over_18": math.sqrt(3) / 18}
