"""Chinese figures: drawn with a CJK font (a full one when found, else the subset chainrule
ships), or English with a notice when $CHAINRULE_CJK_FONT names none."""

import io
import warnings

import pytest

pytest.importorskip("matplotlib")
from chainrule.cli import main  # noqa: E402
from chainrule.explain import worked  # noqa: E402
from chainrule.viz import fonts  # noqa: E402
from chainrule.viz.cycle import draw_cycle  # noqa: E402
from chainrule.viz.network import draw_network  # noqa: E402


def _titles(fig) -> list[str]:
    return [ax.get_title(loc="left") for ax in fig.axes]


def test_without_a_cjk_font_figures_stay_english_and_say_why(monkeypatch, tmp_path,
                                                              capsys) -> None:
    monkeypatch.setenv("CHAINRULE_CJK_FONT", "")  # as on a machine with no CJK font
    assert fonts.cjk_font_file() is None
    language = fonts.figure_language("zh")
    assert language.words.lang == "en" and language.families is None
    assert "$CHAINRULE_CJK_FONT" in (language.notice or "")
    x, target = worked.data()
    fig = draw_cycle(worked.build(), x, target, lang="zh")
    assert _titles(fig)[0].startswith("1 FORWARD")
    assert main(["example", "backprop", "--plot", "--quick", "--lang", "zh", "--out",
                 str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "前向传播" in captured.out  # the printed walk-through is Chinese all the same
    # the notice speaks the command's language (the figures cannot)
    assert captured.err.startswith("注意：没有找到含中文字符的字体")
    assert "$CHAINRULE_CJK_FONT" in captured.err


def test_with_a_cjk_font_the_characters_are_drawn_not_boxes(monkeypatch) -> None:
    path = fonts.cjk_font_file()
    assert path is not None  # at worst the font chainrule ships
    language = fonts.figure_language("zh")
    assert language.families is not None and language.notice is None
    family = language.families[-1]
    x, target = worked.data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        fig = draw_cycle(worked.build(), x, target, lang="zh")
        fig.savefig(io.BytesIO(), format="png")
        network = draw_network(worked.build(), x, target, lang="zh")
        network.savefig(io.BytesIO(), format="png")
    assert _titles(fig)[0].startswith("1 前向传播") and fonts.uses_font(fig, family)
    assert "输入层" in [t.get_text() for t in network.axes[0].texts]
    monkeypatch.setenv("CHAINRULE_CJK_FONT", path)  # naming it explicitly finds it too
    assert fonts.cjk_font_file() == path


def test_missing_glyphs_are_caught_by_that_check() -> None:
    """The check above can fail: DejaVu Sans alone draws Chinese as boxes and warns."""
    from chainrule.viz._mpl import new_figure

    fig = new_figure(2, 1)
    fig.text(0.1, 0.5, "前向传播", fontfamily="DejaVu Sans")
    with pytest.warns(UserWarning, match="missing from font"):
        fig.savefig(io.BytesIO(), format="png")


def test_with_no_cjk_font_on_the_machine_the_shipped_subset_draws_chinese(
        monkeypatch, tmp_path) -> None:
    """As after a plain ``pip install .`` on a machine with no CJK fonts at all."""
    monkeypatch.delenv("CHAINRULE_CJK_FONT", raising=False)
    monkeypatch.setattr(fonts, "PACKAGES", ())
    monkeypatch.setattr(fonts, "SYSTEM_FILES", ())
    assert fonts.cjk_font_file() == str(fonts.BUNDLED)
    language = fonts.figure_language("zh")
    assert language.notice is None and language.words.lang == "zh"
    assert language.families == ["DejaVu Sans", "WenQuanYi Micro Hei chainrule subset"]
    x, target = worked.data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a character missing from both fonts would warn
        network = draw_network(worked.build(), x, target, lang="zh")
        network.savefig(tmp_path / "network_zh_subset.png", dpi=80)
        cycle = draw_cycle(worked.build(), x, target, lang="zh")
        cycle.savefig(tmp_path / "cycle_zh_subset.png", dpi=80)
    assert fonts.uses_font(cycle, "WenQuanYi Micro Hei chainrule subset")
    assert _titles(cycle)[0].startswith("1 前向传播")


def _cmap(path) -> set[int]:
    from fontTools.ttLib import TTFont

    return set(TTFont(path).getBestCmap())


def test_the_shipped_font_has_every_character_of_the_chinese_catalogue() -> None:
    from matplotlib import font_manager

    from chainrule.i18n import CATALOGUES

    dejavu = _cmap(font_manager.findfont("DejaVu Sans", fallback_to_default=False))
    shipped = _cmap(fonts.BUNDLED)
    assert all(ord(ch) in shipped for ch in "前向传播反向传播链式法则梯度下降学习率激活函数")
    missing = sorted({ch for text in CATALOGUES["zh"].values() for ch in text
                      if ch.isprintable() and ord(ch) not in dejavu | shipped})
    assert not missing, (f"characters {''.join(missing)!r} of the Chinese catalogue are in "
                         "no figure font: run python scripts/make_cjk_font.py")


def test_the_shipped_font_carries_its_licence() -> None:
    licence = (fonts.BUNDLED.parent / "LICENSE-wqy-microhei.txt").read_text()
    assert "WenQuanYi" in licence and "Apache License" in licence
