"""Importing the single-chat fixture: exact rows, users, dates, re-import, live rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tgstats.importer import import_export
from tgstats.store import Store
from tgstats.testing import make_chat, make_message, make_user

FIXTURE_CHAT_ID = -1001987654321  # Bot API id of the fixture's supergroup 1987654321
CHANNEL = -1000000004242  # from_id "channel4242" -> -100<id>


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# (message_id, user_id, date, text, reply_to, media_kind, edit_date, reactions)
EXPECTED = [
    (3, 1001, _utc(2024, 3, 1, 10, 0), "Hello everyone!", None, None, None, 0),
    (4, 1002, _utc(2024, 3, 1, 10, 5), "Привет, смотри https://example.org/a и это@alice",
     None, None, None, 0),
    # 3 + 2 reactions; the paid one (an amount of Stars) is not counted.
    (5, 1001, _utc(2024, 3, 1, 10, 6), "Thanks, fixed the typo", 4, None,
     _utc(2024, 3, 1, 10, 7, 30), 5),
    (6, 1002, _utc(2024, 3, 1, 10, 8), "", None, "sticker", None, 0),
    (7, 1001, _utc(2024, 3, 1, 10, 9), "Look at this", None, "photo", None, 0),
    (8, 1001, _utc(2024, 3, 1, 10, 10), "", None, "video", None, 0),
    (9, 1002, _utc(2024, 3, 1, 10, 11), "", None, "voice", None, 0),
    (10, 1001, _utc(2024, 3, 1, 10, 12), "", None, "audio", None, 0),
    (11, 1002, _utc(2024, 3, 1, 10, 13), "", None, "animation", None, 0),
    (12, 1001, _utc(2024, 3, 1, 10, 14), "", None, "video_note", None, 0),
    (13, 1001, _utc(2024, 3, 1, 10, 15), "the report", None, "document", None, 0),
    (14, 1002, _utc(2024, 3, 1, 10, 16), "", None, "poll", None, 0),
    (15, 1001, _utc(2024, 3, 1, 10, 17), "", None, "location", None, 0),
    (16, 1001, _utc(2024, 3, 1, 10, 18), "", None, "venue", None, 0),
    (17, 1002, _utc(2024, 3, 1, 10, 19), "", None, "contact", None, 0),
    (18, CHANNEL, _utc(2024, 3, 1, 10, 20), "Channel post in the group", None, None, None, 0),
    # Only naive "date"/"edited": read in the --tz zone (UTC by default).
    (19, 1003, _utc(2024, 7, 1, 12, 30), "Local time only, sender deleted", 18, None,
     _utc(2024, 7, 1, 12, 45), 0),
]  # fmt: skip


def _rows(store: Store, chat_id: int = FIXTURE_CHAT_ID) -> list[tuple[object, ...]]:
    return [
        (
            m.message_id,
            m.user_id,
            m.date,
            m.text,
            m.reply_to_message_id,
            m.media_kind,
            m.edit_date,
            m.reaction_count,
        )
        for m in store.queries.messages(chat_id)
    ]


def test_every_message_shape_is_stored_exactly(store: Store, single_chat: Path) -> None:
    report = import_export(single_chat, store)

    assert _rows(store) == EXPECTED
    [chat] = report.chats
    assert (chat.chat_id, chat.title, chat.messages, chat.added, chat.service) == (
        FIXTURE_CHAT_ID,
        "Import Fixture Group",
        17,
        17,
        3,
    )
    assert chat.migrated_from == "Old Group"
    info = store.queries.chat(FIXTURE_CHAT_ID)
    assert info is not None
    assert (info.title, info.type) == ("Import Fixture Group", "supergroup")
    assert report.bytes == single_chat.stat().st_size


def test_senders_are_users_and_channels_are_marked(store: Store, single_chat: Path) -> None:
    import_export(single_chat, store)

    activity = store.queries.user_activity(FIXTURE_CHAT_ID, tz=ZoneInfo("UTC"))
    users = {a.user.user_id: (a.user.display_name, a.user.is_channel, a.messages) for a in activity}
    assert users == {
        1001: ("Alice Smith", False, 9),
        1002: ("Борис", False, 6),
        1003: ("Deleted Account", False, 1),
        CHANNEL: ("Daily News", True, 1),
    }


def test_reimport_adds_nothing(store: Store, single_chat: Path) -> None:
    first = import_export(single_chat, store)
    second = import_export(single_chat, store)

    assert (first.added, second.added, second.messages) == (17, 0, 17)
    assert store.queries.count_messages(FIXTURE_CHAT_ID) == 17
    assert _rows(store) == EXPECTED


def test_naive_dates_are_read_in_the_given_zone(store: Store, single_chat: Path) -> None:
    import_export(single_chat, store, tz=ZoneInfo("Europe/Berlin"))

    rows = {row[0]: row for row in _rows(store)}
    # 12:30 in Berlin in July (CEST, UTC+2) is 10:30 UTC; date_unixtime rows are unaffected.
    assert rows[19][2] == _utc(2024, 7, 1, 10, 30)
    assert rows[19][6] == _utc(2024, 7, 1, 10, 45)
    assert rows[3][2] == _utc(2024, 3, 1, 10, 0)


def test_chat_id_override(store: Store, single_chat: Path) -> None:
    report = import_export(single_chat, store, chat_id=-4242)

    assert report.chats[0].chat_id == -4242
    assert store.queries.count_messages(-4242) == 17
    assert store.queries.count_messages(FIXTURE_CHAT_ID) == 0


def test_imported_and_live_rows_share_the_chat(store: Store, single_chat: Path) -> None:
    # The bot sees the supergroup under its Bot API id; the export wrote the bare id.
    chat = make_chat(FIXTURE_CHAT_ID, "Import Fixture Group", type="supergroup")
    alice = make_user(1001, "Alice", last_name="Smith", username="alice")
    live = make_message(chat, alice, "recorded live", message_id=100, date="2024-08-01T09:00:00Z")
    store.record_message(live)

    import_export(single_chat, store)

    rows = list(store.queries.messages(FIXTURE_CHAT_ID))
    assert [m.message_id for m in rows] == [*(e[0] for e in EXPECTED), 100]
    # Alice's imported and live messages count as one member.
    activity = {
        a.user.user_id: a.messages
        for a in store.queries.user_activity(FIXTURE_CHAT_ID, tz=ZoneInfo("UTC"))
    }
    assert activity[1001] == 10
    # What /heatmap reads covers both sources.
    cells = store.queries.counts_by_weekday_hour(FIXTURE_CHAT_ID, tz=ZoneInfo("UTC"))
    assert sum(map(sum, cells)) == 18
    assert cells[3][9] == 1  # the live message: Thursday 2024-08-01 09:00 UTC
    # The live @username is not wiped by the import (the export has none).
    assert store.queries.find_user(FIXTURE_CHAT_ID, "alice") is not None


def test_names_recorded_in_another_chat_are_kept(store: Store, single_chat: Path) -> None:
    # Users are global: a member the bot knows from another group keeps the name and
    # @username it recorded, though this chat is new to the store.
    elsewhere = make_chat(-100555, "Another group", type="supergroup")
    boris = make_user(1002, "Boris", last_name="Ivanov", username="boris")
    store.record_message(make_message(elsewhere, boris, "hi", date="2024-08-01T09:00:00Z"))

    import_export(single_chat, store)

    found = store.queries.find_user(FIXTURE_CHAT_ID, "boris")
    assert found is not None
    assert found.display_name == "Boris Ivanov"


def test_a_live_message_with_the_same_id_is_not_duplicated(store: Store, single_chat: Path) -> None:
    chat = make_chat(FIXTURE_CHAT_ID, "Import Fixture Group", type="supergroup")
    alice = make_user(1001, "Alice", last_name="Smith")
    store.record_message(
        make_message(chat, alice, "Hello everyone!", message_id=3, date="2024-03-01T10:00:00Z")
    )

    report = import_export(single_chat, store)

    assert report.chats[0].added == 16
    assert store.queries.count_messages(FIXTURE_CHAT_ID) == 17


def test_an_old_export_without_unixtime_and_with_numeric_from_id(
    store: Store, write_export: Callable[..., Path]
) -> None:
    # Telegram Desktop before ~2020/2021 wrote numeric from_id and no date_unixtime.
    old = {
        "name": "Old export",
        "type": "private_group",
        "id": 31337,
        "messages": [
            {"id": 1, "type": "message", "date": "2019-12-31T23:30:00", "edited": None,
             "from": "Alice", "from_id": 1001, "text": "happy new year!"},
            {"id": 2, "type": "message", "date": "2020-01-01T00:10:00", "from": "Alice",
             "from_id": 1001, "text": ["and ", {"type": "bold", "text": "again"}]},
        ],
    }  # fmt: skip

    import_export(write_export(old), store, tz=ZoneInfo("Asia/Tokyo"))

    rows = [(m.user_id, m.date, m.text) for m in store.queries.messages(-31337)]
    assert rows == [
        (1001, _utc(2019, 12, 31, 14, 30), "happy new year!"),
        (1001, _utc(2019, 12, 31, 15, 10), "and again"),
    ]
