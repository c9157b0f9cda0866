"""The picture examples' figures in Chinese: every title, label, legend and annotation from the
Chinese catalogue, drawn with the CJK font chainrule ships, no glyph missing; English (and a
note) when no font with Chinese characters can be found.

Each example runs as ``chainrule example NAME --quick --lang zh``; every figure it saves is
kept (``Figure.savefig`` is wrapped) and its texts are read back.
"""

import io
import logging
import re
import string
import warnings

import pytest

pytest.importorskip("matplotlib")
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from chainrule.cli import main  # noqa: E402
from chainrule.i18n import en_figures, zh_figures  # noqa: E402
from chainrule.viz import fonts  # noqa: E402

# example -> how many figures it writes
EXAMPLES = {
    "gradient-descent": 1, "vanishing-gradients": 1, "follow-one-digit": 2, "convergence": 1,
    "linear-collapse": 1, "saturation": 1, "dead-relus": 1, "zigzag": 1, "depth": 1,
    "overfitting": 1, "seed-spread": 1,
}
CJK = re.compile(r"[\u4e00-\u9fff]")
NO_FONT = "没有找到含中文字符的字体"  # the CLI says it in the command's language


def _english_fragments() -> dict[str, str]:
    """The English words of every figure key: each template's text between its {fields},
    line by line, where it has two letters or more and is not kept as-is in Chinese
    (``||dL/dW||``, ``Linear``)."""
    fragments = {}
    for key, english in en_figures.MESSAGES.items():
        chinese = "".join(_literals(zh_figures.MESSAGES[key]))
        for literal in _literals(english):
            for line in literal.split("\n"):
                line = line.strip(" :;,")
                if len(re.findall("[A-Za-z]", line)) >= 2 and line not in chinese:
                    fragments[line] = key
    return fragments


def _literals(template: str) -> list[str]:
    """The text of a ``str.format`` template between its fields."""
    return [literal for literal, _, _, _ in string.Formatter().parse(template)]


FRAGMENTS = _english_fragments()


def _texts(fig: Figure) -> list[str]:
    """Every visible, non-empty text of ``fig``: titles, axis and tick labels, legends
    (their titles too), annotations, colour bars."""
    return [text.get_text() for text in fig.findobj(Text)
            if text.get_visible() and text.get_text().strip()]


def _english_left(texts: list[str]) -> set[tuple[str, str]]:
    """(text, English words) for each text that holds a figure key's English words."""
    found = set()
    for text in texts:
        for fragment in FRAGMENTS:
            if re.search(rf"(?<![A-Za-z]){re.escape(fragment)}(?![A-Za-z])", text):
                found.add((text, fragment))
    return found


def _run(name: str, tmp_path, monkeypatch, capsys) -> tuple[list[Figure], list[str], str]:
    """Run the example in Chinese; the figures it saved, the warnings and logged lines of
    drawing them, and its stderr."""
    figures: list[Figure] = []
    savefig = Figure.savefig

    def keep(fig: Figure, *args, **kwargs):
        figures.append(fig)
        return savefig(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    logged: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged.append(record.getMessage())

    handler = Keep(level=logging.WARNING)
    logging.getLogger("matplotlib").addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert main(["example", name, "--quick", "--lang", "zh", "--out",
                         str(tmp_path)]) == 0
            for fig in figures:
                savefig(fig, io.BytesIO(), format="png")
    finally:
        logging.getLogger("matplotlib").removeHandler(handler)
    said = [str(w.message) for w in caught] + logged
    return figures, said, capsys.readouterr().err


def test_the_english_words_of_the_figure_keys_are_found() -> None:
    """The check below can fail: an English label is caught, a Chinese one is not."""
    assert FRAGMENTS["diverged"] == "fig.descent.diverged"
    assert _english_left(["step", "lr 0.5: diverged"]) == {
        ("step", "step"), ("lr 0.5: diverged", "lr"), ("lr 0.5: diverged", "diverged")}
    assert _english_left(["步数", "学习率 0.5：发散", "||dL/dW||", "x"]) == set()


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_picture_example_figures_speak_chinese(name, tmp_path, monkeypatch, capsys) -> None:
    # the font chainrule ships (a subset of WenQuanYi Micro Hei, what a plain pip install on
    # a machine with no CJK font draws with): a character it lacks would be a missing glyph
    monkeypatch.setenv("CHAINRULE_CJK_FONT", str(fonts.BUNDLED))
    language = fonts.figure_language("zh")
    assert language.families is not None
    family = language.families[-1]
    figures, said, err = _run(name, tmp_path, monkeypatch, capsys)
    assert len(figures) == EXAMPLES[name] and NO_FONT not in err
    for fig in figures:
        texts = _texts(fig)
        assert fonts.uses_font(fig, family)
        assert any(CJK.search(text) for text in texts)
        assert _english_left(texts) == set()
    missing = [line for line in said if "missing from font" in line]
    assert missing == []


def test_without_a_cjk_font_the_figure_stays_english_with_a_note(tmp_path, monkeypatch,
                                                                   capsys) -> None:
    monkeypatch.setenv("CHAINRULE_CJK_FONT", "")  # as where no font can be found
    figures, said, err = _run("zigzag", tmp_path, monkeypatch, capsys)
    assert NO_FONT in err and len(err.splitlines()) == 1  # the CLI's one-line note
    texts = _texts(figures[0])
    assert not any(CJK.search(text) for text in texts)
    assert "sigmoid (all > 0)" in {fragment for _, fragment in _english_left(texts)}
    assert not [line for line in said if "missing from font" in line]
