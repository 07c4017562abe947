"""/engagement through invoke_command with a real store filled by the recorder."""

from __future__ import annotations

import attrs
import pytest
import telegram
from tgstats.plugins import ChatSettings, ConfigError, TextReply
from tgstats.testing import (
    fill_store,
    make_channel,
    make_chat,
    make_message,
    make_reaction_count,
    make_user,
)

ALICE = make_user(1, "Alice", username="alice")
BOB = make_user(2, "Bob", username="bob")
CAROL = make_user(3, "Carolina Maximiliana", last_name="von Habsburg", username="carol")


@pytest.fixture
def chat():
    """The group the commands run in (overrides tgstats' default chat)."""
    return make_chat(-100800, "Book club")


@pytest.fixture
def club(store, chat):
    first = make_message(chat, ALICE, "Chapter one?", date="2026-10-28T09:00:00Z")
    second = make_message(chat, ALICE, "Anyone?", date="2026-10-28T10:00:00Z")
    third = make_message(chat, ALICE, "Chapter two", date="2026-10-29T09:00:00Z")
    bob = make_message(chat, BOB, "Loved it", date="2026-10-29T10:00:00Z", reply_to=first)
    carol = make_message(chat, CAROL, "Same", date="2026-10-30T10:00:00Z", reply_to=third)
    alice_to_carol = make_message(chat, ALICE, "Great", date="2026-10-30T11:00:00Z", reply_to=carol)
    old = make_message(chat, BOB, "Long ago", date="2026-06-01T10:00:00Z")
    fill_store(store, [first, second, third, bob, carol, alice_to_carol, old])
    store.record_reaction_count(make_reaction_count(chat, first.message_id, {"👍": 2, "❤": 1}))
    return chat


async def test_ranked_table_with_every_component(make_plugin, command_reply, club):
    # Last 30 days: Alice 4 msgs, 2 replies received, 3 reactions, 3 days;
    # Carol 1, 1, 0, 1; Bob 1, 0, 0, 1.  Maxima 4, 2, 3, 3; weights 1, 1.5, 1, 2.
    # Carol: (sqrt(1/4) + 1.5*sqrt(1/2) + 0 + 2*sqrt(1/3)) / 5.5 = 49.4
    # Bob:   (sqrt(1/4) + 0 + 0 + 2*sqrt(1/3)) / 5.5 = 30.1
    reply = await command_reply(make_plugin())
    assert reply.text == (
        "\n".join(
            [
                "Engagement in Book club, last 30 days (3 members)",
                "",
                "1. Alice — 100.0",
                "    4 messages, 2 replies received, 3 reactions, 3 active days",
                "2. Carolina Maximi… — 49.4",
                "    1 message, 1 reply received, 0 reactions, 1 active day",
                "3. Bob — 30.1",
                "    1 message, 0 replies received, 0 reactions, 1 active day",
                "",
                "Score: 100 is the chat's most engaged member, counting messages, "
                "replies received ×1.5, reactions received, active days ×2.",
            ]
        )
    )


async def test_all_time_top_n_and_missing_reactions(make_plugin, command_reply, store, chat, club):
    reply = await command_reply(make_plugin(top_n=1, weights={"reactions_received": 0}), "all")
    assert not reply.monospace
    lines = reply.text.splitlines()
    assert lines[0] == "Engagement in Book club, all time (3 members)"
    assert lines[2:5] == [
        "1. Alice — 100.0",
        "    4 messages, 2 replies received, 3 active days",
        "… and 2 more",
    ]
    assert lines[-1] == (
        "Score: 100 is the chat's most engaged member, counting messages, "
        "replies received ×1.5, active days ×2. No reactions are known yet."
    )


async def test_the_chats_own_top_n_and_period(make_plugin, command_reply, club):
    # What /settings engagement_scores.top_n 1 and /settings period all hand the plugin.
    plugin = make_plugin()
    settings = ChatSettings(default_days=None, config=attrs.evolve(plugin.config, top_n=1))
    reply = await command_reply(plugin, settings=settings)
    lines = reply.text.splitlines()
    assert lines[0] == "Engagement in Book club, all time (3 members)"
    assert lines[4] == "… and 2 more"
    # Other chats (no settings): the operator's top_n and 30 days.
    assert "… and" not in (await command_reply(plugin)).text


async def test_text_replies(make_plugin, command_reply, club):
    plugin = make_plugin()
    assert await command_reply(plugin, "banana") == TextReply("Usage: /engagement [N days | all]")
    # No per-user view: the table is about everyone.
    assert await command_reply(plugin, "@alice") == TextReply("Usage: /engagement [N days | all]")
    # (with the period buttons, so a press can leave the empty period)
    assert (await command_reply(plugin, "1")).text == (
        "No messages in the last day, so there is nobody to rank."
    )
    assert (await command_reply(plugin, "all", chat_id=-9)).text == (
        "No messages yet, so there is nobody to rank."
    )


