"""``draw_network``: a fully connected network drawn neuron by neuron, as the tutorials draw it.

Each column is a layer, each circle a neuron, each line a weight: blue for a positive
weight, red for a negative one, thicker for a larger magnitude (scaled within each layer,
so the small weights of a wide layer stay visible). Given one example ``x``, the neurons
are filled by their activation (white 0, black the layer's largest) and, for small nets,
labelled with their net input and output; given its ``target`` too, the deltas
(dE/dnet, read off the graph after ``backward``) and the output errors are written on as
well. A layer wider than ``max_neurons`` is collapsed: its first and last neurons are drawn
with a gap between them, and its full width is written under it (784-16-16-10 drawn as the
tutorials draw it). The columns come from :mod:`chainrule.viz.network_model` (its names are
importable from here too).

>>> from chainrule import nn
>>> fig = draw_network(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)))
>>> fig.axes[0].get_title()
'3-4-2 network: 26 parameters (20 weights + 6 biases)'
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.i18n import Messages
from chainrule.nn.module import Module
from chainrule.tensor import Tensor
from chainrule.viz._mpl import finish, new_figure
from chainrule.viz.fonts import figure_language
from chainrule.viz.network_model import (
    Layer,
    count_parameters,
    cs231n_nets,
    layers_of,
    record,
    shape_name,
)

__all__ = ["DETAILED_UP_TO", "NEGATIVE", "POSITIVE", "Layer", "count_parameters", "cs231n_nets",
           "draw_cs231n_nets", "draw_network", "layers_of", "record", "shape_name"]

POSITIVE, NEGATIVE = "#1f5fbf", "#d62728"
DETAILED_UP_TO = 6  # layers at most this wide get numbers written beside their neurons


def draw_network(model: Module, x: Any = None, target: Any = None,
                 loss: Callable[[Tensor, Tensor], Tensor] | None = None,
                 max_neurons: int = 16, weight_names: bool | None = None,
                 values: Sequence[str] = ("net", "out", "delta", "error"),
                 weight_text: Callable[[int, int, int, str], str] | None = None,
                 title: str | None = None, ax: Any = None, legend: bool = True,
                 lang: str | None = None,
                 save: str | os.PathLike[str] | None = None) -> Any:
    """Draw a fully connected ``model`` neuron by neuron.

    Args:
        model: Linear layers with elementwise activations between them (a Sequential).
        x: one example; the neurons are then shaded by their activation, and for layers
            of up to 6 neurons their net input and output are written beside them.
        target: the example's target; adds each neuron's delta dE/dnet and the output
            errors (loss: ``loss(out, target)``, default the sum of 1/2 (t - o)^2).
        max_neurons: wider layers are collapsed to this many neurons and a gap.
        weight_names: write w1, w2, ... (and their values) on the lines; default only
            when the net has at most 16 weights.
        values: which numbers to write beside the neurons of a small net: any of "net",
            "out", "delta" (and "error" for the targets and output errors).
        weight_text: ``weight_text(layer, k, j, name)`` is the text on the line of the
            weight ``name`` (w1, w2, ...) from neuron j into neuron k of ``layer`` (1 = the
            first Linear), instead of the weight's name and value.
        title: the axes' title (default: the shape and the parameter count).
        ax: draw into this matplotlib Axes (several networks in one figure).
        legend: explain the colours and thicknesses under the drawing.
        lang: the language of the labels ("en", "zh"; default ``$CHAINRULE_LANG`` or the
            locale); Chinese needs a CJK font (:mod:`chainrule.viz.fonts`), else English.
        save: write the figure as a PNG.

    Returns:
        the matplotlib Figure.
    """
    language = figure_language(lang)
    with language.fonts():
        return _draw_network(model, x, target, loss, max_neurons, weight_names, values,
                             weight_text, title, ax, legend, language.words, save)


def _draw_network(model: Module, x: Any, target: Any,
                  loss: Callable[[Tensor, Tensor], Tensor] | None, max_neurons: int,
                  weight_names: bool | None, values: Sequence[str],
                  weight_text: Callable[[int, int, int, str], str] | None, title: str | None,
                  ax: Any, legend: bool, words: Messages,
                  save: str | os.PathLike[str] | None) -> Any:
    columns = layers_of(model)
    error = record(model, columns, x, target, loss) if x is not None else None
    weights, biases = count_parameters(columns)
    if weight_names is None:
        weight_names = weights <= 16
    for column in columns:
        column.shown = _shown(column.size, max_neurons)
    detailed = x is not None and all(c.size <= DETAILED_UP_TO for c in columns)
    tallest = max(len(c.shown) + (1 if len(c.shown) < c.size else 0) for c in columns)
    gap, row = (4.2, 2.1) if detailed else (2.6, 1.0)
    if ax is None:
        width = gap * 0.62 * (len(columns) - 1) + (3.2 if detailed else 1.6)
        height = max(2.8, (0.62 * row if detailed else 0.36) * tallest + 1.6)
        fig = new_figure(width, height)
        ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_aspect("equal")
    where = _place(columns, gap, row)
    _draw_weights(ax, columns, where, weight_names, detailed, weight_text)
    _draw_neurons(ax, columns, where, detailed, set(values), words)
    if detailed and any(c.bias is not None for c in columns):
        _draw_biases(ax, columns, where, gap, tallest * row / 2 + 0.6)
    if detailed and target is not None and "error" in values:
        _draw_errors(ax, columns[-1], where, target, error, loss is None, words)
    left = -1.0
    if columns[0].size == 28 * 28 and columns[0].out is not None:
        left = _draw_image(ax, columns[0].out, tallest * row / 2, words)
    ax.set_xlim(left, gap * (len(columns) - 1) + (2.6 if detailed else 1.0))
    ax.set_ylim(-tallest * row / 2 - (2.0 if detailed else 1.1),
                tallest * row / 2 + (1.2 if detailed else 0.6))
    if title is None:
        title = words("figure.title", shape=shape_name(columns), total=f"{weights + biases:,}",
                      weights=f"{weights:,}", biases=f"{biases:,}")
    ax.set_title(title, fontsize=10)
    if legend:
        _legend(ax, words)
    return finish(ax.figure, save)


def _shown(size: int, max_neurons: int) -> list[int]:
    if size <= max_neurons:
        return list(range(size))
    head = (max_neurons + 1) // 2
    tail = max_neurons - head
    return list(range(head)) + list(range(size - tail, size))


def _place(columns: list[Layer], gap: float, row: float
           ) -> list[dict[int, tuple[float, float]]]:
    """Each drawn neuron's (x, y): columns ``gap`` apart, neurons ``row`` apart, centred,
    one empty slot where a collapsed layer's hidden neurons would be."""
    where: list[dict[int, tuple[float, float]]] = []
    for depth, column in enumerate(columns):
        slots = len(column.shown) + (1 if len(column.shown) < column.size else 0)
        top = (slots - 1) / 2
        spots: dict[int, tuple[float, float]] = {}
        slot = 0
        for position, neuron in enumerate(column.shown):
            if position > 0 and neuron != column.shown[position - 1] + 1:
                slot += 1  # the gap of a collapsed layer
            spots[neuron] = (gap * depth, (top - slot) * row)
            slot += 1
        where.append(spots)
    return where


