"""Recomputing the aggregates from the messages: ``tgstats store verify`` and ``rebuild``.

The recomputation is the definition the write paths (tgstats.store.aggregates)
must match: counts and reactions per 15-minute bucket and replies between two
senders by SQL GROUP BY, words per UTC day by streaming each chat's texts in
date order through tgstats.store.words, one day at a time (memory stays at
one day's texts and words).  Verify compares chat by chat, day by day.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from typing import Any

import attrs
from sqlalchemy import func, select, union
from sqlalchemy.engine import Connection

from tgstats.store import month_cache
from tgstats.store.aggregates import DAY, forget_chats
from tgstats.store.schema import (
    BUCKET,
    DERIVED,
    activity_buckets,
    chats,
    member_months,
    messages,
    reply_buckets,
    word_days,
    word_spans,
)
from tgstats.store.words import count_words

__all__ = ["Difference", "chat_ids", "rebuild", "verify"]

_STREAM = 5000
_WRITE = 5000  # rows per executemany when rebuilding

_ACTIVITY_SQL = (
    f"SELECT date / {BUCKET}, COALESCE(user_id, 0), count(*), COALESCE(sum(reaction_count), 0) "
    "FROM messages WHERE chat_id = {mark} AND counted GROUP BY 1, 2"
)
_REPLIES_SQL = (
    f"SELECT r.date / {BUCKET}, r.user_id, p.user_id, count(*) "
    "FROM messages r JOIN messages p "
    "ON p.chat_id = r.chat_id AND p.message_id = r.reply_to_message_id "
    "WHERE r.chat_id = {mark} AND r.counted AND p.user_id <> r.user_id GROUP BY 1, 2, 3"
)


@attrs.frozen
class Difference:
    table: str
    chat_id: int
    key: tuple[Any, ...]  # the row's key after chat_id
    stored: tuple[Any, ...] | None  # None: the row is missing
    expected: tuple[Any, ...] | None  # None: the row should not exist


def _mark(connection: Connection) -> str:
    return "?" if connection.dialect.name == "sqlite" else "%s"


def chat_ids(connection: Connection) -> list[int]:
    """Every chat with messages or aggregates."""
    tables = [
        chats.c.chat_id,
        activity_buckets.c.chat_id,
        reply_buckets.c.chat_id,
        word_spans.c.chat_id,
    ]
    found = connection.execute(union(*(select(c).distinct() for c in tables))).scalars()
    return sorted(found)


def _split(sql: str, row: Sequence[Any]) -> tuple[tuple[Any, ...], tuple[int, ...]]:
    if sql is _ACTIVITY_SQL:
        return (int(row[0]), int(row[1])), (int(row[2]), int(row[3]))
    return (int(row[0]), int(row[1]), int(row[2])), (int(row[3]),)


def _stored(
    connection: Connection, chat_id: int, table: Any
) -> dict[tuple[Any, ...], tuple[int, ...]]:
    keys: tuple[Any, ...]
    values: tuple[Any, ...]
    if table is activity_buckets:
        keys = (table.c.bucket, table.c.user_id)
        values = (table.c.messages, table.c.reactions)
    else:
        keys = (table.c.bucket, table.c.from_user_id, table.c.to_user_id)
        values = (table.c.replies,)
    rows = connection.execute(select(*keys, *values).where(table.c.chat_id == chat_id))
    return {
        tuple(int(v) for v in row[: len(keys)]): tuple(int(v) for v in row[len(keys) :])
        for row in rows
    }


def _expected_words(
    connection: Connection, chat_id: int
) -> Iterator[tuple[int, dict[tuple[int, str], int], int]]:
    """(day, {(user, word): count}, messages read) for each UTC day with counted text."""
    statement = (
        select(messages.c.date, messages.c.user_id, messages.c.text)
        .where(messages.c.chat_id == chat_id, messages.c.counted.is_(True), messages.c.text != "")
        .order_by(messages.c.date)
    )
    cache: dict[str, list[str]] = {}
    result = connection.execute(statement, execution_options={"yield_per": _STREAM})
    for day, rows in itertools.groupby(result, key=lambda row: int(row[0]) // DAY):
        texts: dict[int, list[str]] = defaultdict(list)
        read = 0
        for _date, user_id, text in rows:
            texts[user_id or 0].append(text)
            read += 1
        counts = {
            (user, word): n
            for user, batch in texts.items()
            for word, n in count_words(batch, cache).items()
        }
        yield day, counts, read


def _stored_words(
    connection: Connection, chat_id: int
) -> Iterator[tuple[int, dict[tuple[int, str], int]]]:
    statement = (
        select(word_days.c.day, word_days.c.user_id, word_days.c.word, word_days.c.count)
        .where(word_days.c.chat_id == chat_id)
        .order_by(word_days.c.day)
    )
    result = connection.execute(statement, execution_options={"yield_per": _STREAM})
    for day, rows in itertools.groupby(result, key=lambda row: int(row[0])):
        yield day, {(int(u), w): int(n) for _d, u, w, n in rows}


def _compare(
    table: str,
    chat_id: int,
    stored: dict[tuple[Any, ...], Any],
    expected: dict[tuple[Any, ...], Any],
    prefix: tuple[Any, ...] = (),
) -> list[Difference]:
    out = []
    for key in sorted(set(stored) | set(expected), key=repr):
        s, e = stored.get(key), expected.get(key)
        if s != e:
            out.append(Difference(table, chat_id, prefix + key, _wrap(s), _wrap(e)))
    return out


def _wrap(value: Any) -> tuple[Any, ...] | None:
    return None if value is None else (value if isinstance(value, tuple) else (value,))


def verify(connection: Connection, chats_to_check: Sequence[int] | None = None) -> list[Difference]:
    """Every difference between the stored aggregates and a recomputation."""
    differences: list[Difference] = []
    for chat_id in chat_ids(connection) if chats_to_check is None else chats_to_check:
        differences += _compare(
            activity_buckets.name,
            chat_id,
            _stored(connection, chat_id, activity_buckets),
            _expected(connection, _ACTIVITY_SQL, chat_id),
        )
        differences += _compare(
            reply_buckets.name,
            chat_id,
            _stored(connection, chat_id, reply_buckets),
            _expected(connection, _REPLIES_SQL, chat_id),
        )
        differences += _compare_words(connection, chat_id)
        # Then the tables summed from those, against a recomputation from them.
        for table, sql in DERIVED:
            differences += _compare_derived(connection, chat_id, table, sql)
        # And the cached months, against the exact query over those tables.
        differences += [
            Difference(member_months.name, chat_id, key, stored, expected)
            for key, stored, expected in month_cache.verify(connection, chat_id)
        ]
    return differences


def _compare_derived(
    connection: Connection, chat_id: int, table: Any, sql: str
) -> list[Difference]:
    """One table summed from finer ones (tgstats.store.schema.DERIVED) against what
    its SELECT gives now: rows keyed by the table's primary key after chat_id."""
    keys = len(table.primary_key.columns) - 1
    where = f"WHERE chat_id = {_mark(connection)}"
    expected = {
        tuple(row[1 : 1 + keys]): tuple(int(v) for v in row[1 + keys :])
        for row in connection.exec_driver_sql(sql.format(where=where), (chat_id,))
    }
    stored = {
        tuple(row[1 : 1 + keys]): tuple(int(v) for v in row[1 + keys :])
        for row in connection.execute(select(table).where(table.c.chat_id == chat_id))
    }
    return _compare(table.name, chat_id, stored, expected)


