"""The query API with exact expected numbers (time zones, DST, periods, replies)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from tgstats.store import ReplyPair, Store
from tgstats.testing import fill_store, make_chat, make_message, make_reaction_count, make_user, utc

CHAT = make_chat(-100700, "Query group")
ALICE = make_user(1, "Alice", username="alice")
BOB = make_user(2, "Bob", username="bob")
CAROL = make_user(3, "Carol")
BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")


def cells(grid: list[list[int]]) -> dict[tuple[int, int], int]:
    """Non-zero cells as {(weekday, hour): count}."""
    return {(d, h): n for d, row in enumerate(grid) for h, n in enumerate(row) if n}


def post(store: Store, *specs: tuple) -> None:
    """specs: (user, date[, text])."""
    fill_store(
        store,
        [
            make_message(CHAT, spec[0], spec[2] if len(spec) > 2 else "x", date=spec[1])
            for spec in specs
        ],
    )


def test_weekday_hour_in_utc(store: Store) -> None:
    post(
        store,
        (ALICE, "2026-01-05T00:00:00Z"),  # Monday 00h
        (ALICE, "2026-01-05T00:59:59Z"),  # Monday 00h
        (BOB, "2026-01-11T23:30:00Z"),  # Sunday 23h
    )
    grid = store.queries.counts_by_weekday_hour(CHAT.id, tz=ZoneInfo("UTC"))
    assert len(grid) == 7 and all(len(row) == 24 for row in grid)
    assert cells(grid) == {(0, 0): 2, (6, 23): 1}


def test_weekday_hour_across_dst_changes(store: Store) -> None:
    post(
        store,
        # Spring forward: Sunday 2026-03-29 02:00 CET -> 03:00 CEST (01:00 UTC).
        (ALICE, "2026-03-29T00:30:00Z"),  # 01:30 CET  -> Sunday 01h
        (ALICE, "2026-03-29T01:30:00Z"),  # 03:30 CEST -> Sunday 03h
        (ALICE, "2026-03-28T10:00:00Z"),  # Saturday 11:00 CET
        (ALICE, "2026-03-30T10:00:00Z"),  # Monday 12:00 CEST
        # Fall back: Sunday 2026-10-25 03:00 CEST -> 02:00 CET (01:00 UTC):
        # 02:30 happens twice, both count in Sunday 02h.
        (BOB, "2026-10-25T00:30:00Z"),
        (BOB, "2026-10-25T01:30:00Z"),
        (BOB, "2026-10-24T22:00:00Z"),  # Sunday 00:00 CEST (Saturday in UTC)
    )
    grid = store.queries.counts_by_weekday_hour(CHAT.id, tz=BERLIN)
    assert cells(grid) == {(6, 1): 1, (6, 3): 1, (5, 11): 1, (0, 12): 1, (6, 2): 2, (6, 0): 1}


def test_weekday_hour_in_half_hour_zone(store: Store) -> None:
    post(
        store,
        (ALICE, "2026-01-05T18:45:00Z"),  # Tuesday 00:15 IST
        (ALICE, "2026-01-04T18:29:59Z"),  # Sunday 23:59:59 IST
        (ALICE, "2026-01-04T18:30:00Z"),  # Monday 00:00 IST
        (BOB, "2026-01-05T04:00:00Z"),  # Monday 09:30 IST
    )
    grid = store.queries.counts_by_weekday_hour(CHAT.id, tz=KOLKATA)
    assert cells(grid) == {(1, 0): 1, (6, 23): 1, (0, 0): 1, (0, 9): 1}
    # User filter.
    only_bob = store.queries.counts_by_weekday_hour(CHAT.id, tz=KOLKATA, user_id=BOB.id)
    assert cells(only_bob) == {(0, 9): 1}


def test_periods_are_inclusive_exclusive(store: Store) -> None:
    post(
        store,
        (ALICE, "2026-01-01T00:00:00Z"),
        (ALICE, "2026-01-02T00:00:00Z"),
        (BOB, "2026-01-03T00:00:00Z"),
    )
    since, until = utc("2026-01-02T00:00:00Z"), utc("2026-01-03T00:00:00Z")
    q = store.queries
    assert q.count_messages(CHAT.id) == 3
    assert q.count_messages(CHAT.id, since=since) == 2
    assert q.count_messages(CHAT.id, until=until) == 2
    assert q.count_messages(CHAT.id, since=since, until=until) == 1
    assert q.count_messages(CHAT.id, user_id=BOB.id) == 1
    assert cells(q.counts_by_weekday_hour(CHAT.id, tz=BERLIN, since=since, until=until)) == {
        (4, 1): 1  # Friday 2026-01-02 01:00 CET
    }
    assert q.counts_by_weekday_hour(CHAT.id, tz=BERLIN, since=utc("2027-01-01T00:00:00Z")) == [
        [0] * 24 for _ in range(7)
    ]
    # Other zones' datetimes work; naive ones are refused.
    assert q.count_messages(CHAT.id, since=datetime(2026, 1, 2, 1, 0, tzinfo=BERLIN)) == 2
    with pytest.raises(ValueError, match="timezone-aware"):
        q.count_messages(CHAT.id, since=datetime(2026, 1, 2))


def test_messages_and_texts(store: Store) -> None:
    fill_store(
        store,
        [
            make_message(CHAT, ALICE, "second", message_id=2, date="2026-01-01T10:00:00Z"),
            make_message(CHAT, BOB, "first", message_id=1, date="2026-01-01T09:00:00Z"),
            make_message(CHAT, BOB, media="sticker", message_id=3, date="2026-01-01T11:00:00Z"),
            make_message(CHAT, ALICE, "third", message_id=4, date="2026-01-01T12:00:00Z"),
        ],
    )
    q = store.queries
    assert [m.message_id for m in q.messages(CHAT.id)] == [1, 2, 3, 4]
    assert [m.message_id for m in q.messages(CHAT.id, limit=2)] == [1, 2]
    assert [m.message_id for m in q.messages(CHAT.id, user_id=ALICE.id)] == [2, 4]
    assert sorted(q.texts(CHAT.id)) == ["first", "second", "third"]  # sticker has no text
    assert list(q.texts(CHAT.id, user_id=ALICE.id, since=utc("2026-01-01T11:00:00Z"))) == ["third"]
    assert list(q.messages(-1)) == []
    assert q.chat(-1) is None


def test_texts_stream_more_than_one_batch(store: Store) -> None:
    from tgstats.store.queries import STREAM_BATCH

    n = STREAM_BATCH * 2 + 5
    with store.bulk() as batch:
        batch.add_messages(
            {
                "chat_id": CHAT.id,
                "message_id": i,
                "user_id": 1,
                "date": 1_700_000_000 + i,
                "text": f"t{i}",
            }
            for i in range(n)
        )
    stream = store.queries.texts(CHAT.id)
    assert next(stream) is not None
    assert 1 + sum(1 for _ in stream) == n
    batches = list(store.queries.text_batches(CHAT.id))
    assert [len(b) for b in batches] == [STREAM_BATCH, STREAM_BATCH, 5]
    assert [t for b in batches for t in b] == list(store.queries.texts(CHAT.id))


def test_find_user(store: Store) -> None:
    post(store, (ALICE, "2026-01-01T00:00:00Z"))
    other = make_chat(-100701, "Elsewhere")
    fill_store(store, [make_message(other, BOB, "hi", date="2026-01-01T00:00:00Z")])
    q = store.queries
    assert q.find_user(CHAT.id, "@ALICE").user_id == 1
    assert q.find_user(CHAT.id, "alice").user_id == 1
    assert q.find_user(CHAT.id, "@bob") is None  # not a member of this chat
    assert q.find_user(CHAT.id, "@") is None


def build_conversation(store: Store) -> None:
    a1 = make_message(CHAT, ALICE, "a1", message_id=1, date="2026-01-05T18:00:00Z")
    b1 = make_message(CHAT, BOB, "b1", message_id=2, date="2026-01-05T19:00:00Z", reply_to=a1)
    c1 = make_message(CHAT, CAROL, "c1", message_id=3, date="2026-01-06T10:00:00Z", reply_to=a1)
    a2 = make_message(CHAT, ALICE, "a2", message_id=4, date="2026-01-06T11:00:00Z", reply_to=a1)
    b2 = make_message(CHAT, BOB, "b2", message_id=5, date="2026-01-07T10:00:00Z", reply_to=a1)
    a3 = make_message(CHAT, ALICE, "a3", message_id=6, date="2026-01-07T11:00:00Z", reply_to=b2)
    fill_store(store, [a1, b1, c1, a2, b2, a3])
    store.record_reaction_count(make_reaction_count(CHAT, 1, {"👍": 4}))
    store.record_reaction_count(make_reaction_count(CHAT, 5, {"❤": 2, "👍": 1}))


def test_reply_pairs_exclude_self_replies(store: Store) -> None:
    build_conversation(store)
    assert store.queries.reply_pairs(CHAT.id) == [
        ReplyPair(from_user_id=2, to_user_id=1, count=2),
        ReplyPair(from_user_id=1, to_user_id=2, count=1),
        ReplyPair(from_user_id=3, to_user_id=1, count=1),
    ]
    since = utc("2026-01-07T00:00:00Z")
    assert store.queries.reply_pairs(CHAT.id, since=since) == [
        ReplyPair(from_user_id=1, to_user_id=2, count=1),
        ReplyPair(from_user_id=2, to_user_id=1, count=1),
    ]


def test_user_activity(store: Store) -> None:
    build_conversation(store)
    q = store.queries
    by_id = {a.user.user_id: a for a in q.user_activity(CHAT.id, tz=ZoneInfo("UTC"))}
    # Alice: 3 messages on Jan 5, 6, 7; replies from others: b1, c1, b2 (a2 is her own).
    assert (by_id[1].messages, by_id[1].replies_received, by_id[1].reactions_received) == (3, 3, 4)
    assert by_id[1].active_days == 3
    assert (by_id[2].messages, by_id[2].replies_received, by_id[2].reactions_received) == (2, 1, 3)
    assert by_id[2].active_days == 2  # Jan 5 19:00 and Jan 7 in UTC
    assert (by_id[3].messages, by_id[3].replies_received, by_id[3].active_days) == (1, 0, 1)
    assert by_id[1].user.username == "alice"
    assert [a.user.user_id for a in q.user_activity(CHAT.id, tz=ZoneInfo("UTC"))] == [1, 2, 3]

    # Kolkata: Bob's b1 (Jan 5 19:00Z) is Jan 6 00:30 local; still 2 days.
    kolkata = {a.user.user_id: a.active_days for a in q.user_activity(CHAT.id, tz=KOLKATA)}
    assert kolkata == {1: 3, 2: 2, 3: 1}

    # Period: only Jan 7 (b2 and a3). Alice received no reply then, Bob one (a3).
    late = q.user_activity(CHAT.id, tz=ZoneInfo("UTC"), since=utc("2026-01-07T00:00:00Z"))
    by_id = {a.user.user_id: a for a in late}
    assert set(by_id) == {1, 2}
    assert (by_id[1].messages, by_id[1].replies_received, by_id[1].reactions_received) == (1, 1, 0)
    assert (by_id[2].messages, by_id[2].replies_received, by_id[2].reactions_received) == (1, 1, 3)
    assert q.user_activity(CHAT.id, tz=KOLKATA, until=utc("2020-01-01T00:00:00Z")) == []


def test_active_days_merge_utc_days_in_a_zone(store: Store) -> None:
    # 23:30 and 00:30 UTC are different UTC days but the same day in Kolkata
    # (05:00 and 06:00 IST), and the reverse for 18:00/19:00 UTC.
    post(
        store,
        (ALICE, "2026-01-05T23:30:00Z"),
        (ALICE, "2026-01-06T00:30:00Z"),
        (BOB, "2026-01-05T18:00:00Z"),
        (BOB, "2026-01-05T19:00:00Z"),
    )
    utc_days = {
        a.user.user_id: a.active_days
        for a in store.queries.user_activity(CHAT.id, tz=ZoneInfo("UTC"))
    }
    ist_days = {
        a.user.user_id: a.active_days for a in store.queries.user_activity(CHAT.id, tz=KOLKATA)
    }
    assert utc_days == {1: 2, 2: 1}
    assert ist_days == {1: 1, 2: 2}