def _neuron_name(columns: list[Layer], depth: int, k: int) -> str:
    """The tutorials' names: i1, h1 (h1_1 with several hidden layers), o1; a digit
    classifier's outputs are the digits 0-9."""
    if depth == 0:
        return f"i{k + 1}"
    if depth == len(columns) - 1:
        digits = columns[0].size == 28 * 28 and columns[-1].size == 10
        return str(k) if digits else f"o{k + 1}"  # a digit classifier: the digit it scores
    return f"h{k + 1}" if len(columns) == 3 else f"h{depth}_{k + 1}"


def _draw_weights(ax: Any, columns: list[Layer], where: list[dict[int, tuple[float, float]]],
                  names: bool, detailed: bool,
                  weight_text: Callable[[int, int, int, str], str] | None) -> None:
    number = 1
    for depth in range(1, len(columns)):
        W = columns[depth].weight
        assert W is not None
        scale = float(np.abs(W).max()) or 1.0
        dense = len(columns[depth].shown) * len(columns[depth - 1].shown) > 40
        widest, faintest = (1.4, 0.12) if dense else (2.7, 0.35)
        for k in columns[depth].shown:
            for j in columns[depth - 1].shown:
                (x0, y0), (x1, y1) = where[depth - 1][j], where[depth][k]
                w = float(W[k, j])
                ax.plot([x0, x1], [y0, y1], color=POSITIVE if w >= 0 else NEGATIVE,
                        linewidth=0.25 + widest * abs(w) / scale,
                        alpha=faintest + 0.6 * abs(w) / scale, zorder=1, solid_capstyle="butt")
                if names or weight_text is not None:
                    label = f"w{number + k * W.shape[1] + j}"
                    if weight_text is not None:
                        label = weight_text(depth, k, j, label)
                    elif detailed:
                        label += f" = {w:.4g}"
                    share = 0.28 if k % 2 == 0 else 0.6  # stagger labels on crossing lines
                    ax.text(x0 + share * (x1 - x0), y0 + share * (y1 - y0), label,
                            fontsize=7.5, ha="center", va="center", zorder=4,
                            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white",
                                  "edgecolor": "none", "alpha": 0.9})
        number += W.size


