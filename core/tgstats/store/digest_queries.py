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
from sqlalchemy.engine import Engine

from tgstats.store import word_ranking
from tgstats.store.words import MAX_WORD

__all__ = ["MAX_WORDS", "DigestQueries", "WordCount", "WordRanking"]

# At most this many rows come back, whatever a caller asks for (the word
# cloud asks for 8 per word it may draw, up to 1,000 words).
MAX_WORDS = 10_000


@attrs.frozen
class WordCount:
    """A word (lower-cased, as the database folds it) and the messages' uses of it."""

    word: str
    count: int


@attrs.frozen
class WordRanking:
    """A period's most used words, and how many uses of such words it has in all."""

    words: list[WordCount]
    total: int  # 0 when not asked for


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
        return self.word_ranking(
            chat_id,
            since=since,
            until=until,
            user_id=user_id,
            min_length=min_length,
            max_length=max_length,
            leave_out=leave_out,
            emoji=emoji,
            limit=limit,
            total=False,
        ).words

    def word_ranking(
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
        total: bool = True,
    ) -> WordRanking:
        """:meth:`top_words` and, with ``total``, how many uses of the words
        it ranks (all of them, not only the first ``limit``) the period has."""
        limit = max(0, min(int(limit), MAX_WORDS))
        keep = word_ranking.WordFilter(
            min_length=max(1, int(min_length)),
            max_length=max(1, int(max_length)),
            leave_out=frozenset(leave_out),
            emoji=bool(emoji),
        )
        q = _q()
        low, high = q._bounds(since, until)
        with self._engine.connect() as connection:
            family = q.chat_family(connection, chat_id)
            ranked = word_ranking.rank(
                connection,
                family,
                low,
                high,
                user_id,
                self._excluded(chat_id),
                keep,
                limit,
                total=total,
            )
        words = [WordCount(word=word, count=n) for word, n in ranked.words]
        return WordRanking(words=words, total=ranked.total or 0)
