"""Activity over time and per member (store/timeline.py), exact numbers on SQLite and PostgreSQL.

Buckets are local calendar days, weeks and months: the tests put messages a
second either side of local midnights, across both of Berlin's DST changes
and in a half-hour zone, and check every count.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from tgstats.plugins import ActivityBucket, ActivityTotals
from tgstats.store import Store
from tgstats.store.timeline import bucket_days, local_midnight
from tgstats.testing import (
    fill_store,
    make_channel,
    make_chat,
    make_message,
    make_user,
    utc,
)

CHAT = make_chat(-100710, "Timeline group")
ALICE = make_user(1, "Alice", username="alice")
BOB = make_user(2, "Bob", username="bob")
CAROL = make_user(3, "Carol")
NEWS = make_channel(-100999, "News channel")
UTC_ZONE = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")


def post(store: Store, *specs: tuple) -> None:
    """specs: (sender, date[, text])."""
    fill_store(
        store,
        [make_message(CHAT, s[0], s[2] if len(s) > 2 else "x", date=s[1]) for s in specs],
    )


def command_message(sender, when):  # a bot command: stored, not counted
    from telegram import MessageEntity

    return make_message(
        CHAT, sender, "/activity", date=when, entities=[MessageEntity("bot_command", 0, 9)]
    )


def counts(buckets: list[ActivityBucket]) -> list[tuple[str, int, int]]:
    return [(b.start.isoformat(), b.messages, b.active_members) for b in buckets]


@pytest.fixture
def spring(store: Store) -> Store:
    """Around Berlin's spring change: Sunday 29 March 2026, 01:00 UTC, +1 -> +2."""
    post(
        store,
        (ALICE, "2026-03-28T22:59:59Z"),  # Sat 28 23:59:59 CET
        (BOB, "2026-03-28T23:00:00Z"),  # Sun 29 00:00:00 CET
        (ALICE, "2026-03-29T21:59:59Z"),  # Sun 29 23:59:59 CEST (a 23-hour day)
        (NEWS, "2026-03-29T12:00:00Z"),  # a channel post: a message, not a member
        (CAROL, "2026-03-29T22:00:00Z"),  # Mon 30 00:00:00 CEST
    )
    fill_store(store, [command_message(BOB, "2026-03-29T10:00:00Z")])
    return store


def test_days_in_berlin_across_spring_forward(spring: Store) -> None:
    buckets = spring.queries.activity_timeline(
        CHAT.id,
        tz=BERLIN,
        unit="day",
        since=utc("2026-03-27T23:00:00Z"),  # Berlin midnight opening Sat 28
        until=utc("2026-03-30T22:00:00Z"),  # Berlin midnight opening Tue 31
    )
    assert counts(buckets) == [
        ("2026-03-28", 1, 1),
        ("2026-03-29", 3, 2),  # Bob, Alice and the channel; the command is not counted
        ("2026-03-30", 1, 1),
    ]
    assert [b.end.isoformat() for b in buckets] == ["2026-03-29", "2026-03-30", "2026-03-31"]


def test_the_same_messages_in_utc_fall_on_other_days(spring: Store) -> None:
    buckets = spring.queries.activity_timeline(CHAT.id, tz=UTC_ZONE, unit="day")
    # Without a period: from the first counted message's day to the last's.
    assert counts(buckets) == [("2026-03-28", 2, 2), ("2026-03-29", 3, 2)]


