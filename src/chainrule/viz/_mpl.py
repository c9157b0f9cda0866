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
    per_line = max(int(fig.get_figwidth() * 72 / (0.6 * fontsize)), 20)
    return fig.suptitle(wrap(text, per_line), fontsize=fontsize)


def wrap(text: str, columns: int) -> str:
    """``text`` broken into lines of at most ``columns`` columns, a Chinese character
    counting two (about the width of two Latin letters): English at the spaces, as
    ``textwrap.fill`` does, Chinese between any two characters, never before a closing
    punctuation mark (and there, line breaks already in ``text`` stay).

    >>> print(wrap("loss and accuracy per epoch", 12))
    loss and
    accuracy per
    epoch
    >>> print(wrap("每轮的损失和准确率，训练集与测试集", 12))
    每轮的损失和
    准确率，训练
    集与测试集
    >>> print(wrap("弹性形变（sigma 4，alpha 34）", 24))
    弹性形变（sigma 4，alpha
    34）
    """
    import textwrap

    from chainrule.i18n import display_width

    if display_width(text) == len(text):  # no wide characters: as before
        return textwrap.fill(text, columns)
    return "\n".join(_wrap_wide(line, columns) for line in text.split("\n"))


def _wrap_wide(line: str, columns: int) -> str:
    import re

    from chainrule.i18n import display_width

    # pieces: a Latin word with its following spaces, or one wide character, each with any
    # closing punctuation right after it (which must not start a line)
    closing = "[，。；：、）》」』！？]*"
    pieces = re.findall(rf"[^\s\u2e80-\uffef]+{closing}\s*|\s+|[\u2e80-\uffef]{closing}",
                        line)
    lines, current = [], ""
    for piece in pieces:
        if current and display_width(current + piece.rstrip()) > columns:
            lines.append(current.rstrip())
            current = piece.lstrip()
        else:
            current += piece
    lines.append(current.rstrip())
    return "\n".join(lines)
