"""Import a Telegram Desktop export into the store: one transaction per chat.

Messages go to the store in batches of :data:`BATCH_SIZE` inside one
``store.bulk()`` transaction per chat, so a malformed file leaves nothing of
the chat it failed in (chats of a full-account export that finished before
it stay imported).  ``add_messages`` ignores rows already stored, which is what
makes a re-import add nothing twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import attrs
import ijson

from tgstats.importer.convert import (
    PRIVATE_TYPES,
    ExportFormatError,
    MessageConverter,
    bot_api_chat_id,
)
from tgstats.importer.reader import ChatHeader, CountingReader, ExportReader
from tgstats.logs import get_logger
from tgstats.store.queries import ChatInfo

if TYPE_CHECKING:
    from tgstats.store import Store

__all__ = ["BATCH_SIZE", "ChatResult", "ImportReport", "import_export"]

BATCH_SIZE = 5000

log = get_logger(__name__)

# Export chat type -> the Bot API's Chat.type (what the live recorder stores).
_BOT_API_TYPES = {
    "private_supergroup": "supergroup",
    "public_supergroup": "supergroup",
    "private_channel": "channel",
    "public_channel": "channel",
    "private_group": "group",
    "personal_chat": "private",
    "bot_chat": "private",
    "saved_messages": "private",
}


@attrs.frozen
class ChatResult:
    chat_id: int
    title: str | None
    messages: int  # message rows in the file
    added: int  # rows that were new to the store
    service: int  # service messages skipped
    senders: int
    migrated_from: str | None = None


@attrs.frozen
class ImportReport:
    path: Path
    chats: tuple[ChatResult, ...]
    skipped_chats: int  # not selected by --chat-id
    bytes: int
    seconds: float

    @property
    def messages(self) -> int:
        return sum(chat.messages for chat in self.chats)

    @property
    def added(self) -> int:
        return sum(chat.added for chat in self.chats)


def import_export(
    path: str | Path,
    store: Store,
    *,
    chat_id: int | None = None,
    tz: ZoneInfo | None = None,
    on_read: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Import ``path`` into ``store``.

    ``chat_id``: for a single-chat export, the id to store the chat under
    (overriding the mapped Bot API id); for a full-account export, the one
    chat to import (matched against the export's id or its Bot API id).
    ``tz`` interprets ``date`` fields when ``date_unixtime`` is missing (UTC).
    Raises :class:`ExportFormatError` naming the position on a malformed file.
    """
    path = Path(path)
    zone = tz or ZoneInfo("UTC")
    started = time.perf_counter()
    results: list[ChatResult] = []
    skipped = 0
    try:
        raw = path.open("rb")
    except OSError as error:
        raise ExportFormatError(f"{path}: cannot read: {error.strerror or error}") from None
    with raw:
        counting = CountingReader(raw, on_read)
        reader = ExportReader(counting, str(path))
        try:
            for header, messages in reader.chats():
                target = _target_chat_id(header, chat_id, reader.shape)
                if target is None:
                    skipped += 1
                    _skip(reader, messages)
                    continue
                results.append(
                    _import_chat(store, reader, header, messages, target, zone, batch_size)
                )
        except ExportFormatError as error:
            if results:
                kept = ", ".join(f"{r.title or r.chat_id}" for r in results)
                raise ExportFormatError(
                    f"{error} (nothing of that chat was stored; chats imported before it "
                    f"are kept: {kept})"
                ) from None
            if reader.position.chat is not None:
                raise ExportFormatError(f"{error} (nothing of that chat was stored)") from None
            raise
        size = counting.pos
    if chat_id is not None and not results and skipped:
        raise ExportFormatError(f"{path}: no chat with id {chat_id} in this export")
    report = ImportReport(
        path=path,
        chats=tuple(results),
        skipped_chats=skipped,
        bytes=size,
        seconds=time.perf_counter() - started,
    )
    log.info(
        "import_done",
        path=str(path),
        chats=len(results),
        messages=report.messages,
        added=report.added,
        seconds=round(report.seconds, 2),
    )
    return report


def _target_chat_id(header: ChatHeader, wanted: int | None, shape: str) -> int | None:
    """The id to store this chat under, or None if --chat-id selects another chat."""
    assert header.id is not None
    if shape == "single":
        return wanted if wanted is not None else bot_api_chat_id(header.id, header.type)
    try:
        mapped = bot_api_chat_id(header.id, header.type)
    except ExportFormatError:
        if wanted == header.id:
            raise
        # A chat type this importer does not know (a newer Telegram Desktop?): skip it.
        log.warning(
            "import_chat_skipped", chat_id=header.id, type=header.type, reason="unknown type"
        )
        return None
    if wanted is not None:
        return mapped if wanted in (header.id, mapped) else None
    if header.type in PRIVATE_TYPES:
        # A full-account export also holds the owner's private conversations; a group
        # statistics database has no business with them unless asked for by --chat-id.
        log.info("import_chat_skipped", chat_id=header.id, type=header.type, reason="private chat")
        return None
    return mapped


def _import_chat(
    store: Store,
    reader: ExportReader,
    header: ChatHeader,
    messages: Any,
    chat_id: int,
    tz: ZoneInfo,
    batch_size: int,
) -> ChatResult:
    converter = MessageConverter(chat_id, tz)
    # A chat already in the store (live-recorded or imported before) keeps its title:
    # what the bot saw is newer than the export.  Senders likewise (see _flush).
    known = store.queries.chat(chat_id)
    added = 0
    rows: list[dict[str, Any]] = []
    convert = converter.convert
    with store.bulk() as batch:
        if known is None or not known.title:
            batch.upsert_chat(
                ChatInfo(
                    chat_id=chat_id, title=header.name, type=_BOT_API_TYPES.get(header.type or "")
                )
            )
        index, msg = -1, None
        try:
            for index, msg in enumerate(messages):  # noqa: B007 (read in the handlers)
                row = convert(msg)
                if row is not None:
                    rows.append(row)
                    if len(rows) >= batch_size:
                        added += _flush(batch, converter, rows)
                        rows = []
        except ijson.JSONError as error:
            raise reader.json_error(error, index=index, message=msg) from None
        except ValueError as error:  # the converter's complaint about message #index
            raise reader.error(str(error), index=index, message=msg) from None
        if rows:
            added += _flush(batch, converter, rows)
    stats = converter.stats
    if stats.migrated_from is not None:
        log.info("import_chat_migrated", chat_id=chat_id, from_group=stats.migrated_from)
    result = ChatResult(
        chat_id=chat_id,
        title=header.name,
        messages=stats.messages,
        added=added,
        service=stats.service,
        senders=len(converter.users),
        migrated_from=stats.migrated_from,
    )
    log.info(
        "import_chat_done",
        chat_id=chat_id,
        title=header.name,
        messages=result.messages,
        added=added,
        service=result.service,
    )
    return result


def _skip(reader: ExportReader, messages: Any) -> None:
    """Read past a chat --chat-id did not select (the stream is shared)."""
    index = -1
    try:
        for index, _ in enumerate(messages):  # noqa: B007
            pass
    except ijson.JSONError as error:
        raise reader.json_error(error, index=index) from None


def _flush(batch: Any, converter: MessageConverter, rows: list[dict[str, Any]]) -> int:
    # Only senders the store does not know: a stored name and @username (the export
    # has none) are newer than the export's.
    batch.add_users(converter.take_new_users())
    return int(batch.add_messages(rows))
