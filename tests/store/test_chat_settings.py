"""Per-chat settings in the store, and the excluded-members filter of every query,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from tgstats.store import open_store
from tgstats.store.chat_settings import MAX_EXCLUDED, MAX_VALUE_BYTES, ChatSettingsStore
from tgstats.testing import fill_store, make_chat, make_message, make_user

CHAT = -1001
OTHER = -1002


def test_settings_survive_reopening_the_store(store_url: str) -> None:
    first = open_store(store_url)
    try:
        first.settings.set_value(CHAT, "timezone", "Asia/Tokyo", by=7)
        first.settings.set_value(CHAT, "option:heatmap_command.annotate", False, by=7)
        first.settings.set_value(OTHER, "period", "all", by=None)
        assert first.settings.exclude(CHAT, 42, by=7) is True
    finally:
        first.close()
    again = open_store(store_url)  # a restart: nothing in memory
    try:
        stored = again.settings.load(CHAT)
        assert {k: v.value for k, v in stored.values.items()} == {
            "timezone": "Asia/Tokyo",
            "option:heatmap_command.annotate": False,
        }
        assert stored.values["timezone"].updated_by == 7
        assert stored.excluded == frozenset({42})
        assert again.settings.load(OTHER).values["period"].value == "all"
        assert again.settings.chats() == [OTHER, CHAT]
    finally:
        again.close()


def test_set_replaces_unset_removes_and_include_undoes_exclude(store) -> None:
    settings = store.settings
    settings.set_value(CHAT, "language", "en", by=1)
    settings.set_value(CHAT, "language", "ru", by=2)
    assert settings.load(CHAT).values["language"].value == "ru"
    assert settings.load(CHAT).values["language"].updated_by == 2
    assert settings.unset(CHAT, "language") is True
    assert settings.unset(CHAT, "language") is False
    assert settings.load(CHAT).values == {}
    assert settings.exclude(CHAT, 5, by=1) is True
    assert settings.exclude(CHAT, 5, by=1) is False  # already excluded: one row
    assert settings.include(CHAT, 5) is True
    assert settings.include(CHAT, 5) is False
    assert settings.load(CHAT).excluded == frozenset()
    assert settings.load(OTHER).values == {}  # other chats untouched


def test_bounds_refuse_huge_values_and_endless_exclusions(store) -> None:
    settings = store.settings
    with pytest.raises(ValueError, match="over 1024 bytes"):
        settings.set_value(CHAT, "option:x.y", "a" * (MAX_VALUE_BYTES + 1), by=None)
    with pytest.raises(ValueError, match="setting key"):
        settings.set_value(CHAT, "k" * 200, 1, by=None)
    assert settings.load(CHAT).values == {}
    with store.engine.begin() as connection:
        from tgstats.store.schema import chat_excluded_users

        connection.execute(
            chat_excluded_users.insert(),
            [
                {"chat_id": CHAT, "user_id": uid, "since": 0, "excluded_by": None}
                for uid in range(MAX_EXCLUDED)
            ],
        )
    settings.forget(CHAT)
    with pytest.raises(ValueError, match=f"at most {MAX_EXCLUDED}"):
        settings.exclude(CHAT, 10**9, by=None)


def test_another_process_write_shows_after_the_cache_expires(store, store_url: str) -> None:
    # Two webhook workers: each has its own cache over one database.
    other = ChatSettingsStore(store.engine, cache_seconds=0.0)
    assert store.settings.load(CHAT).values == {}
    other.set_value(CHAT, "period", 7, by=None)
    assert other.load(CHAT).values["period"].value == 7
    store.settings.forget(CHAT)  # what CACHE_SECONDS does on its own
    assert store.settings.load(CHAT).values["period"].value == 7


def test_export_rows_one_line_per_chat_with_settings(store) -> None:
    store.settings.set_value(CHAT, "timezone", "Europe/Berlin", by=3)
    store.settings.exclude(CHAT, 9, by=3)
    store.settings.set_value(OTHER, "plugin:word_cloud", False, by=3)
    assert list(store.settings.export_rows()) == [
        {"chat_id": OTHER, "settings": {"plugin:word_cloud": False}, "excluded_user_ids": []},
        {
            "chat_id": CHAT,
            "settings": {"timezone": "Europe/Berlin"},
            "excluded_user_ids": [9],
        },
    ]
    assert [row["chat_id"] for row in store.settings.export_rows(CHAT)] == [CHAT]


# -- the excluded-members filter ---------------------------------------------


def _history(store) -> None:
    chat = make_chat(CHAT)
    alice = make_user(1, "Alice", username="alice")
    bob, carol = make_user(2, "Bob"), make_user(3, "Carol")
    first = make_message(chat, alice, "hello world", date="2026-03-02T10:00:00Z", message_id=1)
    second = make_message(chat, bob, "bob talks", date="2026-03-02T11:00:00Z", message_id=2)
    messages = [
        first,
        second,
        make_message(
            chat, bob, "reply to alice", date="2026-03-02T12:00:00Z", message_id=3, reply_to=first
        ),
        make_message(
            chat, carol, "reply to bob", date="2026-03-03T09:00:00Z", message_id=4, reply_to=second
        ),
        make_message(
            chat, alice, "reply too", date="2026-03-03T10:00:00Z", message_id=5, reply_to=second
        ),
    ]
    fill_store(store, messages)


def _stats(store) -> dict[str, object]:
    q = store.queries
    grid = q.counts_by_weekday_hour(CHAT, tz=ZoneInfo("UTC"))
    return {
        "count": q.count_messages(CHAT),
        "grid": sum(map(sum, grid)),
        "texts": sorted(q.texts(CHAT)),
        "messages": [m.message_id for m in q.messages(CHAT)],
        "pairs": [(p.from_user_id, p.to_user_id, p.count) for p in q.reply_pairs(CHAT)],
        "activity": {
            a.user.user_id: (a.messages, a.replies_received)
            for a in q.user_activity(CHAT, tz=ZoneInfo("UTC"))
        },
        # All history (the all-time word tables), and Bob's own.
        "words": q.word_counts(CHAT),
        "bob's words": q.word_counts(CHAT, user_id=2),
    }


def test_every_query_leaves_out_the_excluded_members(store) -> None:
    _history(store)
    before = _stats(store)
    assert before["count"] == 5 and before["grid"] == 5
    assert before["activity"] == {1: (2, 1), 2: (2, 2), 3: (1, 0)}
    store.settings.exclude(CHAT, 2, by=None)  # Bob
    after = _stats(store)
    assert after == {
        "count": 3,
        "grid": 3,
        "texts": ["hello world", "reply to bob", "reply too"],
        "messages": [1, 4, 5],
        # Replies to Bob and Bob's replies are both gone.
        "pairs": [],
        "activity": {1: (2, 0), 3: (1, 0)},
        "words": {"hello": 1, "world": 1, "reply": 2, "to": 1, "bob": 1, "too": 1},
        "bob's words": {},
    }
    store.settings.include(CHAT, 2)
    assert _stats(store) == before


def test_exclusion_is_per_chat(store) -> None:
    _history(store)
    other = make_chat(OTHER, "Other")
    fill_store(store, [make_message(other, make_user(2, "Bob"), "elsewhere", message_id=1)])
    store.settings.exclude(CHAT, 2, by=None)
    assert store.queries.count_messages(OTHER) == 1
    assert store.queries.count_messages(CHAT) == 3
    since = datetime(2026, 3, 3, tzinfo=UTC)
    assert store.queries.count_messages(CHAT, since=since) == 2


def test_a_group_that_becomes_a_supergroup_keeps_its_settings_and_exclusions(store) -> None:
    group, supergroup = -4001, -1004001
    store.settings.set_value(group, "timezone", "Asia/Tokyo", by=7)
    store.settings.set_value(group, "period", 7, by=7)
    store.settings.exclude(group, 42, by=7)
    store.settings.set_value(supergroup, "period", 30, by=8)  # set there already: it wins
    store.migrate_chat(group, supergroup)
    moved = store.settings.load(supergroup)
    assert {k: v.value for k, v in moved.values.items()} == {"timezone": "Asia/Tokyo", "period": 30}
    assert moved.excluded == frozenset({42})
    # ... and the filter applies under the new id.
    chat = make_chat(supergroup, "Now a supergroup")
    fill_store(
        store,
        [
            make_message(chat, make_user(42, "Excluded"), "hi", message_id=1),
            make_message(chat, make_user(43, "Counted"), "hi", message_id=2),
        ],
    )
    assert store.queries.count_messages(supergroup) == 1
    store.migrate_chat(group, supergroup)  # idempotent
    assert store.settings.load(supergroup).excluded == frozenset({42})
