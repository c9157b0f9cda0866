"""The language of the ``chainrule`` command: ``--lang`` (before or after the subcommand),
else ``$CHAINRULE_LANG``, else the locale (:func:`chainrule.i18n.resolve`), and its
messages rendered in that language.

A message is raised or printed as a :class:`Text`: a key of the catalogues
(:mod:`chainrule.i18n.en_cli`, :mod:`chainrule.i18n.zh_cli`) and its fields. ``str()`` of
a Text, and of an exception made by :func:`error`, is the English message, so code that
reads an error's text still reads English; ``cli.main`` prints it with
:func:`render` in the command's language. argparse's own error lines (and the flag types'
messages it wraps) are matched against the English templates and said again in the
command's language (:func:`argparse_message`).

>>> str(Text("cli.eval.confusion"))
'confusion matrix (rows: true class, columns: predicted):'
>>> Text("cli.wrote", path="a.png").render(messages("zh"))
'已写入 a.png'
>>> lang_in(["train", "--lang", "zh"]), lang_in(["--lang=en", "info", "x"]), lang_in([])
('zh', 'en', None)
"""

from __future__ import annotations

import argparse
import errno
import re
from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from chainrule.i18n import ENGLISH, Messages, messages

E = TypeVar("E", bound=BaseException)

LANG_HELP = ENGLISH["cli.help.lang"]

# the English errors of argparse and of the CLI's flag types, said again in the command's
# language: the message must match the key's English template (its fields match anything)
ARGPARSE_KEYS = ("cli.arg.required", "cli.arg.unrecognized", "cli.arg.argument",
                 "cli.arg.invalid_choice", "cli.arg.invalid_value", "cli.arg.expected_one",
                 "cli.arg.expected_some", "cli.arg.ambiguous", "cli.arg.not_allowed",
                 "cli.arg.ignored_explicit", "cli.arg.one_required",
                 "cli.arg.positive_int", "cli.arg.port", "cli.arg.port_range",
                 "launch.arg.ranks")

# what chainrule.paths.what_is_at says, for the kinds that have words in the catalogues
WHAT_IS_AT = {"nothing": "cli.path.nothing", "a regular file": "cli.path.file",
              "a folder": "cli.path.folder", "a symlink loop": "cli.path.loop"}


class Text:
    """A catalogue message not yet put into words: ``key`` and its ``fields`` (a field
    may be a Text too, rendered in the same language)."""

    def __init__(self, key: str, /, **fields: Any) -> None:
        if key not in ENGLISH:
            raise KeyError(f"no CLI message {key!r} in the English catalogue")
        self.key, self.fields = key, fields

    def render(self, say: Messages) -> str:
        """The message in ``say``'s language."""
        return say(self.key, **{name: value.render(say) if isinstance(value, Text) else value
                                for name, value in self.fields.items()})

    def __str__(self) -> str:
        return self.render(_english())

    def __repr__(self) -> str:
        return f"Text({self.key!r}, ...)"


@cache
def _english() -> Messages:
    return Messages("en")


def error(kind: type[E], key: str, /, **fields: Any) -> E:
    """An exception of ``kind`` whose message is the Text ``key``: ``str()`` of it is the
    English message, :func:`render` says it in the command's language.

    >>> exc = error(ValueError, "cli.predict.more", count=3)
    >>> str(exc), render(exc, messages("zh"))
    ('... 3 more images (use --limit)', '... 另有 3 张图像（用 --limit 显示更多）')
    """
    text = Text(key, **fields)
    exc = kind(str(text))
    exc.cli_text = text  # type: ignore[attr-defined]
    return exc


def text_of(exc: BaseException) -> Text | None:
    """The Text an exception was made from by :func:`error` (None for any other).

    >>> text_of(error(OSError, "cli.wrote", path="a")).key, text_of(OSError("a"))
    ('cli.wrote', None)
    """
    text = getattr(exc, "cli_text", None)
    return text if isinstance(text, Text) else None


