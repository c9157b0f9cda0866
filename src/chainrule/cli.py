"""The ``chainrule`` command: train, eval, predict, info, plot, example and bench.

    chainrule train                     # the tutorials' 784-16-16-10 sigmoid net on MNIST
    chainrule train --hidden 800,800 --activation relu --optimizer momentum --epochs 20
    chainrule train --model lenet --epochs 10   # LeNet-5 (or --model cnn)
    chainrule eval runs/NAME            # test accuracy, loss and confusion matrix
    chainrule predict runs/NAME digit.png
    chainrule info runs/NAME            # config, metrics, environment
    chainrule example backprop          # the worked 2-2-2 example, every number
    chainrule example convolution       # a 3x3 kernel over a 5x5 image, its gradient by hand
    chainrule plot runs/NAME            # curves, confusion matrix, weights, boundaries (PNG)
    chainrule plot runs/A runs/B        # both runs' curves in one figure (runs/compare.png)
    chainrule bench                     # one epoch: chainrule vs PyTorch vs plain NumPy

Bad input (flags, data, config files, checkpoints) and every OS error (an unreadable
file, an unwritable folder, a full disk) print one line to stderr and exit with status 2;
a NaN loss exits 1; Ctrl-C (or SIGTERM, SIGHUP) during training saves a checkpoint and
exits 128 + the signal's number (130, 143, 129). When stdout is a pipe that closes early
(``chainrule info RUN | head -1``) the command stops quietly with status 141, like a tool
killed by SIGPIPE; a closed, full or ASCII-only stdout or stderr never ends in a traceback
(:mod:`chainrule.cli_streams`).

Every notice and error message is said in the command's language: ``--lang zh`` (before
or after the subcommand), else ``$CHAINRULE_LANG``, else the locale (``LANG=zh_CN.UTF-8``),
else English (:mod:`chainrule.cli_lang`); an unknown language is one line, exit 2.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import NoReturn

import numpy as np

import chainrule as cr
from chainrule.cli_eval import cmd_eval, cmd_plot, cmd_predict
from chainrule.cli_example import add_example_parser
from chainrule.cli_info import cmd_info
from chainrule.cli_lang import (
    Text,
    add_lang_flag,
    argparse_message,
    lang_in,
    os_reason,
    render,
    say_of,
    text_of,
    whole_number,
)
from chainrule.cli_launch import add_launch_parser
from chainrule.cli_playground import add_playground_parser
from chainrule.cli_run import UsageError
from chainrule.cli_streams import standard_streams
from chainrule.cli_train import cmd_train
from chainrule.cli_train_flags import add_train_flags, say_train_help
from chainrule.data import DatasetError
from chainrule.i18n import Messages, UnknownLanguage, messages
from chainrule.limits import MemoryLimitError
from chainrule.nn.layers import ShapeError
from chainrule.nn.module import StateDictError
from chainrule.ops.linalg import DtypeError
from chainrule.train.checkpoint import CheckpointError
from chainrule.train.recipe import ConfigError
from chainrule.train.trainer import TrainingDiverged, TrainingInterrupted

EXIT_USAGE, EXIT_DIVERGED, EXIT_INTERRUPTED, EXIT_PIPE = 2, 1, 130, 141

# every error the library raises for bad input: one line on stderr, exit status 2
BAD_INPUT = (UsageError, ConfigError, DatasetError, CheckpointError, StateDictError,
             MemoryLimitError, ShapeError, DtypeError)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Lists the subcommands one per line, without argparse's '{train,eval,...}' line."""

    def _format_action(self, action: argparse.Action) -> str:
        if isinstance(action, argparse._SubParsersAction):
            return "".join(self._format_action(sub) for sub in action._get_subactions())
        return super()._format_action(action)


# the lead-in of each kind of bad input whose message comes from the library (English)
LEAD_INS = ((ConfigError, "cli.error.config"), (DatasetError, "cli.error.data"),
            (CheckpointError, "cli.error.checkpoint"), (StateDictError, "cli.error.state_dict"),
            (MemoryLimitError, "cli.error.memory_limit"), (ShapeError, "cli.error.shape"),
            (DtypeError, "cli.error.dtype"))


class ArgumentsError(Exception):
    """argparse refused the command line: ``message`` (argparse's English) and ``prog``."""

    def __init__(self, message: str, prog: str) -> None:
        super().__init__(message)
        self.message, self.prog = message, prog


