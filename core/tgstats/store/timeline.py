"""Activity over time and per member: the queries behind ``/activity`` and ``/replies``.

Kept apart from :mod:`tgstats.store.queries` (whose :class:`MessageQueries`
mixes these methods in) because they answer one question each: how many
messages, and how many members wrote them, per calendar bucket in the chat's
time zone; and how many messages each member wrote.

Buckets are calendar days, weeks (Monday first) or months in the chat's zone.
Their boundaries are local midnights turned into UTC instants by zoneinfo, so
a 23- or 25-hour DST day is one bucket of the right length.  The database
then counts each bucket as one UTC range: the buckets are a small table of
constants joined to the messages on ``date``, which SQLite answers with one
index range scan per bucket and PostgreSQL with a single aggregate, instead
of a GROUP BY on an expression over every row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

import attrs
from sqlalchemy import (
    CTE,
    BigInteger,
    and_,
    cast,
    false,
    func,
    select,
    true,
    union_all,
)
from sqlalchemy.engine import Connection, Engine

from tgstats.store.schema import messages, users
from tgstats.store.zones import const

if TYPE_CHECKING:
    from tgstats.store.queries import UserInfo

__all__ = ["ActivityBucket", "ActivityTotals", "BucketUnit", "MemberCount", "TimelineQueries"]

BucketUnit = Literal["day", "week", "month"]
BUCKET_UNITS: tuple[BucketUnit, ...] = ("day", "week", "month")

# Buckets per statement: SQLite allows at most 500 terms in one UNION ALL.
_CHUNK = 400
# A chat's whole history in days is at most a century of months.
MAX_BUCKETS = 40_000


@attrs.frozen
class ActivityBucket:
    """One day, week or month of a chat's activity (local calendar of the zone asked for)."""

    start: date  # first local day of the bucket (a Monday for weeks, the 1st for months)
    end: date  # first local day after it
    messages: int
    active_members: int  # distinct senders, channels left out


@attrs.frozen
class ActivityTotals:
    messages: int
    active_members: int  # distinct senders over the whole period, channels left out
    first: datetime | None = None  # the first and last counted message (None: no message)
    last: datetime | None = None


@attrs.frozen
class MemberCount:
    user: UserInfo
    messages: int


def bucket_start(day: date, unit: BucketUnit) -> date:
    """The first day of the bucket that holds ``day``."""
    if unit == "day":
        return day
    if unit == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_bucket(start: date, unit: BucketUnit) -> date:
    if unit == "day":
        return start + timedelta(days=1)
    if unit == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def bucket_days(first: date, last: date, unit: BucketUnit) -> list[tuple[date, date]]:
    """(start, end) of every bucket from the one holding ``first`` to the one holding ``last``."""
    if unit not in BUCKET_UNITS:
        raise ValueError(f"unit must be one of {', '.join(BUCKET_UNITS)}, got {unit!r}")
    spans = []
    start = bucket_start(first, unit)
    while start <= last:
        end = next_bucket(start, unit)
        spans.append((start, end))
        if len(spans) > MAX_BUCKETS:
            raise ValueError(f"more than {MAX_BUCKETS} {unit} buckets from {first} to {last}")
        start = end
    return spans


def local_midnight(day: date, tz: ZoneInfo) -> int:
    """Unix seconds of midnight opening ``day`` in ``tz`` (as ``period_start`` computes it)."""
    return int(datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC).timestamp())


