"""Titles, axis labels and legends of chainrule.viz's figures (chainrule plot, draw_*).

Chinese; see :mod:`chainrule.i18n` (the keys match the other language's part).
"""

MESSAGES: dict[str, str] = {
}
