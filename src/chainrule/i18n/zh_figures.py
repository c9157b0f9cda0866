"""Figure titles, axis labels and legends (chainrule.viz, the picture examples).

Chinese; see :mod:`chainrule.i18n` (the keys match the other language's part).
"""

MESSAGES: dict[str, str] = {
}