def _shade(column: Layer) -> dict[int, str]:
    if column.out is None:
        return {k: "1.0" for k in column.shown}
    values = np.abs(column.out)
    if _scores(column):
        values = np.exp(column.out - column.out.max())
        values /= values.sum()
    top = max(float(values.max()), 1.0)
    shades = {}
    for k in column.shown:
        level = 1.0 - 0.85 * min(float(values[k]) / top, 1.0)
        shades[k] = str(round(level, 3))  # matplotlib's grey level: "1" white, "0" black
    return shades


def _scores(column: Layer) -> bool:
    """Whether a column is a classifier's output scores (an output layer of several
    neurons with no activation after it): shaded by their softmax probabilities."""
    return column.name == "output" and not column.activation and column.size > 1


def _caption(column: Layer, words: Messages) -> str:
    """The layer's name in the figure's language: input, hidden 1, ..., output."""
    if column.name in ("input", "output"):
        return words(f"figure.{column.name}")
    return words("figure.hidden", depth=column.name.split()[-1])


def _draw_neurons(ax: Any, columns: list[Layer], where: list[dict[int, tuple[float, float]]],
                  detailed: bool, values: set[str], words: Messages) -> None:
    from matplotlib.patches import Circle

    radius = 0.3 if detailed else 0.22
    for depth, column in enumerate(columns):
        shades = _shade(column)
        for k in column.shown:
            cx, cy = where[depth][k]
            ax.add_patch(Circle((cx, cy), radius, facecolor=shades[k], edgecolor="#333333",
                                linewidth=1.0, zorder=3))
            fill = float(shades[k])
            if detailed or column.size <= 16:
                name = _neuron_name(columns, depth, k)
                ax.text(cx, cy, name if detailed or len(name) <= 3 else str(k + 1),
                        fontsize=8 if detailed else 6, ha="center", va="center", zorder=5,
                        color="white" if fill < 0.5 else "black")
            if detailed:
                ax.text(cx, cy - radius - 0.08, _values(column, k, values), fontsize=7.5,
                        ha="center", va="top", zorder=5, color="#222222")
        if len(column.shown) < column.size:
            gap_at = next(i for i in range(1, len(column.shown))
                          if column.shown[i] != column.shown[i - 1] + 1)
            cx, above = where[depth][column.shown[gap_at - 1]]
            _, under = where[depth][column.shown[gap_at]]
            ax.text(cx, (above + under) / 2, "\u22ee", fontsize=13, ha="center", va="center")
        below = min(y for spots in where for _, y in spots.values())
        caption = _caption(column, words) + (f"\n{column.activation}" if column.activation
                                             else "")
        if column.out is not None and _scores(column):
            caption += "\n" + words("figure.softmax")
        if column.size > 16 or len(column.shown) < column.size:
            caption += "\n" + words("figure.neurons", count=column.size)
        ax.text(where[depth][column.shown[0]][0], below - (1.45 if detailed else 0.45),
                caption, fontsize=8, ha="center", va="top", color="#333333")


