"""The period and "me / everyone" buttons under /wordcloud, pressed through the host's path."""

from __future__ import annotations

import pytest
from tgstats.plugins import PhotoReply, TextReply
from tgstats.testing import fill_store, make_message, make_user

ALICE = make_user(1, "Alice", username="alice")
BOB = make_user(2, "Bob", username="bob")


@pytest.fixture
def history(store, chat):
    # now (the fixture) is 2026-11-01 12:00 UTC.
    fill_store(
        store,
        [make_message(chat, ALICE, "mountains trail summit", date="2026-10-31T10:00:00Z")]
        + [make_message(chat, ALICE, "coffee espresso beans", date="2026-10-10T10:00:00Z")] * 1
        + [make_message(chat, BOB, "bicycle chain wheel", date="2026-10-30T10:00:00Z")],
    )


async def test_buttons_redraw_the_cloud_of_the_period_and_member(
    make_plugin, command_reply, press, history
):
    plugin = make_plugin()
    first = await command_reply(plugin)
    assert isinstance(first, PhotoReply)
    assert [[b.label for b in row] for row in first.buttons] == [
        ["7 days", "• 30 days", "1 year", "All"],
        ["Me", "• Everyone"],
    ]
    week = await press(plugin, first, "7 days")
    assert isinstance(week, PhotoReply) and week.png != first.png
    assert week.caption == (await command_reply(plugin, "7")).caption
    mine = await press(plugin, week, "Me", user_id=BOB.id)
    assert mine.caption == (await command_reply(plugin, "7", "@bob")).caption
    assert "@bob" in mine.caption
    assert await press(plugin, first, "Me", user_id=42) == TextReply(
        "I have no messages from you in this chat."
    )
