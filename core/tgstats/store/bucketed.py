"""Statistics read from the aggregate tables (see tgstats.store.aggregates).

Their cost follows the number of aggregate rows in the period (15-minute
buckets with messages, words per UTC day), not the number of messages.

Local time stays exact for any zone: a 15-minute UTC bucket lies inside one
local hour and one local day of every zone in use (their offsets are
multiples of 15 minutes), so the zone's offset segments (tgstats.store.zones)
place each bucket.  A period whose bounds are not on a bucket boundary (not
what the plugins ask: their periods start at a local midnight) is left to the
message scans in tgstats.store.queries by the caller; words, kept per UTC
day, count the partial days at a period's edges from those hours' texts.

Members are filtered by ``user_id`` and ``excluded`` (ids left out of the
statistics), both plain conditions on the tables' user columns.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, select, union_all
from sqlalchemy.engine import Connection

from tgstats.store.schema import (
    BUCKET,
    DAY_BUCKETS,
    activity_buckets,
    chat_buckets,
    member_days,
    replies_received,
    reply_buckets,
)
from tgstats.store.zones import DAY, EPOCH_WEEKDAY, const, offset_segments

__all__ = [
    "aligned",
    "member_activity",
    "reply_counts",
    "unordered",
    "weekday_hour",
]

_WEEK = 7 * DAY // BUCKET  # buckets in a week: 672


# Up to this many whole days, member-day rows are read by their key and
# sorted, not in the member index's order (which reads the chat's every row).
_SHORT_DAYS = 62


def unordered(column: ColumnElement[int]) -> ColumnElement[int]:
    """``column + 0``: the same value, but no longer matching any index's order,
    so SQLite picks the index that the WHERE clause narrows best instead of one
    that saves the GROUP BY's sort.

    Grouping a short bucket range by the bare user column made it scan the whole
    chat through the member index (0.23 s at 10M messages, against 0.3 ms); the
    reply statistics, grouped by plain user ids, walked the parent side's index
    and probed for replies to every message.  PostgreSQL plans by cost either way.
    """
    return column + const(0)


def aligned(*bounds: int | None) -> bool:
    """Whether every bound is unbounded or on a bucket boundary."""
    return all(bound is None or bound % BUCKET == 0 for bound in bounds)


def _conditions(
    table: Any,
    column: Any,
    family: Sequence[int],
    since: int | None,
    until: int | None,
    step: int,
    user_column: Any = None,
    user_id: int | None = None,
    excluded: Collection[int] = (),
) -> list[ColumnElement[bool]]:
    """Chat family, bucket range (bounds rounded inwards to ``step``) and member filters."""
    conditions: list[ColumnElement[bool]] = [
        table.c.chat_id == family[0] if len(family) == 1 else table.c.chat_id.in_(family)
    ]
    if since is not None:
        conditions.append(column >= -(-since // step))
    if until is not None:
        conditions.append(column < until // step)
    if user_column is not None and user_id is not None:
        conditions.append(user_column == user_id)
    if user_column is not None and excluded:
        conditions.append(user_column.not_in(sorted(excluded)))
    return conditions


def _span(
    connection: Connection,
    family: Sequence[int],
    conditions: list[ColumnElement[bool]],
    t: Any = activity_buckets,
) -> tuple[int, int] | None:
    """First and last bucket with rows: min and max per chat as separate statements,
    each an index seek (one SELECT of both makes SQLite scan)."""
    lows, highs = [], []
    for chat_id in family:
        where = and_(*conditions[1:], t.c.chat_id == chat_id)
        low = connection.execute(select(func.min(t.c.bucket)).where(where)).scalar()
        if low is not None:
            lows.append(int(low))
            highs.append(
                int(connection.execute(select(func.max(t.c.bucket)).where(where)).scalar_one())
            )
    return (min(lows), max(highs)) if lows else None


def _segments(tz: ZoneInfo, first: int, last: int) -> list[tuple[int, int, int]]:
    """(first bucket, end bucket, offset) of the zone's offset segments over the buckets."""
    return _in_buckets(_offsets(tz, first, last), first, last)


