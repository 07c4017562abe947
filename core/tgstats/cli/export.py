"""`tgstats export`: the stored messages as JSON Lines on stdout, one message per line.

``--settings`` adds each chat's own settings (``/settings``) after the
messages: one line per chat, ``{"chat_id", "settings", "excluded_user_ids"}``
(a message line has a ``message_id``, a settings line a ``settings`` key).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from tgstats.cli.options import add_db_option, common_options
from tgstats.errors import TgstatsError
from tgstats.logs import configure_logging
from tgstats.store.database import default_db_url, open_store, safe_url


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
        "--settings",
        action="store_true",
        help="also write each chat's settings (one line per chat, after the messages)",
    )
    add_db_option(parser)
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    # stdout carries the data: logs go to stderr only.
    configure_logging(level=logging.DEBUG if getattr(args, "debug", False) else logging.WARNING)
    url = default_db_url(args.db)
    _require_existing_sqlite(url)
    store = open_store(url)
    out = sys.stdout
    try:
        if args.chat_id is not None and store.queries.chat(args.chat_id) is None:
            raise TgstatsError(
                f"no chat with id {args.chat_id} in the message store at {safe_url(url)} "
                "(supergroups are stored as -100<id>, basic groups as -<id>)"
            )
        for row in store.export(args.chat_id):
            out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
        if args.settings:
            for row in store.settings.export_rows(args.chat_id):
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


def _require_existing_sqlite(url: str) -> None:
    """Reading must not create: opening a missing SQLite file would make an empty store."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return  # open_store reports it
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    if database.startswith("file:"):
        return  # a URI filename: left to SQLite
    if not Path(database).is_file():
        raise TgstatsError(
            f"{database}: no such database (nothing was recorded or imported there); "
            "pass --db or set TGSTATS_DB to the store to export"
        )
