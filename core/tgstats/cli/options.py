"""Options shared by every `tgstats` subcommand."""

from __future__ import annotations

import argparse

__all__ = ["common_options"]


def common_options() -> argparse.ArgumentParser:
    """Options every subcommand accepts after its name too (``tgstats plugins list --debug``).

    Pass as ``parents=[common_options()]``; SUPPRESS keeps a value given before
    the subcommand from being reset by the subparser's default.
    """
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show tracebacks and debug logs",
    )
    return parser
