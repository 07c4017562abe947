"""Bounds on what the importer hands to the JSON parser: nesting, string and message size.

ijson's C backend keeps a prefix string per open level and re-scans a token
that spans its read buffer, so a few hundred KB nested 100,000 deep needs
gigabytes (memory grows with the square of the depth), and one 50 MB string
takes minutes (time grows with the square of its length).  Neither can be
fixed inside the parser, so :class:`StructureGuard` looks at every chunk
*before* the parser does and refuses the file as soon as a limit is crossed,
naming the byte.

Per 64 KB chunk the check is a handful of C-speed bytes operations: escapes
are dropped, the chunk is split at quotes (so brackets inside strings do not
count), and the brackets outside strings are reduced by deleting ``[]``
pairs.  What stays is ``]]..[[`` plus the height of the pairs removed, which
bounds the deepest level in the chunk.  Only when a limit is crossed is the
chunk walked byte by byte, to name the exact offset.
"""

from __future__ import annotations

from typing import Final

import attrs

__all__ = [
    "MAX_DEPTH",
    "MAX_MESSAGE_BYTES",
    "MAX_STRING_BYTES",
    "LimitExceeded",
    "StructureGuard",
]

# Telegram Desktop writes at most ~8 levels (account > chats > list > chat >
# messages > message > text > entity).
MAX_DEPTH: Final = 64
# A message's text is at most 4,096 characters (about 16 KB of UTF-8).
MAX_STRING_BYTES: Final = 1 << 20
# One message object as written in the file, everything included.
MAX_MESSAGE_BYTES: Final = 8 << 20

# Brackets survive (curly ones folded into square ones), everything else goes.
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_NOT_MARKS = bytes(b for b in range(256) if b not in b'[]{}"')


@attrs.frozen
class LimitExceeded(Exception):
    """A limit was crossed at byte ``offset`` (0-based, counted from the file start)."""

    offset: int
    what: str

    def __str__(self) -> str:
        return f"at byte {self.offset:,}: {self.what}"


