"""What real Telegram Desktop exports contain, one fixture per case (tests/importer/data)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from tgstats.importer import import_export
from tgstats.importer.summary import chat_line
from tgstats.store import Store
from tgstats.testing import make_chat, make_message, make_user

DATA = Path(__file__).parent / "data"
UTC = ZoneInfo("UTC")


def _rows(store: Store, chat_id: int, *fields: str) -> list[tuple[object, ...]]:
    return [tuple(getattr(m, f) for f in fields) for m in store.queries.messages(chat_id)]


def test_unsupported_records_are_skipped_and_counted(store: Store) -> None:
    report = import_export(DATA / "unsupported.json", store)

    [chat] = report.chats
    assert _rows(store, -1000000001111, "message_id", "text") == [
        (2, "before the unsupported one"),
        (4, "after it"),
    ]
    assert (chat.messages, chat.added, chat.skipped) == (2, 2, {"service": 1, "unsupported": 2})
    assert chat_line(chat) == (
        "Unsupported Media Group (chat id -1000000001111): 2 messages, 2 new, "
        "1 service message and 2 unsupported records (media Telegram Desktop could not "
        "export) skipped, 2 senders"
    )


def test_forum_topics_are_stored_as_the_live_bot_stores_them(store: Store) -> None:
    report = import_export(DATA / "forum.json", store)

    imported = _rows(store, -1000000002222, "message_id", "thread_id", "reply_to_message_id")
    assert imported == [
        (3, 2, None),  # replies to the topic's first message: in topic 2, no reply
        (4, 2, 3),
        (5, None, None),  # General
        (7, 6, None),
        (8, 6, 7),
        (10, 6, 9),  # a reply to a pin in the topic
        (11, None, 5),
    ]
    assert report.chats[0].topics == 2

    # The same conversation as the bot receives it, recorded live in another forum.
    forum = make_chat(-1009000002222, "Live forum", type="supergroup")
    one, two = make_user(1, "User 1"), make_user(2, "User 2")
    rules = make_message(forum, one, "Rules", message_id=2)
    offtopic = make_message(forum, one, "Offtopic", message_id=6)
    pin = make_message(forum, one, "pin", message_id=9)

    def live(mid: int, who: object, reply: object, thread: int | None) -> object:
        return make_message(
            forum, who, f"m{mid}", message_id=mid, reply_to=reply, thread_id=thread,
            is_topic_message=thread is not None, date=1714557600 + mid,
        )  # fmt: skip

    m3 = live(3, one, rules, 2)
    m5 = live(5, one, None, None)
    m7 = live(7, two, offtopic, 6)
    for message in [m3, live(4, two, m3, 2), m5, m7, live(8, one, m7, 6), live(10, two, pin, 6),
                    live(11, one, m5, None)]:  # fmt: skip
        store.record_message(message)  # type: ignore[arg-type]
    recorded = _rows(store, forum.id, "message_id", "thread_id", "reply_to_message_id")
    assert recorded == imported


def test_a_reply_into_another_chat_is_not_linked(store: Store) -> None:
    report = import_export(DATA / "foreign_reply.json", store)

    chat_id = -1000000003333
    assert _rows(store, chat_id, "message_id", "reply_to_message_id") == [
        (1, None),
        (2, 1),
        (3, None),  # replied to post 1 of channel 4444, not to message 1 here
        (4, 2),  # reply_to_peer_id names this chat: a local reply
    ]
    assert report.chats[0].foreign_replies == 1
    activity = store.queries.user_activity(chat_id, tz=UTC)
    received = {a.user.user_id: a.replies_received for a in activity}
    assert received == {1: 1, 2: 1, 3: 0}


def test_channel_posts_of_2020_and_newer_exports_are_one_sender(store: Store) -> None:
    import_export(DATA / "channel_2020.json", store)
    second = import_export(DATA / "channel_2024.json", store)

    channel = -1000000005555
    assert second.chats[0].added == 1  # message 2 is in both files
    assert _rows(store, channel, "message_id", "user_id", "text") == [
        (1, channel, "first post"),
        (2, channel, "second post"),
        (3, channel, "third post"),
    ]
    activity = store.queries.user_activity(channel, tz=UTC)
    assert [(a.user.user_id, a.user.display_name, a.user.is_channel, a.messages)
            for a in activity] == [(channel, "Old News", True, 3)]  # fmt: skip


def test_left_chats_are_imported_like_the_others(store: Store) -> None:
    report = import_export(DATA / "left_chats.json", store)

    got = [(c.chat_id, c.title, c.messages, c.added, c.left) for c in report.chats]
    assert got == [
        (-6001, "Current Group", 2, 2, False),
        (-1000000006002, "Old Club", 3, 3, True),
        (-1000000006003, "Old Channel", 1, 1, True),
    ]
    assert report.skipped_chats == 0
    assert [m.text for m in store.queries.messages(-1000000006002)] == ["bye", "see you", "gone"]
    assert chat_line(report.chats[1]).endswith(", a group the account has left")


def test_reimporting_a_newer_export_refreshes_stored_rows(store: Store) -> None:
    fields = ("message_id", "text", "edit_date", "reaction_count")
    import_export(DATA / "reimport_old.json", store)

    newer = import_export(DATA / "reimport_new.json", store)

    [chat] = newer.chats
    assert (chat.added, chat.updated_edits, chat.updated_reactions) == (1, 1, 2)
    edited = _rows(store, -7777, "edit_date")[1][0]
    expected = [
        (1, "hello", None, 3),  # 2 -> 3 (the paid reaction is not counted)
        (2, "typo here", edited, 0),
        (3, "stays as it is", None, 0),  # its reaction was taken back
        (4, "a new one", None, 0),
    ]
    assert _rows(store, -7777, *fields) == expected
    assert int(edited.timestamp()) == 1714557600 + 300  # type: ignore[attr-defined]
    assert store.queries.count_messages(-7777) == 4
    assert "updated 1 edit and 2 reaction counts" in chat_line(chat)

    # The older file again: it neither undoes the edit nor the newer reaction counts.
    older = import_export(DATA / "reimport_old.json", store)
    assert (older.chats[0].added, older.chats[0].updated_edits) == (0, 0)
    assert older.chats[0].updated_reactions == 0
    assert _rows(store, -7777, *fields) == expected


def test_paid_reactions_are_not_counted(store: Store) -> None:
    import_export(DATA / "paid_reactions.json", store)

    assert _rows(store, -1000000008888, "message_id", "reaction_count") == [(1, 0), (2, 5)]


def test_a_venue_without_coordinates_is_a_venue(store: Store) -> None:
    import_export(DATA / "venue.json", store)

    assert _rows(store, -9999, "message_id", "media_kind") == [
        (1, "venue"),  # no location_information
        (2, "venue"),
        (3, "location"),
    ]
