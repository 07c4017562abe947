"""`tgstats rejected`: the updates the bot could not parse or handle, with their raw JSON."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import attrs

from tgstats.cli.options import add_db_option, common_options
from tgstats.logs import configure_logging
from tgstats.store.database import open_store
from tgstats.store.rejected import list_rejected

PREVIEW_CHARS = 200


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rejected",
        help="list the updates the bot rejected (could not parse or handle)",
        description=(
            "List the updates the bot skipped because python-telegram-bot could not parse "
            "them or recording them raised, oldest first: update id, time (UTC), reason "
            "and the raw JSON (shortened unless --json)."
        ),
        parents=[common_options()],
    )
    add_db_option(parser)
    parser.add_argument("--json", action="store_true", help="one JSON object per line, raw in full")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="only the newest N")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    configure_logging(level=logging.DEBUG if getattr(args, "debug", False) else logging.WARNING)
    with open_store(args.db) as store:
        rows = list_rejected(store.engine, args.limit)
    out = sys.stdout
    for row in rows:
        when = datetime.fromtimestamp(row.received_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if args.json:
            out.write(json.dumps({**attrs.asdict(row), "received_at": when}, ensure_ascii=False))
        else:
            raw = row.raw if len(row.raw) <= PREVIEW_CHARS else row.raw[:PREVIEW_CHARS] + "..."
            out.write(f"{when} update_id={row.update_id} reason={row.reason}\n  {raw}")
        out.write("\n")
    if not args.json:
        print(f"{len(rows)} rejected update(s)", file=sys.stderr)
    return 0
