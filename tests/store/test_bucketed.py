"""Statistics from the aggregates are exact in every zone (tgstats.store.bucketed).

Messages every 7 minutes 30 seconds around DST changes are checked against
a plain Python count with zoneinfo, in zones with whole-hour, half-hour and
45-minute offsets and a 30-minute DST shift, for whole history and for
periods starting at a local midnight (what the plugins ask).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from tgstats.store import Store
from tgstats.testing import fill_store, make_chat, make_message, make_user

CHAT = make_chat(-1001400, "Zones")
USERS = [make_user(i, f"u{i}") for i in (1, 2, 3)]
# 2026-03-28 .. 2026-04-06: Europe and Lord Howe change their clocks in it.
START = int(datetime(2026, 3, 28, tzinfo=UTC).timestamp())
DATES = [START + i * 450 for i in range(0, 9 * 192, 5)]  # odd steps: every minute of the hour
ZONES = ["Europe/Berlin", "Asia/Kathmandu", "Australia/Lord_Howe", "America/St_Johns", "UTC"]


@pytest.fixture
def filled(store: Store) -> Store:
    messages = []
    for i, date in enumerate(DATES):
        parent = messages[-1] if i % 3 == 0 and messages else None
        messages.append(
            make_message(
                CHAT,
                USERS[i % 3],
                f"word{'' if i % 2 else 's'} here",
                message_id=i + 1,
                date=date,
                reply_to=parent,
            )
        )
    fill_store(store, messages)
    return store


def _expected(
    zone: ZoneInfo, since: int | None
) -> tuple[list[list[int]], Counter[int], dict[int, int]]:
    grid = [[0] * 24 for _ in range(7)]
    per_user: Counter[int] = Counter()
    days: dict[int, set[object]] = {}
    for i, date in enumerate(DATES):
        if since is not None and date < since:
            continue
        local = datetime.fromtimestamp(date, UTC).astimezone(zone)
        grid[local.weekday()][local.hour] += 1
        user = USERS[i % 3].id
        per_user[user] += 1
        days.setdefault(user, set()).add(local.date())
    return grid, per_user, {u: len(d) for u, d in days.items()}


def test_grid_members_and_days_are_exact_in_every_zone(filled: Store) -> None:
    for zone in map(ZoneInfo, ZONES):
        last = datetime.fromtimestamp(DATES[-1], UTC).astimezone(zone)
        midnight = datetime.combine(last.date() - timedelta(days=3), datetime.min.time(), zone)
        for since in (None, midnight):
            grid, per_user, days = _expected(
                zone, None if since is None else int(since.timestamp())
            )
            assert filled.queries.counts_by_weekday_hour(CHAT.id, tz=zone, since=since) == grid
            activity = filled.queries.user_activity(CHAT.id, tz=zone, since=since)
            assert {a.user.user_id: a.messages for a in activity} == dict(per_user), zone
            assert {a.user.user_id: a.active_days for a in activity} == days, zone


def test_words_at_the_edges_of_a_period_come_from_the_texts(filled: Store) -> None:
    zone = ZoneInfo("Asia/Kathmandu")  # local midnight is 18:15 UTC
    since = datetime(2026, 4, 1, tzinfo=zone)
    until = datetime(2026, 4, 3, tzinfo=zone)
    expected: Counter[str] = Counter()
    first: Counter[str] = Counter()  # USERS[0]'s
    for i, date in enumerate(DATES):
        if since.timestamp() <= date < until.timestamp():
            words = ["word" if i % 2 else "words", "here"]
            expected.update(words)
            if i % 3 == 0:
                first.update(words)
    assert filled.queries.word_counts(CHAT.id, since=since, until=until) == dict(expected)
    one = filled.queries.word_counts(CHAT.id, since=since, until=until, user_id=USERS[0].id)
    assert one == dict(first)
    # Within one UTC day: texts only.
    short = filled.queries.word_counts(CHAT.id, since=since, until=since + timedelta(hours=2))
    assert sum(short.values()) == 2 * len(
        [d for d in DATES if since.timestamp() <= d < since.timestamp() + 7200]
    )


def test_long_periods_add_whole_spans_days_and_edge_texts(store: Store) -> None:
    """60 days of messages: 16-day spans, leftover days and edge hours all add up."""
    dates = [START + i * 21_600 + (i % 7) * 60 for i in range(240)]
    fill_store(
        store,
        [
            make_message(
                CHAT, USERS[i % 2], f"w{chr(97 + i % 5)}x common", message_id=i + 1, date=d
            )
            for i, d in enumerate(dates)
        ],
    )
    zone = ZoneInfo("Asia/Kathmandu")
    until = datetime(2026, 5, 21, tzinfo=zone)
    periods = [
        (None, None),
        (datetime(2026, 4, 10, tzinfo=zone), None),
        (datetime(2026, 4, 10, tzinfo=zone), until),
        (None, until),
    ]
    for since, end in periods:
        low = -1 if since is None else since.timestamp()
        high = 2**40 if end is None else end.timestamp()
        expected: Counter[str] = Counter()
        for i, date in enumerate(dates):
            if low <= date < high:
                expected.update([f"w{chr(97 + i % 5)}x", "common"])
        got = store.queries.word_counts(CHAT.id, since=since, until=end)
        assert got == dict(expected), (since, end)
        mine = store.queries.word_counts(CHAT.id, since=since, until=end, user_id=USERS[0].id)
        assert mine["common"] == len(
            [i for i, d in enumerate(dates) if i % 2 == 0 and low <= d < high]
        )