def _offsets(tz: ZoneInfo, first: int, last: int) -> list[tuple[int, int]]:
    """The zone's offset segments over buckets first..last, in seconds (zones.offset_segments)."""
    return offset_segments(tz, first * BUCKET, last * BUCKET + BUCKET - 1)


def _in_buckets(
    segments: list[tuple[int, int]], first: int, last: int
) -> list[tuple[int, int, int]]:
    """Offset segments in seconds as (first bucket, end bucket, offset)."""
    starts = [-(-start // BUCKET) for start, _ in segments]
    starts[0] = first
    ends = [*starts[1:], last + 1]
    return [(s, e, off) for s, e, (_, off) in zip(starts, ends, segments, strict=True) if s < e]


def weekday_hour(
    connection: Connection,
    family: Sequence[int],
    tz: ZoneInfo,
    since: int | None,
    until: int | None,
    user_id: int | None = None,
    excluded: Collection[int] = (),
) -> list[list[int]]:
    """7x24 counts [weekday Monday=0][hour] in ``tz``, from the 15-minute buckets.

    Per offset segment the buckets are summed by their position in the UTC
    week (at most 672 rows come back), then placed with the segment's offset.
    """
    # The whole chat reads the per-chat buckets (at most 96 rows a day).
    t: Any = chat_buckets if user_id is None and not excluded else activity_buckets
    grid = [[0] * 24 for _ in range(7)]
    if t is chat_buckets:
        where = _conditions(t, t.c.bucket, family, since, until, BUCKET)
    else:
        where = _conditions(
            t, t.c.bucket, family, since, until, BUCKET, t.c.user_id, user_id, excluded
        )
    span = _span(connection, family, where, t)
    if span is None:
        return grid
    position = t.c.bucket % const(_WEEK)
    for first, end, offset in _segments(tz, *span):
        rows = connection.execute(
            select(position, func.sum(t.c.messages))
            .where(*where, t.c.bucket >= const(first), t.c.bucket < const(end))
            .group_by(position)
        )
        for pos, n in rows:
            local = (int(pos) * BUCKET + offset) % (7 * DAY)
            weekday = (local // DAY + EPOCH_WEEKDAY) % 7
            grid[weekday][(local % DAY) // 3600] += int(n)
    return grid


def member_activity(
    connection: Connection,
    family: Sequence[int],
    tz: ZoneInfo,
    since: int | None,
    until: int | None,
    excluded: Collection[int] = (),
) -> dict[int, tuple[int, int, int]]:
    """user id -> (messages, active local days, reactions received) of members with messages.

    Whole UTC days come from agg_member_days (one row per member and day);
    the partial UTC days at the period's edges, and every UTC day in which
    the zone's offset changes, from the 15-minute buckets.  A member-day row
    names the local days it touches by its first and last bucket, which is
    exact where the offset holds all day (see tgstats.store.schema).
    """
    rows = _MemberRows.of(connection, family, tz, since, until, excluded)
    if rows is None:
        return {}
    totals = rows.sums(connection)
    days = rows.active_days(connection)
    return {u: (n, days.get(u, 0), r) for u, (n, r) in totals.items()}


class _MemberRows:
    """Where a period's member rows are: bucket ranges of agg_activity (``pieces``)
    and the whole UTC days [first_day, end_day) of agg_member_days.

    Every statement gets exactly one pair of bounds on its table's key: SQLite
    searches the key by the first pair it finds, and a second pair narrowing
    the first left every arm of the active-days count scanning the whole period.
    """

    def __init__(
        self,
        span: tuple[int, int],
        pieces: list[tuple[int, int]],
        first_day: int,
        end_day: int,
        members: list[Any],
        whole: list[Any],
        segments: list[tuple[int, int, int]],
    ) -> None:
        self.span = span
        self.segments = segments  # the zone's offsets: (first bucket, end bucket, offset)
        self.pieces = pieces
        self.first_day = first_day
        self.end_day = end_day
        self._members = members  # agg_activity conditions without bounds
        self._whole = whole  # agg_member_days conditions without bounds

    @classmethod
    def of(
        cls,
        connection: Connection,
        family: Sequence[int],
        tz: ZoneInfo,
        since: int | None,
        until: int | None,
        excluded: Collection[int],
    ) -> _MemberRows | None:
        a, d = activity_buckets, member_days
        where = [
            *_conditions(a, a.c.bucket, family, since, until, BUCKET, a.c.user_id, None, excluded),
            a.c.user_id != const(0),
        ]
        span = _span(connection, family, where)
        if span is None:
            return None
        # Whole UTC days [first_day, end_day) from the day rows; an unbounded end
        # takes the first or last day whole (there are no rows beyond it).
        first_day = span[0] // DAY_BUCKETS if since is None else -(-since // DAY)
        end_day = span[1] // DAY_BUCKETS + 1 if until is None else until // DAY
        if first_day >= end_day:  # no whole UTC day: every bucket
            first_day = end_day = span[1] // DAY_BUCKETS + 1
        ranges = [(span[0], first_day * DAY_BUCKETS), (end_day * DAY_BUCKETS, span[1] + 1)]
        # UTC days holding an offset change: read bucket by bucket.
        offsets = _offsets(tz, *span)  # looked up once: the day arms below need them too
        changes = offsets[1:]
        irregular = sorted({ts // DAY for ts, _off in changes if first_day <= ts // DAY < end_day})
        ranges += [(day * DAY_BUCKETS, (day + 1) * DAY_BUCKETS) for day in irregular]
        # Within the span, which lies within the period (a range may reach past it).
        clipped = [(max(low, span[0]), min(high, span[1] + 1)) for low, high in ranges]
        members = [
            *_conditions(a, a.c.bucket, family, None, None, BUCKET, a.c.user_id, None, excluded),
            a.c.user_id != const(0),
        ]
        whole = [
            *_conditions(d, d.c.day, family, None, None, 1, d.c.user_id, None, excluded),
            d.c.user_id != const(0),
        ]
        if irregular:
            whole.append(d.c.day.not_in(irregular))
        pieces = [(low, high) for low, high in clipped if low < high]
        segments = _in_buckets(offsets, *span)
        return cls(span, pieces, first_day, end_day, members, whole, segments)

    def buckets_in(self, low: int, high: int) -> list[Any]:
        a = activity_buckets
        return [*self._members, a.c.bucket >= const(low), a.c.bucket < const(high)]

    def days_in(self, low: int, high: int) -> list[Any]:
        d = member_days
        return [*self._whole, d.c.day >= const(low), d.c.day < const(high)]

    def sums(self, connection: Connection) -> dict[int, tuple[int, int]]:
        """user id -> (messages, reactions): the member-day rows grouped straight
        from their table (in index order: no sort of every row), the bucket
        ranges together; the few hundred member sums are added up here."""
        a, d = activity_buckets, member_days
        grouped: list[Any] = []
        if self.pieces:
            fine = union_all(
                *(
                    select(a.c.user_id, a.c.messages, a.c.reactions).where(*self.buckets_in(*p))
                    for p in self.pieces
                )
            ).subquery("fine")
            # The pieces are short: read them by the key, then group.
            user = unordered(fine.c[0])
            grouped.append(select(user, func.sum(fine.c[1]), func.sum(fine.c[2])).group_by(user))
        if self.first_day < self.end_day:
            # Many days: grouped in the member index's order, no sort of every
            # row; a few: read by the key (the member index would scan them all).
            user = d.c.user_id
            if self.end_day - self.first_day <= _SHORT_DAYS:
                user = unordered(user)
            grouped.append(
                select(user, func.sum(d.c.messages), func.sum(d.c.reactions))
                .where(*self.days_in(self.first_day, self.end_day))
                .group_by(user)
            )
        totals: dict[int, tuple[int, int]] = {}
        for statement in grouped:
            for uid, messages_n, reactions_n in connection.execute(statement):
                n, r = totals.get(int(uid), (0, 0))
                totals[int(uid)] = (n + int(messages_n), r + int(reactions_n))
        return totals

    def active_days(self, connection: Connection) -> dict[int, int]:
        """user id -> distinct local days of every row's first and last bucket.

        One arm per offset segment, so each is plain arithmetic (a CASE over the
        segments per row cost three times as much).  A member-day row lies in one
        segment: the UTC days holding a change are among the bucket ranges.
        """
        a, d = activity_buckets, member_days
        arms: list[Any] = []
        segments = self.segments
        for i, (start, end, offset) in enumerate(segments):
            # The outer segments reach past the span: whole first and last days stay in.
            low = 0 if i == 0 else start
            high = 2**62 if i == len(segments) - 1 else end

            def local(bucket: Any, offset: int = offset) -> Any:
                return (bucket * const(BUCKET) + const(offset)) // const(DAY)

            for piece_low, piece_high in self.pieces:
                lo, hi = max(low, piece_low), min(high, piece_high)
                if lo < hi:
                    arms.append(
                        select(a.c.user_id, local(a.c.bucket)).where(*self.buckets_in(lo, hi))
                    )
            lo = max(self.first_day, -(-low // DAY_BUCKETS))
            hi = min(self.end_day, -(-high // DAY_BUCKETS))
            if lo < hi:
                days = self.days_in(lo, hi)
                arms.append(select(d.c.user_id, local(d.c.first_bucket)).where(*days))
                # The last bucket adds a day only where the member-day straddles a
                # local midnight (never in UTC): fewer rows for the distinct count.
                straddles = local(d.c.last_bucket) != local(d.c.first_bucket)
                arms.append(select(d.c.user_id, local(d.c.last_bucket)).where(*days, straddles))
        # Typed as Any: mypy 2.4 crashes expanding union_all's variadic generics here.
        compound: Any = union_all(*arms) if len(arms) > 1 else arms[0]
        ends = compound.subquery("ends")
        # Grouping by the bare column lets SQLite read a single arm through the
        # member index (every row of the chat) to skip the sort: far slower.
        user_column, day_column = unordered(ends.c[0]), ends.c[1]
        rows = connection.execute(
            select(user_column, func.count(day_column.distinct())).group_by(user_column)
        )
        return {int(user): int(n) for user, n in rows}


def reply_counts(
    connection: Connection,
    family: Sequence[int],
    since: int | None,
    until: int | None,
    *,
    by_sender: bool,
    excluded: Collection[int] = (),
) -> list[tuple[int, ...]]:
    """(from, to, replies) per pair if ``by_sender``, else (to, replies received).

    Replies received over whole UTC days come from agg_replies_received, the
    partial days at the period's edges from the buckets; with excluded members
    (whose replies to others must go too) everything comes from the buckets.
    """
    t = reply_buckets
    exclusions: list[ColumnElement[bool]] = []
    if excluded:
        ids = sorted(excluded)
        exclusions = [t.c.from_user_id.not_in(ids), t.c.to_user_id.not_in(ids)]
    where = [*_conditions(t, t.c.bucket, family, since, until, BUCKET), *exclusions]
    if by_sender:
        keys = [t.c.from_user_id, t.c.to_user_id]
        rows = connection.execute(
            select(*keys, func.sum(t.c.replies)).where(*where).group_by(*keys)
        )
        return [tuple(int(v) for v in row) for row in rows]

    def buckets(low: int | None, high: int | None) -> Any:
        """Replies received in [low, high) from the buckets: one pair of bounds."""
        bounded = _conditions(t, t.c.bucket, family, low, high, BUCKET)
        return select(t.c.to_user_id.label("user_id"), t.c.replies).where(*bounded, *exclusions)

    first_day = None if since is None else -(-since // DAY)
    end_day = None if until is None else until // DAY
    some_whole_day = first_day is None or end_day is None or first_day < end_day
    if excluded or not some_whole_day:
        parts: list[Any] = [buckets(since, until)]
    else:
        r = replies_received
        whole: list[ColumnElement[bool]] = [r.c.chat_id.in_(family)]
        if first_day is not None:
            whole.append(r.c.day >= const(first_day))
        if end_day is not None:
            whole.append(r.c.day < const(end_day))
        parts = [select(r.c.user_id, r.c.replies).where(*whole)]
        if first_day is not None:
            parts.append(buckets(since, first_day * DAY))
        if end_day is not None:
            parts.append(buckets(end_day * DAY, until))
    rows_of = union_all(*parts).subquery("rows_of") if len(parts) > 1 else parts[0].subquery()
    user = rows_of.c[0]
    rows = connection.execute(select(user, func.sum(rows_of.c[1])).group_by(user))
    return [tuple(int(v) for v in row) for row in rows]
