"""Import a Telegram Desktop export into the store: one transaction per chat.

The reading half (parser, guard, conversion: tgstats.importer.produce) hands
the writing half below a stream of events; for a big file it runs in a
process of its own (tgstats.importer.pipeline), so the two use a core each.
Messages go to the store in batches of :data:`BATCH_SIZE` inside one
``store.bulk()`` transaction per chat, so a malformed file leaves nothing of
the chat it failed in (chats of a full-account export that finished before
it stay imported).  ``add_messages`` ignores rows already stored, which is what
makes a re-import add nothing twice; for a chat that already had messages the
batch also refreshes them (newer edits; reaction counts when the file's newest
message is at least as new as the store's), see ``tgstats.store.bulk``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import attrs

from tgstats.importer.convert import ExportFormatError
from tgstats.importer.pipeline import MIN_PIPELINE_BYTES, produce_in_child
from tgstats.importer.produce import (
    NOT_SELECTED,
    PRIVATE,
    UNKNOWN_TYPE,
    Event,
    produce,
)
from tgstats.importer.reader import ChatHeader
from tgstats.logs import get_logger
from tgstats.store.aggregates import AggregateRows
from tgstats.store.queries import ChatInfo, UserInfo

if TYPE_CHECKING:
    from tgstats.store import Store

__all__ = [
    "BATCH_SIZE",
    "NOT_SELECTED",  # why a chat was skipped (SkippedChat.reason), see produce
    "PRIVATE",
    "UNKNOWN_TYPE",
    "ChatResult",
    "ImportReport",
    "SkippedChat",
    "import_export",
]

BATCH_SIZE = 20_000  # messages per batch: each batch's aggregate rows are applied at once

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
    pipeline: bool | None = None,
) -> ImportReport:
    """Import ``path`` into ``store``.

    ``chat_id``: for a single-chat export, the id to store the chat under
    (overriding the mapped Bot API id); for a full-account export, the one
    chat to import (matched against the export's id or its Bot API id).
    ``tz`` interprets ``date`` fields when ``date_unixtime`` is missing (UTC).
    ``on_read`` is called with the bytes read since its last call.
    ``pipeline``: read the file in a second process while this one writes
    (see tgstats.importer.pipeline); None: when the file is big enough and
    there is more than one CPU.
    Raises :class:`ExportFormatError` naming the position on a malformed file.
    """
    path = Path(path)
    zone = tz or ZoneInfo("UTC")
    started = time.perf_counter()
    if pipeline is None:
        pipeline = _worth_a_reader_process(path)
    source = produce_in_child if pipeline else produce
    events = source(path, chat_id=chat_id, tz=zone, batch_size=batch_size)
    writer = _Writer(store, on_read)
    with closing(events):  # stops the reader process if the writer fails
        size = writer.write(events)
    if chat_id is not None and not writer.results and writer.skipped:
        raise ExportFormatError(f"{path}: no chat with id {chat_id} in this export")
    report = ImportReport(
        path=path,
        chats=tuple(writer.results),
        skipped=tuple(writer.skipped),
        bytes=size,
        seconds=time.perf_counter() - started,
    )
    log.info(
        "import_done",
        path=str(path),
        chats=len(writer.results),
        messages=report.messages,
        added=report.added,
        seconds=round(report.seconds, 2),
    )
    return report


def _worth_a_reader_process(path: Path) -> bool:
    try:
        size = path.stat().st_size
    except OSError:
        return False  # the reader names the problem
    return size >= MIN_PIPELINE_BYTES and (os.cpu_count() or 1) > 1


class _Writer:
    """The database half of an import: consumes the reader's events (see produce)."""

    def __init__(self, store: Store, on_read: Callable[[int], None] | None) -> None:
        self.store = store
        self.on_read = on_read
        self.read = 0  # bytes reported to on_read
        self.results: list[ChatResult] = []
        self.skipped: list[SkippedChat] = []

    def progress(self, pos: int) -> None:
        if self.on_read is not None and pos != self.read:
            self.on_read(pos - self.read)
        self.read = pos

    def write(self, events: Iterator[Event]) -> int:
        """Write every chat; the file's size in bytes."""
        for event in events:
            kind = event[0]
            if kind == "chat":
                _, header, target, reason = event
                if target is None:
                    assert header.id is not None  # checked by the reader
                    if reason != NOT_SELECTED:
                        log_skip = log.warning if reason == UNKNOWN_TYPE else log.info
                        log_skip(
                            "import_chat_skipped",
                            chat_id=header.id,
                            type=header.type,
                            reason=reason,
                        )
                    self.skipped.append(SkippedChat(header.id, header.name, header.type, reason))
                else:
                    self.results.append(self.chat(events, header, target))
            elif kind == "progress":
                self.progress(event[1])
            elif kind == "error":
                raise self.failed(event[1], in_chat=event[2])
            elif kind == "done":
                self.progress(event[1])
                return int(event[1])
        raise AssertionError("the reader stopped without 'done'")

    def failed(self, text: str, *, in_chat: bool) -> ExportFormatError:
        if self.results:
            kept = ", ".join(f"{r.title or r.chat_id}" for r in self.results)
            return ExportFormatError(
                f"{text} (nothing of that chat was stored; chats imported before it "
                f"are kept: {kept})"
            )
        if in_chat:
            return ExportFormatError(f"{text} (nothing of that chat was stored)")
        return ExportFormatError(text)

    def chat(self, events: Iterator[Event], header: ChatHeader, chat_id: int) -> ChatResult:
        store = self.store
        # A chat already in the store (live-recorded or imported before) keeps its title:
        # what the bot saw is newer than the export.  Senders likewise (see _flush).
        known = store.queries.chat(chat_id)
        added = 0
        refreshed = None
        with store.bulk() as batch:
            if known is None or not known.title:
                batch.upsert_chat(
                    ChatInfo(
                        chat_id=chat_id,
                        title=header.name,
                        type=_BOT_API_TYPES.get(header.type or ""),
                    )
                )
            # Rows already stored are refreshed from the file; a new chat needs no copy.
            stored_latest = batch.latest_date(chat_id)
            if stored_latest is not None:
                batch.start_refresh(chat_id)
            for event in events:
                kind = event[0]
                if kind == "rows":
                    added += _flush(batch, event[1], event[2], event[4])
                    self.progress(event[3])
                elif kind == "end":
                    _, stats, senders, newest, pos = event
                    break
                elif kind == "error":
                    raise self.failed(event[1], in_chat=event[2])  # rolls the chat back
                else:
                    raise AssertionError(f"unexpected {kind!r} inside a chat")
            else:
                raise AssertionError("the reader stopped inside a chat")
            if stored_latest is not None:
                # The file is the newer data if its newest message is no older than the
                # store's: then its reaction counts win (edits carry their own date).
                refreshed = batch.apply_refresh(reactions=newest >= stored_latest)
        self.progress(pos)
        if stats.migrated_from is not None:
            log.info("import_chat_migrated", chat_id=chat_id, from_group=stats.migrated_from)
        result = ChatResult(
            chat_id=chat_id,
            title=header.name,
            messages=stats.messages,
            added=added,
            service=stats.service,
            senders=senders,
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


def _flush(
    batch: Any, rows: list[tuple[Any, ...]], users: list[UserInfo], counts: AggregateRows
) -> int:
    # Only senders the store does not know: a stored name and @username (the export
    # has none) are newer than the export's.  The rows go first, so the batch knows
    # the chat's opt-outs and tombstones before it sees the names.
    added = int(batch.add_prepared(rows, counts))
    batch.add_users(users)
    return added
