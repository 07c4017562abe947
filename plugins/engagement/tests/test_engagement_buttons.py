"""The period buttons under /engagement: the ranking text is replaced in place."""

from __future__ import annotations

from tgstats.plugins import TextReply
from tgstats.testing import fill_store, make_message, make_user

ALICE = make_user(1, "Alice", username="alice")
BOB = make_user(2, "Bob", username="bob")


async def test_period_buttons_rank_the_period_pressed(
    make_plugin, command_reply, press, store, chat
):
    fill_store(
        store,
        [
            make_message(chat, ALICE, "hi", date="2026-10-20T10:00:00Z"),
            make_message(chat, BOB, "old", date="2026-03-01T10:00:00Z"),
        ],
    )
    plugin = make_plugin()
    first = await command_reply(plugin)
    assert isinstance(first, TextReply)
    assert [[b.label for b in row] for row in first.buttons] == [
        ["7 days", "• 30 days", "1 year", "All"]
    ]
    everything = await press(plugin, first, "All")
    assert everything.text == (await command_reply(plugin, "all")).text
    assert "2 members" in everything.text
    assert everything.buttons[0][3].label == "• All"
    week = await press(plugin, everything, "7 days")
    assert week.text.startswith("No messages in the last 7 days")
    assert week.buttons[0][0].label == "• 7 days"  # a way back from an empty week
    year = await press(plugin, week, "1 year")
    assert year.text == (await command_reply(plugin, "365")).text
