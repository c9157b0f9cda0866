"""Figure titles, axis labels and legends of the picture examples (chainrule.explain.pictures_*).

Chinese; see :mod:`chainrule.i18n` (the keys match the other language's part).
"""

MESSAGES: dict[str, str] = {
}