# argparse's own headings in a help text, and the keys that say them in another language
HEADINGS = (("usage: ", "cli.help.usage"), ("\noptions:\n", "cli.help.options"),
            ("\npositional arguments:\n", "cli.help.positional"),
            ("\ncommands:\n", "cli.help.commands"),
            ("show this help message and exit", "cli.help.help"),
            ("show program's version number and exit", "cli.help.version"))


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one 'chainrule: error: ...' line like all the others
    (raised as :class:`ArgumentsError`, printed by :func:`main` in the command's language),
    and its headings in the language of ``say`` (None: argparse's English)."""

    say: Messages | None = None

    def error(self, message: str) -> NoReturn:
        raise ArgumentsError(message, self.prog)

    def format_help(self) -> str:
        text = super().format_help()
        if self.say is None or self.say.lang == "en":
            return text
        for english, key in HEADINGS:
            text = text.replace(english, self.say(key))
        return text


_positive_int = whole_number("cli.arg.positive_int")


def cmd_bench(args: argparse.Namespace) -> int:
    from chainrule.bench import main as bench_main

    bench_main([] if args.full else ["--quick"], say=say_of(args))
    return 0


# ---- entry point --------------------------------------------------------------------------


ENGLISH = messages("en")
DESCRIPTION, EPILOG = ENGLISH("cli.help.description"), ENGLISH("cli.help.epilog")


def build_parser(say: Messages | None = None) -> argparse.ArgumentParser:
    """The argument parser of every subcommand (``chainrule --help`` lists them all); with
    ``say`` in another language than English, its headings, the description, the examples,
    each command's one-line summary and the options of train, eval, predict, info, bench,
    plot and playground are in that language (example's and launch's options stay
    English)."""
    parser = _Parser(prog="chainrule", description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=_HelpFormatter)
    parser.add_argument("--version", action="version", version=f"chainrule {cr.__version__}")
    add_lang_flag(parser)
    sub = parser.add_subparsers(dest="command", required=True, title="commands",
                                metavar="COMMAND")
    train = sub.add_parser("train", help=ENGLISH("cli.help.train"))
    add_train_flags(train)
    train.set_defaults(func=cmd_train)
    ev = sub.add_parser("eval", help=ENGLISH("cli.help.eval"))
    ev.add_argument("run", help=ENGLISH("cli.help.eval.run"))
    ev.add_argument("--dataset", help=ENGLISH("cli.help.eval.dataset"))
    ev.add_argument("--data-dir", dest="data_dir", metavar="DIR",
                    help=ENGLISH("cli.help.eval.data_dir"))
    ev.set_defaults(func=cmd_eval)
    pr = sub.add_parser("predict", help=ENGLISH("cli.help.predict"))
    pr.add_argument("run", help=ENGLISH("cli.help.predict.run"))
    pr.add_argument("images", nargs="+", help=ENGLISH("cli.help.predict.images"))
    pr.add_argument("--limit", type=_positive_int, default=10,
                    help=ENGLISH("cli.help.predict.limit"))
    pr.set_defaults(func=cmd_predict)
    info = sub.add_parser("info", help=ENGLISH("cli.help.info"))
    info.add_argument("run", help=ENGLISH("cli.help.info.run"))
    info.set_defaults(func=cmd_info)
    bench = sub.add_parser("bench", help=ENGLISH("cli.help.bench"))
    bench.add_argument("--full", action="store_true", help=ENGLISH("cli.help.bench.full"))
    bench.set_defaults(func=cmd_bench)
    pl = sub.add_parser("plot", help=ENGLISH("cli.help.plot"))
    pl.add_argument("run", nargs="+", help=ENGLISH("cli.help.plot.run"))
    pl.add_argument("--out", help=ENGLISH("cli.help.plot.out"))
    pl.set_defaults(func=cmd_plot)
    add_example_parser(sub)
    add_playground_parser(sub)
    add_launch_parser(sub)
    for command in sub.choices.values():  # --lang after the subcommand too
        add_lang_flag(command)
    if say is not None and say.lang != "en":
        _say_help(parser, sub, say)
    return parser


def _say_help(parser: argparse.ArgumentParser, sub: argparse._SubParsersAction,
              say: Messages) -> None:
    """The top-level help, each command's summary and headings, and the help of the options
    the catalogues hold (train, eval, predict, info, bench, plot, playground) in ``say``'s
    language."""
    parser.description, parser.epilog = say("cli.help.description"), say("cli.help.epilog")
    for choice in sub._choices_actions:
        choice.help = say(f"cli.help.{choice.dest}")
    for name, command in [("", parser), *sub.choices.items()]:
        if isinstance(command, _Parser):
            command.say = say
        for action in command._actions:
            key = f"cli.help.{name}.{action.dest}"
            if action.dest == "lang":
                action.help = say("cli.help.lang")
            elif name != "train" and key in ENGLISH.table:  # train's flags: below
                action.help = say(key)
    say_train_help(sub.choices["train"], say)


def _os_error(exc: OSError, say: Messages | None = None) -> str:
    """'PATH: reason' for an OS error nothing else caught (the last resort: no traceback);
    in ``say``'s language (the reason in its words where the catalogue has them)."""
    say = say or messages("en")
    names = [name for name in (exc.filename, exc.filename2) if name is not None]
    where = " -> ".join(os.fsdecode(name) if isinstance(name, str | bytes) else str(name)
                        for name in names)
    reason = os_reason(exc)
    if isinstance(reason, Text):
        reason = reason.render(say)
    return f"{where}: {reason}" if where else reason


def _error_line(exc: BaseException, say: Messages) -> str:
    """The one line printed for bad input: a lead-in in the command's language, then the
    message (in that language too when the CLI wrote it, else the library's English)."""
    if text_of(exc) is not None:
        return say("cli.error", detail=render(exc, say))
    key = next((key for kind, key in LEAD_INS if isinstance(exc, kind)), "cli.error.usage")
    return say(key, detail=render(exc, say))


def _stdout_closed() -> int:
    """The reader of stdout went away (``| head -1``): stop quietly, like a tool on SIGPIPE."""
    try:  # later writes, and the interpreter's final flush, go nowhere instead of failing
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return EXIT_PIPE


def main(argv: list[str] | None = None) -> int:
    with standard_streams():  # escapes what stdout cannot encode; stderr failures dropped
        return _run(sys.argv[1:] if argv is None else list(argv))


def _language(argv: list[str]) -> Messages | None:
    """The catalogue of the command's language (``--lang`` wherever it is in ``argv``, else
    the environment and the locale); None, after printing why, for an unknown language."""
    try:
        return messages(lang_in(argv))
    except UnknownLanguage as exc:
        print(messages("en")("cli.error", detail=render(exc, messages("en"))),
              file=sys.stderr)
        return None


def _parse(argv: list[str], say: Messages) -> argparse.Namespace | None:
    """The parsed command line, or None after printing argparse's error in ``say``'s
    language."""
    try:
        args = build_parser(say).parse_args(argv)
    except ArgumentsError as exc:
        print(say("cli.usage", message=argparse_message(exc.message, say), prog=exc.prog),
              file=sys.stderr)
        return None
    parsed = getattr(args, "lang", None)
    if parsed is not None and parsed != lang_in(argv):  # an abbreviation: --la zh
        language = _language(["--lang", parsed])
        if language is None:
            return None
        say = language
    args.lang = say.lang  # the examples read it
    args.say = say
    return args


def _run(argv: list[str]) -> int:
    say = _language(argv)
    if say is None:
        return EXIT_USAGE
    args = _parse(argv, say)
    if args is None:
        return EXIT_USAGE
    # NaN/Inf are caught by the trainer's loss check and named by detect_anomaly; NumPy's
    # own RuntimeWarnings would only repeat that without saying where, so silence them here
    previous = np.seterr(over="ignore", invalid="ignore", divide="ignore")
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # a closed pipe shows up here, not in the interpreter's last flush
        return code
    except TrainingInterrupted as exc:  # Ctrl-C, SIGTERM, SIGHUP: 128 + the signal's number
        print(say("cli.stopped.interrupted", detail=render(exc, say)), file=sys.stderr)
        return 128 + int(getattr(exc, "signum", signal.SIGINT))
    except TrainingDiverged as exc:
        print(say("cli.stopped.diverged", detail=render(exc, say)), file=sys.stderr)
        return EXIT_DIVERGED
    except BAD_INPUT as exc:
        print(_error_line(exc, say), file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return _stdout_closed()
    except OSError as exc:
        print(say("cli.error.os_bare", reason=_os_error(exc, say)), file=sys.stderr)
        return EXIT_USAGE
    except MemoryError as exc:
        detail = render(exc, say) or say("cli.error.allocation")
        print(say("cli.error.memory", detail=detail), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(say("cli.interrupted"), file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        np.seterr(**previous)


if __name__ == "__main__":
    sys.exit(main())
