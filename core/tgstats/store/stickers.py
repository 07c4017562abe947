"""The emoji of a sticker, as every write path stores it (``messages.sticker_emoji``).

Telegram attaches one emoji to each sticker (``Sticker.emoji`` in the Bot
API, ``sticker_emoji`` in a Telegram Desktop export).  Both can be forged (a
webhook caller, a hand-edited export), and the value is drawn on the member
card and sent in its caption, so it is checked the same way on every path:

* a string of at most STICKER_EMOJI_MAX code points once cleaned: the
  longest emoji sequences (a family with skin tones, a subdivision flag) are
  11 and 7 code points;
* control characters (newlines, tabs, escapes) and the bidirectional
  overrides, which could reorder the caption around it, are dropped; NUL and
  lone surrogates as for any text (tgstats.store.cleaning);
* nothing left (or an empty string): NULL, as for a sticker without one.

:func:`sticker_emoji` raises ValueError for anything else (not a string, too
long): the importer reports it with the message's position like every other
malformed field; the live recorder keeps the message and stores NULL.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Final

from tgstats.store.cleaning import clean_text

__all__ = ["STICKER_EMOJI_MAX", "sticker_emoji"]

STICKER_EMOJI_MAX: Final = 16

# Explicit embeddings, overrides and isolates (U+202A-202E, U+2066-2069).
_BIDI = frozenset(range(0x202A, 0x202F)) | frozenset(range(0x2066, 0x206A))


def sticker_emoji(value: Any) -> str | None:
    """The cleaned emoji, None for no emoji; ValueError for a value no sticker has."""
    if value is None:
        return None
    if type(value) is not str:
        raise ValueError(f"expected a string, found {type(value).__name__}")
    if len(value) > 4 * STICKER_EMOJI_MAX:  # checked before any work on a huge string
        raise ValueError(f"expected one emoji, found {len(value):,} characters")
    kept = "".join(c for c in value if ord(c) not in _BIDI and unicodedata.category(c) != "Cc")
    kept = clean_text(kept).strip()
    if len(kept) > STICKER_EMOJI_MAX:
        raise ValueError(f"expected one emoji, found {len(kept):,} characters")
    return kept or None
