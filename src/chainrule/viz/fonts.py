"""Chinese text in figures: find a font with Chinese characters.

matplotlib's own font (DejaVu Sans) has no Chinese characters: they would be drawn as
empty boxes. :func:`cjk_font_file` looks for a font that has them: a full CJK font first
(pip packages that ship one: ``noto-cjk-sans-otc``, ``pylopdf-fonts-zh-cn``; then the usual
system places: WenQuanYi from ``apt install fonts-wqy-microhei``, Noto CJK, macOS's PingFang,
Windows' YaHei/SimHei), else the small font chainrule ships (``font_data/``: WenQuanYi Micro
Hei cut down to the 3,755 common characters of GB 2312 level 1 and every character of the
Chinese catalogue, Apache-2.0, made by ``scripts/make_cjk_font.py``), so Chinese figures work
after a plain ``pip install .``. :func:`figure_language` gives the catalogue and the font
settings a figure uses: Chinese with DejaVu Sans first and the CJK font as the fallback for
the glyphs DejaVu lacks, or English with a one-line notice when ``$CHAINRULE_CJK_FONT`` names
no usable font.

>>> figure_language("en").words("figure.input")
'input'
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chainrule.i18n import Messages, messages

PACKAGES = (("noto_cjk_sans_otc", "NotoSansCJK-Regular.ttc"),
            ("pylopdf_fonts_zh_cn", "NotoSansSC-Regular.otf"))
SYSTEM_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)
BUNDLED = Path(__file__).resolve().parent / "font_data" / "wqy-microhei-subset.ttf"


def cjk_font_file(environ: Mapping[str, str] | None = None) -> str | None:
    """The path of a font with Chinese characters (see the module's search order; the font
    chainrule ships comes last). ``$CHAINRULE_CJK_FONT`` names one explicitly; an empty
    value, or a path that is not a file, gives None (figures stay English).

    >>> Path(cjk_font_file(environ={})).suffix in (".ttc", ".ttf", ".otf")
    True
    """
    env = os.environ if environ is None else environ
    chosen = env.get("CHAINRULE_CJK_FONT")
    if chosen is not None:
        return chosen if chosen and os.path.isfile(chosen) else None
    for package, name in PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            for folder in spec.submodule_search_locations:
                path = Path(folder) / name
                if path.is_file():
                    return str(path)
    for path_text in SYSTEM_FILES:
        if os.path.isfile(path_text):
            return path_text
    return str(BUNDLED) if BUNDLED.is_file() else None


@functools.cache
def register(path: str) -> str:
    """Add the font file to matplotlib's font list (once per file); returns its family name."""
    import logging

    from matplotlib import font_manager

    font_manager.fontManager.addfont(path)
    family = str(font_manager.FontProperties(fname=path).get_name())
    # the CJK fonts have no bold face: matplotlib would log a line per bold title each time
    # a figure is drawn (saved or shown), long after it was made
    logging.getLogger("matplotlib.font_manager").addFilter(_NoBoldFilter(family))
    return family


class _NoBoldFilter:
    """Drops font_manager's "Failed to find font weight bold for FAMILY" lines for FAMILY."""

    def __init__(self, family: str) -> None:
        self.family = family

    def filter(self, record: Any) -> bool:
        message = record.getMessage()
        return not (message.startswith("findfont: Failed to find font weight")
                    and self.family in message)


@dataclass
class FigureLanguage:
    """What a figure speaks: its catalogue, the font families (None: matplotlib's
    default) and, when Chinese was asked for but cannot be drawn, why not."""

    words: Messages
    families: list[str] | None = None
    notice: str | None = None

    @contextmanager
    def fonts(self) -> Iterator[None]:
        """Text made inside this block uses the families (DejaVu Sans, then the CJK font)."""
        if self.families is None:
            yield
            return
        from matplotlib import rc_context

        with rc_context({"font.family": self.families}):
            yield


def figure_language(lang: str | None = None) -> FigureLanguage:
    """The catalogue and fonts for a figure in ``lang`` (see :func:`chainrule.i18n.resolve`):
    Chinese needs a CJK font (:func:`cjk_font_file`); without one the figure stays English
    and ``notice`` says what to install."""
    words = messages(lang)
    if words.lang != "zh":
        return FigureLanguage(words)
    path = cjk_font_file()
    if path is None:
        return FigureLanguage(messages("en"), notice=words("viz.no_cjk_font"))
    return FigureLanguage(words, ["DejaVu Sans", register(path)])


def draw_in(lang: str | None, draw: Callable[..., Any], *args: Any) -> Any:
    """``draw(*args, words)`` with the catalogue and the fonts of :func:`figure_language`
    (``lang``): how a figure function hands its drawing its words.

    >>> draw_in("en", lambda label, words: words(label), "figure.input")
    'input'
    """
    language = figure_language(lang)
    with language.fonts():
        return draw(*args, language.words)


def uses_font(fig: Any, family: str) -> bool:
    """Whether some text of ``fig`` asks for the font ``family`` (for tests)."""
    texts = list(fig.texts)
    for ax in fig.axes:
        texts += list(ax.texts) + [ax.title, ax._left_title, ax._right_title]
    if getattr(fig, "_suptitle", None) is not None:
        texts.append(fig._suptitle)
    return any(family in text.get_fontfamily() for text in texts)
