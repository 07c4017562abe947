"""The ``tgstats`` command line: a thin dispatcher over ``tgstats.cli.*``.

Each subcommand lives in its own module exposing ``register(subparsers)``,
which adds a parser whose ``handler`` default is called with the parsed
arguments and returns the exit code.  Errors the user can fix (TgstatsError)
are printed as one line on stderr with a non-zero exit; tracebacks only with
``--debug``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from tgstats import __version__
from tgstats.errors import TgstatsError
from tgstats.redaction import redact

__all__ = ["main"]

# Command name -> module of tgstats.cli, so that `tgstats plugins ...`
# does not pay for importing every other subcommand's dependencies
# (SQLAlchemy, telegram).  Order is the order of `tgstats --help`.
COMMAND_MODULES = {
    "run": "run",
    "reload": "reload",
    "demo": "demo",
    "import": "import_history",
    "export": "export",
    "rejected": "rejected",
    "forget": "forget",
    "store": "store",
    "plugins": "plugins",
    "new-plugin": "new_plugin",
    "chat": "chat",
    "chats": "chats",
}
SUBCOMMANDS = tuple(COMMAND_MODULES.values())

EXIT_USAGE = 2
EXIT_ERROR = 1


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser, or (``only``: a module of SUBCOMMANDS) one subcommand's."""
    parser = argparse.ArgumentParser(
        prog="tgstats",
        description="Telegram group statistics with hot-reloadable plugins.",
    )
    parser.add_argument("--version", action="version", version=f"tgstats {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS if only is None else (only,):
        module = importlib.import_module(f"tgstats.cli.{name}")
        module.register(subparsers)
    return parser


def _requested_module(argv: Sequence[str]) -> str | None:
    """The module of the subcommand named on the command line, if it is a known one."""
    for arg in argv:
        if not arg.startswith("-"):  # the top-level options take no values
            return COMMAND_MODULES.get(arg)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    keep_files_private()
    parser = build_parser(_requested_module(argv))
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(handler(args) or 0)
    except TgstatsError as error:
        if args.debug:
            raise
        print(redact(f"tgstats: error: {error}"), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `tgstats plugins list | head`: the reader left; say nothing more.
        _silence_stdout()
        return EXIT_ERROR
    except Exception as error:
        if args.debug:
            raise
        print(
            redact(
                f"tgstats: internal error: {type(error).__name__}: {_one_line(error)} "
                "(run with --debug for the traceback)"
            ),
            file=sys.stderr,
        )
        return EXIT_ERROR


def keep_files_private() -> None:
    """Make every file and folder this process creates its owner's alone.

    The database (and SQLite's -wal and -shm, which copy its mode), the logs,
    the pid file and the folders made for them hold members' messages and
    names: no group or world bits, whatever umask the process started with.
    """
    inherited = os.umask(0o077)
    os.umask(inherited | 0o077)


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else "(no message)"


def _silence_stdout() -> None:
    # Python would otherwise report the broken pipe again when flushing at exit.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
