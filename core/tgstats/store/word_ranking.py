"""A period's most used words and its word total, ranked and summed in SQL.

A chat's vocabulary keeps growing with its history (names, typos, slang: a
synthetic chat drawn as real ones are has 268,000 distinct words at 1M
messages and 1.57 million at 10M), so reading every word of a period into
Python costs what the history costs.  Here the database sums the period's
parts (tgstats.store.word_periods), filters, orders and cuts them; Python
sees the ``limit`` first rows and the words of the partial days at the
period's edges.

What the database cannot tell is whether a word is an emoji.  Every emoji
the store keeps starts with a keycap's ``#``, ``*`` or digit (words with a
digit are not kept), with (c) or (r), or at U+2000 or above; those words,
few in most chats, are read whole and classified here (:func:`is_emoji`).
The rest are filtered by length and ``leave_out`` in SQL.

Ties are ranked in code point order, as Python sorts: the database orders by
count only, and rows are read until the last one kept has more than any row
left unread.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, String, and_, any_, bindparam, func, or_, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from tgstats.store.word_periods import WordPlan, edge_words, word_plan
from tgstats.store.words import MAX_WORD, is_emoji

__all__ = ["Ranking", "WordFilter", "rank"]

# Rows asked for past ``limit`` on the first try: the edges' words may
# reorder the rows near the cut.
_SLACK = 64


class WordFilter(NamedTuple):
    """Which stored words a caller counts: words of ``min_length`` to
    ``max_length`` characters not in ``leave_out``, and emoji if ``emoji``."""

    min_length: int = 1
    max_length: int = MAX_WORD
    leave_out: frozenset[str] = frozenset()
    emoji: bool = False

    def keeps(self, word: str) -> bool:
        if is_emoji(word):
            return self.emoji
        return self.min_length <= len(word) <= self.max_length and word not in self.leave_out


class Ranking(NamedTuple):
    words: list[tuple[str, int]]  # most used first, ties in code point order
    total: int | None  # uses of every kept word of the period (None: not asked for)


def rank(
    connection: Connection,
    family: Sequence[int],
    since: int | None,
    until: int | None,
    user_id: int | None,
    excluded: Collection[int],
    keep: WordFilter,
    limit: int,
    *,
    total: bool = False,
) -> Ranking:
    """The ``limit`` most used words of the period that ``keep`` keeps and,
    with ``total``, how many uses of kept words the period has."""
    plan = word_plan(connection, family, since, until, user_id, excluded)
    edges = _edges(connection, family, plan, user_id, excluded, keep)
    known = _candidates(connection, plan, keep)  # whole SQL sums of the emoji-like words
    summed = None
    if total:
        summed = sum(edges.values()) + sum(known.values()) + _plain_total(connection, plan, keep)
    for word, n in edges.items():
        if word in known:
            known[word] += n
    plain_edges = {word: n for word, n in edges.items() if word not in known}
    words = _top(connection, plan, keep, limit, known, plain_edges) if limit > 0 else []
    return Ranking(words, summed)


def _top(
    connection: Connection,
    plan: WordPlan,
    keep: WordFilter,
    limit: int,
    known: Counter[str],
    plain_edges: dict[str, int],
) -> list[tuple[str, int]]:
    """The ranking: SQL's top plain rows with the edges' counts added, and the
    emoji-like words (``known``, complete), read on until exact."""
    asked = limit + _SLACK
    while True:
        rows = _plain_top(connection, plan, keep, asked)
        combined = Counter(known)
        for word, n in rows:
            combined[word] = n + plain_edges.get(word, 0)
        complete = len(rows) < asked  # every plain word with a count is in rows
        threshold = 0 if complete else rows[-1][1]  # no word left out has more in SQL
        outside = [w for w in plain_edges if w not in combined]
        if complete:
            for word in outside:
                combined[word] = plain_edges[word]
        else:
            ranked = _ranked(+combined, limit)
            cut = ranked[-1][1] if len(ranked) == limit else 0
            # Words below the cut in SQL that the edges could lift over it.
            lifted = [w for w in outside if threshold + plain_edges[w] >= cut]
            for word, n in _plain_sums(connection, plan, keep, lifted).items():
                combined[word] = n + plain_edges[word]
            for word in lifted:
                combined.setdefault(word, plain_edges[word])
        ranked = _ranked(+combined, limit)
        # Exact once every word not read has at most ``threshold``, below the cut.
        if complete or (len(ranked) == limit and ranked[-1][1] > threshold):
            return ranked
        asked *= 4


def _plain_total(connection: Connection, plan: WordPlan, keep: WordFilter) -> int:
    if not plan.parts:
        return 0
    u = _union(connection, plan, keep, plain=True)
    return int(connection.execute(select(func.coalesce(func.sum(u.c.n), 0))).scalar_one())


def _ranked(counts: Counter[str], limit: int) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


def _edges(
    connection: Connection,
    family: Sequence[int],
    plan: WordPlan,
    user_id: int | None,
    excluded: Collection[int],
    keep: WordFilter,
) -> Counter[str]:
    """The kept words of the edge hours (counted from their texts), signed."""
    counts: Counter[str] = Counter()
    for low, high, sign in plan.edges:
        for word, n in edge_words(connection, family, low, high, user_id, excluded).items():
            if keep.keeps(word):
                counts[word] += sign * n
    return counts


def _candidates(connection: Connection, plan: WordPlan, keep: WordFilter) -> Counter[str]:
    """The emoji-like words' whole counts (what SQL cannot filter), those ``keep`` keeps."""
    if not plan.parts:
        return Counter()
    u = _union(connection, plan, keep, plain=False)
    statement = select(u.c.word, func.sum(u.c.n)).group_by(u.c.word)
    counts: Counter[str] = Counter()
    for word, n in connection.execute(statement):
        if n > 0 and keep.keeps(word):
            counts[word] = int(n)
    return counts


