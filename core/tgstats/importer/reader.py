"""Stream a Telegram Desktop ``result.json`` chat by chat, in constant memory.

Two shapes exist: a single-chat export (``name``, ``type``, ``id`` and
``messages`` at the top level) and a full-account export (``chats.list[]``,
each entry shaped like a single-chat export).  Messages are built by ijson's
C backend (``ijson.items``), which is ~3x faster than walking parse events in
Python; the top-level chat fields are found by a short pre-scan that stops at
``messages``.  Full-account exports pass the event stream through a small
Python filter that notices each chat's ``name``/``type``/``id`` on the way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import IO, Any

import attrs
import ijson

from tgstats.importer.convert import ExportFormatError

__all__ = ["ChatHeader", "CountingReader", "ExportReader"]

SINGLE_PREFIX = "messages.item"
ACCOUNT_PREFIX = "chats.list.item.messages.item"
_CHAT_KEYS = ("name", "type", "id")
_BUF_SIZE = 64 * 1024


class CountingReader:
    """A binary file wrapper that counts bytes handed to the parser (progress, error offsets)."""

    def __init__(self, raw: IO[bytes], on_read: Callable[[int], None] | None = None) -> None:
        self.raw = raw
        self.pos = 0
        self.chunk_start = 0
        self.on_read = on_read

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.chunk_start = self.pos
        self.pos += len(data)
        if self.on_read is not None and data:
            self.on_read(len(data))
        return data

    def rewind(self) -> None:
        self.raw.seek(0)
        if self.on_read is not None and self.pos:
            self.on_read(-self.pos)
        self.pos = self.chunk_start = 0


@attrs.define
class ChatHeader:
    """A chat's top-level fields; ``index`` is its position in ``chats.list`` (0 if single)."""

    index: int
    name: str | None = None
    type: str | None = None
    id: int | None = None

    def describe(self) -> str:
        return f"chat {self.name!r} (id {self.id})" if self.name else f"chat id {self.id}"


@attrs.define
class _Position:
    """Where the reader is, for error messages."""

    chat: ChatHeader | None = None


