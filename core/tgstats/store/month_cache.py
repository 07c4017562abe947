"""Engagement over whole local months, cached: a long period reads one row per
member and month instead of one per member and day.

``agg_member_days`` makes engagement cost one row per member and active UTC
day, which still grows with the chat's history (about 200,000 rows for two
years of a 10M-message chat).  Active local days cannot be summed from a
table that knows no zone, but they can be summed over the zone's months: a
local day lies in exactly one of them.  So per chat, zone and local month
``cache_member_months`` keeps each member's messages, reactions, replies
received and active days, computed on first use by the exact query
(tgstats.store.bucketed); a period is read as its whole cached months plus
the exact query over what is left at its edges.

Why it stays exact:

* A month is split off only at a *clean* boundary: a local midnight with no
  offset change within two days of it.  Around it the local date runs forward
  with UTC, so no local day lies on both sides.  (St. John's went back from
  00:01 on 1 November 2009 to 23:01 on 31 October, which put one local day
  in two months; such a boundary stays inside an exact range.)
* A write that changes the member-day or replies-received rows of some UTC
  days drops the cached months overlapping those days, in its own transaction
  (tgstats.store.aggregates.forget_months); an erasure or a rebuild drops the
  chat's months.
* A fill never stores a stale month.  On PostgreSQL it runs under the chat's
  advisory lock, which every aggregate writer takes before it writes; it only
  *tries* the lock, so during a long import it answers without storing.  On
  SQLite it takes the database's write lock first (``BEGIN IMMEDIATE``,
  waiting at most 200 ms), so no writer commits between its reads and its
  insert.
* The zone column holds the zone's name and a checksum of its offsets over the
  month, so tz data that moves a transition gives a new key.

Only months that ended before the current UTC day are cached (the current one
still changes), at most FILL_PER_ANSWER of them per answer (the newest
first), and only for a chat with no migrated predecessor (a family would need
the same invalidation across its chats); anything else is the exact query,
as before.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import func, select, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError

from tgstats.store import bucketed
from tgstats.store.aggregates import try_lock_chat
from tgstats.store.schema import member_days, member_months
from tgstats.store.zones import DAY, offset_segments

__all__ = ["Month", "engagement", "local_months", "verify"]

log = structlog.get_logger("tgstats.store")

# No offset change within this distance of a month boundary: further away, no
# jump reaches it (the largest any zone made, Samoa skipping 30 December 2011,
# was one day).
_CLEAN = 2 * DAY
# Months one answer fills at most (about 17 ms each at 10M messages on this
# 2-core machine): a first answer costs the exact query plus a year of fills,
# however long the history; the next answers fill the older months.
FILL_PER_ANSWER = 12
# How long a SQLite fill waits for the write lock before it answers uncached.
_LOCK_WAIT_MS = 200
_MARKER = 0  # user id of the row saying "this month is filled" (no member has it)


class Month(NamedTuple):
    start: int  # UTC second of the local midnight opening the month
    end: int  # ... and of the one opening the next
    zone: str  # the zone's key and its offsets' checksum over the month


Sums = dict[int, tuple[int, int, int]]  # user -> (messages, active local days, reactions)


def engagement(
    connection: Connection,
    chat_id: int,
    tz: ZoneInfo,
    since: int | None,
    until: int | None,
    excluded: Collection[int] = (),
) -> tuple[Sums, dict[int, int]]:
    """(user -> (messages, active days, reactions), user -> replies received) of
    one chat over the bucket-aligned period [since, until): what
    bucketed.member_activity and bucketed.reply_counts give, summed from the
    cached months where the period holds whole ones."""
    days = _days(connection, chat_id)
    if days is None:
        return {}, {}
    # Months from the first member day to the last (not the empty ones after
    # it), and only those that ended before today.
    low = days[0] * DAY if since is None else max(since, days[0] * DAY)
    high = min((days[1] + 1) * DAY, int(time.time()) // DAY * DAY)
    if until is not None:
        high = min(high, until)
    months = local_months(tz, low, high)
    sums: dict[int, list[int]] = {}  # user -> messages, days, reactions, replies
    filled = _read(connection, chat_id, months, excluded, sums)
    # The newest few missing months are filled now, so a first answer costs
    # little more than the exact query; the others stay in the exact ranges.
    missing = [month for month in months if month not in filled][-FILL_PER_ANSWER:]
    if missing:
        for rows in _fill(connection, chat_id, tz, missing):
            for user, values in rows.items():
                if user != _MARKER and user not in excluded:
                    _add(sums, user, values)
    # The rest of the period: before the first month, between months whose
    # boundary is not clean or that are not filled yet, after the last.
    for low_edge, high_edge in _gaps(sorted({*filled, *missing}), since, until):
        for user, counts in bucketed.member_activity(
            connection, [chat_id], tz, low_edge, high_edge, excluded
        ).items():
            _add(sums, user, (*counts, 0))
        if not excluded:
            for user, n in _received(connection, chat_id, low_edge, high_edge, ()).items():
                _add(sums, user, (0, 0, 0, n))
    activity = {user: (n, active, r) for user, (n, active, r, _) in sums.items() if n or r}
    if excluded:
        # Replies an excluded member sent must go too, and the months do not
        # say who replied: the whole period comes from the reply buckets.
        return activity, _received(connection, chat_id, since, until, excluded)
    return activity, {user: cell[3] for user, cell in sums.items() if cell[3]}


def _days(connection: Connection, chat_id: int) -> tuple[int, int] | None:
    """The chat's first and last UTC day with member messages: two index seeks
    (one SELECT of both makes SQLite scan)."""
    d = member_days
    where = d.c.chat_id == chat_id
    first = connection.execute(select(func.min(d.c.day)).where(where)).scalar()
    if first is None:
        return None
    last = connection.execute(select(func.max(d.c.day)).where(where)).scalar_one()
    return int(first), int(last)


def local_months(tz: ZoneInfo, low: int, high: int) -> list[Month]:
    """The whole local months of ``tz`` inside [low, high) whose boundaries are
    both clean (see the module docstring), in order."""
    if low >= high:
        return []
    first = datetime.fromtimestamp(low, UTC).astimezone(tz)
    last = datetime.fromtimestamp(high, UTC).astimezone(tz)
    year, month = first.year, first.month
    start = _boundary(tz, year, month)
    months: list[Month] = []
    while (year, month) < (last.year, last.month):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        end = _boundary(tz, year, month)
        if start is not None and end is not None and low <= start and end <= high:
            segments = offset_segments(tz, start - _CLEAN, end + _CLEAN)
            checksum = zlib.crc32(repr(segments).encode())
            months.append(Month(start, end, f"{tz.key}#{checksum:08x}"))
        start = end
    return months


def _boundary(tz: ZoneInfo, year: int, month: int) -> int | None:
    """Local midnight opening the month, in UTC seconds; None where the zone's
    offset changes within two days of it."""
    guess = int(datetime(year, month, 1, tzinfo=tz).timestamp())
    if len(offset_segments(tz, guess - _CLEAN, guess + _CLEAN)) != 1:
        return None
    return guess


def _gaps(
    months: list[Month], since: int | None, until: int | None
) -> Iterator[tuple[int | None, int | None]]:
    """The parts of [since, until) outside ``months`` (None: unbounded)."""
    edge = since
    for month in months:
        if edge is None or edge < month.start:
            yield edge, month.start
        edge = month.end
    if until is None or edge is None or edge < until:
        yield edge, until


def _add(sums: dict[int, list[int]], user: int, values: tuple[int, ...]) -> None:
    cell = sums.setdefault(user, [0, 0, 0, 0])
    for i, value in enumerate(values):
        cell[i] += int(value)


def _read(
    connection: Connection,
    chat_id: int,
    months: list[Month],
    excluded: Collection[int],
    sums: dict[int, list[int]],
) -> set[Month]:
    """Add the cached months' member sums to ``sums``; return the months found."""
    if not months:
        return set()
    t = member_months
    wanted = set(months)
    markers = connection.execute(
        select(t.c.month_start, t.c.month_end, t.c.zone).where(
            t.c.chat_id == chat_id,
            t.c.month_start >= months[0].start,
            t.c.month_start < months[-1].end,
            t.c.user_id == _MARKER,
        )
    )
    filled = {m for m in (Month(int(s), int(e), z) for s, e, z in markers) if m in wanted}
    if not filled:
        return filled
    where = [
        t.c.chat_id == chat_id,
        t.c.month_start >= min(m.start for m in filled),
        t.c.month_start <= max(m.start for m in filled),
        tuple_(t.c.month_start, t.c.zone).in_(sorted((m.start, m.zone) for m in filled)),
        t.c.user_id != _MARKER,
    ]
    if excluded:
        where.append(t.c.user_id.not_in(sorted(excluded)))
    rows = connection.execute(
        select(
            t.c.user_id,
            func.sum(t.c.messages),
            func.sum(t.c.active_days),
            func.sum(t.c.reactions),
            func.sum(t.c.replies_received),
        )
        .where(*where)
        .group_by(t.c.user_id)
    )
    for user, *values in rows:
        _add(sums, int(user), tuple(values))
    return filled


