"""`tgstats import FILE`: load a Telegram Desktop export (result.json) into the store."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tgstats.cli.options import add_db_option, common_options
from tgstats.errors import TgstatsError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import",
        help="import a Telegram Desktop chat export (result.json)",
        description=(
            "Import Telegram Desktop's 'Export chat history' JSON (a single chat or a "
            "full-account export) into the message store. Re-importing adds nothing twice."
        ),
        parents=[common_options()],
    )
    parser.add_argument("file", metavar="FILE", help="the export's result.json")
    parser.add_argument(
        "--chat-id",
        type=int,
        default=None,
        help=(
            "single-chat export: store the chat under this id instead of its Bot API id; "
            "full-account export: import only this chat (export id or Bot API id)"
        ),
    )
    parser.add_argument(
        "--tz",
        default="UTC",
        metavar="ZONE",
        help="IANA time zone of 'date' fields, used only when 'date_unixtime' is missing "
        "(default: UTC)",
    )
    add_db_option(parser)
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from tgstats.importer import import_export
    from tgstats.importer.summary import chat_line, skipped_lines
    from tgstats.logs import configure_logging
    from tgstats.store import default_db_url, open_store, safe_url

    # The summary below is the user-facing output; info events only with --debug.
    configure_logging(level="DEBUG" if getattr(args, "debug", False) else "WARNING")
    zone = _zone(args.tz)
    path = Path(args.file)
    if not path.is_file():
        raise TgstatsError(f"{path}: no such file")
    url = default_db_url(args.db)
    store = open_store(url)
    try:
        with ExitStack() as stack:
            on_read = _progress(stack, path)
            report = import_export(path, store, chat_id=args.chat_id, tz=zone, on_read=on_read)
    finally:
        store.close()
    for chat in report.chats:
        print(chat_line(chat))
    rate = report.messages / report.seconds if report.seconds else 0.0
    print(
        f"Imported {report.added:,} new messages of {report.messages:,} from {len(report.chats)} "
        f"chat(s) in {report.seconds:.1f} s ({rate:,.0f} messages/s) into {safe_url(url)}"
    )
    for line in skipped_lines(report):
        print(line)
    return 0


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TgstatsError(
            f"--tz {name!r}: expected an IANA time zone such as UTC or Europe/Berlin"
        ) from None


def _progress(stack: ExitStack, path: Path) -> Any:
    """A byte-based progress bar on stderr when it is a terminal, else None."""
    if not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    progress = stack.enter_context(
        Progress(
            TextColumn("[bold]importing[/] {task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
    )
    task = progress.add_task(path.name, total=path.stat().st_size)
    return lambda nbytes: progress.advance(task, nbytes)
