"""``chainrule playground``: the local web page where a network learns while you watch.

The server (:mod:`chainrule.playground.server`) listens on 127.0.0.1 only, on a free port
unless ``--port`` says which; the URL is printed and opened in the browser (unless
``--no-browser``); Ctrl-C stops it. ``--load RUN`` starts every new tab with a trained 2-D
run (``chainrule train --dataset spiral ...`` or a playground export).
"""

from __future__ import annotations

import argparse
import errno
import functools
import webbrowser

from chainrule.cli_lang import Text, error, say_of
from chainrule.cli_run import UsageError
from chainrule.i18n import messages


def add_playground_parser(sub: argparse._SubParsersAction) -> None:
    english = messages("en")
    play = sub.add_parser("playground", help=english("cli.help.playground"))
    play.add_argument("--port", type=_port, default=0,
                      help=english("cli.help.playground.port"))
    play.add_argument("--no-browser", dest="no_browser", action="store_true",
                      help=english("cli.help.playground.no_browser"))
    play.add_argument("--load", metavar="RUN", help=english("cli.help.playground.load"))
    play.add_argument("--export-dir", dest="export_dir", metavar="DIR", default=None,
                      help=english("cli.help.playground.export_dir"))
    play.set_defaults(func=cmd_playground)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(str(Text("cli.arg.port", text=repr(text)))) from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(str(Text("cli.arg.port_range", port=port)))
    return port


def cmd_playground(args: argparse.Namespace) -> int:
    say = say_of(args)
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
        import websockets  # noqa: F401  (uvicorn serves WebSockets with it)
    except ImportError as exc:
        raise error(UsageError, "cli.playground.needs_server", name=exc.name) from None
    from chainrule.playground.runs import LoadError, load_run
    from chainrule.playground.server import HOST, bind, create_app, serve

    start = None
    if args.load is not None:
        try:
            load_run(args.load)  # refused now, not in the first tab
        except LoadError as exc:
            raise error(UsageError, "cli.playground.load", detail=str(exc)) from None
        start = functools.partial(load_run, args.load)
    try:
        sock = bind(args.port)
    except OSError as exc:
        reason = (Text("cli.playground.in_use") if exc.errno == errno.EADDRINUSE
                  else exc.strerror or str(exc))
        raise error(UsageError, "cli.playground.cannot_listen", host=HOST, port=args.port,
                    reason=reason) from None
    port = sock.getsockname()[1]
    url = f"http://{HOST}:{port}/"
    print(say("cli.playground.serving", url=url), flush=True)
    if not args.no_browser:
        webbrowser.open(url)
    try:
        serve(sock, create_app(start, export_dir=args.export_dir))
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C after its clean shutdown
        pass
    print(say("cli.playground.stopped"), flush=True)
    return 0
