"""/me and /whois: the card's exact numbers, the lookups, opt-out, the picture."""

from __future__ import annotations

import io
import os
from zoneinfo import ZoneInfo

import attrs
import pytest
import telegram
from PIL import Image
from telegram import MessageEntity
from tgstats.plugins import ChatSettings, EmojiCount, MemberStickers, PhotoReply, TextReply
from tgstats.testing import (
    fill_store,
    make_channel,
    make_chat,
    make_message,
    make_reaction,
    make_sticker,
    make_user,
    run_command,
    speaking,
)
from tgstats_profile.card import Card, duration_text
from tgstats_profile.render import drawable, render_card

ALICE = make_user(1, "Alice", username="alice")
BOB = make_user(2, "Bob", username="bob")
CAROL = make_user(3, "Carol")
DAVE = make_user(4, "Dave", username="dave")
NEWS = make_channel(-100999, "News")
COMMAND = MessageEntity("bot_command", 0, 3)
NOW = "2026-11-01T12:00:00Z"  # Sunday; Berlin went back to CET on 25 October


@pytest.fixture
def plugin_name() -> str:
    return "member_profile"


@pytest.fixture
def chat():
    return make_chat(-100820, "Book club")


SENT: dict[str, telegram.Message] = {}


@pytest.fixture
def history(store, chat):
    def msg(sender, when, text="x", **kw):
        return make_message(chat, sender, text, date=when, **kw)

    a1 = msg(ALICE, "2026-10-23T21:30:00Z", "Coffee coffee and tea 😀 https://x.org/coffee")
    b1 = msg(BOB, "2026-10-23T21:40:00Z", "coffee!", reply_to=a1)
    a4 = msg(ALICE, "2026-10-26T22:59:00Z", "Tea time ❤")
    c1 = msg(CAROL, "2026-10-28T09:00:00Z", "hello")
    dave = msg(DAVE, "2026-10-29T10:00:00Z", "bye", reply_to=a4)
    SENT.update(a1=a1, b1=b1, a4=a4, c1=c1, dave=dave)
    fill_store(
        store,
        [
            a1,
            b1,
            msg(CAROL, "2026-10-24T00:00:00Z", reply_to=a1),
            msg(ALICE, "2026-10-24T22:30:00Z", "the coffee was good"),  # Berlin 25 Oct 00:30
            msg(ALICE, "2026-10-25T01:30:00Z", reply_to=b1),  # 02:30 CET, the repeated hour
            a4,
            msg(BOB, "2026-10-27T06:00:00Z", reply_to=a4),
            c1,
            msg(ALICE, "2026-10-28T09:02:00Z", reply_to=c1),
            msg(BOB, "2026-10-28T09:10:00Z", reply_to=c1),
            msg(ALICE, "2026-10-28T10:00:00Z", None, media="sticker"),
            msg(
                ALICE, "2026-10-28T11:00:00Z", "/me", entities=[MessageEntity("bot_command", 0, 3)]
            ),
            msg(NEWS, "2026-10-28T12:00:00Z", "digest"),
            dave,
        ],
    )
    store.record_reaction(make_reaction(chat, b1.message_id, ALICE, new=["👍"], date=NOW))
    store.record_reaction(make_reaction(chat, c1.message_id, ALICE, new=["❤"], date=NOW))
    return chat


def labels(reply) -> list[list[str]]:
    return [[b.label for b in row] for row in reply.buttons]


async def test_the_card_in_berlin(make_plugin, make_context, history):
    plugin = make_plugin(timezone="Europe/Berlin")
    reply = await run_command(plugin, make_context(command="me", now=NOW, user_id=ALICE.id))
    assert isinstance(reply, PhotoReply)
    assert labels(reply) == [["7 days", "30 days", "1 year", "• All"]]
    assert reply.caption.splitlines() == [
        "@alice: 6 messages (46.2 % of the chat), all time",
        "Favourite emoji: ❤ 👍 😀",
        "Favourite stickers: 😀 ×1",
    ]
    card = card_of(plugin, make_context(command="me", now=NOW, user_id=ALICE.id))
    assert card.title == "Alice (@alice)"
    assert card.subtitle == "Book club · All time · Europe/Berlin"
    assert [(t.label, t.value, t.note) for t in card.tiles] == [
        ("Messages", "6", "46.2 % of the chat, 1 sticker"),
        ("Rank", "#1", "of 4 members"),
        ("Longest streak", "2 days", "25–26 Oct 2026"),
        ("Median reply time", "13.9 h", "over 2 replies"),
        ("First seen", "23 Oct 2026", "4 active days since"),
        ("Last seen", "28 Oct 2026", ""),
    ]
    # Peak hours in Berlin: Fri 23, Sun 00 and 02, Mon 23, Wed 10 and 11.
    cells = {(d, h): n for d, row in enumerate(card.hours) for h, n in enumerate(row) if n}
    assert cells == {(4, 23): 1, (6, 0): 1, (6, 2): 1, (0, 23): 1, (2, 10): 1, (2, 11): 1}
    # Links are not words; "and", "the", "was", "good" are stop words.
    assert card.words == [("coffee", 3), ("tea", 2), ("time", 1)]
    assert card.emoji == [("❤", 2), ("👍", 1), ("😀", 1)]
    assert [(p.user.user_id, p.replies) for p in card.partners.replies_to] == [(2, 1), (3, 1)]
    assert [(p.user.user_id, p.replies) for p in card.partners.replied_by] == [
        (2, 2),
        (3, 1),
        (4, 1),
    ]


