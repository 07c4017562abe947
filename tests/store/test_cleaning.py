"""NUL and lone surrogates: cleaned the same way on SQLite and PostgreSQL, the message kept."""

from __future__ import annotations

import telegram
from tgstats.store import Store
from tgstats.store.bulk import MessageRow
from tgstats.store.cleaning import clean_text
from tgstats.testing import make_chat, make_message, utc

HOSTILE = "before\x00after \ud800 lone, 😀 paired"
CLEAN = "beforeafter \ufffd lone, 😀 paired"


def test_clean_text() -> None:
    assert clean_text(HOSTILE) == CLEAN
    assert clean_text("plain") == "plain"
    assert clean_text("\udc00\x00") == "\ufffd"


def test_a_live_message_with_nul_and_a_lone_surrogate_is_kept(store: Store) -> None:
    chat = make_chat(-100950, "Odd\x00 title")
    sender = telegram.User(id=5, first_name="Nul\x00l", is_bot=False)
    store.record_message(make_message(chat, sender, HOSTILE))
    [row] = list(store.queries.messages(chat.id))
    assert row.text == CLEAN
    info = store.queries.chat(chat.id)
    assert info is not None and info.title == "Odd title"
    assert (
        store.queries.user_activity(chat.id, tz=__import__("zoneinfo").ZoneInfo("UTC"))[
            0
        ].user.display_name
        == "Null"
    )


def test_an_imported_message_with_nul_is_kept_alike(store: Store) -> None:
    with store.bulk() as batch:
        batch.add_messages(
            [
                MessageRow(
                    chat_id=-100951,
                    message_id=1,
                    thread_id=None,
                    user_id=None,
                    date=utc("2024-05-01T12:00:00Z"),
                    text=HOSTILE,
                    reply_to_message_id=None,
                    media_kind=None,
                    edit_date=None,
                    reaction_count=0,
                ),
                {"chat_id": -100951, "message_id": 2, "date": 1714564800, "text": HOSTILE},
            ]
        )
    assert [row.text for row in store.queries.messages(-100951)] == [CLEAN, CLEAN]