def _fill(
    connection: Connection, chat_id: int, tz: ZoneInfo, months: list[Month]
) -> list[dict[int, tuple[int, int, int, int]]]:
    """Compute ``months`` (user -> messages, days, reactions, replies; every
    member) and store them if no writer of the chat can have interfered."""
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        # Reads after the lock see every committed write, and no writer of the
        # chat commits until this transaction ends.
        try:
            may_store = try_lock_chat(connection, chat_id)
        except DBAPIError as error:  # a server that takes no locks (a standby)
            connection.rollback()
            log.info("month_cache_skipped", chat_id=chat_id, reason=str(error.orig)[:200])
            may_store = False
    else:
        may_store = _begin_immediate(connection)
    computed = [_compute(connection, chat_id, tz, month) for month in months]
    if may_store:
        _store(connection, chat_id, tz, months, computed)
    else:
        log.info("month_cache_skipped", chat_id=chat_id, reason="chat locked by a writer")
    return computed


def _begin_immediate(connection: Connection) -> bool:
    """Take SQLite's write lock for the fill, waiting at most _LOCK_WAIT_MS.

    Holding it, the fill's reads see every commit and no writer can commit
    until the months are stored; writers wait for it (about 17 ms a month at
    10M messages).  Reading first and inserting on an unchanged snapshot
    instead would almost never succeed in a bot that records other chats all
    the time: any commit, in any chat, makes the snapshot stale.
    """
    connection.commit()  # nothing written yet: ends pysqlite's state cleanly
    busy = connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
    connection.exec_driver_sql(f"PRAGMA busy_timeout = {_LOCK_WAIT_MS}")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        return True
    except OperationalError:  # an import holds the lock: answer, cache later
        return False
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(busy)}")


