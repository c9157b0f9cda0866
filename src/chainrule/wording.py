"""Small helpers for messages built from numbers and names: "1 epoch", "an int".

>>> plural(1, "epoch"), plural(3, "epoch"), plural(0, "class", "classes")
('1 epoch', '3 epochs', '0 classes')
>>> article("int"), article("float"), article("OrderedDict")
('an int', 'a float', 'an OrderedDict')
"""

from __future__ import annotations


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``count`` and ``noun``, in the plural unless ``count`` is 1.

    Args:
        count: how many.
        noun: the singular form ("epoch").
        plural_form: the plural where adding "s" is wrong ("classes" for "class"); by
            default ``noun + "s"``.
    """
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {plural_form or noun + 's'}"


def article(word: str) -> str:
    """``word`` after "a" or "an" (by its first letter: "an int", "a list").

    Names of types are what this is for; it does not know how words sound ("a unit").
    """
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"
