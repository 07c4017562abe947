"""`tgstats store verify|rebuild|partition`: the statistics aggregates, and the
messages table's partitions.

The aggregates (tgstats.store.aggregates) are kept on every write; ``verify``
recomputes them from the messages and lists every difference (exit status 1
if there is one), ``rebuild`` replaces them by the recomputation, in one
transaction, with a progress bar.  ``partition --hash N`` splits the
PostgreSQL messages table into N partitions by chat (tgstats.store.partition).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Any

from tgstats.cli.export import _require_existing_sqlite
from tgstats.cli.options import add_db_option, common_options
from tgstats.errors import TgstatsError
from tgstats.logs import configure_logging
from tgstats.store.database import default_db_url, open_store, safe_url
from tgstats.store.partition import MAX_PARTITIONS, partition_messages
from tgstats.store.queries import chat_family
from tgstats.store.rebuild import rebuild, verify

# Differences listed in full; beyond that only counted per table.
SHOWN = 50


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "store",
        help="verify or rebuild the statistics aggregates; partition the messages",
        description=(
            "Check the statistics aggregates against the messages, or recompute them; "
            "split the PostgreSQL messages table into partitions by chat."
        ),
        parents=[common_options()],
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (
        ("verify", "recompute the aggregates and list every difference (exit 1 if any)"),
        ("rebuild", "replace the aggregates by a recomputation from the messages"),
    ):
        action = actions.add_parser(name, help=text, description=text, parents=[common_options()])
        action.add_argument(
            "--chat-id",
            type=int,
            default=None,
            metavar="ID",
            help="only this chat (and the group it was upgraded from)",
        )
        add_db_option(action)
        action.set_defaults(handler=_handle)
    text = "split the PostgreSQL messages table into N hash partitions by chat (bot stopped)"
    action = actions.add_parser(
        "partition", help=text, description=text, parents=[common_options()]
    )
    action.add_argument(
        "--hash",
        type=int,
        required=True,
        metavar="N",
        help=f"number of partitions, 2 to {MAX_PARTITIONS}",
    )
    add_db_option(action)
    action.set_defaults(handler=_partition)


def _partition(args: argparse.Namespace) -> int:
    configure_logging(level=logging.DEBUG if getattr(args, "debug", False) else logging.WARNING)
    url = default_db_url(args.db)
    _require_existing_sqlite(url)
    started = time.perf_counter()
    with open_store(url) as store, store.engine.begin() as connection:
        moved = partition_messages(connection, args.hash)
    print(
        f"messages split into {args.hash} partitions by chat: {moved:,} rows moved "
        f"in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 0


def _handle(args: argparse.Namespace) -> int:
    configure_logging(level=logging.DEBUG if getattr(args, "debug", False) else logging.WARNING)
    url = default_db_url(args.db)
    _require_existing_sqlite(url)
    with open_store(url) as store, store.engine.begin() as connection:
        chats = None
        if args.chat_id is not None:
            if store.queries.chat(args.chat_id) is None:
                raise TgstatsError(f"no chat with id {args.chat_id} in {safe_url(url)}")
            chats = chat_family(connection, args.chat_id)
        if args.action == "rebuild":
            read = rebuild(connection, chats, progress=sys.stderr.isatty())
            print(f"rebuilt the aggregates from {read:,} messages with text", file=sys.stderr)
            return 0
        differences = verify(connection, chats)
    for difference in differences[:SHOWN]:
        print(
            f"{difference.table} chat={difference.chat_id} key={difference.key} "
            f"stored={difference.stored} expected={difference.expected}"
        )
    if len(differences) > SHOWN:
        print(f"... and {len(differences) - SHOWN} more")
    if differences:
        print(
            f"{len(differences)} difference(s); `tgstats store rebuild` recomputes them",
            file=sys.stderr,
        )
        return 1
    print("the aggregates match the messages", file=sys.stderr)
    return 0
