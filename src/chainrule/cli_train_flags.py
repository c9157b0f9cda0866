"""The ``chainrule train`` command's flags and their help (:mod:`chainrule.cli_train` runs
the command). Every flag defaults to None, so that an unset flag does not override the
config file or a resumed run's settings. The help texts are ``cli.help.train.*`` of the
catalogues (:mod:`chainrule.i18n.en_cli`): :func:`say_train_help` says them in another
language.

>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> add_train_flags(parser)
>>> vars(parser.parse_args(["--epochs", "3"]))["epochs"], parser.parse_args([]).hidden
('3', None)
"""

from __future__ import annotations

import argparse

from chainrule.i18n import Messages, messages
from chainrule.limits import ENV as MEMORY_ENV
from chainrule.train import recipe

# the lists the help texts name, from the recipe (the same in every language)
HELP_FIELDS = {
    "sets": " | ".join(recipe.IMAGE_SETS + recipe.TOY_SETS),
    "activations": " | ".join(recipe.ACTIVATIONS),
    "optimizers": " | ".join(recipe.OPTIMIZERS),
    "schedules": " | ".join(recipe.SCHEDULES),
    "resumable": ", ".join("--" + k.replace("_", "-") for k in recipe.RESUMABLE),
    "memory_env": MEMORY_ENV,
}

# the flags in the order --help lists them; switches are store_true with default None
FLAGS = ("model", "dataset", "data_dir", "download", "hidden", "activation", "loss",
         "optimizer", "lr", "momentum", "weight_decay", "no_bias_decay", "dropout", "augment",
         "init", "init_std", "schedule", "batch_size", "epochs", "seed", "val_split", "dtype",
         "threads", "device", "out", "resume", "config", "plot")
SWITCHES = ("download", "no_bias_decay", "plot")


def train_help(say: Messages, dest: str) -> str:
    """The help of the flag ``dest`` (or ``"epilog"``) in ``say``'s language.

    >>> train_help(messages("zh"), "epochs")
    '训练的轮数（默认 5）'
    """
    return say(f"cli.help.train.{dest}", **HELP_FIELDS)


def add_train_flags(parser: argparse.ArgumentParser) -> None:
    """The train command's flags (all default to None: unset flags do not override)."""
    english = messages("en")
    parser.epilog = train_help(english, "epilog")
    for dest in FLAGS:
        flag = "--" + dest.replace("_", "-")
        if dest in SWITCHES:
            parser.add_argument(flag, dest=dest, action="store_true", default=None,
                                help=train_help(english, dest))
        else:
            parser.add_argument(flag, dest=dest, help=train_help(english, dest))


def say_train_help(parser: argparse.ArgumentParser, say: Messages) -> None:
    """The help of the train command's flags and its epilog in ``say``'s language."""
    parser.epilog = train_help(say, "epilog")
    for action in parser._actions:
        if action.dest in FLAGS:
            action.help = train_help(say, action.dest)