def test_fall_back_day_has_25_hours_and_months_follow_local_midnight(store: Store) -> None:
    post(
        store,
        (ALICE, "2026-10-24T22:00:00Z"),  # Sun 25 Oct 00:00 CEST
        (BOB, "2026-10-25T00:30:00Z"),  # 02:30 CEST
        (BOB, "2026-10-25T01:30:00Z"),  # 02:30 CET, the repeated hour
        (CAROL, "2026-10-25T22:59:59Z"),  # Sun 25 Oct 23:59:59 CET (a 25-hour day)
        (ALICE, "2026-10-31T22:59:59Z"),  # Sat 31 Oct 23:59:59 CET: October
        (CAROL, "2026-10-31T23:00:00Z"),  # Sun 1 Nov 00:00 CET: November
    )
    days = store.queries.activity_timeline(
        CHAT.id,
        tz=BERLIN,
        unit="day",
        since=utc("2026-10-24T22:00:00Z"),
        until=utc("2026-10-26T23:00:00Z"),
    )
    assert counts(days) == [("2026-10-25", 4, 3), ("2026-10-26", 0, 0)]
    months = store.queries.activity_timeline(CHAT.id, tz=BERLIN, unit="month")
    assert counts(months) == [("2026-10-01", 5, 3), ("2026-11-01", 1, 1)]
    # In UTC the last October message and the November one are both 31 October.
    months_utc = store.queries.activity_timeline(CHAT.id, tz=UTC_ZONE, unit="month")
    assert counts(months_utc) == [("2026-10-01", 6, 3)]


def test_weeks_start_on_monday_in_a_half_hour_zone(store: Store) -> None:
    post(
        store,
        (ALICE, "2026-01-04T18:29:59Z"),  # Sun 4 Jan 23:59:59 IST (+05:30)
        (BOB, "2026-01-04T18:30:00Z"),  # Mon 5 Jan 00:00:00 IST
        (BOB, "2026-01-10T09:00:00Z"),  # Sat 10 Jan
        (CAROL, "2026-01-20T09:00:00Z"),  # Tue 20 Jan; the week of 12 Jan stays empty
    )
    weeks = store.queries.activity_timeline(CHAT.id, tz=KOLKATA, unit="week")
    assert counts(weeks) == [
        ("2025-12-29", 1, 1),
        ("2026-01-05", 2, 1),
        ("2026-01-12", 0, 0),
        ("2026-01-19", 1, 1),
    ]
    # In UTC, Bob's first message is still Sunday: in the first week.
    weeks_utc = store.queries.activity_timeline(CHAT.id, tz=UTC_ZONE, unit="week")
    assert counts(weeks_utc)[:2] == [("2025-12-29", 2, 2), ("2026-01-05", 1, 1)]


def test_the_period_cuts_the_first_bucket_and_a_member_can_be_chosen(store: Store) -> None:
    post(
        store,
        (ALICE, "2026-01-05T10:00:00Z"),  # Monday, before the period
        (ALICE, "2026-01-07T10:00:00Z"),  # Wednesday, in it
        (BOB, "2026-01-08T10:00:00Z"),
        (BOB, "2026-01-13T10:00:00Z"),
    )
    weeks = store.queries.activity_timeline(
        CHAT.id, tz=UTC_ZONE, unit="week", since=utc("2026-01-07T00:00:00Z")
    )
    assert counts(weeks) == [("2026-01-05", 2, 2), ("2026-01-12", 1, 1)]
    bob = store.queries.activity_timeline(
        CHAT.id, tz=UTC_ZONE, unit="week", since=utc("2026-01-07T00:00:00Z"), user_id=BOB.id
    )
    assert counts(bob) == [("2026-01-05", 1, 1), ("2026-01-12", 1, 1)]
    assert store.queries.activity_timeline(CHAT.id, tz=UTC_ZONE, unit="day", user_id=99) == []


def test_an_empty_period_has_no_buckets(store: Store) -> None:
    post(store, (ALICE, "2026-01-05T10:00:00Z"))
    assert (
        store.queries.activity_timeline(
            CHAT.id, tz=BERLIN, unit="day", since=utc("2026-02-01T00:00:00Z")
        )
        == []
    )
    assert store.queries.activity_timeline(-1, tz=BERLIN, unit="day") == []


def test_totals_count_members_not_channels_and_know_first_and_last(spring: Store) -> None:
    queries = spring.queries
    assert queries.activity_totals(CHAT.id) == ActivityTotals(
        messages=5,
        active_members=3,
        first=utc("2026-03-28T22:59:59Z"),
        last=utc("2026-03-29T22:00:00Z"),
    )
    # since inclusive, until exclusive
    window = queries.activity_totals(
        CHAT.id, since=utc("2026-03-28T23:00:00Z"), until=utc("2026-03-29T22:00:00Z")
    )
    assert (window.messages, window.active_members) == (3, 2)
    alice = queries.activity_totals(CHAT.id, user_id=ALICE.id)
    assert (alice.messages, alice.active_members) == (2, 1)
    assert queries.activity_totals(CHAT.id, since=utc("2027-01-01T00:00:00Z")) == ActivityTotals(
        0, 0
    )