def _compare_words(connection: Connection, chat_id: int) -> list[Difference]:
    """Both word streams are in day order: merge them, holding one day of each."""
    out: list[Difference] = []
    stored = _stored_words(connection, chat_id)
    expected = ((day, counts) for day, counts, _ in _expected_words(connection, chat_id))
    s, e = next(stored, None), next(expected, None)
    while s is not None or e is not None:
        if e is None or (s is not None and s[0] < e[0]):
            assert s is not None
            out += _compare(word_days.name, chat_id, s[1], {}, (s[0],))
            s = next(stored, None)
        elif s is None or e[0] < s[0]:
            out += _compare(word_days.name, chat_id, {}, e[1], (e[0],))
            e = next(expected, None)
        else:
            out += _compare(word_days.name, chat_id, s[1], e[1], (s[0],))
            s, e = next(stored, None), next(expected, None)
    return out


def _expected(
    connection: Connection, sql: str, chat_id: int
) -> dict[tuple[Any, ...], tuple[int, ...]]:
    rows = connection.exec_driver_sql(sql.format(mark=_mark(connection)), (chat_id,))
    return dict(_split(sql, row) for row in rows)


def rebuild(
    connection: Connection, chats_to_rebuild: Sequence[int] | None = None, *, progress: bool = False
) -> int:
    """Replace the aggregates of these chats (default: all) by a recomputation.

    Returns the number of messages read.  ``progress`` shows a bar on stderr.
    """
    targets = chat_ids(connection) if chats_to_rebuild is None else list(chats_to_rebuild)
    total = (
        connection.execute(
            select(func.count()).where(
                messages.c.chat_id.in_(targets), messages.c.counted.is_(True), messages.c.text != ""
            )
        ).scalar_one()
        if targets
        else 0
    )
    mark = _mark(connection)
    bar = _progress(total) if progress else nullcontext(None)
    done = 0
    with bar as advance:
        for chat_id in targets:
            forget_chats(connection, [chat_id])  # cached from the rows replaced here
            derived = [table for table, _sql in DERIVED]
            for table in (activity_buckets, reply_buckets, word_days, *derived):
                connection.execute(table.delete().where(table.c.chat_id == chat_id))
            activity = [
                (chat_id, *k, *v) for k, v in _expected(connection, _ACTIVITY_SQL, chat_id).items()
            ]
            _insert(connection, activity_buckets.name, 5, activity, mark)
            replies = [
                (chat_id, *k, *v) for k, v in _expected(connection, _REPLIES_SQL, chat_id).items()
            ]
            _insert(connection, reply_buckets.name, 5, replies, mark)
            pending: list[tuple[Any, ...]] = []
            for day, counts, read in _expected_words(connection, chat_id):
                pending += [(chat_id, day, user, word, n) for (user, word), n in counts.items()]
                if len(pending) >= _WRITE:
                    _insert(connection, word_days.name, 5, pending, mark)
                    pending = []
                done += read
                if advance is not None:
                    advance(read)
            _insert(connection, word_days.name, 5, pending, mark)
            for table, sql in DERIVED:  # summed from the three above
                connection.exec_driver_sql(
                    f"INSERT INTO {table.name} {sql.format(where=f'WHERE chat_id = {mark}')}",
                    (chat_id,),
                )
    return done


def _insert(
    connection: Connection, table: str, width: int, rows: list[tuple[Any, ...]], mark: str
) -> None:
    if rows:
        connection.exec_driver_sql(
            f"INSERT INTO {table} VALUES ({', '.join([mark] * width)})", rows
        )


def _progress(total: int) -> Any:
    """A rich progress bar on stderr, as a context manager yielding ``advance(n)``."""
    from contextlib import contextmanager

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    @contextmanager
    def bar() -> Iterator[Any]:
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        ) as shown:
            task = shown.add_task("Building statistics aggregates", total=total)
            yield lambda n: shown.advance(task, n)

    return bar()