def _local_day(ts: int, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(ts, UTC).astimezone(tz).date()


def _buckets_cte(rows: Iterable[tuple[int, int, int]]) -> CTE:
    """``(i, lo, hi)`` rows of constants as a table: bucket i is ``lo <= date < hi``."""
    return union_all(
        *(
            select(
                cast(const(i), BigInteger).label("i"),
                cast(const(lo), BigInteger).label("lo"),
                cast(const(hi), BigInteger).label("hi"),
            )
            for i, lo, hi in rows
        )
    ).cte("buckets")


class TimelineQueries:
    """Mixed into :class:`tgstats.store.queries.MessageQueries`."""

    _engine: Engine

    def _channel_ids(self, connection: Connection) -> list[int]:
        # Channels posting in groups are few; inlining their ids keeps the
        # per-bucket count free of a join with users.
        return [
            int(u)
            for u in connection.execute(select(users.c.user_id).where(users.c.is_channel)).scalars()
        ]

    def _senders(self, connection: Connection, family: Sequence[int], user_id: int | None) -> CTE:
        """Everyone who ever wrote in the chat (or just ``user_id``), channels left out.

        A loose index scan: each step asks the (chat, user, date) index for
        the next larger sender id, so a chat of a million messages from 300
        members costs 300 index probes, not a million rows to make distinct.
        Whether they wrote in a given period is asked per member afterwards.
        """
        channels = self._channel_ids(connection)
        if user_id is not None:
            if user_id in channels:
                seed = select(cast(None, BigInteger).label("user_id")).where(false())
            else:
                seed = select(cast(const(user_id), BigInteger).label("user_id"))
            return seed.cte("senders")
        chat = base._where(messages, family, None, None, counted=False)
        first = select(func.min(messages.c.user_id)).where(chat).scalar_subquery()
        walk = select(first.label("user_id")).cte("walk", recursive=True)
        following = (
            select(func.min(messages.c.user_id))
            .where(chat, messages.c.user_id > walk.c.user_id)
            .scalar_subquery()
        )
        walk = walk.union_all(select(following).where(walk.c.user_id.is_not(None)))
        conditions = [walk.c.user_id.is_not(None)]
        if channels:
            conditions.append(walk.c.user_id.not_in([const(c) for c in channels]))
        return select(walk.c.user_id).where(*conditions).cte("senders")

    def activity_timeline(
        self,
        chat_id: int,
        *,
        tz: ZoneInfo,
        unit: BucketUnit,
        since: datetime | None = None,
        until: datetime | None = None,
        user_id: int | None = None,
    ) -> list[ActivityBucket]:
        """Messages and active members per local day, week or month, zero buckets included.

        The buckets run from the one holding ``since`` (or the first counted
        message) to the one holding the instant before ``until`` (or the last
        counted message); the first and last may be cut by the period.  Empty
        when the period has no counted message.
        """
        with self._engine.connect() as connection:
            family = base.chat_family(connection, chat_id)
            where = base._where(messages, family, since, until, user_id)
            # Two statements: SQLite answers min and max together with a full scan.
            lo = connection.execute(select(func.min(messages.c.date)).where(where)).scalar()
            if lo is None:
                return []
            hi = connection.execute(select(func.max(messages.c.date)).where(where)).scalar_one()
            first_ts = base.to_timestamp(since, "since") if since is not None else int(lo)
            end_ts = base.to_timestamp(until, "until") if until is not None else int(hi) + 1
            last_ts = end_ts - 1
            # The buckets bound the dates themselves (the first and last cut to
            # the period): a second date range in the join makes SQLite scan
            # the whole period once per bucket.
            where = base._where(messages, family, None, None, user_id)
            spans = bucket_days(_local_day(first_ts, tz), _local_day(last_ts, tz), unit)
            members = self._senders(connection, family, user_id)
            counts: dict[int, int] = {}
            active: dict[int, int] = {}
            for offset in range(0, len(spans), _CHUNK):
                chunk = spans[offset : offset + _CHUNK]
                buckets = _buckets_cte(
                    (
                        offset + i,
                        max(local_midnight(start, tz), first_ts),
                        min(local_midnight(end, tz), end_ts),
                    )
                    for i, (start, end) in enumerate(chunk)
                )
                in_bucket = and_(messages.c.date >= buckets.c.lo, messages.c.date < buckets.c.hi)
                # Messages: one range scan of the (chat, date) index per bucket.
                statement = (
                    select(buckets.c.i, func.count())
                    .select_from(buckets)
                    .join(messages, in_bucket)
                    .where(where)
                    .group_by(buckets.c.i)
                )
                counts.update((int(i), int(n)) for i, n in connection.execute(statement))
                # Active members: "did this member write in this bucket?", one
                # probe of the (chat, user, date) index per member and bucket.
                # Counting distinct senders of the joined rows instead reads
                # every message row (the sender is not in the date index): 3x slower.
                wrote = select(messages.c.user_id).where(
                    where, in_bucket, messages.c.user_id == members.c.user_id
                )
                statement = (
                    select(buckets.c.i, func.count())
                    .select_from(buckets.join(members, true()))
                    .where(wrote.exists())
                    .group_by(buckets.c.i)
                )
                active.update((int(i), int(n)) for i, n in connection.execute(statement))
        return [
            ActivityBucket(start, end, counts.get(i, 0), active.get(i, 0))
            for i, (start, end) in enumerate(spans)
        ]

    def activity_totals(
        self,
        chat_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        user_id: int | None = None,
    ) -> ActivityTotals:
        """Counted messages, distinct member senders, the first and the last message."""
        with self._engine.connect() as connection:
            family = base.chat_family(connection, chat_id)
            where = base._where(messages, family, since, until, user_id)
            # Two statements: SQLite answers min and max together with a full scan.
            first = connection.execute(select(func.min(messages.c.date)).where(where)).scalar()
            if first is None:
                return ActivityTotals(messages=0, active_members=0)
            last = connection.execute(select(func.max(messages.c.date)).where(where)).scalar_one()
            n = connection.execute(select(func.count()).where(where)).scalar_one()
            members = self._senders(connection, family, user_id)
            wrote = select(messages.c.user_id).where(where, messages.c.user_id == members.c.user_id)
            active = connection.execute(
                select(func.count()).select_from(members).where(wrote.exists())
            ).scalar_one()
        return ActivityTotals(
            messages=int(n),
            active_members=int(active),
            first=base.from_timestamp(int(first)),
            last=base.from_timestamp(int(last)),
        )

    def member_message_counts(
        self,
        chat_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[MemberCount]:
        """Counted messages per sender, most first (ties: user id); channels included,
        marked by ``user.is_channel``."""
        with self._engine.connect() as connection:
            family = base.chat_family(connection, chat_id)
            rows = connection.execute(
                select(messages.c.user_id, func.count())
                .where(base._where(messages, family, since, until), messages.c.user_id.is_not(None))
                .group_by(messages.c.user_id)
            ).all()
            ids = [int(uid) for uid, _ in rows]
            infos: dict[int, UserInfo] = {}
            for start in range(0, len(ids), 500):  # SQLite's bound-parameter limit
                chunk = ids[start : start + 500]
                for row in connection.execute(select(users).where(users.c.user_id.in_(chunk))):
                    infos[row.user_id] = base._user_info(row)
        result = [
            MemberCount(
                user=infos.get(int(uid))
                or base.UserInfo(user_id=int(uid), username=None, display_name=str(uid)),
                messages=int(n),
            )
            for uid, n in rows
        ]
        result.sort(key=lambda m: (-m.messages, m.user.user_id))
        return result


# Last on purpose: queries.py mixes TimelineQueries into MessageQueries, so
# whichever of the two is imported first, the class above exists before
# queries.py asks for it; queries' helpers are looked up through `base` at call time.
import tgstats.store.queries as base  # noqa: E402