class StructureGuard:
    """Tracks depth and string state across chunks; :meth:`check` raises LimitExceeded.

    ``item_depth`` is the level of the objects that count as one message
    (3 in a single-chat export, 6 in a full-account one); None: no message limit.
    """

    def __init__(
        self,
        *,
        max_depth: int = MAX_DEPTH,
        max_string: int = MAX_STRING_BYTES,
        max_message: int = MAX_MESSAGE_BYTES,
    ) -> None:
        self.max_depth = max_depth
        self.max_string = max_string
        self.max_message = max_message
        self.item_depth: int | None = None
        self.reset()

    def reset(self) -> None:
        self.depth = 0
        self.in_string = False
        self.string_bytes = 0  # of the string still open at the chunk's end
        self.escape = False  # the previous chunk ended in the middle of an escape
        self.item_bytes = 0  # of the message still open at the chunk's end

    def check(self, chunk: bytes, start: int) -> None:
        """Account for ``chunk``, which begins at file offset ``start``."""
        if not chunk:
            return
        state = (self.depth, self.in_string, self.string_bytes, self.escape, self.item_bytes)
        if not self._fast(chunk):
            # A bound was (maybe) crossed: count exactly, raising at the first real crossing.
            self.depth, self.in_string, self.string_bytes, self.escape, self.item_bytes = state
            self._walk(chunk, start)

    def _fast(self, chunk: bytes) -> bool:
        """Update the state from ``chunk``; False if a limit may have been crossed."""
        text = chunk[1:] if self.escape else chunk  # skip the escaped character
        # A chunk ending in an odd run of backslashes stops inside an escape.
        trailing = len(text) - len(text.rstrip(b"\\"))
        self.escape = trailing % 2 == 1
        if self.escape:
            text = text[:-1]
        text = text.replace(b"\\\\", b"").replace(b'\\"', b"")
        brackets = self._outside_brackets(text)
        if brackets is None:
            return False
        height = 0  # of the bracket pairs inside this chunk
        while b"[]" in brackets:
            brackets = brackets.replace(b"[]", b"")
            height += 1
            if height > self.max_depth:
                return False
        closers = len(brackets) - len(brackets.lstrip(b"]"))
        openers = len(brackets) - closers
        if self.depth + openers + height > self.max_depth:
            return False
        item = self.item_depth
        if item is not None:
            if self.depth >= item:  # a message is open: count the whole chunk (the walk
                self.item_bytes += len(chunk)  # counts exactly if that is too many)
                if self.item_bytes > self.max_message:
                    return False
            if self.depth - closers < item:
                self.item_bytes = 0  # it ended here; the next one counts from its chunk after
        self.depth += openers - closers
        return True

    def _outside_brackets(self, text: bytes) -> bytes | None:
        """The brackets of ``text`` (escapes removed) outside strings, as ``[`` and ``]``;
        updates the string state; None if a string may be too long."""
        if len(text) <= self.max_string:
            # Common case: no string fits in the chunk whole, only the open one can grow.
            # Keep quotes and brackets; if every string is bracket-free, its quotes are
            # adjacent and one replace() drops them all.
            marks = text.translate(_BRACKETS, _NOT_MARKS)
            if self.in_string:
                marks = b'"' + marks  # the open string's start
            paired = marks.replace(b'""', b"")
            quotes = paired.count(b'"')
            if quotes <= 1:
                first = text.find(b'"')
                if self.in_string:
                    grown = self.string_bytes + (len(text) if first < 0 else first)
                    if grown > self.max_string:
                        return None
                    self.string_bytes = grown
                if quotes == 0:
                    self.in_string, self.string_bytes = False, 0
                    return paired
                # One left: a string opens (or stays open) to the end of the chunk.
                if first >= 0:
                    self.string_bytes = len(text) - text.rfind(b'"') - 1
                self.in_string = True
                return paired[: paired.index(b'"')]
        pieces = text.split(b'"')
        # Pieces alternate outside/inside strings, starting with the state we were in.
        first_inside = self.in_string
        inside = pieces[0::2] if first_inside else pieces[1::2]
        outside = pieces[1::2] if first_inside else pieces[0::2]
        last_inside = first_inside == (len(pieces) % 2 == 1)
        if inside:
            lengths = list(map(len, inside))
            if first_inside:
                lengths[0] += self.string_bytes  # the string open since the last chunk
            if max(lengths) > self.max_string:
                return None
            self.string_bytes = lengths[-1] if last_inside else 0
        self.in_string = last_inside
        return b"".join(outside).translate(_BRACKETS, _NOT_BRACKETS)

    def _walk(self, chunk: bytes, start: int) -> None:
        """Byte by byte from the current state; raise at the first crossing."""
        depth, in_string, string_bytes = self.depth, self.in_string, self.string_bytes
        escape, item_bytes, item = self.escape, self.item_bytes, self.item_depth
        for index, byte in enumerate(chunk):
            if in_string:
                if escape:
                    escape = False
                elif byte == 0x5C:  # backslash
                    escape = True
                elif byte == 0x22:  # the closing quote
                    in_string = False
                    continue
                string_bytes += 1
                if string_bytes > self.max_string:
                    raise LimitExceeded(
                        start + index,
                        f"a string longer than {self.max_string:,} bytes (Telegram "
                        "messages are at most 4,096 characters); refusing it",
                    )
            elif byte == 0x22:
                in_string, string_bytes = True, 0
            elif byte == 0x5B or byte == 0x7B:  # [ {
                depth += 1
                if depth > self.max_depth:
                    raise LimitExceeded(
                        start + index,
                        f"JSON nested deeper than {self.max_depth} levels (Telegram Desktop "
                        "writes fewer than 10); refusing the file",
                    )
                if depth == item:
                    item_bytes = 0  # a new message starts
            elif byte == 0x5D or byte == 0x7D:  # ] }
                depth -= 1
            if item is not None and depth >= item:
                item_bytes += 1
                if item_bytes > self.max_message:
                    raise LimitExceeded(
                        start + index,
                        f"one message larger than {self.max_message:,} bytes; refusing it",
                    )
        self.depth, self.in_string, self.string_bytes = depth, in_string, string_bytes
        self.escape, self.item_bytes = escape, item_bytes