def test_member_message_counts(spring: Store) -> None:
    post(spring, (ALICE, "2026-03-30T10:00:00Z"))
    rows = spring.queries.member_message_counts(CHAT.id)
    assert [(m.user.user_id, m.user.is_channel, m.messages) for m in rows] == [
        (ALICE.id, False, 3),
        (NEWS.id, True, 1),  # ties in user id order
        (BOB.id, False, 1),  # his /activity is not counted
        (CAROL.id, False, 1),
    ]
    later = spring.queries.member_message_counts(CHAT.id, since=utc("2026-03-29T22:00:00Z"))
    assert [(m.user.display_name, m.messages) for m in later] == [("Alice", 1), ("Carol", 1)]


def test_buckets_from_calendar_days() -> None:
    assert bucket_days(date(2026, 1, 30), date(2026, 3, 2), "month") == [
        (date(2026, 1, 1), date(2026, 2, 1)),
        (date(2026, 2, 1), date(2026, 3, 1)),
        (date(2026, 3, 1), date(2026, 4, 1)),
    ]
    assert bucket_days(date(2026, 12, 31), date(2027, 1, 1), "month")[-1] == (
        date(2027, 1, 1),
        date(2027, 2, 1),
    )
    with pytest.raises(ValueError, match="unit must be one of day, week, month"):
        bucket_days(date(2026, 1, 1), date(2026, 1, 2), "year")  # type: ignore[arg-type]
    # Berlin's spring-forward day lasts 23 hours.
    start = local_midnight(date(2026, 3, 29), BERLIN)
    assert local_midnight(date(2026, 3, 30), BERLIN) - start == 23 * 3600


