"""Which aggregate rows hold a period's words, and their counts.

A period's words are a signed sum of *parts*: ranges of rows of the word
tables (all time, 16-day spans, UTC days; the chat's or one member's), plus
the hours of a partial UTC day at either edge, counted from their texts.
:func:`word_plan` chooses the parts that read the fewest rows;
:func:`word_counts` adds them up in Python, and tgstats.store.word_ranking
ranks them in SQL.

- A bound outside the chat's counted messages is dropped: a period longer
  than the history reads the all-time table, one ending now no future days.
- A period ending now that covers most of the history and more than
  MOST_SPANS spans is all of it less the part before, so no period reads the
  heads of more than MOST_SPANS spans or of more than half the history's;
  with fewer spans the plan carries that complement too, for the ranking to
  take where the spans are small.  A member's such period is the complement
  from 60 % of the history on (MEMBER_COMPLEMENT): their all-time words have
  a count index, the chat's do not.
- A period's first and last spans are taken whole when more than half of
  them lies inside, less the days outside: at most half a span of day rows
  at either edge.
- A member's period reads the member's spans; a chat with excluded members
  takes their spans off the chat's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Table, func, select
from sqlalchemy.engine import Connection

from tgstats.store.bucketed import _conditions, _span
from tgstats.store.schema import (
    BUCKET,
    SPAN_DAYS,
    chat_buckets,
    chat_word_days,
    chat_words,
    member_word_spans,
    member_words,
    messages,
    word_days,
    word_spans,
)
from tgstats.store.words import count_words
from tgstats.store.zones import DAY

__all__ = [
    "MEMBER_COMPLEMENT",
    "MOST_SPANS",
    "WordList",
    "WordPart",
    "WordPlan",
    "edge_words",
    "plan_edges",
    "word_counts",
    "word_plan",
]


# A period ending now that covers most of the history reads the heads of its
# spans up to MOST_SPANS of them (1,024 days), and past that is all time less
# the part before.  A span's head costs about the same whatever the history
# (1.5 ms at 10M messages on SQLite), while all time less the part before
# orders every all-time word as `all` does (0.23 s for the 10M chat's 1.5
# million) and then sums the part before: 600 days of that chat rank in
# 0.12 s from 39 spans against 0.31 s.  The bound keeps the heads near 0.1 s;
# a chat old enough for longer periods has more all-time words to order too.
MOST_SPANS = 64

# A member's period ending now at least this many times as long as the part
# of the history before it (so at least 60 % of the history) is all their
# words less that part.  Their all-time words are read most used first
# through an index (schema 9), so it costs the sums over the part before's
# spans where the heads read the period's.  At 1M and 10M messages on SQLite, the busiest
# member's 600 days (the part before a fifth of the period) ranked in 0.03
# and 0.04 s against 0.11 and 0.08 s; at 450 days (three fifths) in 0.046
# and 0.067 s against 0.089 and 0.074 s; at 400 (four fifths) the heads won
# at 10M, 0.068 s against 0.075 s.
MEMBER_COMPLEMENT = 3 / 2


class WordPart(NamedTuple):
    """Rows of a word table (columns ``word`` and ``count``) to add, or take away (sign -1)."""

    table: Table
    where: tuple[ColumnElement[bool], ...]
    sign: int
    per_word: bool = False  # at most one row per word (one chat's all-time table)


class WordList(NamedTuple):
    """Rows of a word table with at most one per word, read most used first:
    one span of one chat (or member), through the span tables' count index,
    or one chat's (or member's) all time, which has no such index and is
    ordered in one pass."""

    table: Table
    where: tuple[ColumnElement[bool], ...]
    span: int | None = None  # None: all time


class WordPlan(NamedTuple):
    parts: list[WordPart]
    # (since, until, sign): hours whose words are counted from the texts.
    edges: list[tuple[int | None, int | None, int]]
    # Lists whose sum is at least any word's count in the parts (each part
    # added is within one of them; parts taken away only lower a count), or
    # None where the spans are not named (a chat without messages).
    lists: list[WordList] | None = None
    # The UTC days [first, end) the parts cover, whole (None: unbounded).
    days: tuple[int | None, int | None] = (None, None)
    # The lists whose rows add up to the first part (a word read in all of
    # them needs no seek there).
    summed: tuple[int, ...] = ()
    # The same words as all time less the part before, for a period ending
    # now over most of the history that reads its spans: the ranking takes
    # it where the spans are small enough to be read whole (a quiet
    # member's), as ordering the all-time rows then reads fewer.
    complement: WordPlan | None = None

    def negated(self) -> WordPlan:
        return self._replace(
            parts=[part._replace(sign=-part.sign) for part in self.parts],
            edges=[(low, high, -sign) for low, high, sign in self.edges],
            lists=None,
            summed=(),
            complement=None,
        )


def word_counts(
    connection: Connection,
    family: Sequence[int],
    since: int | None,
    until: int | None,
    user_id: int | None = None,
    excluded: Collection[int] = (),
) -> Counter[str]:
    """Every stored word (tgstats.store.words) of the period with its count."""
    plan = word_plan(connection, family, since, until, user_id, excluded)
    counts: Counter[str] = Counter()
    for table, where, sign, _per_word in plan.parts:
        statement = select(table.c.word, func.sum(table.c["count"])).where(*where)
        for word, n in connection.execute(statement.group_by(table.c.word)):
            counts[word] += sign * int(n)
    counts.update(plan_edges(connection, family, plan, user_id, excluded))
    return +counts  # the words only subtracted parts had go


def plan_edges(
    connection: Connection,
    family: Sequence[int],
    plan: WordPlan,
    user_id: int | None,
    excluded: Collection[int],
) -> Counter[str]:
    """The words of the plan's edge hours, counted from their texts, signed."""
    counts: Counter[str] = Counter()
    for low, high, sign in plan.edges:
        for word, n in edge_words(connection, family, low, high, user_id, excluded).items():
            counts[word] += sign * n
    return counts


