"""Write the small Chinese font chainrule ships, so that Chinese figures work after a plain
``pip install .`` on a machine with no CJK fonts.

matplotlib's own font (DejaVu Sans) has no Chinese characters. Full CJK fonts are 5-20 MB;
chainrule's figures need a few hundred characters. This script cuts WenQuanYi Micro Hei
(Apache-2.0; Debian: ``apt install fonts-wqy-microhei``) down to:

- the 3,755 characters of GB 2312 level 1 (the common characters of simplified Chinese),
- every character of chainrule's Chinese catalogues (``chainrule.i18n``),
- CJK punctuation (U+3000-U+303F) and the full-width forms (U+FF00-U+FF5F),

renames the family (the font is modified: ``WenQuanYi Micro Hei chainrule subset``) and writes
``src/chainrule/viz/font_data/wqy-microhei-subset.ttf`` (about 0.7 MB) next to the licence.
Run it again when a catalogue gains a character outside GB 2312 level 1
(``tests/test_fonts.py`` says so)::

    python scripts/make_cjk_font.py [--source /usr/share/fonts/truetype/wqy/wqy-microhei.ttc]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

SOURCE = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
TARGET = Path(__file__).resolve().parents[1] / "src/chainrule/viz/font_data"
FAMILY = "WenQuanYi Micro Hei chainrule subset"


def gb2312_level1() -> set[str]:
    """The 3,755 characters of GB 2312 level 1 (rows 16-55 of the code table)."""
    chars = set()
    for row in range(16, 56):
        for column in range(1, 95):
            try:
                chars.add(bytes([0xA0 + row, 0xA0 + column]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def catalogue_characters() -> set[str]:
    """Every non-ASCII character of the Chinese catalogue."""
    from chainrule.i18n import CATALOGUES

    return {ch for text in CATALOGUES["zh"].values() for ch in text if ord(ch) > 0x7F}


def wanted() -> list[int]:
    chars = gb2312_level1() | catalogue_characters()
    codes = {ord(ch) for ch in chars}
    codes.update(range(0x3000, 0x3040))
    codes.update(range(0xFF00, 0xFF60))
    return sorted(codes)


def load(source: str) -> TTFont:
    """The regular face: the first font of a .ttc collection, or the font of a .ttf/.otf."""
    if source.lower().endswith(".ttc"):
        return TTCollection(source).fonts[0]
    return TTFont(source)


def rename(font: TTFont) -> None:
    """A modified font must not pose as the original: new family and full names."""
    names = font["name"]
    for record in list(names.names):
        if record.nameID in (1, 3, 4, 16):
            names.setName(FAMILY, record.nameID, record.platformID, record.platEncID,
                          record.langID)
        elif record.nameID == 6:
            names.setName(FAMILY.replace(" ", ""), 6, record.platformID, record.platEncID,
                          record.langID)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=SOURCE, help="the WenQuanYi Micro Hei file")
    args = parser.parse_args()
    font = load(args.source)
    options = subset.Options()
    options.hinting = False  # smaller; figures are drawn at display sizes by FreeType
    options.layout_features = []
    options.name_IDs = ["*"]
    options.drop_tables += ["FFTM"]
    subsetter = subset.Subsetter(options)
    codes = wanted()
    subsetter.populate(unicodes=codes)
    subsetter.subset(font)
    rename(font)
    font.recalcTimestamp = False  # the same source gives the same bytes
    TARGET.mkdir(parents=True, exist_ok=True)
    path = TARGET / "wqy-microhei-subset.ttf"
    font.save(path)
    print(f"wrote {path} ({path.stat().st_size:,} bytes, {len(codes):,} code points)")


if __name__ == "__main__":
    main()