def _draw_image(ax: Any, pixels: np.ndarray, half_height: float, words: Messages) -> float:
    """The 28x28 input drawn left of the input column (the column shows only some of its
    784 pixels); returns the new left edge of the axes."""
    side = min(2 * half_height, 4.0)
    ax.imshow(pixels.reshape(28, 28), cmap="gray_r", vmin=0.0, vmax=max(1.0, pixels.max()),
              extent=(-1.0 - side, -1.0, -side / 2, side / 2), zorder=2)
    ax.annotate("", xy=(-0.35, 0.0), xytext=(-0.95, 0.0),
                arrowprops={"arrowstyle": "-|>", "color": "#555555"})
    ax.text(-1.0 - side / 2, -side / 2 - 0.3, words("figure.input_image"), ha="center",
            va="top",
            fontsize=8)
    return -1.3 - side


def _values(column: Layer, k: int, values: set[str]) -> str:
    lines = []
    if column.net is not None and "net" in values:
        lines.append(f"net {column.net[k]:.6g}")
    if column.out is not None and ("out" in values or column.net is None):
        lines.append(f"out {column.out[k]:.6g}" if column.net is not None
                     else f"x {column.out[k]:.6g}")
    if column.delta is not None and "delta" in values:
        lines.append(f"\u03b4 {column.delta[k]:.6g}")
    return "\n".join(lines)


def _draw_biases(ax: Any, columns: list[Layer], where: list[dict[int, tuple[float, float]]],
                 gap: float, top: float) -> None:
    """One bias node per layer, above and between the columns, as the tutorial draws b1, b2;
    its value is written on it when the layer's biases are all equal."""
    for depth in range(1, len(columns)):
        bias = columns[depth].bias
        if bias is None:
            continue
        bx = gap * (depth - 0.5)
        same = bool(np.all(bias == bias[0]))
        label = f"b{depth} = {bias[0]:.4g}" if same else f"b{depth}"
        ax.text(bx, top, label, fontsize=7.5, ha="center", va="center", zorder=5,
                bbox={"boxstyle": "square,pad=0.3", "facecolor": "#fff3c4",
                      "edgecolor": "#aa8800"})
        for k in columns[depth].shown:
            cx, cy = where[depth][k]
            ax.plot([bx, cx], [top - 0.15, cy], color="#aa8800", linewidth=0.8,
                    linestyle=(0, (3, 2)), zorder=1)


def _draw_errors(ax: Any, column: Layer, where: list[dict[int, tuple[float, float]]],
                 target: Any, error: float | None, half_squared: bool,
                 words: Messages) -> None:
    targets = np.asarray(target.numpy() if isinstance(target, Tensor) else target,
                         dtype=np.float64).reshape(-1)
    assert column.out is not None
    for k in column.shown:
        cx, cy = where[-1][k]
        text = words("figure.target", value=f"{targets[k]:.4g}")
        if half_squared:
            text += f"\nE_o{k + 1} = {0.5 * (targets[k] - column.out[k]) ** 2:.6g}"
        ax.text(cx + 0.5, cy, text, fontsize=7.5, ha="left", va="center", zorder=5,
                bbox={"boxstyle": "round,pad=0.25", "facecolor": "#f3f3f3",
                      "edgecolor": "#999999"})
    if error is not None:
        low = min(y for _, y in where[-1].values())
        ax.text(where[-1][column.shown[0]][0] + 0.5, low - 1.5, f"E_total = {error:.9g}",
                fontsize=8.5, ha="left", va="top", fontweight="bold")


def _legend(ax: Any, words: Messages) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=POSITIVE, linewidth=2, label=words("figure.positive")),
               Line2D([], [], color=NEGATIVE, linewidth=2, label=words("figure.negative"))]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2,
              fontsize=7, frameon=False, title=words("figure.legend"),
              title_fontsize=7)


def draw_cs231n_nets(seed: int = 0, save: str | os.PathLike[str] | None = None,
                     lang: str | None = None) -> Any:
    """The CS231n notes' two nets side by side, each titled with its parameter count
    (``lang``: the language of the labels, as in :func:`draw_network`).

    >>> [ax.get_title() for ax in draw_cs231n_nets(lang="en").axes]  # doctest: +ELLIPSIS
    ['3-4-2 network: 26 parameters (...)', '3-4-4-1 network: 41 parameters (...)']
    """
    nets = cs231n_nets(seed)
    language = figure_language(lang)
    with language.fonts():
        fig = new_figure(10.5, 3.6)
        for ax, model in zip(fig.subplots(1, 2), nets.values(), strict=True):
            draw_network(model, ax=ax, weight_names=False, lang=language.words.lang)
        return finish(fig, save)
