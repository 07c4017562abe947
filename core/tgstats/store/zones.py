"""Local-time arithmetic in SQL that is exact for any IANA zone.

A zone's UTC offset is constant between transitions (DST switches, law
changes).  For the span of the rows a query touches we find those transitions
in Python (zoneinfo knows them) and hand the database one CASE expression:
``date + offset_of_segment``.  Local day, weekday and hour then follow with
integer arithmetic, so grouping stays in SQL, half-hour and 45-minute zones
come out right, and an hour that exists twice on a DST night counts twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, case, literal_column

__all__ = ["DAY", "EPOCH_WEEKDAY", "const", "local_seconds", "offset_segments", "utc_offset"]

DAY = 86_400
# Offsets are sampled this often; two transitions closer than this would be
# missed, and no zone has had any (DST rules need months between switches).
_STEP = 6 * 3600
# 1970-01-01 was a Thursday: weekday (Monday=0) of unix day d is (d + 3) % 7.
EPOCH_WEEKDAY = 3


def const(value: int) -> ColumnElement[int]:
    """An integer inlined into the SQL text.

    Bound parameters would make PostgreSQL see ``date + $1`` in SELECT and
    ``date + $4`` in GROUP BY as different expressions; inlined constants keep
    them identical (and they are ints we computed, so nothing to inject).
    """
    return literal_column(str(int(value)), BigInteger)


def utc_offset(tz: ZoneInfo, ts: int) -> int:
    """Seconds east of UTC in ``tz`` at unix time ``ts``."""
    offset = datetime.fromtimestamp(ts, UTC).astimezone(tz).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def offset_segments(tz: ZoneInfo, start: int, end: int) -> list[tuple[int, int]]:
    """``[(from_ts, offset), ...]`` covering ``[start, end]``; first from_ts is start.

    Each offset holds from its from_ts until the next segment's from_ts.
    """
    segments = [(start, utc_offset(tz, start))]
    probe = start
    while probe < end:
        nxt = min(probe + _STEP, end)
        current = segments[-1][1]
        if utc_offset(tz, nxt) != current:
            # Binary search for the first second with the new offset.
            lo, hi = probe, nxt
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if utc_offset(tz, mid) == current:
                    lo = mid
                else:
                    hi = mid
            segments.append((hi, utc_offset(tz, hi)))
        probe = nxt
    return segments


def local_seconds(
    date_column: ColumnElement[int], tz: ZoneInfo, start: int, end: int
) -> ColumnElement[int]:
    """SQL for "seconds since the epoch on the local wall clock" of ``date_column``.

    Valid for rows whose date lies within ``[start, end]``.
    """
    segments = offset_segments(tz, start, end)
    if len(segments) == 1:
        return date_column + const(segments[0][1])
    # Latest segment first: the CASE stops at the first true branch.
    whens = [(date_column >= const(ts), const(off)) for ts, off in reversed(segments[1:])]
    return date_column + case(*whens, else_=const(segments[0][1]))
