"""A period's most used words and how many were written (the digest's top
words, the word cloud).

Mixed into :class:`~tgstats.store.queries.MessageQueries` (as the timeline and
event queries are).  The counts are the word aggregates kept as messages are
written (tgstats.store.word_periods: all time, 16-day spans and UTC days, per
chat and per member), so a word is what the word cloud counts
(tgstats.store.words: case-folded, URLs, mentions and commands left out, no
tokens with digits).  Only the partial UTC days at a period's edges are split
from their texts.  The filters (length, stop words, emoji) and the ranking
run in the database (tgstats.store.word_ranking).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy.engine import Connection, Engine

from tgstats.store import word_ranking
from tgstats.store.words import MAX_WORD

__all__ = ["MAX_WORDS", "DigestQueries", "WordCount"]

# At most this many rows come back, whatever a caller asks for (the word
# cloud asks for 8 per word it may draw, up to 1,000 words).
MAX_WORDS = 10_000


@attrs.frozen
class WordCount:
    """A word (lower-cased, as the database folds it) and the messages' uses of it."""

    word: str
    count: int


def _q() -> Any:
    from tgstats.store import queries

    return queries


class DigestQueries:
    """Needs ``self._engine`` and ``self._excluded`` (set by MessageQueries)."""

    _engine: Engine
    _excluded: Callable[[int], Collection[int]]

    def top_words(
        self,
        chat_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        user_id: int | None = None,
        min_length: int = 3,
        max_length: int = MAX_WORD,
        leave_out: Collection[str] = (),
        emoji: bool = False,
        limit: int = 200,
    ) -> list[WordCount]:
        """The most used words of the period (one member's with ``user_id``),
        most first, ties in code point order; at most ``limit`` (capped at
        MAX_WORDS).  Words of ``min_length`` to ``max_length`` characters that
        are not in ``leave_out``, and emoji if ``emoji``.  Ranked in the
        database (tgstats.store.word_ranking): the cost follows the period's
        distinct words in SQL and ``limit`` in Python."""
        limit = max(0, min(int(limit), MAX_WORDS))
        if limit == 0:
            return []
        keep = _filter(min_length, max_length, leave_out, emoji)
        with self._engine.connect() as connection:
            family, low, high, excluded = self._word_scope(connection, chat_id, since, until)
            rows = word_ranking.top_words(
                connection, family, low, high, user_id, excluded, keep, limit
            )
        return [WordCount(word=word, count=n) for word, n in rows]

    def word_total(
        self,
        chat_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        user_id: int | None = None,
        min_length: int = 3,
        max_length: int = MAX_WORD,
        leave_out: Collection[str] = (),
        emoji: bool = False,
    ) -> int:
        """How many uses of the words :meth:`top_words` ranks with the same
        arguments the period has, summed in the database."""
        keep = _filter(min_length, max_length, leave_out, emoji)
        with self._engine.connect() as connection:
            family, low, high, excluded = self._word_scope(connection, chat_id, since, until)
            return word_ranking.word_total(connection, family, low, high, user_id, excluded, keep)

    def _word_scope(
        self,
        connection: Connection,
        chat_id: int,
        since: datetime | None,
        until: datetime | None,
    ) -> tuple[list[int], int | None, int | None, Collection[int]]:
        q = _q()
        low, high = q._bounds(since, until)
        return q.chat_family(connection, chat_id), low, high, self._excluded(chat_id)


def _filter(
    min_length: int, max_length: int, leave_out: Collection[str], emoji: bool
) -> word_ranking.WordFilter:
    return word_ranking.WordFilter(
        min_length=max(1, int(min_length)),
        max_length=max(1, int(max_length)),
        leave_out=frozenset(leave_out),
        emoji=bool(emoji),
    )
