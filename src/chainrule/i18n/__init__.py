"""Message catalogues: every explanation the examples print, in English and in Chinese.

One plain table per language, keyed by a dotted name; a message is a ``str.format`` template.
Each language's table is written in parts so that no file grows past a few hundred lines:
the explanations of the examples (:mod:`~chainrule.i18n.en`, :mod:`~chainrule.i18n.zh`), the
command line's notices and errors (``en_cli``, ``zh_cli``), the picture examples' figures
(``en_figures``, ``zh_figures``), chainrule.viz's figures (``en_viz``, ``zh_viz``) and what
the commands report while they run (``en_report``, ``zh_report``: training's epoch lines,
the model summary, bench, launch);
:data:`CATALOGUES` joins them. The language comes from the caller
(``--lang zh``), else ``$CHAINRULE_LANG``, else the locale (``LC_ALL``, ``LC_MESSAGES``,
``LANG``: ``zh_CN.UTF-8`` picks Chinese), else English. A message missing from a catalogue
falls back to English, never to its key.

>>> say = messages("zh")
>>> say("backprop.forward")
'前向传播 (FORWARD PASS)'
>>> messages("en")("backprop.update", lr="0.5")
'UPDATE (gradient descent, lr = 0.5): w+ = w - lr * dE/dw'
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Mapping
from typing import Any

from chainrule.i18n import (
    en,
    en_cli,
    en_figures,
    en_report,
    en_viz,
    zh,
    zh_cli,
    zh_figures,
    zh_report,
    zh_viz,
)


def _join(*parts: Mapping[str, str]) -> dict[str, str]:
    """One table from its parts; a key in two parts is a bug (the second would hide one)."""
    table: dict[str, str] = {}
    for part in parts:
        twice = table.keys() & part.keys()
        if twice:
            raise KeyError(f"i18n: keys in two parts of one catalogue: {sorted(twice)}")
        table.update(part)
    return table


CATALOGUES: dict[str, Mapping[str, str]] = {
    "en": _join(en.MESSAGES, en_cli.MESSAGES, en_figures.MESSAGES, en_viz.MESSAGES,
                en_report.MESSAGES),
    "zh": _join(zh.MESSAGES, zh_cli.MESSAGES, zh_figures.MESSAGES, zh_viz.MESSAGES,
                zh_report.MESSAGES),
}
ENGLISH = CATALOGUES["en"]
AVAILABLE = tuple(CATALOGUES)
NAMES = {"en": "English", "zh": "中文 (Chinese)"}


class UnknownLanguage(ValueError):
    """A language with no catalogue (the CLI prints it as one line and exits 2)."""


def resolve(lang: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The language to speak: ``lang`` when given, else ``CHAINRULE_LANG``, else a Chinese
    locale picks ``zh``; else ``en``. ``zh-CN``, ``zh_TW.UTF-8`` and ``ZH`` all mean ``zh``.

    >>> resolve("zh_CN.UTF-8"), resolve(None, {"LANG": "zh_CN.UTF-8"}), resolve(None, {})
    ('zh', 'zh', 'en')
    """
    env = os.environ if environ is None else environ
    chosen = lang if lang is not None else env.get("CHAINRULE_LANG") or None
    if chosen is None:
        for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
            value = env.get(name)
            if value:
                return "zh" if _base(value) == "zh" else "en"
        return "en"
    base = _base(chosen)
    if base not in CATALOGUES:
        where = "--lang" if lang is not None else "CHAINRULE_LANG"
        raise UnknownLanguage(
            f"{where} {chosen!r}: no such language; available: "
            + ", ".join(f"{code} ({NAMES[code]})" for code in AVAILABLE))
    return base


def _base(value: str) -> str:
    """'zh_CN.UTF-8' -> 'zh', 'en-US' -> 'en', 'C' -> 'c'."""
    return value.split(".")[0].replace("-", "_").split("_")[0].lower()


class Messages:
    """The messages of one language: ``say(key, **fields)`` formats the template."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.table = CATALOGUES[lang]

    def __call__(self, key: str, /, **fields: Any) -> str:
        template = self.table.get(key)
        if template is None:
            template = ENGLISH[key]  # a KeyError here is a bug: English has every key
        return template.format(**fields)


def messages(lang: str | None = None) -> Messages:
    """The catalogue for ``lang`` (see :func:`resolve`)."""
    return Messages(resolve(lang))


def say_lines(lines: list[str], file: Any = "stdout") -> None:
    """Print an example's lines to ``file``: ``"stdout"`` (the current ``sys.stdout``), a
    stream, or None for silence (the examples' ``file`` argument).

    >>> say_lines(["a", "b"])
    a
    b
    """
    if file is not None:
        print("\n".join(lines), file=None if file == "stdout" else file)


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: Chinese characters take two.

    >>> display_width("lr 0.5"), display_width("学习率 0.5")
    (6, 10)
    """
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int, align: str = "<") -> str:
    """``text`` padded with spaces to ``width`` terminal columns (a table's column): on the
    right (``align`` "<", as ``f"{text:<width}"``) or on the left (">", right-aligned).

    >>> pad("参数", 6, ">") + "|", pad("lr", 4) + "|"
    ('  参数|', 'lr  |')
    """
    spaces = " " * max(width - display_width(text), 0)
    return spaces + text if align == ">" else text + spaces
