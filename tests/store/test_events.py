"""Joins, leaves and per-member reactions: recorded once whatever the delivery, queried in SQL.

Every test runs on SQLite and on PostgreSQL (the ``store`` fixture).
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
import telegram
from tgstats.store import Store
from tgstats.store.events import MAX_REACTIONS
from tgstats.testing import (
    fill_store,
    make_chat,
    make_chat_member,
    make_message,
    make_reaction,
    make_reaction_count,
    make_user,
    utc,
)

CHAT = make_chat(-100700, "Events group")
ALICE = make_user(11, "Alice", username="alice")
BOB = make_user(22, "Bob")
CAROL = make_user(33, "Carol")


def joined_message(user: telegram.User, when: str, message_id: int = 100) -> telegram.Message:
    return make_message(
        CHAT, user, None, message_id=message_id, date=when, new_chat_members=(user,)
    )


def left_message(user: telegram.User, when: str, message_id: int = 101) -> telegram.Message:
    return make_message(CHAT, user, None, message_id=message_id, date=when, left_chat_member=user)


def kinds(store: Store) -> list[tuple[int, str, str]]:
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT user_id, kind, source FROM member_events ORDER BY date, id"
        ).all()
    return [(int(u), k, s) for u, k, s in rows]


def test_a_join_seen_both_ways_and_redelivered_is_one_event(store: Store) -> None:
    service = joined_message(BOB, "2026-03-02T10:00:00Z")
    update = make_chat_member(CHAT, BOB, old="left", new="member", date="2026-03-02T10:00:01Z")
    first = store.record_member_changes(service)
    assert [(c.user_id, c.kind, c.source) for c in first] == [(22, "join", "service")]
    assert store.record_member_changes(update) == []  # the same join, other way
    assert store.record_member_changes(service) == []  # redelivered
    assert store.record_member_changes(update) == []
    assert kinds(store) == [(22, "join", "service")]
    # The service message itself is no message people wrote.
    assert store.queries.count_messages(CHAT.id) == 0
    assert store.queries.chat(CHAT.id) is not None


def test_leave_and_rejoin_are_separate_events_and_promotions_are_none(store: Store) -> None:
    store.record_member_changes(make_chat_member(CHAT, BOB, date="2026-03-02T10:00:00Z"))
    assert (
        store.record_member_changes(
            make_chat_member(CHAT, BOB, old="member", new="administrator", date="2026-03-02T11:00Z")
        )
        == []
    )
    store.record_member_changes(left_message(BOB, "2026-03-03T09:00:00Z"))
    store.record_member_changes(
        make_chat_member(CHAT, BOB, old="member", new="kicked", date="2026-03-03T09:00:02Z")
    )
    store.record_member_changes(make_chat_member(CHAT, BOB, date="2026-03-04T09:00:00Z"))
    assert [k for _, k, _ in kinds(store)] == ["join", "leave", "join"]


def test_joins_and_leaves_per_local_day(store: Store) -> None:
    # 23:30 UTC on 1 March is already 2 March in Tokyo (UTC+9).
    store.record_member_changes(joined_message(ALICE, "2026-03-01T23:30:00Z"))
    store.record_member_changes(joined_message(BOB, "2026-03-02T01:00:00Z", 102))
    store.record_member_changes(left_message(CAROL, "2026-03-05T12:00:00Z"))
    utc_days = store.queries.member_changes(CHAT.id)
    assert [(d.day, d.joins, d.leaves) for d in utc_days] == [
        (date(2026, 3, 1), 1, 0),
        (date(2026, 3, 2), 1, 0),
        (date(2026, 3, 5), 0, 1),
    ]
    tokyo = store.queries.member_changes(CHAT.id, tz=ZoneInfo("Asia/Tokyo"))
    assert [(d.day, d.joins, d.leaves) for d in tokyo] == [
        (date(2026, 3, 2), 2, 0),
        (date(2026, 3, 5), 0, 1),
    ]
    since = store.queries.member_changes(CHAT.id, since=utc("2026-03-02T00:00:00Z"))
    assert [(d.day, d.joins) for d in since] == [(date(2026, 3, 2), 1), (date(2026, 3, 5), 0)]
    assert store.queries.member_changes(-1) == []


def test_reactions_count_once_and_stale_updates_are_ignored(store: Store) -> None:
    fill_store(store, [make_message(CHAT, ALICE, "nice", message_id=8)])
    first = make_reaction(CHAT, 8, BOB, new=["👍", "🔥"], date="2026-03-02T10:00:00Z")
    change = store.record_reaction_change(first)
    assert change is not None and change.added == ("👍", "🔥") and change.removed == ()
    assert store.record_reaction_change(first) is None  # redelivered
    later = make_reaction(CHAT, 8, BOB, old=["👍", "🔥"], new=["🔥"], date="2026-03-02T10:05:00Z")
    change = store.record_reaction_change(later)
    assert change is not None and change.removed == ("👍",)
    # The first update once more, after the newer one: stale, ignored.
    assert store.record_reaction_change(first) is None
    [row] = list(store.queries.messages(CHAT.id))
    assert row.reaction_count == 1


def test_hostile_reactions_are_bounded_and_refused(store: Store) -> None:
    fill_store(store, [make_message(CHAT, ALICE, "nice", message_id=8)])
    many = make_reaction(CHAT, 8, BOB, new=[chr(0x1F600 + i) for i in range(1000)])
    store.record_reaction(many)
    [row] = list(store.queries.messages(CHAT.id))
    assert row.reaction_count == MAX_REACTIONS
    forged = make_reaction(CHAT, 8, make_user(2**70, "Forged"), new=["👍"])
    with pytest.raises(ValueError, match="64 bits"):
        store.record_reaction(forged)


def test_reaction_count_updates_are_idempotent(store: Store) -> None:
    fill_store(store, [make_message(CHAT, ALICE, "nice", message_id=8)])
    update = make_reaction_count(CHAT, 8, {"👍": 3})
    assert store.record_reaction_count(update) is True
    assert store.record_reaction_count(update) is False  # nothing new


def test_top_reacted_messages_and_reactions_by_member(store: Store) -> None:
    fill_store(
        store,
        [
            make_message(CHAT, ALICE, "a", message_id=1, date="2026-03-01T10:00:00Z"),
            make_message(CHAT, BOB, "b", message_id=2, date="2026-03-01T11:00:00Z"),
            make_message(CHAT, ALICE, "c", message_id=3, date="2026-03-02T10:00:00Z"),
            make_message(CHAT, CAROL, "quiet", message_id=4, date="2026-03-02T11:00:00Z"),
        ],
    )
    when = "2026-03-02T12:00:00Z"
    store.record_reaction(make_reaction(CHAT, 1, BOB, new=["👍"], date=when))
    store.record_reaction(make_reaction(CHAT, 1, CAROL, new=["👍", "❤"], date=when))
    store.record_reaction(make_reaction(CHAT, 2, ALICE, new=["🔥"], date=when))
    store.record_reaction(make_reaction(CHAT, 3, BOB, new=["😂"], date=when))
    store.record_reaction(make_reaction(CHAT, 3, BOB, old=["😂"], date=when))  # withdrawn
    top = store.queries.top_reacted_messages(CHAT.id)
    assert [(m.message_id, m.reaction_count) for m in top] == [(1, 3), (2, 1)]
    assert store.queries.top_reacted_messages(CHAT.id, limit=1)[0].message_id == 1
    late = store.queries.top_reacted_messages(CHAT.id, since=utc("2026-03-01T10:30:00Z"))
    assert [m.message_id for m in late] == [2]
    members = store.queries.reactions_by_member(CHAT.id)
    assert [(m.user.display_name, m.given, m.received) for m in members] == [
        ("Alice", 1, 3),
        ("Bob", 1, 1),  # ties (2 each) by user id
        ("Carol", 2, 0),
    ]
    assert store.queries.reactions_by_member(CHAT.id, since=utc("2026-03-03T00:00:00Z")) == []


def test_the_scheduler_runs_in_groups_the_bot_is_still_in(store: Store) -> None:
    from tgstats.store.schedules import active_chats, last_runs, mark_run

    bot = make_user(999, "Stats bot")
    stayed, left = make_chat(-100801, "Stayed"), make_chat(-100802, "Left")
    private = make_chat(55, "Alice", type="private")
    old, new = make_chat(-801, "Old group", type="group"), make_chat(-100803, "Upgraded")
    fill_store(
        store,
        [make_message(chat, ALICE, "hi") for chat in (stayed, left, private, old, new)],
    )
    store.migrate_chat(old.id, new.id)
    store.record_member_changes(make_chat_member(left, bot, date="2026-03-01T10:00:00Z"))
    store.record_member_changes(
        make_chat_member(left, bot, old="member", new="kicked", date="2026-03-02T10:00:00Z")
    )
    store.record_member_changes(make_chat_member(stayed, bot, date="2026-03-01T10:00:00Z"))
    assert [chat for chat, _ in active_chats(store.engine, bot.id)] == [new.id, stayed.id]
    mark_run(store.engine, "digest", "weekly", stayed.id, 100)
    mark_run(store.engine, "digest", "weekly", stayed.id, 200)  # an upsert, not a second row
    assert last_runs(store.engine) == {("digest", "weekly", stayed.id): 200}
