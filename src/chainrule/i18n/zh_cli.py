"""The command line's notices and error messages (chainrule.cli*).

Chinese; see :mod:`chainrule.i18n` (the keys match the other language's part).
"""

MESSAGES: dict[str, str] = {
}