def test_a_long_history_is_counted_in_chunks_of_buckets(store: Store) -> None:
    # 900 daily buckets: more than one statement's worth (SQLite allows 500 UNION terms).
    post(store, (ALICE, "2024-01-01T10:00:00Z"), (BOB, "2026-06-18T10:00:00Z"))
    statements: list[str] = []
    engine = store.engine

    def seen(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        days = store.queries.activity_timeline(CHAT.id, tz=UTC_ZONE, unit="day")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(days) == 900
    assert (days[0].messages, days[-1].messages, sum(d.messages for d in days)) == (1, 1, 2)
    # 3 chunks, each one statement over the aggregates (messages and members together).
    assert sum("ranges" in s and "agg_activity" in s for s in statements) == 3


def test_a_supergroup_counts_the_history_of_the_group_it_was(store: Store) -> None:
    group = make_chat(-4100, "Small group", type="group")
    supergroup = make_chat(-1004100, "Small group", type="supergroup")
    fill_store(
        store,
        [
            make_message(group, ALICE, "old", message_id=1, date="2026-01-05T10:00:00Z"),
            make_message(group, CAROL, "old", message_id=2, date="2026-01-06T10:00:00Z"),
        ],
    )
    store.record_message(make_message(group, ALICE, message_id=3, migrate_to_chat_id=supergroup.id))
    fill_store(
        store,
        [make_message(supergroup, BOB, "new", message_id=1, date="2026-01-06T11:00:00Z")],
    )
    queries = store.queries
    days = queries.activity_timeline(supergroup.id, tz=UTC_ZONE, unit="day")
    assert counts(days) == [("2026-01-05", 1, 1), ("2026-01-06", 2, 2)]
    totals = queries.activity_totals(supergroup.id)
    assert (totals.messages, totals.active_members) == (3, 3)
    assert [(m.user.display_name, m.messages) for m in queries.member_message_counts(group.id)] == [
        ("Alice", 1),
        ("Carol", 1),
    ]


def test_bounds_off_the_15_minute_grid_count_the_edge_minutes_once(store: Store) -> None:
    # Whole buckets come from the aggregates and the minutes up to an unaligned
    # bound from the messages: each message must be counted exactly once, and
    # a member writing on both sides of the seam is one member.
    post(
        store,
        (ALICE, "2026-05-04T10:07:00Z"),  # before `since`
        (ALICE, "2026-05-04T10:08:00Z"),  # edge minutes after `since`
        (BOB, "2026-05-04T10:14:59Z"),  # edge minutes, last second before the bucket
        (ALICE, "2026-05-04T10:15:00Z"),  # whole bucket
        (CAROL, "2026-05-04T11:44:00Z"),  # whole bucket
        (NEWS, "2026-05-04T11:50:00Z"),  # edge minutes before `until`: a message, no member
        (BOB, "2026-05-04T11:52:59Z"),  # edge minutes before `until`
        (CAROL, "2026-05-04T11:53:00Z"),  # at `until`: outside
    )
    since, until = utc("2026-05-04T10:08:00Z"), utc("2026-05-04T11:53:00Z")
    totals = store.queries.activity_totals(CHAT.id, since=since, until=until)
    assert (totals.messages, totals.active_members) == (6, 3)
    assert totals.first == since and totals.last == utc("2026-05-04T11:52:59Z")
    days = store.queries.activity_timeline(
        CHAT.id, tz=UTC_ZONE, unit="day", since=since, until=until
    )
    assert counts(days) == [("2026-05-04", 6, 3)]
    bob = store.queries.activity_totals(CHAT.id, since=since, until=until, user_id=BOB.id)
    assert (bob.messages, bob.active_members) == (2, 1)
    by_member = store.queries.member_message_counts(CHAT.id, since=since, until=until)
    assert [(m.user.user_id, m.messages) for m in by_member] == [
        (ALICE.id, 2),
        (BOB.id, 2),
        (NEWS.id, 1),
        (CAROL.id, 1),
    ]
    # A period inside one 15-minute bucket: the messages alone.
    inside = store.queries.activity_totals(
        CHAT.id, since=utc("2026-05-04T10:08:00Z"), until=utc("2026-05-04T10:14:00Z")
    )
    assert (inside.messages, inside.active_members) == (1, 1)
    inside_members = store.queries.member_message_counts(
        CHAT.id, since=utc("2026-05-04T10:08:00Z"), until=utc("2026-05-04T10:15:00Z")
    )
    assert [(m.user.user_id, m.messages) for m in inside_members] == [(ALICE.id, 1), (BOB.id, 1)]


@pytest.mark.parametrize("zone_name", ["Europe/Berlin", "Asia/Kolkata", "Pacific/Kiritimati"])
def test_weeks_and_months_of_sparse_members_match_a_count_by_zoneinfo(
    store: Store, zone_name: str
) -> None:
    """Whole UTC days of a week or month are read per member and day, the rest
    per 15 minutes: a few random messages per day over 100 days around both
    DST changes must give exactly zoneinfo's messages and distinct members."""
    import random
    from collections import defaultdict
    from datetime import UTC, datetime

    zone = ZoneInfo(zone_name)
    rng = random.Random(5)
    start = int(datetime(2026, 2, 25, tzinfo=UTC).timestamp())
    members = [ALICE, BOB, CAROL]
    sent = sorted(
        (start + rng.randrange(100 * 86_400 // 60) * 60, rng.randrange(3)) for _ in range(300)
    )
    fill_store(
        store,
        [
            make_message(CHAT, members[who], "x", date=when, message_id=i + 1)
            for i, (when, who) in enumerate(sent)
        ],
    )
    for unit in ("week", "month"):
        found = store.queries.activity_timeline(CHAT.id, tz=zone, unit=unit)
        expected: dict[date, tuple[int, set[int]]] = defaultdict(lambda: (0, set()))
        for when, who in sent:
            day = datetime.fromtimestamp(when, UTC).astimezone(zone).date()
            key = bucket_days(day, day, unit)[0][0]
            n, seen = expected[key]
            expected[key] = (n + 1, seen | {who})
        got = {b.start: (b.messages, b.active_members) for b in found if b.messages}
        assert got == {k: (n, len(seen)) for k, (n, seen) in expected.items()}, unit
