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

from chainrule.cli_run import UsageError

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


def _ranks(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number of at least 1")
    return value


def resume_hint(job: Sequence[str]) -> str:
    """Where the last checkpoint is and how to continue from it.

    >>> resume_hint(["train", "--out", "runs/a"])
    'The last checkpoint stays intact: resume with --resume runs/a'
    """
    job = list(job)
    out = None
    for i, flag in enumerate(job):
        if flag == "--out" and i + 1 < len(job):
            out = job[i + 1]
        elif flag.startswith("--out="):
            out = flag.split("=", 1)[1]
    where = out if out is not None else "RUN (the run's folder)"
    return f"The last checkpoint stays intact: resume with --resume {where}"


def cmd_launch(args: argparse.Namespace) -> int:
    from chainrule.distributed.launch import Launch, command, find_mpiexec

    if not args.job:
        raise UsageError("launch: name the command every rank runs, e.g. chainrule launch "
                         "-n 2 train --epochs 3")
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        raise UsageError("launch: mpi4py is not installed: pip install 'chainrule[mpi]' "
                         "(mpi4py and the mpich wheel: no system MPI needed)") from None
    mpiexec = args.mpiexec or find_mpiexec()
    if mpiexec is None:
        raise UsageError("launch: no mpiexec found beside this Python or on PATH: pip install "
                         "'chainrule[mpi]', or name one with --mpiexec PATH")
    argv = command(mpiexec, args.ranks, args.job, args.hostfile, args.per_node)
    try:
        status, dead = Launch(argv).run()
    except FileNotFoundError:
        raise UsageError(f"launch: cannot run {mpiexec}: no such file") from None
    if dead is not None:
        print(f"chainrule launch: {dead}. {resume_hint(args.job)}", file=sys.stderr)
    return 128 - status if status < 0 else status