async def test_top_words_count_the_whole_period_whatever_the_text_sample(
    make_plugin, make_context, history
):
    # The words come from the store's word counts; only the text emoji from the sample.
    plugin = make_plugin(timezone="Europe/Berlin", text_sample=1)
    card = card_of(plugin, make_context(command="me", now=NOW, user_id=ALICE.id))
    assert card.words == [("coffee", 3), ("tea", 2), ("time", 1)]
    assert card.emoji == [("❤", 1), ("👍", 1)]  # the reactions; the texts sampled had none


async def test_the_same_card_in_utc_and_for_a_week(make_plugin, make_context, history):
    plugin = make_plugin()
    card = card_of(plugin, make_context(command="me", now=NOW, user_id=ALICE.id))
    assert card.tiles[2].note == "23–26 Oct 2026"
    assert card.tiles[4].note == "5 active days since"
    assert card.tiles[2].value == "4 days"
    # The chat's own zone and a 7-day period: from Mon 26 Oct 00:00 CET.
    settings = ChatSettings(timezone=ZoneInfo("Europe/Berlin"))
    week = card_of(
        plugin, make_context("7", command="me", now=NOW, user_id=ALICE.id, settings=settings)
    )
    assert week.subtitle == "Book club · Last 7 days · Europe/Berlin"
    assert [(t.value, t.note) for t in week.tiles[:3]] == [
        ("3", "37.5 % of the chat, 1 sticker"),
        ("#1", "of 4 members"),
        ("1 day", "28 Oct 2026"),
    ]
    assert week.tiles[4].note == "2 active days since"


async def test_whois_by_name_by_reply_and_the_buttons(
    make_plugin, make_context, command_reply, press, history, store, chat
):
    plugin = make_plugin()
    reply = await command_reply(plugin, "@bob", "30", command="whois", now=NOW)
    assert isinstance(reply, PhotoReply)
    assert reply.caption.startswith("@bob: 3 messages (23.1 % of the chat), last 30 days")
    assert labels(reply) == [["7 days", "• 30 days", "1 year", "All"]]
    # A press keeps it Bob's card, whoever presses.
    pressed = await press(plugin, reply, "All", user_id=ALICE.id, now=NOW)
    assert isinstance(pressed, PhotoReply)
    assert pressed.caption.startswith("@bob: 3 messages (23.1 % of the chat), all time")
    # In reply to one of Carol's messages (she has no @username).
    command = make_message(chat, ALICE, "/whois", date=NOW, reply_to=SENT["c1"])
    ctx = attrs.evolve(
        make_context(command="whois", now=NOW),
        update=telegram.Update(update_id=1, message=command),
    )
    card = await run_command(plugin, ctx)
    assert isinstance(card, PhotoReply)
    assert card.caption.startswith("Carol: 2 messages (15.4 % of the chat), all time")


async def test_short_texts_instead_of_an_empty_card(make_plugin, command_reply, history, store):
    plugin = make_plugin()
    assert await command_reply(plugin, command="whois", now=NOW) == TextReply(
        "Usage: /whois @user [N days | all], or send /whois in reply to their message"
    )
    assert await command_reply(plugin, "banana", command="whois", now=NOW) == TextReply(
        "Usage: /whois @user [N days | all], or send /whois in reply to their message"
    )
    assert await command_reply(plugin, "@nobody", command="whois", now=NOW) == TextReply(
        "I have no messages from @nobody in this chat."
    )
    assert await command_reply(plugin, command="me", now=NOW, user_id=77) == TextReply(
        "I have no messages from you in this chat."
    )
    empty = await command_reply(plugin, "1", command="me", now="2027-06-01T12:00:00Z")
    assert empty.text == "No messages from @alice in the last day, so there is no card to draw."
    assert labels(empty) == [["7 days", "30 days", "1 year", "All"]]
    excluded = ChatSettings(excluded_user_ids=frozenset({BOB.id}))
    assert await command_reply(
        plugin, "@bob", command="whois", now=NOW, settings=excluded
    ) == TextReply("@bob is left out of this chat's statistics by its admins.")
    # Too many words, a huge number: the usual bounds.
    huge = await command_reply(plugin, "99999999", command="me", now=NOW)
    assert huge.text.startswith("The period must be between 1 and 36500 days")


