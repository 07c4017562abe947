"""The digest's "top words": the most used words of a period.

Mixed into :class:`~tgstats.store.queries.MessageQueries` (as the timeline and
event queries are).  The counts are the word aggregates kept as messages are
written (``word_counts`` in tgstats.store.bucketed: words per member and UTC
day, per chat and 16-day span), so a word is what the word cloud counts
(tgstats.store.words: case-folded, URLs, mentions and commands left out, no
tokens with digits); emoji are left out here.  Only the partial UTC days at
a period's edges are split from their texts.  A caller that drops stop words
does so on those aggregated rows, not on messages.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy.engine import Engine

__all__ = ["MAX_WORDS", "DigestQueries", "WordCount"]

# At most this many rows come back, whatever a caller asks for.
MAX_WORDS = 1000


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
        min_length: int = 3,
        limit: int = 200,
    ) -> list[WordCount]:
        """The most used words of at least ``min_length`` characters in counted messages,
        most first (ties: alphabetical); at most ``limit`` (capped at MAX_WORDS)."""
        limit = max(0, min(int(limit), MAX_WORDS))
        if limit == 0:
            return []
        q = _q()
        low, high = q._bounds(since, until)
        with self._engine.connect() as connection:
            family = q.chat_family(connection, chat_id)
            counts = q.bucketed.word_counts(
                connection, family, low, high, excluded=self._excluded(chat_id)
            )
        shortest = max(1, int(min_length))
        # The store keeps emoji as words too; the digest lists words only.
        kept = (
            (w, n) for w, n in counts.items() if len(w) >= shortest and any(c.isalpha() for c in w)
        )
        rows = heapq.nsmallest(limit, kept, key=lambda item: (-item[1], item[0]))
        return [WordCount(word=str(w), count=int(n)) for w, n in rows]