async def test_active_days_follow_the_configured_zone(make_plugin, command_reply, store, chat):
    night = make_user(5, "Nightowl")
    fill_store(
        store,
        [
            # 23:30 and 00:30 UTC are two UTC days but one day in New York (-4).
            make_message(chat, night, "late", date="2026-10-20T23:30:00Z"),
            make_message(chat, night, "later", date="2026-10-21T00:30:00Z"),
        ],
    )
    utc_days = (await command_reply(make_plugin(), "all")).text.splitlines()[3]
    ny_days = (
        await command_reply(make_plugin(timezone="America/New_York"), "all")
    ).text.splitlines()[3]
    assert utc_days.endswith(", 2 active days")
    assert ny_days.endswith(", 1 active day")


async def test_thirty_days_hold_at_most_thirty_active_days(make_plugin, command_reply, store, chat):
    # One message a day at 12:00 UTC for 40 days, the last on the day of NOW
    # (2026-11-01 12:00 UTC): "30 days" are 3 Oct .. 1 Nov, today included.
    daily = make_user(6, "Daily")
    fill_store(
        store,
        [
            make_message(chat, daily, f"day {n}", date=f"2026-{month}-{day:02d}T12:00:00Z")
            for n, (month, day) in enumerate(
                [("09", d) for d in range(23, 31)] + [("10", d) for d in range(1, 32)] + [("11", 1)]
            )
        ],
    )
    lines = (await command_reply(make_plugin(), "30")).text.splitlines()
    assert lines[3] == "    30 messages, 30 active days"
    # In Tokyo (+9) NOW is 21:00 on 1 Nov and 12:00 UTC is 21:00 local: still 30.
    tokyo = (await command_reply(make_plugin(timezone="Asia/Tokyo"), "30")).text.splitlines()
    assert tokyo[3] == "    30 messages, 30 active days"
    one = (await command_reply(make_plugin(), "1")).text.splitlines()
    assert one[3] == "    1 message, 1 active day"


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"weights": {"messages": -1}}, "weights.messages"),
        ({"weights": {"likes": 1}}, "likes"),
        ({"top_n": 0}, "top_n"),
        ({"timezone": "Moon/Base"}, "Moon/Base"),
    ],
)
def test_bad_config_is_refused_with_the_key(make_plugin, overrides, needle):
    with pytest.raises(ConfigError, match=needle):
        make_plugin(**overrides)


async def test_commands_and_channel_posts_do_not_rank(
    make_plugin, command_reply, store, chat, club
):
    before = (await command_reply(make_plugin())).text
    heatmap = telegram.MessageEntity(telegram.MessageEntity.BOT_COMMAND, 0, 8)
    news = make_channel(-100801, "Book news")
    fill_store(
        store,
        [
            # Bob asks for statistics three times: still 1 message, still third.
            make_message(
                chat, BOB, f"/heatmap {n}", entities=[heatmap], date=f"2026-10-31T0{n}:00:00Z"
            )
            for n in range(1, 4)
        ]
        + [make_message(chat, news, "New chapter out", date="2026-10-31T08:00:00Z")],
    )
    assert (await command_reply(make_plugin())).text == before
    with_channels = (await command_reply(make_plugin(include_channels=True))).text.splitlines()
    assert "Book news — " in "\n".join(with_channels)
    assert with_channels[0] == "Engagement in Book club, last 30 days (4 members)"


async def test_the_ranking_in_russian_with_plural_forms(make_plugin, command_reply, club):
    reply = await command_reply(make_plugin(), language="ru")
    assert reply.text == (
        "\n".join(
            [
                "Вовлечённость в Book club за последние 30 дней (3 участника)",
                "",
                "1. Alice — 100,0",
                "    4 сообщения, 2 ответа получено, 3 реакции, 3 активных дня",
                "2. Carolina Maximi… — 49,4",
                "    1 сообщение, 1 ответ получен, 0 реакций, 1 активный день",
                "3. Bob — 30,1",
                "    1 сообщение, 0 ответов получено, 0 реакций, 1 активный день",
                "",
                "Оценка: 100 — самый вовлечённый участник чата; учитываются сообщения, "
                "полученные ответы ×1,5, полученные реакции, активные дни ×2.",
            ]
        )
    )
    assert [b.label for b in reply.buttons[0]] == ["7 дней", "• 30 дней", "1 год", "Всё"]
    empty = await command_reply(make_plugin(), "7", chat_id=-1, language="ru")
    assert empty.text == "За последние 7 дней нет сообщений, поэтому рейтинг не из кого составить."
    assert [b.label for b in empty.buttons[0]] == ["• 7 дней", "30 дней", "1 год", "Всё"]
