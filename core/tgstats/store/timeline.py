"""Activity over time and per member: the queries behind ``/activity`` and ``/replies``.

Kept apart from :mod:`tgstats.store.queries` (whose :class:`MessageQueries`
mixes these methods in) because they answer one question each: how many
messages, and how many members wrote them, per calendar bucket in the chat's
time zone; and how many messages each member wrote.

Buckets are calendar days, weeks (Monday first) or months in the chat's zone.
Their boundaries are local midnights turned into UTC instants by zoneinfo, so
a 23- or 25-hour DST day is one bucket of the right length.  Every zone's
offset is a multiple of 15 minutes, so each such bucket is a whole range of
the 15-minute aggregate buckets (``agg_activity``: one row per member and
bucket with messages): the database sums their messages and counts their
distinct members per bucket, exactly, reading member-buckets rather than
messages.  Only a bound off a 15-minute boundary (the first or last message,
a period that ends now) reads the few minutes up to it from the messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

import attrs
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    case,
    cast,
    false,
    func,
    select,
    true,
    union_all,
)
from sqlalchemy.engine import Connection, Engine

from tgstats.store.schema import (
    BUCKET,
    DAY_BUCKETS,
    activity_buckets,
    member_days,
    messages,
    users,
)
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
# Each range: its bounds, where its whole 15-minute buckets start and end (in
# seconds); the edges outside them come from the messages.  Its whole buckets
# are read as the whole UTC days among them (d_lo..d_hi, from agg_member_days:
# one row per member and day) and the buckets before and after those days
# (f1_lo..f1_hi and f2_lo..f2_hi, from agg_activity).
_RANGE_COLUMNS = (
    "i",
    "lo",
    "lo_end",
    "hi_start",
    "hi",
    "f1_lo",
    "f1_hi",
    "d_lo",
    "d_hi",
    "f2_lo",
    "f2_hi",
)


def _split_whole(first: int, end: int) -> tuple[int, int, int, int, int, int]:
    """Whole buckets [first, end) as (buckets before the whole UTC days, the
    days, buckets after them); empty pieces have equal bounds."""
    d_lo, d_hi = -(-first // DAY_BUCKETS), end // DAY_BUCKETS
    if d_lo >= d_hi:
        return first, end, 0, 0, end, end
    return first, d_lo * DAY_BUCKETS, d_lo, d_hi, d_hi * DAY_BUCKETS, end


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


def _whole_rows(
    connection: Connection,
    ranges: Any,
    family: Sequence[int],
    user_id: int | None,
    table: Any,
    key: Any,
    low: Any,
    high: Any,
) -> Any:
    """(range, member, messages) of ``table``'s rows whose ``key`` lies in each
    range's [low, high)."""
    where: list[ColumnElement[bool]] = [table.c.chat_id.in_(family), key >= low, key < high]
    if user_id is not None:
        where.append(table.c.user_id == user_id)
    if connection.dialect.name == "postgresql":
        # LATERAL: one index range scan per range.  A plain range join lets
        # PostgreSQL filter every row per range.
        inner = select(table.c.user_id, table.c.messages).where(*where).lateral()
        return (
            select(ranges.c.i, inner.c.user_id.label("u"), inner.c.messages.label("n"))
            .select_from(ranges)
            .join(inner, true())
        )
    # SQLite probes the key once per range on its own.
    return (
        select(ranges.c.i, table.c.user_id.label("u"), table.c.messages.label("n"))
        .select_from(ranges)
        .join(table, and_(*where))
    )


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

    def _bucket_counts(
        self,
        connection: Connection,
        family: Sequence[int],
        spans: Sequence[tuple[int, int]],
        user_id: int | None,
    ) -> dict[int, tuple[int, int]]:
        """index -> (messages, distinct member senders) of each ``[lo, hi)`` UTC range.

        Read from ``agg_member_days`` for the whole UTC days of each range and
        from ``agg_activity`` (one row per member and 15-minute bucket with
        messages) for the rest, so the cost follows the member-days of the
        period, not its messages.  A range end off a bucket boundary (the first or
        last message, a period ending now) takes the few minutes up to the
        boundary from the messages themselves, an index range scan of at most
        15 minutes; a member counted on both sides is still one member.
        """
        channels = set(self._channel_ids(connection))
        a = activity_buckets
        m = messages
        result: dict[int, tuple[int, int]] = {}
        for offset in range(0, len(spans), _CHUNK):
            rows = []
            for i, (lo, hi) in enumerate(spans[offset : offset + _CHUNK], start=offset):
                first, end = -(-lo // BUCKET), hi // BUCKET
                if first >= end:  # within one bucket: all from the messages
                    first = end = lo // BUCKET
                    rows.append((i, lo, hi, hi, hi, *_split_whole(first, end)))
                else:
                    rows.append(
                        (i, lo, first * BUCKET, end * BUCKET, hi, *_split_whole(first, end))
                    )
            ranges = union_all(
                *(
                    select(
                        *(
                            cast(const(v), BigInteger).label(name)
                            for v, name in zip(row, _RANGE_COLUMNS, strict=True)
                        )
                    )
                    for row in rows
                )
            ).cte("ranges")
            d = member_days
            raw_where: list[ColumnElement[bool]] = [m.c.chat_id.in_(family), m.c.counted.is_(True)]
            if user_id is not None:
                raw_where.append(m.c.user_id == user_id)

            pieces = (
                (a, a.c.bucket, ranges.c.f1_lo, ranges.c.f1_hi),
                (d, d.c.day, ranges.c.d_lo, ranges.c.d_hi),
                (a, a.c.bucket, ranges.c.f2_lo, ranges.c.f2_hi),
            )
            parts: list[Any] = [
                _whole_rows(connection, ranges, family, user_id, *piece) for piece in pieces
            ]
            # The minutes outside the whole buckets (only a range whose bound
            # is off the grid has any): constant index ranges of the messages.
            for i, lo, lo_end, hi_start, hi, *_pieces in rows:
                parts += [
                    select(
                        cast(const(i), BigInteger),
                        func.coalesce(m.c.user_id, 0).label("u"),
                        const(1).label("n"),
                    ).where(*raw_where, m.c.date >= start, m.c.date < end)
                    for start, end in ((lo, lo_end), (hi_start, hi))
                    if start < end
                ]
            rows_ = union_all(*parts).subquery("rows")
            # Channels' posts and messages without a sender (user 0) count as
            # messages but not as members.
            member = rows_.c.u.not_in([const(c) for c in sorted(channels | {0})])
            statement = select(
                rows_.c.i,
                func.sum(rows_.c.n),
                func.count(case((member, rows_.c.u)).distinct()),
            ).group_by(rows_.c.i)
            for i, n, active in connection.execute(statement):
                result[int(i)] = (int(n), int(active))
        return result

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
            bounds = self._first_last(connection, family, since, until, user_id)
            if bounds is None:
                return []
            lo, hi = bounds
            first_ts = base.to_timestamp(since, "since") if since is not None else lo
            end_ts = base.to_timestamp(until, "until") if until is not None else hi + 1
            spans = bucket_days(_local_day(first_ts, tz), _local_day(end_ts - 1, tz), unit)
            ranges = [
                (max(local_midnight(start, tz), first_ts), min(local_midnight(end, tz), end_ts))
                for start, end in spans
            ]
            counts = self._bucket_counts(connection, family, ranges, user_id)
        return [
            ActivityBucket(start, end, *counts.get(i, (0, 0)))
            for i, (start, end) in enumerate(spans)
        ]

    def _first_last(
        self,
        connection: Connection,
        family: Sequence[int],
        since: datetime | None,
        until: datetime | None,
        user_id: int | None,
    ) -> tuple[int, int] | None:
        """Dates of the first and last counted message of the period (None: none)."""
        where = base._where(messages, family, since, until, user_id)
        # Two statements, each an index seek: SQLite answers min and max
        # together with a full scan.
        lo = connection.execute(select(func.min(messages.c.date)).where(where)).scalar()
        if lo is None:
            return None
        hi = connection.execute(select(func.max(messages.c.date)).where(where)).scalar_one()
        return int(lo), int(hi)

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
            bounds = self._first_last(connection, family, since, until, user_id)
            if bounds is None:
                return ActivityTotals(messages=0, active_members=0)
            first, last = bounds
            n, active = self._bucket_counts(connection, family, [(first, last + 1)], user_id)[0]
        return ActivityTotals(
            messages=n,
            active_members=active,
            first=base.from_timestamp(first),
            last=base.from_timestamp(last),
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
        low, high = base._bounds(since, until)
        a, m = activity_buckets, messages
        with self._engine.connect() as connection:
            family = base.chat_family(connection, chat_id)
            # Whole 15-minute buckets from the aggregates, the minutes of a
            # bound off a bucket boundary from the messages (an index range).
            agg_where: list[ColumnElement[bool]] = [
                a.c.chat_id.in_(family),
                a.c.user_id != const(0),
            ]
            raw_where: list[ColumnElement[bool]] = [
                m.c.chat_id.in_(family),
                m.c.counted.is_(True),
                m.c.user_id.is_not(None),
            ]
            b_lo = None if low is None else -(-low // BUCKET)
            b_hi = None if high is None else high // BUCKET
            edges: list[tuple[int, int]] = []
            if None not in (low, high, b_lo, b_hi) and b_lo >= b_hi:  # type: ignore[operator]
                # Within one bucket: all from the messages.
                agg_where.append(false())
                edges.append((low, high))  # type: ignore[arg-type]
            if not edges:
                if low is not None and b_lo is not None:
                    agg_where.append(a.c.bucket >= b_lo)
                    edges.append((low, b_lo * BUCKET))
                if high is not None and b_hi is not None:
                    agg_where.append(a.c.bucket < b_hi)
                    edges.append((b_hi * BUCKET, high))
            parts: list[Any] = [
                select(a.c.user_id.label("u"), a.c.messages.label("n")).where(*agg_where)
            ]
            parts += [
                select(m.c.user_id.label("u"), const(1).label("n")).where(
                    *raw_where, m.c.date >= lo, m.c.date < hi
                )
                for lo, hi in edges
                if lo < hi
            ]
            counted = union_all(*parts).subquery("counted")
            rows = connection.execute(
                select(counted.c.u, func.sum(counted.c.n)).group_by(counted.c.u)
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
