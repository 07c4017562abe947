"""Recording real telegram.Message objects: what lands in the store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import telegram
from tgstats.store import Store
from tgstats.testing import (
    MEDIA_BUILDERS,
    fill_store,
    make_channel,
    make_chat,
    make_message,
    make_reaction,
    make_reaction_count,
    make_user,
)

CHAT = make_chat(-100500, "Recorder group")
ALICE = make_user(11, "Alice", last_name="Liddell", username="alice")
BOB = make_user(22, "Bob")


def rows(store: Store, chat_id: int = CHAT.id) -> dict[int, object]:
    return {row.message_id: row for row in store.queries.messages(chat_id)}


def test_text_message_is_stored_with_sender_chat_and_utc_date(store: Store) -> None:
    message = make_message(CHAT, ALICE, "hello there", message_id=7, date="2026-02-03T04:05:06Z")
    assert store.record_message(message) is True

    (row,) = store.queries.messages(CHAT.id)
    assert (row.chat_id, row.message_id, row.user_id, row.text) == (CHAT.id, 7, 11, "hello there")
    assert row.date == datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert (row.media_kind, row.reply_to_message_id, row.edit_date) == (None, None, None)
    assert store.queries.chat(CHAT.id).title == "Recorder group"
    assert store.queries.chat(CHAT.id).type == "supergroup"
    user = store.queries.find_user(CHAT.id, "alice")
    assert (user.user_id, user.display_name, user.is_channel) == (11, "Alice Liddell", False)


def test_caption_and_text_links_are_flattened(store: Store) -> None:
    # Offsets are UTF-16 code units: the emoji before the link takes two.
    text = "😀 docs and more"
    link = telegram.MessageEntity("text_link", offset=3, length=4, url="https://example.org/d")
    bold = telegram.MessageEntity("bold", offset=8, length=3)
    fill_store(
        store,
        [
            make_message(CHAT, ALICE, text, entities=[link, bold], message_id=1),
            make_message(
                CHAT,
                BOB,
                media="photo",
                caption="see here",
                caption_entities=[
                    telegram.MessageEntity("text_link", offset=4, length=4, url="https://x.io")
                ],
                message_id=2,
            ),
        ],
    )
    stored = rows(store)
    assert stored[1].text == "😀 docs (https://example.org/d) and more"
    assert stored[2].text == "see here (https://x.io)"
    assert stored[2].media_kind == "photo"


@pytest.mark.parametrize("kind", MEDIA_BUILDERS)
def test_media_kind(store: Store, kind: str) -> None:
    assert store.record_message(make_message(CHAT, BOB, media=kind, message_id=3))
    assert rows(store)[3].media_kind == kind


def test_replies_and_threads(store: Store) -> None:
    root = make_message(CHAT, ALICE, "question", message_id=10)
    answer = make_message(CHAT, BOB, "answer", message_id=11, reply_to=root)
    # A forum topic: messages "reply" to the topic's first message implicitly.
    topic_root = make_message(CHAT, ALICE, "topic start", message_id=20)
    in_topic = make_message(
        CHAT,
        BOB,
        "in topic",
        message_id=21,
        reply_to=topic_root,
        thread_id=20,
        is_topic_message=True,
    )
    explicit = make_message(
        CHAT, ALICE, "re", message_id=22, reply_to=in_topic, thread_id=20, is_topic_message=True
    )
    fill_store(store, [root, answer, topic_root, in_topic, explicit])
    stored = rows(store)
    assert stored[11].reply_to_message_id == 10
    assert (stored[21].thread_id, stored[21].reply_to_message_id) == (20, None)
    assert (stored[22].thread_id, stored[22].reply_to_message_id) == (20, 21)


def test_channel_sender_is_kept_and_marked(store: Store) -> None:
    channel = make_channel(-100900, "News channel", username="newsch")
    store.record_message(make_message(CHAT, channel, "breaking", message_id=5))
    (row,) = store.queries.messages(CHAT.id)
    assert row.user_id == -100900
    user = store.queries.find_user(CHAT.id, "@NewsCh")
    assert (user.user_id, user.display_name, user.is_channel) == (-100900, "News channel", True)


def test_service_messages_are_not_stored(store: Store) -> None:
    joined = make_message(CHAT, ALICE, message_id=1, new_chat_members=(BOB,))
    title = make_message(CHAT, ALICE, message_id=2, new_chat_title="Renamed")
    assert store.record_message(joined) is False
    assert store.record_message(title) is False
    assert store.queries.count_messages(CHAT.id) == 0


def test_edit_updates_the_row_and_older_versions_do_not_win(store: Store) -> None:
    original = make_message(CHAT, ALICE, "teh typo", message_id=4, date="2026-01-01T10:00:00Z")
    edited = make_message(
        CHAT,
        ALICE,
        "the typo",
        message_id=4,
        date="2026-01-01T10:00:00Z",
        edit_date="2026-01-01T10:01:00Z",
    )
    fill_store(store, [original, edited, original])
    (row,) = store.queries.messages(CHAT.id)
    assert row.text == "the typo"
    assert row.edit_date == datetime(2026, 1, 1, 10, 1, tzinfo=UTC)
    assert row.date == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    assert store.queries.count_messages(CHAT.id) == 1


def test_username_and_name_changes_update_the_user(store: Store) -> None:
    store.record_message(make_message(CHAT, ALICE, "one", message_id=1))
    renamed = make_user(11, "Alicia", username="alicia")
    store.record_message(make_message(CHAT, renamed, "two", message_id=2))
    assert store.queries.find_user(CHAT.id, "alice") is None
    assert store.queries.find_user(CHAT.id, "alicia").display_name == "Alicia"


def test_migration_to_supergroup_keeps_history(store: Store) -> None:
    group = make_chat(-4000, "Small group", type="group")
    supergroup = make_chat(-1004000, "Small group", type="supergroup")
    fill_store(
        store,
        [
            make_message(group, ALICE, "old 1", message_id=1, date="2026-01-01T10:00:00Z"),
            make_message(group, BOB, "old 2", message_id=2, date="2026-01-01T11:00:00Z"),
        ],
    )
    # Telegram sends both service messages; either alone must be enough.
    assert not store.record_message(
        make_message(group, ALICE, message_id=3, migrate_to_chat_id=supergroup.id)
    )
    assert not store.record_message(
        make_message(supergroup, ALICE, message_id=1, migrate_from_chat_id=group.id)
    )
    # The supergroup restarts message ids: id 1 exists in both chats.
    store.record_message(
        make_message(supergroup, BOB, "new 1", message_id=1, date="2026-01-02T10:00:00Z")
    )
    texts = [row.text for row in store.queries.messages(supergroup.id)]
    assert texts == ["old 1", "old 2", "new 1"]
    assert store.queries.count_messages(supergroup.id) == 3
    assert store.queries.find_user(supergroup.id, "alice").user_id == 11
    assert store.queries.count_messages(group.id) == 2


def test_reaction_counts(store: Store) -> None:
    fill_store(store, [make_message(CHAT, ALICE, "nice", message_id=8)])
    assert store.record_reaction_count(make_reaction_count(CHAT, 8, {"👍": 3, "❤": 2}))
    assert rows(store)[8].reaction_count == 5
    assert store.record_reaction_count(make_reaction_count(CHAT, 8, {"👍": 1}))
    assert rows(store)[8].reaction_count == 1
    # Per-user changes (what groups send): +1, then a switch (news, same count), then removal.
    assert store.record_reaction(make_reaction(CHAT, 8, BOB, new=["🔥"]))
    assert rows(store)[8].reaction_count == 2
    assert store.record_reaction(make_reaction(CHAT, 8, BOB, old=["🔥"], new=["👍"]))
    assert rows(store)[8].reaction_count == 2
    assert store.record_reaction(make_reaction(CHAT, 8, BOB, old=["👍"]))
    # Delivered again (at-least-once): no news, nothing counted twice.
    assert not store.record_reaction(make_reaction(CHAT, 8, BOB, old=["👍"]))
    assert rows(store)[8].reaction_count == 1
    # Others' removals below zero (the count came from an older total): never negative.
    for user_id in (30, 31, 32):
        store.record_reaction(make_reaction(CHAT, 8, make_user(user_id, "X"), old=["👍"]))
    assert rows(store)[8].reaction_count == 0
    # Unknown message: nothing to update.
    assert not store.record_reaction_count(make_reaction_count(CHAT, 999, {"👍": 1}))


def test_opt_out_deletes_and_stops_recording_and_opt_in_resumes(store: Store) -> None:
    other_chat = make_chat(-100600, "Other")
    fill_store(
        store,
        [
            make_message(CHAT, ALICE, "a1", message_id=1),
            make_message(CHAT, ALICE, "a2", message_id=2),
            make_message(CHAT, BOB, "b1", message_id=3),
            make_message(other_chat, ALICE, "elsewhere", message_id=1),
        ],
    )
    assert store.opt_out(CHAT.id, ALICE.id) == 2
    assert store.is_opted_out(CHAT.id, ALICE.id)
    assert [r.text for r in store.queries.messages(CHAT.id)] == ["b1"]
    assert store.queries.count_messages(other_chat.id) == 1  # other chats untouched

    assert store.record_message(make_message(CHAT, ALICE, "ignored", message_id=4)) is False
    assert store.queries.count_messages(CHAT.id, user_id=ALICE.id) == 0

    assert store.opt_in(CHAT.id, ALICE.id) is True
    # From now on only: a late edit of a message from before the opt-out stays out.
    late_edit = make_message(CHAT, ALICE, "a1 edited", message_id=1, edit_date=datetime.now(UTC))
    assert store.record_message(late_edit) is False
    now = datetime.now(UTC)
    assert store.record_message(make_message(CHAT, ALICE, "back", message_id=5, date=now)) is True
    assert [r.text for r in store.queries.messages(CHAT.id)] == ["b1", "back"]


def test_opt_out_survives_migration(store: Store) -> None:
    group = make_chat(-4100, "G", type="group")
    supergroup = make_chat(-1004100, "G")
    store.record_message(make_message(group, ALICE, "old", message_id=1))
    assert store.opt_out(group.id, ALICE.id) == 1
    store.migrate_chat(group.id, supergroup.id)
    assert not store.record_message(make_message(supergroup, ALICE, "new", message_id=1))
    assert store.queries.count_messages(supergroup.id) == 0


def test_record_messages_batch_keeps_order_edits_opt_outs_and_migrations(store: Store) -> None:
    """One call, as the bot's recorder makes per burst, behaves like one call per message."""
    group = make_chat(-4100, "Batch group", type="group")
    supergroup = make_chat(-1004100, "Batch group", type="supergroup")
    store.opt_out(CHAT.id, BOB.id)
    batch = [
        make_message(CHAT, ALICE, "draft", message_id=1, date="2026-01-01T10:00:00Z"),
        make_message(CHAT, BOB, "opted out", message_id=2, date="2026-01-01T10:01:00Z"),
        make_message(
            CHAT,
            ALICE,
            "final",
            message_id=1,
            date="2026-01-01T10:00:00Z",
            edit_date="2026-01-01T10:02:00Z",
        ),
        make_message(CHAT, ALICE, message_id=3, new_chat_title="Renamed"),  # service
        make_message(group, ALICE, "old", message_id=1, date="2026-01-01T11:00:00Z"),
        make_message(group, ALICE, message_id=2, migrate_to_chat_id=supergroup.id),
        make_message(supergroup, BOB, "new", message_id=1, date="2026-01-02T10:00:00Z"),
    ]
    assert store.record_messages(batch) == [True, False, True, False, True, False, True]
    assert [(r.message_id, r.text) for r in store.queries.messages(CHAT.id)] == [(1, "final")]
    assert [r.text for r in store.queries.messages(supergroup.id)] == ["old", "new"]
    assert sorted(store.queries.texts(supergroup.id)) == ["new", "old"]  # the family, IN (...)
    assert store.record_messages([]) == []
