"""period_buttons / resolve_button_period: the keyboard the analytics plugins share."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tgstats.plugins import (
    ButtonContext,
    Period,
    TextReply,
    UserInfo,
    period_buttons,
    resolve_button_period,
)
from tgstats.testing import fill_store, make_chat, make_message, make_user

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
CHAT = make_chat(-100900, "Buttons")
ALICE = make_user(1, "Alice", username="alice")


def ctx(store, payload: str, user_id: int | None = 1) -> ButtonContext:
    return ButtonContext(
        button="view",
        payload=payload,
        chat_id=CHAT.id,
        chat_title=CHAT.title,
        user_id=user_id,
        message_id=5,
        now=NOW,
        store=store.queries,
    )


def test_keyboard_marks_the_current_choice() -> None:
    alice = UserInfo(1, "alice", "Alice")
    rows = period_buttons("view", Period(None, None, 365, alice), viewer=1, who_toggle=True)
    assert [[b.label for b in row] for row in rows] == [
        ["7 days", "30 days", "• 1 year", "All"],
        ["• Me", "Everyone"],
    ]
    assert [b.payload for b in rows[0]] == ["7:1", "30:1", "365:1", "all:1"]
    assert [b.payload for b in rows[1]] == ["365:me", "365:all"]
    assert len(period_buttons("view", Period(None, None, None))) == 1


def test_payloads_resolve_to_periods(store) -> None:
    fill_store(store, [make_message(CHAT, ALICE, "hi", date="2026-10-31T10:00:00Z")])
    week = resolve_button_period(ctx(store, "7:all"))
    assert isinstance(week, Period) and week.days == 7 and week.user is None
    assert week.since == datetime(2026, 10, 26, tzinfo=UTC)
    assert resolve_button_period(ctx(store, "all:all")).since is None
    mine = resolve_button_period(ctx(store, "30:me", user_id=1))
    assert mine.user is not None and mine.user.username == "alice"
    assert resolve_button_period(ctx(store, "30:1", user_id=77)).user.user_id == 1


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "7",
        "0:all",
        "-1:all",
        "36501:all",
        "7:",
        "7:bob",
        "1e9:all",
        "٧:all",
        "7:--1",
        "7:" + "9" * 20,
        "x" * 40,
    ],
)
def test_stale_or_odd_payloads_get_a_short_text(store, payload: str) -> None:
    assert isinstance(resolve_button_period(ctx(store, payload)), TextReply)


def test_me_without_messages_is_told_so(store) -> None:
    assert resolve_button_period(ctx(store, "7:me", user_id=5)) == TextReply(
        "I have no messages from you in this chat."
    )
    assert resolve_button_period(ctx(store, "7:me", user_id=None)) == TextReply(
        "This button is out of date; send the command again."
    )
