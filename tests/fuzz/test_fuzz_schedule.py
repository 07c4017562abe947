"""Schedule rules against any instant in any zone: previous <= now < next, one run per day or week.

Bounded: 300 examples, no deadline (zoneinfo lookups on a loaded machine).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import given, settings
from hypothesis import strategies as st
from tgstats.plugins import daily, weekly

ZONES = sorted(available_timezones() - {"Factory", "localtime"})
instants = st.integers(
    min_value=int(datetime(2000, 1, 1, tzinfo=UTC).timestamp()),
    max_value=int(datetime(2037, 1, 1, tzinfo=UTC).timestamp()),
).map(lambda ts: datetime.fromtimestamp(ts, UTC))
times = st.builds(
    lambda h, m, s: f"{h:02d}:{m:02d}:{s:02d}",
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
)


@settings(max_examples=300, deadline=None)
@given(
    now=instants,
    zone=st.sampled_from(ZONES),
    at=times,
    day=st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
)
def test_previous_and_next_bracket_now(now: datetime, zone: str, at: str, day: str) -> None:
    tz = ZoneInfo(zone)
    for rule, period in (
        (daily(time=at), timedelta(days=1)),
        (weekly(day=day, time=at), timedelta(days=7)),
    ):
        before, after = rule.previous(now, tz), rule.next(now, tz)
        assert before <= now < after
        # One period apart, give or take the zone's offset changes (DST, law changes).
        assert abs((after - before) - period) <= timedelta(hours=3)
        # No scheduled instant between the two (the scheduler could miss or double it).
        assert rule.next(before, tz) == after
        assert rule.previous(after - timedelta(seconds=1), tz) == before
