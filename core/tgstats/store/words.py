"""The words the store counts as messages are written (for the word cloud's aggregates).

A word is what the word cloud draws: case-folded letters with their marks and
digits, joined by inner apostrophes or hyphens, or one emoji; URLs, e-mail
addresses, @mentions and /commands are noise.  Tokens with a digit and tokens
longer than :data:`MAX_WORD` are not kept (hashes, numbers, keyboard mashing):
no statistic shows them, and they would only add rows.  Stop words and the
minimum length are the plugin's choice, applied when it reads the counts, so
changing them needs no rebuild.

Speed matters on the write path: texts are split on whitespace (C speed) and
only the *distinct* pieces go through the regular expressions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import regex

__all__ = ["EMOJI_RANGES", "MAX_WORD", "count_words", "is_emoji", "odd_words_sql", "split_piece"]

MAX_WORD = 40

# Every emoji kept starts with a keycap's "#", "*" or digit (words with a
# digit are not kept), with (c) or (r), or at U+2000 or above: [low, high)
# code point ranges, the only words SQL cannot tell from an emoji.
EMOJI_RANGES: tuple[tuple[str, str | None], ...] = (
    ("", "A"),
    ("\u00a9", "\u00aa"),
    ("\u00ae", "\u00af"),
    ("\u2000", None),
)


def odd_words_sql(dialect: str) -> str:
    """SQL true for a ``word`` column's values in :data:`EMOJI_RANGES`, compared
    by code point (PostgreSQL: under "C", whatever the column's collation), as
    literals, so a partial index on it serves the query that repeats it."""
    word = 'word COLLATE "C"' if dialect == "postgresql" else "word"
    ranges = []
    for low, high in EMOJI_RANGES:
        bounds = [f"{word} >= '{low}'"] if low else []
        if high is not None:
            bounds.append(f"{word} < '{high}'")
        ranges.append("(" + " AND ".join(bounds) + ")")
    return "(" + " OR ".join(ranges) + ")"


# Order matters: URLs before mentions (user@host in a URL), e-mail before mentions.
_NOISE = regex.compile(
    r"""
      (?:https?|ftp)://\S+                       # URLs with a scheme
    | www\.\S+
    | \b(?:[\p{L}\p{N}-]+\.)+(?:com|org|net|io|me|ru|su|ua|by|kz|uk|de|fr|es|it|nl|pl
         |info|dev|app|ly|co|tv|gg|xyz|рф)\b(?:/\S*)?   # bare domains: t.me/x, example.com
    | [\w.+-]+@[\w-]+\.[\w.-]+                   # e-mail addresses
    | (?<![\w@])@\w+                             # @mentions
    | (?<![\w/])/[A-Za-z0-9_]+(?:@\w+)?          # /commands and /command@bot
    """,
    regex.VERBOSE,
)
_WORD = r"[\p{L}\p{N}][\p{L}\p{M}\p{N}]*(?:['’-][\p{L}\p{N}][\p{L}\p{M}\p{N}]*)*"
# One emoji as the user sees it: flags, skin tones, ZWJ families, keycaps.
_EMOJI = (
    r"\p{RI}\p{RI}"
    r"|[0-9#*]\uFE0F?\u20E3"
    r"|\p{Extended_Pictographic}[\p{EMod}\uFE0F\uFE0E]*"
    r"(?:\u200D\p{Extended_Pictographic}[\p{EMod}\uFE0F\uFE0E]*)*"
)
_WORDS_AND_EMOJI = regex.compile(f"{_EMOJI}|{_WORD}")
_HAS_DIGIT = regex.compile(r"\p{N}")
_IS_EMOJI = regex.compile(f"(?:{_EMOJI})+")


def is_emoji(word: str) -> bool:
    """Whether a stored word is an emoji (or several) rather than letters."""
    return _IS_EMOJI.fullmatch(word) is not None


def _kept(word: str) -> bool:
    if is_emoji(word):
        return True
    return len(word) <= MAX_WORD and not _HAS_DIGIT.search(word)


def split_piece(piece: str) -> list[str]:
    """The kept words of one whitespace-free piece of text, case-folded."""
    piece = piece.casefold().replace("’", "'")
    # Most pieces cannot hold a URL, mention or command: skip that regex for them.
    if "/" in piece or "@" in piece or "." in piece:
        piece = _NOISE.sub(" ", piece)
    return [word for word in _WORDS_AND_EMOJI.findall(piece) if _kept(word)]


def count_words(texts: Iterable[str], cache: dict[str, list[str]] | None = None) -> Counter[str]:
    """Word frequencies over ``texts``; ``cache`` (piece -> words) may be shared across calls."""
    pieces = Counter("\n".join(texts).split())
    memo = {} if cache is None else cache
    counts: Counter[str] = Counter()
    for piece, n in pieces.items():
        words = memo.get(piece)
        if words is None:
            words = split_piece(piece)
            if len(memo) < 200_000:  # bounded: a long import must not grow it for ever
                memo[piece] = words
        for word in words:
            counts[word] += n
    return counts