class ExportReader:
    """Yields ``(ChatHeader, messages iterator)`` per chat; consume each iterator fully."""

    def __init__(self, reader: CountingReader, path: str) -> None:
        self.reader = reader
        self.path = path
        self.position = _Position()
        self.shape = "unknown"  # "single" or "account" once chats() started

    def chats(self) -> Iterator[tuple[ChatHeader, Iterator[Any]]]:
        shape, header = self._prescan()
        self.shape = shape
        self.reader.rewind()
        if shape == "single":
            assert header is not None
            self.position.chat = header
            items = ijson.items(self.reader, SINGLE_PREFIX, use_float=True, buf_size=_BUF_SIZE)
            yield header, items
        else:
            yield from self._account_chats()

    def error(
        self, what: str, *, index: int = -1, message: Any = None, after: bool = False
    ) -> ExportFormatError:
        """An error naming the file, byte offset, chat and message (``index`` in the
        chat's ``messages``; ``after``: the problem is somewhere after that message)."""
        where = [f"{self.path}: near byte {self.reader.pos:,}"]
        if self.position.chat is not None:
            where.append(self.position.chat.describe())
        if index >= 0:
            ident = message.get("id") if isinstance(message, dict) else None
            shown = f"message #{index}" + (f", id {ident}" if ident is not None else "")
            where.append(f"after {shown}" if after else shown)
        return ExportFormatError(f"{', '.join(where)}: {what}")

    def json_error(
        self, error: Exception, *, index: int = -1, message: Any = None
    ) -> ExportFormatError:
        return self.error(
            f"malformed JSON: {one_line(error)}", index=index, message=message, after=True
        )

    # -- internals -------------------------------------------------------------

    def _events(self) -> Iterator[tuple[str, str, Any]]:
        return ijson.parse(self.reader, use_float=True, buf_size=_BUF_SIZE)

    def _prescan(self) -> tuple[str, ChatHeader | None]:
        """Find the export's shape (and a single chat's header) without reading messages."""
        try:
            return self._scan_header()
        except ijson.JSONError as error:
            if self.reader.pos == 0:
                raise self.error(
                    "the file is empty; expected a Telegram Desktop result.json"
                ) from None
            raise self.json_error(error) from None

    def _scan_header(self) -> tuple[str, ChatHeader | None]:
        header = ChatHeader(index=0)
        saw_messages = False
        events = self._events()
        first = next(events, None)
        if first is None:
            raise self.error("the file is empty; expected a Telegram Desktop result.json")
        if first[1] != "start_map":
            raise self.error(f"expected a JSON object at the top level, found {first[1]}")
        for prefix, event, value in events:
            if prefix == "" and event == "map_key":
                if value == "chats":
                    return "account", None
                if value == "messages":
                    saw_messages = True
                    nxt = next(events, None)
                    if nxt is None or nxt[1] != "start_array":
                        found = "the end of the file" if nxt is None else nxt[1]
                        raise self.error(f"'messages': expected an array, found {found}")
                    if header.id is not None and header.type is not None:
                        break
            elif prefix in _CHAT_KEYS and event in ("string", "number", "null"):
                setattr(header, prefix, value)
        else:
            # Reached the end: either the header came after the messages, or no messages at all.
            if not saw_messages:
                raise self.error(
                    "found neither 'messages' (single-chat export) nor 'chats' "
                    "(full-account export) at the top level"
                )
        _check_header(header, self)
        return "single", header

    def _account_chats(self) -> Iterator[tuple[ChatHeader, Iterator[Any]]]:
        """Chats of a full-account export, each with its messages, in file order."""
        box: dict[str, ChatHeader | None] = {"current": None}
        counter = {"chats": 0}

        def watch(events: Iterator[tuple[str, str, Any]]) -> Iterator[tuple[str, str, Any]]:
            # The C item builder consumes this generator; by the time it yields a
            # message, every event before that message (the chat's header) went by.
            for item in events:
                prefix = item[0]
                if prefix.startswith("chats.list.item"):
                    if prefix == "chats.list.item":
                        if item[1] == "start_map":
                            box["current"] = ChatHeader(index=counter["chats"])
                            counter["chats"] += 1
                    elif len(prefix) < 21 and prefix[16:] in _CHAT_KEYS:
                        setattr(box["current"], prefix[16:], item[2])
                yield item

        items = ijson.items(watch(self._events()), ACCOUNT_PREFIX)
        pending: Any = _NOTHING
        while True:
            if pending is _NOTHING:
                try:
                    pending = next(items)
                except StopIteration:
                    return
            header = box["current"]
            assert header is not None
            self.position = _Position(chat=header)
            _check_header(header, self)
            chat_messages = _ChatMessages(items, pending, header, box)
            yield header, iter(chat_messages)
            pending = chat_messages.next_pending
            if chat_messages.unfinished:
                raise RuntimeError("a chat's messages must be consumed before the next chat")


class _ChatMessages:
    """The messages of one chat of a full-account export, out of the shared item stream."""

    def __init__(
        self, items: Iterator[Any], first: Any, header: ChatHeader, box: dict[str, Any]
    ) -> None:
        self.items = items
        self.first = first
        self.header = header
        self.box = box
        self.next_pending: Any = _NOTHING
        self.unfinished = True

    def __iter__(self) -> Iterator[Any]:
        yield self.first
        for msg in self.items:
            if self.box["current"] is not self.header:
                self.next_pending = msg  # first message of the next chat
                break
            yield msg
        self.unfinished = False


_NOTHING = object()


def _check_header(header: ChatHeader, reader: ExportReader) -> None:
    # The scan set the fields straight from the JSON, so they may hold any
    # JSON value until checked here: read them as what they may really be.
    chat_type: object = header.type
    name: object = header.name
    if type(header.id) is not int:
        raise reader.error(f"{header.describe()}: 'id': expected an integer, found {header.id!r}")
    if chat_type is not None and not isinstance(chat_type, str):
        raise reader.error(f"chat id {header.id}: 'type': expected a string, found {chat_type!r}")
    if name is not None and not isinstance(name, str):
        header.name = str(name)


def one_line(error: Exception) -> str:
    # yajl's messages span lines and end in an ASCII-art pointer; keep the words.
    text = " ".join(str(error).split())
    text = re.sub(r"\s*\(right here\) -*\^\s*", " ", text).strip()
    if "premature EOF" in text:
        return "the file ends in the middle of the JSON (truncated, or still being written?)"
    return text or type(error).__name__