async def test_opted_out_members_get_no_card_and_are_not_named(
    make_plugin, make_context, command_reply, history, store, chat
):
    plugin = make_plugin()
    # Carol opts out; she keeps her name (she wrote in another chat too).
    fill_store(store, [make_message(make_chat(-100821, "Other"), CAROL, "hi")])
    store.opt_out(chat.id, CAROL.id)
    # Dave opts out; he wrote only here, so his name is erased with his messages.
    store.opt_out(chat.id, DAVE.id)
    assert await command_reply(plugin, "@dave", command="whois", now=NOW) == TextReply(
        "I have no messages from @dave in this chat."
    )
    # In reply to a message of his that is still in the members' chat history.
    command = make_message(chat, ALICE, "/whois", date=NOW, reply_to=SENT["dave"])
    ctx = attrs.evolve(
        make_context(command="whois", now=NOW),
        update=telegram.Update(update_id=2, message=command),
    )
    assert await run_command(plugin, ctx) == TextReply(
        "This member opted out of the statistics in this chat, so there is no card about them."
    )
    command = make_message(chat, ALICE, "/whois", date=NOW, reply_to=SENT["c1"])
    ctx = attrs.evolve(ctx, update=telegram.Update(update_id=3, message=command))
    assert await run_command(plugin, ctx) == TextReply(
        "Carol opted out of the statistics in this chat, so there is no card about them."
    )
    assert await command_reply(plugin, command="me", now=NOW, user_id=DAVE.id) == TextReply(
        "You opted out of the statistics in this chat, so there is no card about you. "
        "Send /optin to be counted again."
    )
    card = card_of(plugin, make_context(command="me", now=NOW, user_id=ALICE.id))
    assert [p.user.user_id for p in card.partners.replied_by] == [2]
    assert [p.user.user_id for p in card.partners.replies_to] == [2]


async def test_the_picture_is_one_phone_sized_png(make_plugin, make_context, history, tmp_path):
    plugin = make_plugin(timezone="Europe/Berlin")
    card = card_of(plugin, make_context(command="me", now=NOW, user_id=ALICE.id))
    png = render_card(card)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width == 1080
    assert 1200 <= image.height <= 2400
    # The bottom rows are not blank: the reply partners were drawn there.
    bottom = image.convert("L").crop((0, image.height - 150, 1080, image.height - 40))
    assert bottom.getextrema()[0] < 128
    if os.environ.get("TGSTATS_KEEP_CARD"):
        image.save(os.environ["TGSTATS_KEEP_CARD"])
    assert drawable("❤") and not drawable("👍")


async def test_favourite_stickers(make_plugin, make_context, history, store, chat, tmp_path):
    fill_store(
        store,
        [
            *(make_sticker(chat, BOB, "😂", date=f"2026-10-30T10:0{i}:00Z") for i in range(3)),
            make_sticker(chat, BOB, "👍", date="2026-10-30T11:00:00Z"),  # not in the picture's font
            make_sticker(chat, BOB, "👍", date="2026-10-30T11:01:00Z"),
            make_sticker(chat, BOB, "❤️", date="2026-10-30T11:02:00Z"),
            make_sticker(chat, BOB, None, date="2026-10-30T11:03:00Z"),  # counted, not a favourite
            make_sticker(chat, BOB, "😎", date="2026-09-01T11:00:00Z"),  # before the 30 days
        ],
    )
    plugin = make_plugin()
    ctx = make_context(command="whois", now=NOW, user_id=BOB.id)
    card = card_of(plugin, ctx)
    assert card.stickers == MemberStickers(
        stickers=8,
        top=[
            EmojiCount("😂", 3),
            EmojiCount("👍", 2),
            EmojiCount("❤️", 1),
            EmojiCount("😎", 1),
        ],
    )
    assert card.tiles[0].note == "52.4 % of the chat, 8 stickers"  # 11 of 21
    assert card.caption.splitlines()[-1] == "Favourite stickers: 😂 ×3  👍 ×2  ❤️ ×1  😎 ×1"
    month = card_of(plugin, make_context("30", command="me", now=NOW, user_id=BOB.id))
    assert [(s.emoji, s.count) for s in month.stickers.top] == [("😂", 3), ("👍", 2), ("❤️", 1)]
    # The section takes room in the picture; without sticker emoji there is none.
    with_section = Image.open(io.BytesIO(render_card(card)))
    plain = attrs.evolve(card, stickers=MemberStickers(stickers=8, top=[]))
    without = Image.open(io.BytesIO(render_card(plain)))
    assert with_section.height - without.height > 100
    if os.environ.get("TGSTATS_KEEP_CARD"):
        with_section.save(os.environ["TGSTATS_KEEP_CARD"].replace(".png", "-stickers.png"))
    # Carol sent no sticker: no line in the caption, no section.
    carol = card_of(plugin, make_context(command="me", now=NOW, user_id=CAROL.id))
    assert carol.stickers == MemberStickers(stickers=0, top=[])
    assert "sticker" not in carol.caption
    assert "sticker" not in carol.tiles[0].note


