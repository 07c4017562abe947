"""Import a Telegram Desktop export into the store: one transaction per chat.

Messages go to the store in batches of :data:`BATCH_SIZE` inside one
``store.bulk()`` transaction per chat, so a malformed file leaves nothing of
the chat it failed in (chats of a full-account export that finished before
it stay imported).  ``add_messages`` ignores rows already stored, which is what
makes a re-import add nothing twice; for a chat that already had messages the
batch also refreshes them (newer edits; reaction counts when the file's newest
message is at least as new as the store's), see ``tgstats.store.bulk``.
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
    unknown_type,
)
from tgstats.importer.limits import LimitExceeded, StructureGuard
from tgstats.importer.reader import ChatHeader, CountingReader, ExportReader
from tgstats.logs import get_logger
from tgstats.store.queries import ChatInfo

if TYPE_CHECKING:
    from tgstats.store import Store

__all__ = ["BATCH_SIZE", "ChatResult", "ImportReport", "SkippedChat", "import_export"]

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


# Why a chat of a full-account export was not imported (SkippedChat.reason).
PRIVATE = "private"  # a private chat: only with --chat-id
NOT_SELECTED = "not selected"  # --chat-id picked another chat
UNKNOWN_TYPE = "unknown type"  # a chat type this importer does not know


@attrs.frozen
class ChatResult:
    chat_id: int
    title: str | None
    messages: int  # message rows in the file
    added: int  # rows that were new to the store
    service: int  # service messages skipped
    senders: int
    migrated_from: str | None = None
    # Record type -> how many were skipped ("service", "unsupported").
    skipped: dict[str, int] = attrs.field(factory=dict)
    left: bool = False  # from left_chats
    updated_edits: int = 0  # stored rows given a newer edit
    updated_reactions: int = 0  # stored rows given the file's reaction count
    topics: int = 0  # forum topics
    foreign_replies: int = 0  # replies into another chat, not linked


@attrs.frozen
class SkippedChat:
    chat_id: int
    title: str | None
    type: str | None
    reason: str  # PRIVATE, NOT_SELECTED or UNKNOWN_TYPE


@attrs.frozen
class ImportReport:
    path: Path
    chats: tuple[ChatResult, ...]
    skipped: tuple[SkippedChat, ...]  # chats with messages that were not imported
    bytes: int
    seconds: float

    @property
    def skipped_chats(self) -> int:
        return len(self.skipped)

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
    skipped: list[SkippedChat] = []
    try:
        raw = path.open("rb")
    except OSError as error:
        raise ExportFormatError(f"{path}: cannot read: {error.strerror or error}") from None
    with raw:
        counting = CountingReader(raw, on_read, StructureGuard())
        reader = ExportReader(counting, str(path))
        try:
            for header, messages in reader.chats():
                try:
                    target, reason = _target_chat_id(header, chat_id, reader.shape)
                except ExportFormatError:
                    raise reader.error(unknown_type(header.type)) from None  # name the file
                if target is None:
                    assert header.id is not None  # checked by the reader
                    skipped.append(SkippedChat(header.id, header.name, header.type, reason))
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
        skipped=tuple(skipped),
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


def _target_chat_id(header: ChatHeader, wanted: int | None, shape: str) -> tuple[int | None, str]:
    """The id to store this chat under, or None and the reason it is skipped."""
    assert header.id is not None
    if shape == "single":
        if wanted is not None:
            return wanted, ""
        return bot_api_chat_id(header.id, header.type), ""
    try:
        mapped = bot_api_chat_id(header.id, header.type)
    except ExportFormatError:
        if wanted == header.id:
            raise
        if wanted is not None:
            return None, NOT_SELECTED
        # A chat type this importer does not know (a newer Telegram Desktop?): skip it.
        log.warning("import_chat_skipped", chat_id=header.id, type=header.type, reason=UNKNOWN_TYPE)
        return None, UNKNOWN_TYPE
    if wanted is not None:
        if wanted in (header.id, mapped):
            return mapped, ""
        return None, NOT_SELECTED
    if header.type in PRIVATE_TYPES:
        # A full-account export also holds the owner's private conversations; a group
        # statistics database has no business with them unless asked for by --chat-id.
        log.info("import_chat_skipped", chat_id=header.id, type=header.type, reason=PRIVATE)
        return None, PRIVATE
    return mapped, ""


def _import_chat(
    store: Store,
    reader: ExportReader,
    header: ChatHeader,
    messages: Any,
    chat_id: int,
    tz: ZoneInfo,
    batch_size: int,
) -> ChatResult:
    converter = MessageConverter(chat_id, tz, export_id=header.id, chat_type=header.type)
    # A chat already in the store (live-recorded or imported before) keeps its title:
    # what the bot saw is newer than the export.  Senders likewise (see _flush).
    known = store.queries.chat(chat_id)
    added = 0
    rows: list[dict[str, Any]] = []
    convert = converter.convert
    refreshed = None
    with store.bulk() as batch:
        if known is None or not known.title:
            batch.upsert_chat(
                ChatInfo(
                    chat_id=chat_id, title=header.name, type=_BOT_API_TYPES.get(header.type or "")
                )
            )
        # Rows already stored are refreshed from the file; a new chat needs no copy.
        stored_latest = batch.latest_date(chat_id)
        if stored_latest is not None:
            batch.start_refresh(chat_id)
        newest = 0
        index, msg = -1, None
        try:
            for index, msg in enumerate(messages):  # noqa: B007 (read in the handlers)
                row = convert(msg)
                if row is not None:
                    rows.append(row)
                    if len(rows) >= batch_size:
                        newest = max(newest, max(r["date"] for r in rows))
                        added += _flush(batch, converter, rows)
                        rows = []
        except (ijson.JSONError, LimitExceeded) as error:
            raise reader.json_error(error, index=index, message=msg) from None
        except ValueError as error:  # the converter's complaint about message #index
            raise reader.error(str(error), index=index, message=msg) from None
        if rows:
            newest = max(newest, max(r["date"] for r in rows))
            added += _flush(batch, converter, rows)
        if stored_latest is not None:
            # The file is the newer data if its newest message is no older than the
            # store's: then its reaction counts win (edits carry their own date).
            refreshed = batch.apply_refresh(reactions=newest >= stored_latest)
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
        skipped=dict(stats.skipped),
        left=header.left,
        updated_edits=refreshed.edits if refreshed else 0,
        updated_reactions=refreshed.reactions if refreshed else 0,
        topics=stats.topics,
        foreign_replies=stats.foreign_replies,
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
    except (ijson.JSONError, LimitExceeded) as error:
        raise reader.json_error(error, index=index) from None


def _flush(batch: Any, converter: MessageConverter, rows: list[dict[str, Any]]) -> int:
    # Only senders the store does not know: a stored name and @username (the export
    # has none) are newer than the export's.  The rows go first, so the batch knows
    # the chat's opt-outs and tombstones before it sees the names.
    added = int(batch.add_messages(rows))
    batch.add_users(converter.take_new_users())
    return added
