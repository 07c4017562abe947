"""`tgstats export`: the stored messages as JSON Lines on stdout, one message per line."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from tgstats.cli.options import common_options
from tgstats.logs import configure_logging
from tgstats.store.database import DEFAULT_DB_URL, open_store


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write stored messages as JSON Lines to stdout",
        description=(
            "Write the stored messages as JSON Lines (one message per line), ordered by "
            "chat, date and message id. Dates are ISO 8601 UTC (2026-01-02T03:04:05Z)."
        ),
        parents=[common_options()],
    )
    parser.add_argument(
        "--chat-id",
        type=int,
        default=None,
        metavar="ID",
        help="only this chat (including the history of a group it was upgraded from)",
    )
    parser.add_argument(
        "--db",
        default=None,
        metavar="URL",
        help=f"SQLAlchemy database URL (default: $TGSTATS_DB or {DEFAULT_DB_URL})",
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    # stdout carries the data: logs go to stderr only.
    configure_logging(level=logging.DEBUG if getattr(args, "debug", False) else logging.WARNING)
    store = open_store(args.db)
    out = sys.stdout
    try:
        for row in store.export(args.chat_id):
            out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
        out.flush()
    except BrokenPipeError:
        # `tgstats export | head`: the reader left; not an error worth a traceback.
        sys.stdout = None
        return 0
    finally:
        store.close()
    return 0
