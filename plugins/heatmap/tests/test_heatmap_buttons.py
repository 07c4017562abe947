"""The period and "me / everyone" buttons under /heatmap, pressed through the host's path."""

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
        [make_message(chat, ALICE, "recent", date=f"2026-10-3{d}T0{d}:00:00Z") for d in (0, 1)]
        + [make_message(chat, ALICE, "older", date=f"2026-10-1{d}T1{d}:00:00Z") for d in range(5)]
        + [make_message(chat, ALICE, "ancient", date="2026-02-02T20:00:00Z")]
        + [make_message(chat, BOB, "bob", date="2026-10-31T22:00:00Z")],
    )


def labels(reply):
    return [[b.label for b in row] for row in reply.buttons]


async def test_period_buttons_redraw_the_same_picture_as_the_command(
    make_plugin, command_reply, press, history
):
    plugin = make_plugin()
    first = await command_reply(plugin)
    assert isinstance(first, PhotoReply)
    assert labels(first) == [["7 days", "• 30 days", "1 year", "All"], ["Me", "• Everyone"]]

    week = await press(plugin, first, "7 days")
    assert isinstance(week, PhotoReply)
    assert labels(week)[0] == ["• 7 days", "30 days", "1 year", "All"]
    assert week.png != first.png
    assert week.png == (await command_reply(plugin, "7")).png
    everything = await press(plugin, week, "All")
    assert everything.png == (await command_reply(plugin, "all")).png
    assert (await press(plugin, week, "1 year")).png == (await command_reply(plugin, "365")).png


async def test_me_is_the_presser_and_stays_with_the_shown_member(
    make_plugin, command_reply, press, history
):
    plugin = make_plugin()
    first = await command_reply(plugin, "all")
    bobs = await press(plugin, first, "Me", user_id=BOB.id)
    assert isinstance(bobs, PhotoReply)
    assert labels(bobs)[1] == ["• Me", "Everyone"]
    assert bobs.png == (await command_reply(plugin, "all", "@bob")).png
    # Alice changes the period of Bob's heatmap: it stays Bob's, and "Me" is not hers.
    week = await press(plugin, bobs, "7 days", user_id=ALICE.id)
    assert week.png == (await command_reply(plugin, "7", "@bob")).png
    assert labels(week)[1] == ["Me", "Everyone"]
    back = await press(plugin, week, "Everyone", user_id=ALICE.id)
    assert back.png == (await command_reply(plugin, "7")).png


async def test_a_member_without_messages_gets_a_short_text(
    make_plugin, command_reply, press, history
):
    plugin = make_plugin()
    first = await command_reply(plugin)
    answer = await press(plugin, first, "Me", user_id=99)
    assert answer == TextReply("I have no messages from you in this chat.")
    old = await press(plugin, await press(plugin, first, "Me", user_id=ALICE.id), "7 days")
    assert isinstance(old, PhotoReply)  # Alice wrote on 30 and 31 October
