"""The reading half of an import: the file -> a stream of events for the writer.

Everything that needs only the file happens here: the StructureGuard, the
JSON parser, the conversion of each message to a store row (text cleaned,
dates as Unix seconds) and the checks that name a message's position.  The
writer (``tgstats.importer.runner``) only talks to the database.  The same
generator runs in the importing process, or in a reader process of its own
(``tgstats.importer.pipeline``) so both halves use a core each; its events
are plain tuples of picklable values for that reason:

* ``("chat", header, target, reason)``: a chat starts; ``target`` is the id to
  store it under, or None if it is skipped (``reason``; no rows follow);
* ``("rows", rows, users, pos, counts)``: a batch of ``prepare_row`` tuples,
  the senders first seen in it, the file offset read so far and the rows'
  ``count_rows`` (the writer's aggregates, made ahead);
* ``("end", stats, senders, newest, pos)``: the chat's messages are all sent;
* ``("progress", pos)``: reading past a skipped chat;
* ``("error", text, in_chat)``: the file is malformed (``text`` names where and
  what; ``in_chat``: inside a chat), nothing follows;
* ``("done", size)``: the whole file was read.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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
from tgstats.store.bulk import count_rows

__all__ = ["NOT_SELECTED", "PRIVATE", "UNKNOWN_TYPE", "Event", "produce"]

Event = tuple[Any, ...]

# Why a chat of a full-account export was not imported (SkippedChat.reason).
PRIVATE = "private"  # a private chat: only with --chat-id
NOT_SELECTED = "not selected"  # --chat-id picked another chat
UNKNOWN_TYPE = "unknown type"  # a chat type this importer does not know


def produce(
    path: Path, *, chat_id: int | None, tz: ZoneInfo, batch_size: int
) -> Generator[Event, None, None]:
    """The events of importing ``path`` (see the module docstring)."""
    try:
        raw = path.open("rb")
    except OSError as error:
        yield ("error", f"{path}: cannot read: {error.strerror or error}", False)
        return
    with raw:
        counting = CountingReader(raw, None, StructureGuard())
        reader = ExportReader(counting, str(path))
        try:
            for header, messages in reader.chats():
                try:
                    target, reason = _target_chat_id(header, chat_id, reader.shape)
                except ExportFormatError:
                    raise reader.error(unknown_type(header.type)) from None  # name the file
                yield ("chat", header, target, reason)
                if target is None:
                    yield from _skip(reader, messages, batch_size)
                else:
                    yield from _chat(reader, header, messages, target, tz, batch_size)
        except ExportFormatError as error:
            yield ("error", str(error), reader.position.chat is not None)
            return
        yield ("done", counting.pos)


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
        return None, UNKNOWN_TYPE
    if wanted is not None:
        if wanted in (header.id, mapped):
            return mapped, ""
        return None, NOT_SELECTED
    if header.type in PRIVATE_TYPES:
        # A full-account export also holds the owner's private conversations; a group
        # statistics database has no business with them unless asked for by --chat-id.
        return None, PRIVATE
    return mapped, ""


def _chat(
    reader: ExportReader,
    header: ChatHeader,
    messages: Any,
    chat_id: int,
    tz: ZoneInfo,
    batch_size: int,
) -> Iterator[Event]:
    converter = MessageConverter(chat_id, tz, export_id=header.id, chat_type=header.type)
    convert = converter.convert
    rows: list[tuple[Any, ...]] = []
    newest = 0
    index, msg = -1, None
    try:
        for index, msg in enumerate(messages):  # noqa: B007 (read in the handlers)
            row = convert(msg)
            if row is not None:
                rows.append(row)
                if len(rows) >= batch_size:
                    newest = max(newest, max(r[4] for r in rows))
                    yield _rows(chat_id, rows, converter, reader)
                    rows = []
    except (ijson.JSONError, LimitExceeded) as error:
        raise reader.json_error(error, index=index, message=msg) from None
    except ValueError as error:  # the converter's complaint about message #index
        raise reader.error(str(error), index=index, message=msg) from None
    if rows:
        newest = max(newest, max(r[4] for r in rows))
        yield _rows(chat_id, rows, converter, reader)
    yield ("end", converter.stats, len(converter.users), newest, reader.reader.pos)


def _rows(
    chat_id: int, rows: list[tuple[Any, ...]], converter: MessageConverter, reader: ExportReader
) -> Event:
    # The batch's activity and word counts are made here, on the reader's core:
    # the writer uses them if all the rows are new (a first import), which saves
    # it about a third of its time.
    counts = count_rows(chat_id, rows)
    return ("rows", rows, converter.take_new_users(), reader.reader.pos, counts)


def _skip(reader: ExportReader, messages: Any, batch_size: int) -> Iterator[Event]:
    """Read past a chat that is not imported (the stream is shared)."""
    index = -1
    try:
        for index, _ in enumerate(messages):
            if index % batch_size == batch_size - 1:
                yield ("progress", reader.reader.pos)
    except (ijson.JSONError, LimitExceeded) as error:
        raise reader.json_error(error, index=index) from None
    yield ("progress", reader.reader.pos)
