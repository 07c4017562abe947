"""Options shared by every `tgstats` subcommand."""

from __future__ import annotations

import argparse
from typing import Any

from tgstats.store.database import DEFAULT_DB_URL

__all__ = ["add_db_option", "common_options"]


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


def add_db_option(parser: argparse.ArgumentParser, default: Any = None) -> None:
    """The ``--db URL`` option of the commands that open the store, with its default."""
    parser.add_argument(
        "--db",
        default=default,
        metavar="URL",
        help=f"SQLAlchemy database URL (default: $TGSTATS_DB or {DEFAULT_DB_URL})",
    )
