"""A period's most used words and its word total, ranked and summed in SQL.

A chat's vocabulary keeps growing with its history (names, typos, slang: a
synthetic chat drawn as real ones are has 268,000 distinct words at 1M
messages and 1.57 million at 10M), so reading every word of a period into
Python costs what the history costs.  Here the database sums the period's
parts (tgstats.store.word_periods) and orders them; Python filters the
first rows (stop words, lengths, emoji) and reads on until the ranking is
exact, and adds the words of the partial days at the period's edges.

Filters cost more per row in SQL than the sort does (a stop-word probe and
a few string comparisons per word: 0.45 s over the 10M chat's 1.5 million
all-time words, against 0.1 s to order them), so the total is taken apart
instead: every word's uses, less those of the wrong length, less those of
the stop words (looked up by key), with the few words SQL cannot tell from
an emoji (:func:`maybe_emoji`) counted word by word in Python.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from tgstats.store.bucketed import _conditions
from tgstats.store.schema import chat_words, word_totals
from tgstats.store.word_periods import WordList, WordPart, WordPlan, plan_edges, word_plan
from tgstats.store.words import EMOJI_RANGES, MAX_WORD, is_emoji, odd_words_sql
from tgstats.store.zones import DAY

__all__ = ["Ranking", "WordFilter", "maybe_emoji", "rank", "threshold_top", "word_total"]

# Rows asked for past ``limit`` on the first try: rows the filter drops (stop
# words are among the commonest) and the edges' words reorder the rows near
# the cut.  Too few costs another query, never a wrong answer.
_SLACK = 64


# A floor of at most this many uses reads the long tails of the spans (most
# of their rows are words used a few times), where a period ending now over
# most of the history ranks sooner as all time less the part before: at 1M
# messages on SQLite the chat's 600 days (floor 3, 56,000 span rows against
# 261,000 all-time ones ordered ten times cheaper per row) in 0.061 s
# against 0.088 s, and the busiest member's 400 days (floor 1) in 0.052 s
# against 0.086 s.  At 10M the same periods have floors of 13 to 30 and the
# heads win (the member's 400 days: 0.068 s against 0.075 s).
_SHALLOW = 4


def maybe_emoji(word: str) -> bool:
    """Whether ``word`` lies in a code point range where emoji are (SQL's test)."""
    return any(low <= word and (high is None or word < high) for low, high in EMOJI_RANGES)


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
    depths = None
    if limit > 0 and plan.complement is not None and plan.lists and len(plan.lists) > 1:
        depths = _depths(connection, plan.lists, limit + _SLACK)
        if _floor(sum(depths), depths) <= _SHALLOW:
            # The heads would read the spans' long tails, or every row,
            # which costs more than ordering the all-time rows (a quiet
            # member's 47 spans at 1M messages: 142,600 span rows against
            # 59,000 all-time ones).
            plan, depths = plan.complement, None
    _without_parallel_workers(connection, plan)
    counted = plan_edges(connection, family, plan, user_id, excluded)
    edges = Counter({word: n for word, n in counted.items() if keep.keeps(word)})  # signed
    sums = _Sums(connection, plan)
    left_out: set[str] = set()
    wrong: set[str] | None = set()
    odd: set[str] | None = set()
    if total:
        # Summed with the ranking's words, in one pass over the period's day rows.
        wrong = _wrong_length(connection, family, keep)
        odd = _odd_words(connection, family)
        # Stop lists are long (1,856 words for English and Russian) and most
        # of a list never occurs in a given chat: only those that do are summed.
        left_out = (wrong or set()) | _present(connection, family, _stops(keep))
        sums.want(left_out | (odd or set()))
    words: list[tuple[str, int]] = []
    if limit > 0:
        if _summed_whole(plan):
            words = _top(connection, plan, keep, limit, edges, sums)
        else:
            words = threshold_top(connection, plan, keep, limit, edges, sums, depths)
    if not total:
        return Ranking(words, None)
    every = word_total(connection, family, plan, user_id, excluded)
    if wrong is None:  # too many to sum by key: measured in the period's rows
        every -= _wrong_length_sum(connection, plan, keep)
    uses = every - sum(sums.of(left_out).values())
    summed = _total(connection, plan, keep, uses, None if odd is None else sums.of(odd))
    return Ranking(words, summed + sum(edges.values()))


def _without_parallel_workers(connection: Connection, plan: WordPlan) -> None:
    """On PostgreSQL, no parallel workers for the rest of the transaction
    when the plan reads spans only.  Its statements are seeks and short index
    ranges, a few milliseconds each, and PostgreSQL plans some of them
    parallel (a UNION ALL of the spans' heads or sums), where starting the
    workers costs more than they save.  At 1M messages: 30 days ranked in
    0.054 s against 0.073 s, 600 days in 0.113 against 0.133.  Ordering an
    all-time table is one long scan that workers do shorten (0.034 s against
    0.040 s), so a plan that reads one keeps them."""
    if connection.dialect.name != "postgresql" or not plan.lists:
        return
    if all(listed.span is not None for listed in plan.lists):
        # LOCAL: the setting ends with the connection's transaction.
        connection.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")


def _summed_whole(plan: WordPlan) -> bool:
    """Whether to rank by adding up the period's rows (:func:`_top`) rather
    than from the heads of its lists (:func:`threshold_top`): for all time in
    one chat, where the one table is the ranking, and where the lists are not
    known.  Heads win for any period otherwise, at 10M messages: 7 days
    0.09 s against 0.18, 30 days 0.12 against 0.26, 365 days 0.4 against 1.3."""
    return plan.lists is None or _one_per_word(plan)


def _one_per_word(plan: WordPlan) -> bool:
    """Whether the plan is one all-time table of one chat: ordering it is the ranking."""
    return len(plan.parts) == 1 and plan.parts[0].per_word and plan.parts[0].sign > 0


# A word's count in the summed lists (WordPlan.summed) that read it, and
# which did: bit i set for WordPlan.lists[i].  A plain tuple: the heads make
# one per word read, thousands of them.
_Read = tuple[int, int]


class _Sums:
    """The SQL sums of words over a plan's parts, each word asked for once;
    words wanted later are asked for with the next batch (each batch reads
    the period's day rows once)."""

    def __init__(self, connection: Connection, plan: WordPlan) -> None:
        self._connection = connection
        self._plan = plan
        self._known: dict[str, int] = {}
        self._wanted: set[str] = set()
        self._first: Mapping[str, _Read] = {}

    def want(self, words: Collection[str]) -> None:
        self._wanted.update(words)

    def first_part(self, read: Mapping[str, _Read]) -> None:
        """Words read in some of the lists that add up to the plan's first
        part (:attr:`WordPlan.summed`), with their count there and which of
        them read it: their first part is that plus a seek in each of those
        lists that did not (none when all did), and the other parts are
        summed as usual."""
        self._first = read

    def of(self, words: Collection[str]) -> dict[str, int]:
        missing = {w for w in words if w not in self._known} | self._wanted
        self._wanted = set()
        partly = {w for w in missing if w in self._first}
        whole = missing - partly
        connection, plan = self._connection, self._plan

        def among(chosen: Collection[str]) -> Callable[[Any], ColumnElement[bool]]:
            return lambda word: _in(connection, word, chosen)

        # One statement for every word asked (a few hundred SELECTs to one):
        # the words read in no summed list over every part; the others over
        # the parts after the first, and in the summed lists that missed them.
        selects = _part_selects(plan.parts, among(whole)) if whole else []
        if partly:
            selects += _part_selects(plan.parts[1:], among(partly))
            selects += _unread(connection, plan, {w: self._first[w] for w in partly})
        found = _added(connection, selects)
        for word in partly:
            found[word] += self._first[word][0]
        self._known.update((w, found.get(w, 0)) for w in missing)
        return {w: self._known[w] for w in words}


def _unread(connection: Connection, plan: WordPlan, read: Mapping[str, _Read]) -> list[Select[Any]]:
    """SELECTs of each word's rows (``word``, ``n``) in the summed lists that
    did not read it: a seek per word and such list, where summing the first
    part again would seek every one of them (a year is 24 lists; a word near
    the cut is missing from a few)."""
    lists = plan.lists or []
    every = 0
    for i in plan.summed:
        every |= 1 << i
    asked: dict[int, list[str]] = {}
    for word, (_count, read_by) in read.items():
        not_read = every & ~read_by
        while not_read:
            lowest = not_read & -not_read
            asked.setdefault(lowest.bit_length() - 1, []).append(word)
            not_read ^= lowest
    selects = []
    for i in sorted(asked):
        table, where, _span = lists[i]
        chosen = _in(connection, table.c.word, asked[i])
        selects.append(
            select(table.c.word.label("word"), table.c["count"].label("n")).where(*where, chosen)
        )
    return selects


def _top(
    connection: Connection,
    plan: WordPlan,
    keep: WordFilter,
    limit: int,
    edges: Counter[str],
    sums: _Sums,
) -> list[tuple[str, int]]:
    """SQL's most used words, filtered here, with the edges' counts added;
    read on until no word left unread could enter the ranking."""
    asked = 2 * limit + _SLACK
    while True:
        rows = _ordered(connection, plan, asked)
        combined: Counter[str] = Counter()
        for word, n in rows:
            if keep.keeps(word):
                combined[word] = n + edges.get(word, 0)
        complete = len(rows) < asked  # every word with a count is in rows
        threshold = 0 if complete else rows[-1][1]  # no word left unread has more in SQL
        read = {word for word, _n in rows}
        outside = [w for w in edges if w not in read]
        if complete:
            for word in outside:
                combined[word] = edges[word]
        else:
            ranked = _ranked(+combined, limit)
            cut = ranked[-1][1] if len(ranked) == limit else 0
            # Words below the cut in SQL that the edges could lift over it.
            lifted = [w for w in outside if threshold + edges[w] >= cut]
            for word, n in sums.of(lifted).items():
                combined[word] = n + edges[word]
        ranked = _ranked(+combined, limit)
        # Exact once every word not read has at most ``threshold``, below the cut.
        if complete or (len(ranked) == limit and ranked[-1][1] > threshold):
            return ranked
        asked *= 4


def _ranked(counts: Mapping[str, int], limit: int) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


def _ordered(connection: Connection, plan: WordPlan, limit: int) -> list[tuple[str, int]]:
    """The ``limit`` words with the most uses in the SQL parts, most first."""
    if not plan.parts:
        return []
    if _one_per_word(plan):
        # All time in one chat: one row per word, nothing to add up (grouping
        # the 10M chat's 1.5 million words took four times as long as ordering them).
        table, where, *_ = plan.parts[0]
        return _most_used(connection, table, where, limit)
    u = _union(plan)
    summed = select(u.c.word, func.sum(u.c.n).label("n")).group_by(u.c.word).subquery("summed")
    statement = (
        select(summed.c.word, summed.c.n)
        .where(summed.c.n > 0)
        .order_by(summed.c.n.desc())
        .limit(limit)
    )
    return [(word, int(n)) for word, n in connection.execute(statement)]


def threshold_top(
    connection: Connection,
    plan: WordPlan,
    keep: WordFilter,
    limit: int,
    edges: Counter[str],
    sums: _Sums,
    depths: Sequence[int] | None = None,
) -> list[tuple[str, int]]:
    """The ranking from the head of each of the plan's lists (Fagin's
    threshold algorithm): a word read in none of them has at most the sum of
    the lists' floors (the least count each has read down to), so once the
    ``limit``-th word, summed exactly, has more than that, no word left unread
    can enter.  A word read in some lists has at most what was read of it
    plus the floors of the others; only words that could reach the cut are
    summed exactly.  The floors are lowered until the ranking holds.

    The cost follows the heads read (a few thousand rows per span for a
    ranking of 800) and the words summed, not the period's vocabulary: a year
    of the 10M chat sums 1.9 million span rows the other way.  Where the
    floor reaches 0 the lists are small (a quiet member's spans) and every
    row would be read: SQL adds them up in a quarter of the time the heads
    take (:func:`_top`; a member's 47 spans at 1M messages, 142,600 rows:
    0.08 s against 0.27 s)."""
    lists = plan.lists or []
    if len(lists) == 1:
        # An all-time table (no count index: each read is a pass over the
        # chat's vocabulary) or a single span: read it deep enough at once.
        heads = _top_rows(connection, lists[0], plan.summed, 2 * (limit + _SLACK))
    else:
        # The cut is about the sum of the lists' counts at the ``limit``-th
        # row (a seek each); read every list down to half its share of that.
        if depths is None:
            depths = _depths(connection, lists, limit + _SLACK)
        above = _floor(sum(depths), depths)
        if above == 0:
            return _top(connection, plan, keep, limit, edges, sums)
        heads = _heads(connection, lists, plan.summed, above=above)
    while True:
        floors = heads.floors
        bound = sum(floors)  # the most any word not read may have in SQL
        sums.first_part(heads.summed)
        read = heads.words
        candidates = {w for w in read if keep.keeps(w)} | {w for w in edges if edges[w] > 0}
        # A word read has at most what was read of it, plus the floors of the
        # lists that did not reach it (``bound`` less those that did).
        most = {w: bound + read.get(w, _NOT_READ)[1] + edges.get(w, 0) for w in candidates}
        guesses = sorted(
            (read.get(w, _NOT_READ)[0] + edges.get(w, 0) for w in candidates), reverse=True
        )
        cut = guesses[limit - 1] if len(guesses) >= limit else 1
        # Sum exactly every word that could reach the cut, and those a little
        # short of it: asking again for a few words reads the day rows again.
        reach = cut - cut // 10
        deeper = _floor(cut, floors)
        doubt = sum(1 for m in most.values() if m >= reach)
        if doubt > 4 * limit and deeper < max(floors):
            # Too shallow: nearly every word read could reach the cut, and
            # summing a word costs a seek per span where reading one costs a
            # step along an index.  Read down to where few words are in doubt.
            if deeper == 0:
                return _top(connection, plan, keep, limit, edges, sums)
            heads = _heads(connection, lists, plan.summed, above=deeper)
            continue
        exact: dict[str, int] = {}
        while True:
            more = [w for w, m in most.items() if m >= reach and w not in exact]
            for word, n in sums.of(more).items():
                exact[word] = n + edges.get(word, 0)
            ranked = _ranked({w: n for w, n in exact.items() if n > 0}, limit)
            found = ranked[-1][1] if len(ranked) == limit else 1
            settled = found >= reach  # every word that could reach ``found`` is summed
            cut = reach = found
            if settled:
                break
        if bound < cut:
            return ranked
        # Some word not read could still reach the cut: read further down.
        deeper = _floor(cut, floors)
        if deeper == 0:
            return _top(connection, plan, keep, limit, edges, sums)
        heads = _heads(connection, lists, plan.summed, above=deeper)


def _floor(cut: int, floors: Sequence[int]) -> int:
    """A floor below the lists' present ones that leaves all of them together
    half the cut (0: every row)."""
    return max(0, min(cut // (2 * max(1, len(floors))), max(floors, default=0) - 1))


# Lists (or other SELECTs) in one statement: SQLite allows 500 SELECTs in one compound.
_LISTS_PER_STATEMENT = 200


def _statements(
    lists: Sequence[WordList], read: Callable[[WordList], Select[Any]]
) -> Iterator[tuple[range, Any]]:
    """The rows of ``read(list)`` for every list, each led by the list's index
    (column ``i``), a few hundred lists to a statement, with the indices each
    statement covers."""
    led = [select(literal(i).label("i"), read(listed).subquery()) for i, listed in enumerate(lists)]
    return _compounds(led)


def _compounds(selects: Sequence[Select[Any]]) -> Iterator[tuple[range, Any]]:
    """``selects`` a few hundred to a ``UNION ALL``, with the indices each covers."""
    for start in range(0, len(selects), _LISTS_PER_STATEMENT):
        covered = range(start, min(start + _LISTS_PER_STATEMENT, len(selects)))
        chunk = selects[covered.start : covered.stop]
        yield covered, union_all(*chunk) if len(chunk) > 1 else chunk[0]


class _Heads(NamedTuple):
    """What the heads of a plan's lists hold."""

    # word -> (its count in the rows read, that less the floors of the lists
    # that read it: how far above them it is)
    words: dict[str, tuple[int, int]]
    summed: dict[str, _Read]  # the words read in any summed list, as read there
    floors: list[int]  # per list: the most a row not read may have


_NOT_READ = (0, 0)


def _heads(
    connection: Connection, lists: Sequence[WordList], summed: Sequence[int], *, above: int
) -> _Heads:
    """Every list's rows with a count above ``above``, added up per word in
    SQL: the heads of a year are some 35,000 rows and a few thousand words,
    and a row costs more to bring into Python than to add up."""

    def head(listed: WordList) -> Select[Any]:
        count = listed.table.c["count"]
        return select(listed.table.c.word, count).where(*listed.where, count > above)

    words: dict[str, tuple[int, int]] = {}
    in_summed: dict[str, _Read] = {}
    for covered, statement in _statements(lists, head):
        u = statement.subquery()
        is_summed = u.c.i.in_(summed)
        # A column of bits for each _BITS lists of the statement with a summed one.
        groups = [
            low
            for low in range(covered.start, covered.stop, _BITS)
            if any(low <= i < low + _BITS for i in summed)
        ]
        grouped = select(
            u.c.word,
            func.sum(u.c["count"]),
            func.count(),
            func.sum(case((is_summed, u.c["count"]), else_=0)),
            *(_read_by(u.c.i, summed, low) for low in groups),
        ).group_by(u.c.word)
        for word, n, k, n_summed, *masks in connection.execute(grouped):
            n = int(n)  # PostgreSQL's sum of a bigint is numeric
            read, over = words.get(word, _NOT_READ)
            words[word] = (read + n, over + n - int(k) * above)
            mask = 0
            for bits, low in zip(masks, groups, strict=True):
                mask |= int(bits) << low
            if mask:
                count, lists_read = in_summed.get(word, (0, 0))  # another statement's
                in_summed[word] = (count + int(n_summed), lists_read | mask)
    return _Heads(words, in_summed, [above] * len(lists))


# Summed lists a word was read in, as bits of one integer column per this
# many lists (SQLite's integers have 64 bits).
_BITS = 62


def _read_by(i: Any, summed: Sequence[int], low: int) -> Any:
    """SQL: the bits ``1 << (i - low)`` of the summed lists ``low`` to ``low +
    _BITS`` that read a word, added up (a list has one row per word, so the
    sum sets each bit once)."""
    bit = literal(1, BigInteger).op("<<")(i - low)
    chosen = and_(i.in_(summed), i >= low, i < low + _BITS)
    return func.sum(case((chosen, bit), else_=0))


def _top_rows(connection: Connection, listed: WordList, summed: Sequence[int], top: int) -> _Heads:
    """The first ``top`` rows of one list, most used first; its floor is the
    least count read, or 0 when it gave fewer (it was read whole)."""
    rows = _most_used(connection, listed.table, listed.where, top)
    floor = rows[-1][1] if len(rows) >= top else 0
    words = {word: (n, n - floor) for word, n in rows}
    read_by = 1 if summed else 0  # the list is list 0
    return _Heads(words, {w: (n, read_by) for w, n in rows} if read_by else {}, [floor])


def _most_used(
    connection: Connection, table: Table, where: Sequence[ColumnElement[bool]], limit: int
) -> list[tuple[str, int]]:
    """The first ``limit`` rows of a word table (one per word), most used first."""
    count = table.c["count"]
    ordered = select(table.c.word, count).where(*where).order_by(count.desc()).limit(limit)
    return [(word, int(n)) for word, n in connection.execute(ordered)]


def _depths(connection: Connection, lists: Sequence[WordList], rank: int) -> list[int]:
    """Each list's count at its ``rank``-th row, most used first (0: it has fewer)."""

    def at(listed: WordList) -> Select[Any]:
        count = listed.table.c["count"]
        ordered = select(count).where(*listed.where).order_by(count.desc())
        return ordered.offset(rank - 1).limit(1)

    found = {
        int(i): int(n)
        for _covered, statement in _statements(lists, at)
        for i, n in connection.execute(statement)
    }
    return [found.get(i, 0) for i in range(len(lists))]


def _added(connection: Connection, selects: Sequence[Select[Any]]) -> Counter[str]:
    """Each word's ``n`` over the rows of ``selects`` (columns ``word`` and
    ``n``), added up in SQL, a few hundred SELECTs to a statement."""
    found: Counter[str] = Counter()
    for _covered, compound in _compounds(selects):
        u = compound.subquery("word_rows")
        for word, n in connection.execute(select(u.c.word, func.sum(u.c.n)).group_by(u.c.word)):
            found[word] += int(n)
    return found


def word_total(
    connection: Connection,
    family: Sequence[int],
    plan: WordPlan,
    user_id: int | None,
    excluded: Collection[int],
) -> int:
    """Uses of every stored word in the plan's whole UTC days (agg_word_totals)."""
    if not plan.parts:
        return 0
    t = word_totals
    first, end = plan.days
    since = None if first is None else first * DAY
    until = None if end is None else end * DAY
    where = _conditions(t, t.c.day, family, since, until, DAY, t.c.user_id, user_id, excluded)
    summed = select(func.coalesce(func.sum(t.c.words), 0)).where(*where)
    return int(connection.execute(summed).scalar_one())


# Words of the wrong length summed by key up to this many; past it (a caller
# asking for words of 8 letters or more leaves out most of the vocabulary)
# the period's rows are measured instead.
_BY_KEY = 20_000


def _outside(word: Any, keep: WordFilter) -> ColumnElement[bool] | None:
    """``word`` shorter or longer than ``keep`` allows, in SQL (None: no word is)."""
    length = func.length(word)
    wrong = [length < keep.min_length] if keep.min_length > 1 else []
    if keep.max_length < MAX_WORD:
        wrong.append(length > keep.max_length)
    return or_(*wrong) if wrong else None


def _wrong_length(
    connection: Connection, family: Sequence[int], keep: WordFilter
) -> set[str] | None:
    """The chat's words shorter or longer than ``keep`` allows (its length
    index), or None if there are more than :data:`_BY_KEY`."""
    t = chat_words
    outside = _outside(t.c.word, keep)
    if outside is None:
        return set()
    statement = select(t.c.word).where(t.c.chat_id.in_(family), outside).limit(_BY_KEY + 1)
    found = set(connection.execute(statement).scalars())
    return None if len(found) > _BY_KEY else found


def _wrong_length_sum(connection: Connection, plan: WordPlan, keep: WordFilter) -> int:
    """Uses of words of the wrong length in the plan's SQL parts, row by row."""
    if not plan.parts:
        return 0
    u = _union(plan, lambda word: _outside(word, keep))
    return int(connection.execute(select(func.coalesce(func.sum(u.c.n), 0))).scalar_one())


def _present(connection: Connection, family: Sequence[int], words: Collection[str]) -> set[str]:
    """Those of ``words`` the chat has ever used (a seek each in its all-time words)."""
    if not words:
        return set()
    t = chat_words
    statement = select(t.c.word).where(t.c.chat_id.in_(family), _in(connection, t.c.word, words))
    return set(connection.execute(statement).scalars())


def _stops(keep: WordFilter) -> set[str]:
    """The stop words a total takes off one by one (of a kept length; emoji-like
    words are counted apart)."""
    return {
        w
        for w in keep.leave_out
        if keep.min_length <= len(w) <= keep.max_length and not maybe_emoji(w)
    }


def _odd_words(connection: Connection, family: Sequence[int]) -> set[str] | None:
    """The chat's words SQL cannot tell from emoji (:func:`maybe_emoji`; a
    partial index holds them), or None if there are more than
    :data:`_BY_KEY` (a chat written in CJK)."""
    odd = text(odd_words_sql(connection.dialect.name))
    statement = select(chat_words.c.word).where(chat_words.c.chat_id.in_(family), odd)
    found = set(connection.execute(statement.limit(_BY_KEY + 1)).scalars())
    return None if len(found) > _BY_KEY else found


def _total(
    connection: Connection,
    plan: WordPlan,
    keep: WordFilter,
    counted: int,
    odd: Mapping[str, int] | None,
) -> int:
    """Uses of the words ``keep`` keeps in the SQL parts, from ``counted``:
    every use less those of the words of the wrong length and of the stop
    words, where the emoji-like words (``maybe_emoji``: their sums ``odd``, or
    None to find them in the period's rows) are counted one by one instead."""
    if not plan.parts:
        return 0
    total = counted
    if odd is None:
        ranges = _union(plan, *_emoji_ranges(connection))
        statement = select(ranges.c.word, func.sum(ranges.c.n)).group_by(ranges.c.word)
        odd = {word: int(n) for word, n in connection.execute(statement)}
    # The words SQL cannot tell from emoji: take out what was counted of them,
    # and put in what ``keep`` keeps.
    for word, n in odd.items():
        if keep.min_length <= len(word) <= keep.max_length:
            total -= n
        if keep.keeps(word):
            total += n
    return total


def _union(plan: WordPlan, *conditions: Any) -> Any:
    """The plan's parts as one row set (word, signed count); with
    ``conditions`` (each a function of the word column), the rows meeting
    any of them, one SELECT per part and condition so each can be a range of
    the key."""
    return union_all(*_part_selects(plan.parts, *conditions)).subquery("word_parts")


def _part_selects(parts: Sequence[WordPart], *conditions: Any) -> list[Select[Any]]:
    """:func:`_union`'s SELECTs (columns ``word`` and ``n``)."""
    selects = []
    for table, where, sign, _per_word in parts:
        word = table.c.word
        n = table.c["count"] if sign > 0 else -table.c["count"]
        for condition in conditions or (None,):
            extra = [] if condition is None else [condition(word)]
            selects.append(select(word.label("word"), n.label("n")).where(*where, *extra))
    return selects


def _emoji_ranges(connection: Connection) -> list[Any]:
    """SQL's :func:`maybe_emoji`, in code point order.

    SQLite compares in code point order and reads each range from the key,
    so it gets one condition per range.  PostgreSQL compares under the
    column's collation, where a locale may sort U+2000 (a space) before "a":
    there the ranges are compared under "C", which its index cannot serve, so
    they are one condition and one pass (four took 1 s for a member's year
    at 10M messages).
    """

    def within(word: Any, low: str, high: str | None) -> ColumnElement[bool]:
        bounds = [] if not low else [word >= low]
        if high is not None:
            bounds.append(word < high)
        return and_(*bounds)

    if connection.dialect.name == "postgresql":
        return [lambda word: or_(*(within(word.collate("C"), *bounds) for bounds in EMOJI_RANGES))]
    return [lambda word, low=low, high=high: within(word, low, high) for low, high in EMOJI_RANGES]


def _in(connection: Connection, word: Any, words: Collection[str]) -> ColumnElement[bool]:
    """``word`` among ``words``, as one bound value whatever their number (a
    stop-word list per language adds up to thousands; SQLite allows 32,766
    bound values in a statement, and each part of the union repeats them)."""
    values = sorted(words)
    if connection.dialect.name == "postgresql":
        # A semi-join on the unnested array, not ``= ANY(array)``: with the
        # spans also listed, the planner took two arrays in one index
        # condition for a scan of every span row (0.6 s for 900 words over a
        # year at 10M messages, against an index seek per word and span).
        unnested = func.unnest(bindparam(None, values, type_=ARRAY(String))).column_valued()
        return word.in_(select(unnested))
    listed = func.json_each(bindparam(None, json.dumps(values), type_=String)).table_valued("value")
    return word.in_(select(listed.c.value))
