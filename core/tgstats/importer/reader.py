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

import ast
import re
from collections.abc import Callable, Iterator
from typing import IO, Any

import attrs
import ijson

from tgstats.importer.convert import ExportFormatError
from tgstats.importer.limits import LimitExceeded, StructureGuard

__all__ = ["ChatHeader", "CountingReader", "ExportReader"]

SINGLE_PREFIX = "messages.item"
ACCOUNT_PREFIX = "chats.list.item.messages.item"
# Groups the account has left: the same shape, read as if they were in ``chats``.
LEFT_PREFIX = "left_chats.list.item"
_CHAT_KEYS = ("name", "type", "id")
_BUF_SIZE = 64 * 1024
# Nesting level of one message object: top object 1, "messages" 2 / top 1,
# "chats" 2, "list" 3, chat 4, "messages" 5.
SINGLE_ITEM_DEPTH = 3
ACCOUNT_ITEM_DEPTH = 6

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class CountingReader:
    """A binary file wrapper between the file and the parser.

    Counts the bytes handed on (progress, error offsets; ``chunk_start`` is
    the file offset of the last chunk, kept in ``chunk``), drops a UTF-8
    byte-order mark (editors add one; offsets still count it) and lets the
    :class:`StructureGuard` refuse a chunk before the parser sees it.
    """

    def __init__(
        self,
        raw: IO[bytes],
        on_read: Callable[[int], None] | None = None,
        guard: StructureGuard | None = None,
    ) -> None:
        self.raw = raw
        self.pos = 0
        self.chunk_start = 0
        self.chunk = b""
        self.on_read = on_read
        self.guard = guard

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        start = self.pos
        self.pos += len(data)
        if self.on_read is not None and data:
            self.on_read(len(data))
        if start == 0 and data[:3] == _UTF8_BOM:
            data, start = data[3:], 3
        self.chunk_start, self.chunk = start, data
        if self.guard is not None:
            self.guard.check(data, start)
        return data

    def rewind(self) -> None:
        self.raw.seek(0)
        if self.on_read is not None and self.pos:
            self.on_read(-self.pos)
        self.pos = self.chunk_start = 0
        self.chunk = b""
        if self.guard is not None:
            self.guard.reset()

    def utf16(self) -> bool:
        """True if the file starts with a UTF-16 byte-order mark."""
        self.raw.seek(0)
        head = self.raw.read(2)
        self.raw.seek(0)
        return head in _UTF16_BOMS


@attrs.define
class ChatHeader:
    """A chat's top-level fields; ``index`` is its position in ``chats.list`` (0 if single)."""

    index: int
    name: str | None = None
    type: str | None = None
    id: int | None = None
    left: bool = False  # from ``left_chats``: a group the account has left

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
        if self.reader.utf16():
            raise self.error(
                "the file is UTF-16 encoded (it starts with a UTF-16 byte-order mark); "
                "Telegram Desktop writes UTF-8: convert it back, e.g. iconv -f UTF-16 -t UTF-8",
                offset=0,
            )
        shape, header = self._prescan()
        self.shape = shape
        self.reader.rewind()
        if self.reader.guard is not None:
            self.reader.guard.item_depth = (
                SINGLE_ITEM_DEPTH if shape == "single" else ACCOUNT_ITEM_DEPTH
            )
        if shape == "single":
            assert header is not None
            self.position.chat = header
            items = ijson.items(self.reader, SINGLE_PREFIX, use_float=True, buf_size=_BUF_SIZE)
            yield header, items
        else:
            yield from self._account_chats()

    def error(
        self,
        what: str,
        *,
        index: int = -1,
        message: Any = None,
        after: bool = False,
        offset: int | None = None,
    ) -> ExportFormatError:
        """An error naming the file, byte offset, chat and message (``index`` in the
        chat's ``messages``; ``after``: the problem is somewhere after that message;
        ``offset``: the exact byte, else the reader's position is given as "near")."""
        at = f"near byte {self.reader.pos:,}" if offset is None else f"at byte {offset:,}"
        where = [f"{self.path}: {at}"]
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
        """The parser's complaint (or the guard's), at the byte it is about if known."""
        if isinstance(error, LimitExceeded):
            return self.error(
                error.what, index=index, message=message, after=True, offset=error.offset
            )
        return self.error(
            f"malformed JSON: {one_line(error)}",
            index=index,
            message=message,
            after=True,
            offset=error_offset(error, self.reader.chunk, self.reader.chunk_start),
        )

    # -- internals -------------------------------------------------------------

    def _events(self) -> Iterator[tuple[str, str, Any]]:
        return ijson.parse(self.reader, use_float=True, buf_size=_BUF_SIZE)

    def _prescan(self) -> tuple[str, ChatHeader | None]:
        """Find the export's shape (and a single chat's header) without reading messages."""
        try:
            return self._scan_header()
        except LimitExceeded as error:
            raise self.json_error(error) from None
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
                if value in ("chats", "left_chats"):
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
                left = prefix.startswith(LEFT_PREFIX)
                if left:
                    prefix = prefix[5:]  # "left_chats.list..." -> "chats.list..."
                    item = (prefix, item[1], item[2])
                if prefix.startswith("chats.list.item"):
                    if prefix == "chats.list.item":
                        if item[1] == "start_map":
                            box["current"] = ChatHeader(index=counter["chats"], left=left)
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
                except (ijson.JSONError, LimitExceeded) as error:
                    # Reading a chat's first message (the parser reads ahead).
                    if box["current"] is not None:
                        self.position = _Position(chat=box["current"])
                    raise self.json_error(error) from None
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


def _error_bytes(error: Exception) -> bytes:
    """The parser's message as bytes: ijson gives it as a bytes literal (b'lexical
    error: ...') when the text near the error is not UTF-8."""
    text = str(error)
    if text[:2] in ("b'", 'b"'):
        try:
            raw = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raw = None
        if isinstance(raw, bytes):
            return raw
    return text.encode("utf-8", "surrogateescape")


def _error_text(error: Exception) -> str:
    return _error_bytes(error).decode("utf-8", "replace")


# yajl shows the 30 bytes before the error and 30 after, the error point at column 40.
_SNIPPET_COLUMN = 40


def error_offset(error: Exception, chunk: bytes, chunk_start: int) -> int | None:
    """The file offset of yajl's error, found by its snippet in the chunk it parsed."""
    lines = _error_bytes(error).split(b"\n")
    if len(lines) < 3 or b"(right here)" not in lines[2] or not chunk:
        return None
    line = lines[1]
    before = line[:_SNIPPET_COLUMN].lstrip(b" ")
    after = line[_SNIPPET_COLUMN:]
    # yajl prints line breaks as spaces.
    pattern = b"".join(
        b"[ \\r\\n]" if byte == 0x20 else re.escape(bytes([byte])) for byte in before + after
    )
    found = re.search(pattern, chunk) if pattern else None
    if found is None:
        return None
    return chunk_start + found.start() + len(before)


def one_line(error: Exception) -> str:
    # yajl's messages span lines and end in an ASCII-art pointer; keep the words.
    text = " ".join(_error_text(error).split())
    text = re.sub(r"\s*\(right here\) -*\^\s*", " ", text).strip()
    if "premature EOF" in text:
        return "the file ends in the middle of the JSON (truncated, or still being written?)"
    return text or type(error).__name__