def test_durations_read_naturally():
    assert [duration_text(s) for s in (42, 600, 5400, 50_160, 200_000)] == [
        "42 s",
        "10 min",
        "1.5 h",
        "13.9 h",
        "2.3 days",
    ]


def card_of(plugin, ctx) -> Card:
    from tgstats.plugins import Period, period_start

    user = ctx.store.member(ctx.chat_id, ctx.user_id)
    days = int(ctx.args[0]) if ctx.args else None
    zone = plugin.chat_zone(ctx)
    since = None if days is None else period_start(ctx.now, days, zone)
    card = plugin.compute(ctx, Period(since=since, until=None, days=days, user=user))
    assert isinstance(card, Card)
    return card


async def test_hostile_arguments_get_the_usage_line_quickly(make_plugin, command_reply, history):
    plugin = make_plugin()
    usage = "Usage: /whois @user [N days | all], or send /whois in reply to their message"
    for args in (
        ("7",) * 10_000,  # a flood of words
        ("@" + "a" * 5000,),  # a name far past Telegram's 32 characters
        ("@alice", "@bob"),  # two members
        ("@al'ice;--",),  # not a username
        ("７",),  # a digit of another script
    ):
        reply = await command_reply(plugin, *args, command="whois", now=NOW)
        assert reply == TextReply(usage), args
    me = await command_reply(plugin, "@bob", command="me", now=NOW)
    assert me == TextReply("Usage: /me [N days | all]")


async def test_russian(make_plugin, make_context, command_reply, history, tmp_path):
    plugin = make_plugin(timezone="Europe/Berlin")
    reply = await command_reply(plugin, command="me", now=NOW, user_id=ALICE.id, language="ru")
    assert isinstance(reply, PhotoReply)
    (tmp_path / "me-ru.png").write_bytes(reply.png)
    assert reply.caption.splitlines() == [
        "@alice: 6 сообщений (46,2 % чата), всё время",
        "Любимые эмодзи: ❤ 👍 😀",
        "Любимые стикеры: 😀 ×1",
    ]
    assert labels(reply) == [["7 дней", "30 дней", "1 год", "• Всё"]]
    with speaking(plugin, "ru"):
        card = card_of(plugin, make_context(command="me", now=NOW, user_id=ALICE.id))
    assert [(t.label, t.value, t.note) for t in card.tiles] == [
        ("Сообщения", "6", "46,2 % чата, 1 стикер"),
        ("Место", "#1", "из 4 участников"),
        ("Самая длинная серия", "2 дня", "25–26 окт. 2026"),
        ("Медиана ответа", "13,9 ч", "по 2 ответам"),
        ("Впервые", "23 окт. 2026", "с тех пор 4 активных дня"),
        ("Последний раз", "28 окт. 2026", ""),
    ]
    usage = "Использование: /whois @участник [N дней | all] или /whois в ответ на его сообщение"
    for args in ((), ("banana",)):
        refused = await command_reply(plugin, *args, command="whois", now=NOW, language="ru")
        assert refused == TextReply(usage)
    huge = await command_reply(plugin, "@bob", "99999999", command="whois", language="ru")
    assert huge.text.endswith(" " + usage)  # the host's range sentence, then this usage
    excluded = ChatSettings(excluded_user_ids=frozenset({BOB.id}))
    assert await command_reply(
        plugin, "@bob", command="whois", now=NOW, settings=excluded, language="ru"
    ) == TextReply("Администраторы этого чата исключили @bob из статистики.")