def word_plan(
    connection: Connection,
    family: Sequence[int],
    since: int | None,
    until: int | None,
    user_id: int | None = None,
    excluded: Collection[int] = (),
) -> WordPlan:
    """The parts whose signed sum is the period's word counts."""
    if user_id is not None and user_id in excluded:
        return WordPlan([], [], [], (0, 0))
    history = _history(connection, family) if since is not None or until is not None else None
    return _plan(family, since, until, user_id, excluded, history)


def _plan(
    family: Sequence[int],
    since: int | None,
    until: int | None,
    user_id: int | None,
    excluded: Collection[int],
    history: tuple[int, int] | None,
) -> WordPlan:
    """:func:`word_plan` once the chat's ``history`` (first and last dates) is known."""
    complement = None
    if history is not None:
        first_date, last_date = history
        if since is not None and since <= first_date:
            since = None  # longer than the history: the same words as all of it
        if until is not None and until >= last_date:
            until = None  # ending now: no future days to read
        if since is not None and until is None and since - first_date < last_date - since:
            complement = _complement(family, since, user_id, excluded, history)
            within, before = last_date - since, since - first_date
            if within > MOST_SPANS * SPAN_DAYS * DAY:
                return complement
            if user_id is not None and MEMBER_COMPLEMENT * before <= within:
                return complement
    if since is None and until is None:
        parts = _all_time_parts(family, user_id, excluded)
        lists = _all_time_lists(family, user_id)
        return WordPlan(parts, [], lists, (None, None), tuple(range(len(lists))))
    # Whole UTC days from the tables, from the midnight nearest each bound:
    # the hours between it and the bound are counted from the texts, added
    # or taken away, so at most half a day of texts is read at either edge.
    first = None if since is None else (since + DAY // 2) // DAY
    end = None if until is None else (until + DAY // 2) // DAY
    edges = _edges(since, first, until, end)
    if (
        since is not None
        and until is not None
        and first is not None
        and end is not None
        and (first >= end or until - since <= sum(high - low for low, high, _sign in edges))
    ):
        return WordPlan([], [(since, until, 1)], [], (0, 0))  # fewer hours as texts
    parts, days, span_lists, summed = _span_parts(family, first, end, user_id, excluded, history)
    for low, high, sign in days:
        if low is None or high is None or low < high:
            parts += _day_parts(family, low, high, user_id, excluded, sign)
    signed: list[tuple[int | None, int | None, int]] = list(edges)
    return WordPlan(parts, signed, span_lists, (first, end), summed, complement)


def _complement(
    family: Sequence[int],
    since: int,
    user_id: int | None,
    excluded: Collection[int],
    history: tuple[int, int],
) -> WordPlan:
    """The words from ``since`` on as all of them less those before it."""
    before = _plan(family, None, since, user_id, excluded, history)
    whole = _all_time_parts(family, user_id, excluded)
    less = before.negated()
    lists = _all_time_lists(family, user_id)
    every = tuple(range(len(lists)))
    return WordPlan(whole + less.parts, less.edges, lists, (before.days[1], None), every)


def _edges(
    since: int | None, first: int | None, until: int | None, end: int | None
) -> list[tuple[int, int, int]]:
    """The hours between each bound and its midnight: (low, high, sign), added
    where the bound comes first, taken away where the midnight does."""
    edges = []
    if since is not None and first is not None and since != first * DAY:
        edges.append((since, first * DAY, 1) if since < first * DAY else (first * DAY, since, -1))
    if until is not None and end is not None and until != end * DAY:
        edges.append((end * DAY, until, 1) if end * DAY < until else (until, end * DAY, -1))
    return edges


def _history(connection: Connection, family: Sequence[int]) -> tuple[int, int] | None:
    """The dates bounding the chat's counted messages (to the 15-minute bucket), if any."""
    span = _span(connection, family, [chat_buckets.c.chat_id.in_(family)], chat_buckets)
    return None if span is None else (span[0] * BUCKET, (span[1] + 1) * BUCKET)


def _all_time_parts(
    family: Sequence[int], user_id: int | None, excluded: Collection[int]
) -> list[WordPart]:
    """All history from the all-time tables: one row per distinct word (per member
    with ``user_id``); excluded members' totals are taken off the chat's."""
    m = member_words
    single = len(family) == 1
    if user_id is not None:
        return [WordPart(m, (m.c.chat_id.in_(family), m.c.user_id == user_id), 1, single)]
    parts = [WordPart(chat_words, (chat_words.c.chat_id.in_(family),), 1, single)]
    if excluded:
        where = (m.c.chat_id.in_(family), m.c.user_id.in_(sorted(excluded)))
        parts.append(WordPart(m, where, -1))
    return parts


def _all_time_lists(family: Sequence[int], user_id: int | None) -> list[WordList]:
    if user_id is None:
        return [WordList(chat_words, (chat_words.c.chat_id == chat,)) for chat in family]
    m = member_words
    return [WordList(m, (m.c.chat_id == chat, m.c.user_id == user_id)) for chat in family]


def _span_lists(
    family: Sequence[int], spans: Collection[int], user_id: int | None
) -> list[WordList]:
    if user_id is None:
        t = word_spans
        return [
            WordList(t, (t.c.chat_id == chat, t.c.span == span), span)
            for chat in family
            for span in sorted(spans)
        ]
    m = member_word_spans
    return [
        WordList(m, (m.c.chat_id == chat, m.c.user_id == user_id, m.c.span == span), span)
        for chat in family
        for span in sorted(spans)
    ]


def _span_parts(
    family: Sequence[int],
    first: int | None,
    end: int | None,
    user_id: int | None,
    excluded: Collection[int],
    history: tuple[int, int] | None,
) -> tuple[
    list[WordPart],
    list[tuple[int | None, int | None, int]],
    list[WordList] | None,
    tuple[int, ...],
]:
    """The span parts for days [first, end), the day ranges still to add
    (sign 1) or to take away (sign -1) from the per-day table, the span
    lists that bound both (:attr:`WordPlan.lists`), and those of them that
    add up to the first part (:attr:`WordPlan.summed`).

    A side with more than half a span left over takes that whole span and
    subtracts the days outside the period (a span is the sum of its days), so
    at most half a span of per-member day rows is read at either edge."""
    low = None if first is None else -(-first // SPAN_DAYS)
    high = None if end is None else end // SPAN_DAYS
    if low is not None and high is not None and low >= high:
        assert first is not None and end is not None
        within = range(first // SPAN_DAYS, (end - 1) // SPAN_DAYS + 1)
        return [], [(first, end, 1)], _span_lists(family, within, user_id), ()
    days: list[tuple[int | None, int | None, int]] = []
    if low is not None and first is not None:
        if low * SPAN_DAYS - first > SPAN_DAYS // 2:
            low -= 1
            days.append((low * SPAN_DAYS, first, -1))
        else:
            days.append((first, low * SPAN_DAYS, 1))
    if high is not None and end is not None:
        if end - high * SPAN_DAYS > SPAN_DAYS // 2:
            high += 1
            days.append((end, high * SPAN_DAYS, -1))
        else:
            days.append((high * SPAN_DAYS, end, 1))

    # The spans named one by one where the history bounds them (no rows lie
    # outside it): the key is (chat, span, word), so a word or a range of
    # words (stop words, emoji) is then a seek in each span, not a filter on
    # every row of the period.
    if history is not None:
        low = history[0] // DAY // SPAN_DAYS if low is None else low
        high = (history[1] - 1) // DAY // SPAN_DAYS + 1 if high is None else high

    def spans(table: Table, *where: ColumnElement[bool], sign: int = 1) -> WordPart:
        bounds: list[ColumnElement[bool]] = []
        if low is not None and high is not None:
            bounds.append(table.c.span.in_(range(low, high)))
        elif low is not None:
            bounds.append(table.c.span >= low)
        elif high is not None:
            bounds.append(table.c.span < high)
        return WordPart(table, (table.c.chat_id.in_(family), *where, *bounds), sign)

    lists = None
    summed: tuple[int, ...] = ()
    if low is not None and high is not None:
        # Days added outside the whole spans lie within the span around them.
        around = {
            day // SPAN_DAYS
            for a, b, sign in days
            if sign > 0 and a is not None and b is not None and a < b
            for day in (a, b - 1)
        }
        lists = _span_lists(family, around.union(range(low, high)), user_id)
        summed = tuple(i for i, listed in enumerate(lists) if low <= (listed.span or 0) < high)
    m = member_word_spans
    if user_id is not None:
        return [spans(m, m.c.user_id == user_id)], days, lists, summed
    parts = [spans(word_spans)]
    if excluded:  # the chat's spans less those of its excluded members
        parts.append(spans(m, m.c.user_id.in_(sorted(excluded)), sign=-1))
    return parts, days, lists, summed


def _day_parts(
    family: Sequence[int],
    low: int | None,
    high: int | None,
    user_id: int | None,
    excluded: Collection[int],
    sign: int,
) -> list[WordPart]:
    """The day rows of UTC days [low, high): the member's, or the chat's less
    those of its excluded members."""
    if user_id is not None:
        t = word_days
        if low is not None and high is not None and high - low <= SPAN_DAYS:
            # The key is (chat, day, member, word): naming each day lets both
            # engines seek to the member within it, where a day range reads every
            # member's words of those days (20,000 rows a day at 10M messages).
            where = (t.c.chat_id.in_(family), t.c.day.in_(range(low, high)), t.c.user_id == user_id)
            return [WordPart(t, where, sign)]
        since = None if low is None else low * DAY
        until = None if high is None else high * DAY
        conditions = _conditions(t, t.c.day, family, since, until, DAY, t.c.user_id, user_id, ())
        return [WordPart(t, tuple(conditions), sign)]
    parts = [WordPart(chat_word_days, _days(chat_word_days, family, low, high), sign)]
    if excluded:
        m = word_days
        theirs = (*_days(m, family, low, high), m.c.user_id.in_(sorted(excluded)))
        parts.append(WordPart(m, theirs, -sign))
    return parts


def _days(
    table: Table, family: Sequence[int], low: int | None, high: int | None
) -> tuple[ColumnElement[bool], ...]:
    """A day table's rows of days [low, high), the days named when they are few
    (so a word, or a range of words, is a seek in each)."""
    if low is not None and high is not None and high - low <= SPAN_DAYS:
        return (table.c.chat_id.in_(family), table.c.day.in_(range(low, high)))
    where: list[ColumnElement[bool]] = [table.c.chat_id.in_(family)]
    if low is not None:
        where.append(table.c.day >= low)
    if high is not None:
        where.append(table.c.day < high)
    return tuple(where)


def edge_words(
    connection: Connection,
    family: Sequence[int],
    low: int | None,
    high: int | None,
    user_id: int | None,
    excluded: Collection[int],
) -> Counter[str]:
    """The words of the counted texts sent in [low, high), split as the store splits them."""
    m = messages
    where = [m.c.chat_id.in_(family), m.c.counted.is_(True), m.c.text != ""]
    if low is not None:
        where.append(m.c.date >= low)
    if high is not None:
        where.append(m.c.date < high)
    if user_id is not None:
        where.append(m.c.user_id == user_id)
    if excluded:
        where.append(func.coalesce(m.c.user_id, 0).not_in(sorted(excluded)))
    texts: Any = connection.execute(select(m.c.text).where(*where)).scalars()
    return count_words(texts)