def one_line(text: str) -> str:
    """Several lines (a library's message) as one.

    >>> one_line("first\\n  second\\n\\n")
    'first second'
    """
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def render(exc: BaseException, say: Messages) -> str:
    """The message of ``exc`` in ``say``'s language when it was made by :func:`error`;
    else its own (English) text on one line.

    >>> render(ValueError("bad\\nvalue"), messages("zh"))
    'bad value'
    """
    text = text_of(exc)
    return one_line(text.render(say) if text is not None else str(exc))


def path_kind(found: str) -> Text | str:
    """chainrule.paths.what_is_at's words as a Text where the catalogues have them.

    >>> path_kind("nothing").render(messages("zh")), path_kind("a socket")
    ('什么也没有（路径不存在）', 'a socket')
    """
    key = WHAT_IS_AT.get(found)
    return Text(key) if key is not None else found


def os_reason(exc: OSError) -> Text | str:
    """An OS error's reason (``strerror``) in words of the catalogues for the common ones.

    >>> import errno
    >>> os_reason(OSError(errno.ENOSPC, "No space left on device")).render(messages("zh"))
    '磁盘已满（No space left on device）'
    >>> os_reason(OSError(errno.EBUSY, "Device or resource busy"))
    'Device or resource busy'
    """
    reason = exc.strerror or one_line(str(exc)) or type(exc).__name__
    key = f"cli.errno.{errno.errorcode.get(exc.errno or -1, '')}"
    return Text(key, reason=reason) if key in ENGLISH else reason


def say_of(args: argparse.Namespace) -> Messages:
    """The catalogue a command speaks: the one ``cli.main`` put on ``args``, else that of
    ``args.lang`` (or of the environment and the locale), for a command called directly.

    >>> say_of(argparse.Namespace(lang="zh")).lang
    'zh'
    """
    say = getattr(args, "say", None)
    return say if isinstance(say, Messages) else messages(getattr(args, "lang", None))


def lang_in(argv: Sequence[str]) -> str | None:
    """The value of the last ``--lang`` in ``argv`` (before a ``--``), None without one: read
    before argparse, so that its errors are said in that language too."""
    found = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            found = argv[i + 1]
        elif arg.startswith("--lang="):
            found = arg.partition("=")[2]
    return found


def add_lang_flag(parser: argparse.ArgumentParser) -> None:
    """``--lang`` on ``parser`` unless it has one; unset, it leaves the namespace alone
    (so that a subcommand's unset flag does not hide the one before the subcommand).

    >>> parser = argparse.ArgumentParser()
    >>> add_lang_flag(parser)
    >>> vars(parser.parse_args([])), vars(parser.parse_args(["--lang", "zh"]))
    ({}, {'lang': 'zh'})
    """
    if "--lang" not in parser._option_string_actions:
        parser.add_argument("--lang", metavar="LANG", default=argparse.SUPPRESS,
                            help=LANG_HELP)


@cache
def _pattern(key: str) -> re.Pattern[str]:
    """The English template ``key`` as a regular expression, its fields as named groups."""
    parts = re.split(r"\{(\w+)\}", ENGLISH[key])
    pattern = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)"
                      for i, part in enumerate(parts))
    return re.compile(pattern + r"\Z", re.DOTALL)


def argparse_message(message: str, say: Messages) -> str:
    """An argparse error ``message`` (English) in ``say``'s language: the first of
    :data:`ARGPARSE_KEYS` whose template matches it, its fields said again (an argument's
    message nests another); unchanged when none matches.

    >>> argparse_message("argument --limit: expected a whole number >= 1, got '0'",
    ...                  messages("zh"))
    "参数 --limit：需要一个 >= 1 的整数，得到的是 '0'"
    """
    if say.lang == "en":
        return message
    for key in ARGPARSE_KEYS:
        match = _pattern(key).match(message)
        if match is not None:
            fields = match.groupdict()
            if "inner" in fields:
                fields["inner"] = argparse_message(fields["inner"], say)
            return say(key, **fields)
    return message


def whole_number(key: str) -> Any:
    """An argparse ``type`` for a whole number of at least 1, refused with the message ``key``
    (a template with a ``{text}`` field, in :data:`ARGPARSE_KEYS` so it is translated).

    >>> whole_number("cli.arg.positive_int")("3")
    3
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise argparse.ArgumentTypeError(str(Text(key, text=repr(text))))
        return value

    return parse
