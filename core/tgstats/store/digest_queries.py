"""Word counts of a period, split and counted in the database: the digest's "top words".

Mixed into :class:`~tgstats.store.queries.MessageQueries` (as the timeline and
event queries are).  The texts never come to Python: PostgreSQL splits them
with ``regexp_split_to_table`` and SQLite with a recursive common table
expression that cuts one word off the front per step; both then GROUP BY the
word and hand back only the most frequent ones.  A caller that folds case or
drops stop words does so on those few hundred aggregated rows, not on messages.

The word counts kept on write (another branch) will replace this for long
periods; a week of a busy chat is what this is sized for.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import func, literal, select
from sqlalchemy.engine import Engine

from tgstats.store.schema import messages

__all__ = ["MAX_WORDS", "DigestQueries", "WordCount"]

# At most this many rows come back, whatever a caller asks for.
MAX_WORDS = 1000
# Characters SQLite turns into spaces before splitting (PostgreSQL splits on
# every non-word character instead); what is left over is the caller's to strip.
# Few: SQLite's parser overflows at a few dozen nested replace() calls.
_SEPARATORS = '\n\t.,;:!?"()/@#*'


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
        with self._engine.connect() as connection:
            family = q.chat_family(connection, chat_id)
            where = q._where(messages, family, since, until, excluded=self._excluded(chat_id))
            if connection.dialect.name == "postgresql":
                words = (
                    select(
                        func.regexp_split_to_table(
                            func.lower(messages.c.text), literal(r"[^\w]+")
                        ).label("word")
                    )
                    .where(where, messages.c.text != "")
                    .subquery()
                )
                word = words.c.word
            else:
                cleaned: Any = func.lower(messages.c.text)
                for separator in _SEPARATORS:
                    cleaned = func.replace(cleaned, separator, " ")
                seed = select(literal("").label("word"), (cleaned + " ").label("rest")).where(
                    where, messages.c.text != ""
                )
                split = seed.cte("split", recursive=True)
                cut = func.instr(split.c.rest, " ")
                split = split.union_all(
                    select(
                        func.substr(split.c.rest, 1, cut - 1),
                        func.substr(split.c.rest, cut + 1),
                    ).where(split.c.rest != "")
                )
                word = split.c.word
            count = func.count().label("n")
            rows = connection.execute(
                select(word, count)
                .where(func.length(word) >= max(1, int(min_length)))
                .group_by(word)
                .order_by(count.desc(), word)
                .limit(limit)
            ).all()
        return [WordCount(word=str(w), count=int(n)) for w, n in rows]
