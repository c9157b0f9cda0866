"""Matplotlib access for chainrule.viz: imported lazily, headless (Agg), no pyplot state."""

from __future__ import annotations

import os
from typing import Any


def new_figure(width: float, height: float) -> Any:
    """A Figure on the Agg canvas (works without a display; no global pyplot figures)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - depends on the install
        raise ImportError("chainrule.viz needs matplotlib: pip install 'chainrule[viz]'"
                          ) from None
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
