"""``chainrule launch -n 4 train ...``: data-parallel training on several ranks.

The same as ``mpiexec -n 4 python -m mpi4py -m chainrule train ...`` (see docs/distributed.md),
with one thing added: when a rank dies (killed, out of memory, crashed), ``mpiexec`` names
only its process id; the launcher says which rank it was and how to resume::

    chainrule launch: rank 1 (pid 19286 on node2) was killed by signal 9 (SIGKILL); mpiexec
    ended the other ranks. The last checkpoint stays intact: resume with --resume runs/mnist
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from chainrule.cli_lang import error, say_of, whole_number
from chainrule.cli_run import UsageError
from chainrule.i18n import Messages

HELP = ("run a chainrule command on N processes with mpiexec (data-parallel training over "
        "MPI; needs the 'mpi' extra); names the rank when one dies")


def add_launch_parser(sub: argparse._SubParsersAction) -> None:
    launch = sub.add_parser("launch", help=HELP, description=HELP + ". Example: chainrule "
                            "launch -n 4 train --batch-size 64 --threads 1")
    launch.add_argument("-n", "--ranks", type=_ranks, required=True, metavar="N",
                        help="number of ranks (processes)")
    launch.add_argument("--hostfile", metavar="FILE", help="MPICH hostfile, one 'host:slots' "
                        "per line, to spread the ranks over machines")
    launch.add_argument("--per-node", dest="per_node", type=_ranks, metavar="K",
                        help="ranks per machine (mpiexec -ppn)")
    launch.add_argument("--mpiexec", metavar="PATH", help="the mpiexec to use (default: the "
                        "one beside this Python, from the mpich wheel, else the one on PATH)")
    launch.add_argument("job", nargs=argparse.REMAINDER, metavar="COMMAND ...",
                        help="the chainrule command every rank runs, with its flags "
                        "(e.g. train --epochs 3)")
    launch.set_defaults(func=cmd_launch)


_ranks = whole_number("launch.arg.ranks")


def resume_hint(job: Sequence[str], say: Messages | None = None) -> str:
    """Where the last checkpoint is and how to continue from it, in the words of ``say``
    (None: English).

    >>> resume_hint(["train", "--out", "runs/a"])
    'The last checkpoint stays intact: resume with --resume runs/a'
    >>> from chainrule.i18n import messages
    >>> resume_hint(["train"], say=messages("zh"))
    '最后一个检查点完好无损：用 --resume RUN（这次运行的文件夹） 继续训练'
    """
    say = say or Messages("en")
    job = list(job)
    out = None
    for i, flag in enumerate(job):
        if flag == "--out" and i + 1 < len(job):
            out = job[i + 1]
        elif flag.startswith("--out="):
            out = flag.split("=", 1)[1]
    where = out if out is not None else say("launch.run_folder")
    return say("launch.resume", where=where)


def cmd_launch(args: argparse.Namespace) -> int:
    from chainrule.distributed.launch import Launch, command, find_mpiexec

    say = say_of(args)
    if not args.job:
        raise error(UsageError, "launch.no_job")
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        raise error(UsageError, "launch.no_mpi4py") from None
    mpiexec = args.mpiexec or find_mpiexec()
    if mpiexec is None:
        raise error(UsageError, "launch.no_mpiexec")
    argv = command(mpiexec, args.ranks, args.job, args.hostfile, args.per_node)
    try:
        status, dead = Launch(argv, say=say).run()
    except FileNotFoundError:
        raise error(UsageError, "launch.cannot_run", mpiexec=mpiexec) from None
    if dead is not None:
        print(say("launch.died", dead=dead, hint=resume_hint(args.job, say)), file=sys.stderr)
    return 128 - status if status < 0 else status