def _compute(
    connection: Connection, chat_id: int, tz: ZoneInfo, month: Month
) -> dict[int, tuple[int, int, int, int]]:
    rows: dict[int, tuple[int, int, int, int]] = {_MARKER: (0, 0, 0, 0)}
    stats = bucketed.member_activity(connection, [chat_id], tz, month.start, month.end)
    received = _received(connection, chat_id, month.start, month.end, ())
    for user in stats.keys() | received.keys():
        n, days, reactions = stats.get(user, (0, 0, 0))
        rows[user] = (n, days, reactions, received.get(user, 0))
    return rows


def _store(
    connection: Connection,
    chat_id: int,
    tz: ZoneInfo,
    months: list[Month],
    computed: list[dict[int, tuple[int, int, int, int]]],
) -> None:
    t = member_months
    values = [
        {
            "chat_id": chat_id,
            "zone": month.zone,
            "month_start": month.start,
            "month_end": month.end,
            "user_id": user,
            "messages": n,
            "active_days": days,
            "reactions": reactions,
            "replies_received": replies,
        }
        for month, rows in zip(months, computed, strict=True)
        for user, (n, days, reactions, replies) in rows.items()
    ]
    try:
        # Rows of the chat's other zones go: one zone is in use at a time.
        connection.execute(
            t.delete().where(t.c.chat_id == chat_id, ~t.c.zone.startswith(f"{tz.key}#"))
        )
        connection.execute(t.insert(), values)
        connection.commit()
        log.debug("month_cache_filled", chat_id=chat_id, months=len(months), rows=len(values))
    except DBAPIError as error:
        connection.rollback()
        # The database takes no writes (a read-only file or replica): the
        # answer is right, only the saving is lost.
        log.info("month_cache_skipped", chat_id=chat_id, reason=str(error.orig)[:200])


def _received(
    connection: Connection,
    chat_id: int,
    since: int | None,
    until: int | None,
    excluded: Collection[int],
) -> dict[int, int]:
    rows = bucketed.reply_counts(
        connection, [chat_id], since, until, by_sender=False, excluded=excluded
    )
    return {int(user): int(n) for user, n in rows}


def verify(connection: Connection, chat_id: int) -> list[tuple[tuple[int, str, int], Any, Any]]:
    """((month start, zone, user), stored, expected) for every cached row of the
    chat that differs from a recomputation (None: the row is missing or extra).

    Months cached under other tz data (their checksum no longer matches) are
    never read, so they are not checked."""
    t = member_months
    markers = connection.execute(
        select(t.c.month_start, t.c.month_end, t.c.zone).where(
            t.c.chat_id == chat_id, t.c.user_id == _MARKER
        )
    ).all()
    differences: list[tuple[tuple[int, str, int], Any, Any]] = []
    for start, end, zone in markers:
        tz = ZoneInfo(str(zone).partition("#")[0])
        month = Month(int(start), int(end), str(zone))
        if month not in local_months(tz, month.start, month.end):
            continue
        expected = _compute(connection, chat_id, tz, month)
        rows = connection.execute(
            select(
                t.c.user_id, t.c.messages, t.c.active_days, t.c.reactions, t.c.replies_received
            ).where(t.c.chat_id == chat_id, t.c.month_start == month.start, t.c.zone == zone)
        )
        stored = {int(user): tuple(int(v) for v in values) for user, *values in rows}
        for user in sorted(stored.keys() | expected.keys()):
            if stored.get(user) != expected.get(user):
                key = (month.start, month.zone, user)
                differences.append((key, stored.get(user), expected.get(user)))
    return differences
