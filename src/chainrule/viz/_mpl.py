"""Matplotlib access for chainrule.viz: imported lazily, headless (Agg), no pyplot state."""

from __future__ import annotations

import os
from typing import Any


def new_figure(width: float, height: float) -> Any:
    """A Figure on the Agg canvas (works without a display; no global pyplot figures)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - depends on the install
        raise ImportError("chainrule.viz needs matplotlib (a dependency of chainrule): "
                          "pip install matplotlib") from None
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def finish(fig: Any, save: str | os.PathLike[str] | None) -> Any:
    """Save ``fig`` as PNG when ``save`` is given; return it either way."""
    if save is not None:
        folder = os.path.dirname(os.fspath(save))
        if folder:
            os.makedirs(folder, exist_ok=True)
        fig.savefig(save, format="png")
    return fig


def suptitle(fig: Any, text: str, fontsize: float = 12) -> Any:
    """The figure's title, wrapped into lines that fit its width (a long title on a narrow
    figure would be cut off at both sides)."""
    import textwrap

    per_line = max(int(fig.get_figwidth() * 72 / (0.6 * fontsize)), 20)
    return fig.suptitle(textwrap.fill(text, per_line), fontsize=fontsize)