def _plain_top(
    connection: Connection, plan: WordPlan, keep: WordFilter, limit: int
) -> list[tuple[str, int]]:
    """The ``limit`` plain words with the most uses in the SQL parts, most first."""
    if not plan.parts:
        return []
    u = _union(connection, plan, keep, plain=True)
    n = func.sum(u.c.n).label("n")
    statement = (
        select(u.c.word, n)
        .group_by(u.c.word)
        .having(func.sum(u.c.n) > 0)
        .order_by(n.desc())
        .limit(limit)
    )
    return [(word, int(count)) for word, count in connection.execute(statement)]


def _plain_sums(
    connection: Connection, plan: WordPlan, keep: WordFilter, words: Iterable[str]
) -> dict[str, int]:
    """The SQL sums of some plain words (each an index seek in the all-time and span keys)."""
    wanted = sorted(set(words))
    if not wanted or not plan.parts:
        return {}
    u = _union(connection, plan, keep, plain=True, only=wanted)
    statement = select(u.c.word, func.sum(u.c.n)).group_by(u.c.word)
    return {word: int(n) for word, n in connection.execute(statement)}


def _union(
    connection: Connection,
    plan: WordPlan,
    keep: WordFilter,
    *,
    plain: bool,
    only: Sequence[str] = (),
) -> Any:
    """The plan's parts as one row set (word, signed count): the plain words
    ``keep`` keeps (``plain``), or the emoji-like words, unfiltered."""
    selects = []
    for table, where, sign in plan.parts:
        word = table.c.word
        conditions = list(where)
        if plain:
            conditions.append(_plain(connection, word))
            conditions.append(func.length(word).between(keep.min_length, keep.max_length))
            if keep.leave_out:
                conditions.append(_not_in(connection, word, keep.leave_out))
            if only:
                conditions.append(_in(connection, word, only))
        else:
            conditions.append(~_plain(connection, word))
        n = table.c["count"] if sign > 0 else -table.c["count"]
        selects.append(select(word.label("word"), n.label("n")).where(*conditions))
    return union_all(*selects).subquery("word_parts")


def _plain(connection: Connection, word: Any) -> ColumnElement[bool]:
    """No emoji can be this word: it starts at or above "A" and below U+2000,
    and not with (c) or (r) (the two emoji below U+2000, keycaps aside)."""
    # Code point order: SQLite's own, PostgreSQL's "C" collation (a database's
    # locale may sort "\u00e9" near "e").
    w = word.collate("C") if connection.dialect.name == "postgresql" else word
    return and_(
        w >= "A",
        w < "\u2000",
        or_(w < "\u00a9", w >= "\u00aa"),
        or_(w < "\u00ae", w >= "\u00af"),
    )


def _not_in(connection: Connection, word: Any, words: Collection[str]) -> ColumnElement[bool]:
    return ~_in(connection, word, words)


def _in(connection: Connection, word: Any, words: Collection[str]) -> ColumnElement[bool]:
    """``word`` among ``words``, as one bound value whatever their number (a
    stop-word list per language adds up to thousands; SQLite allows 32,766
    bound values in a statement, and each part of the union repeats them)."""
    values = sorted(words)
    if connection.dialect.name == "postgresql":
        return word == any_(bindparam(None, values, type_=ARRAY(String)))
    listed = func.json_each(bindparam(None, json.dumps(values), type_=String)).table_valued("value")
    return word.in_(select(listed.c.value))
