"""The weekly digest: exact numbers on a fixed week (Berlin, across the spring DST change),
the /digest command, the scheduled post, the picture, the options."""

from __future__ import annotations

import io
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from telegram import Chat, MessageEntity
from tgstats.plugins import ChatSettings, ConfigError, PhotoReply, TextReply
from tgstats.testing import (
    fill_store,
    make_chat_member,
    make_message,
    make_reaction_count,
    make_user,
    utc,
)
from tgstats_digest.numbers import so_far_window, week_before_window
from tgstats_digest.plugin import DigestConfig, chat_rule
from tgstats_digest.text import change_text

ALICE = make_user(1, "Alice", username="alice")
BOB = make_user(2, "Bob", username="bob")
CAROL = make_user(3, "Carol")
DAVE = make_user(4, "Dave")
BERLIN = ZoneInfo("Europe/Berlin")
# Monday 30 March 2026, 09:00 in Berlin (CEST since Sunday 01:00 UTC).
POSTED = "2026-03-30T07:00:00Z"


@pytest.fixture
def chat() -> Chat:
    return Chat(-100820, "supergroup", title="Hiking club", username="hikers")


@pytest.fixture
def week(store, chat):
    def at(user, when, words="hello", **kw):
        return make_message(chat, user, words, date=when, **kw)

    fill_store(
        store,
        [
            # The week before (Mon 16 .. Sun 22 March, CET): 2 messages.
            at(ALICE, "2026-03-15T23:00:00Z"),  # Mon 16 00:00 CET: its first second
            at(BOB, "2026-03-22T22:59:59Z"),  # Sun 22 23:59:59 CET: its last
            # The week (Mon 23 .. Sun 29 March): 7 counted messages.
            at(ALICE, "2026-03-22T23:00:00Z", "coffee hike", message_id=101),  # Mon 00:00
            at(ALICE, "2026-03-24T17:30:00Z", "Coffee!", message_id=102),  # Tue 18:30
            at(BOB, "2026-03-24T17:45:00Z", "coffee, tea", message_id=103),  # Tue 18:45
            at(CAROL, "2026-03-24T18:10:00Z", "the hike", message_id=104),  # Tue 19:10
            at(ALICE, "2026-03-29T00:30:00Z", "hike (again)", message_id=105),  # Sun 01:30 CET
            at(BOB, "2026-03-29T01:30:00Z", "and", message_id=106),  # Sun 03:30 CEST
            at(ALICE, "2026-03-29T21:59:59Z", "tea", message_id=107),  # Sun 23:59:59 CEST
            # Not counted: a command in the week, a message a second after it.
            at(
                BOB,
                "2026-03-25T10:00:00Z",
                "/digest coffee",
                entities=[MessageEntity("bot_command", 0, 7)],
            ),
            at(BOB, "2026-03-29T22:00:00Z", "coffee coffee"),  # Mon 30 00:00 CEST
        ],
    )
    store.record_member_changes(make_chat_member(chat, DAVE, date="2026-03-25T09:00:00Z"))
    store.record_member_changes(make_chat_member(chat, CAROL, date="2026-03-20T09:00:00Z"))
    store.record_reaction_count(make_reaction_count(chat, 103, {"👍": 2}, date="2026-03-25T08:00Z"))
    store.record_reaction_count(
        make_reaction_count(chat, 104, {"👍": 3, "❤": 1}, date="2026-03-25T08:00Z")
    )
    return store


def test_the_windows_are_local_weeks_across_dst() -> None:
    window = week_before_window(utc(POSTED), BERLIN)
    assert (window.since, window.until) == (utc("2026-03-22T23:00Z"), utc("2026-03-29T22:00Z"))
    assert window.previous_since == utc("2026-03-15T23:00Z")
    assert window.previous_until == window.since
    assert (window.first_day, window.days) == (date(2026, 3, 23), 7)
    # Wednesday 1 April 12:00 CEST: Monday 00:00 CEST on, against Monday 00:00
    # CET .. Wednesday 12:00 CET a week earlier (the same wall-clock stretch).
    so_far = so_far_window(utc("2026-04-01T10:00:00Z"), BERLIN)
    assert so_far.since == utc("2026-03-29T22:00Z")
    assert so_far.until == utc("2026-04-01T10:00:00Z")
    assert so_far.previous_since == utc("2026-03-22T23:00Z")
    assert so_far.previous_until == utc("2026-03-25T11:00:00Z")
    assert (so_far.first_day, so_far.days) == (date(2026, 3, 30), 3)


def test_every_number_of_a_week_in_berlin(week, chat, make_plugin) -> None:
    plugin = make_plugin()
    digest = plugin.numbers(week.queries, chat.id, week_before_window(utc(POSTED), BERLIN), BERLIN)
    assert (digest.messages, digest.previous, digest.active_members) == (7, 2, 3)
    assert [n for _, n in digest.day_counts] == [1, 3, 0, 0, 0, 0, 3]
    assert digest.day_counts[0][0] == date(2026, 3, 23)
    assert digest.busiest_day == (date(2026, 3, 24), 3)  # a tie with Sunday: the earlier
    hours = {h: n for h, n in enumerate(digest.hour_counts) if n}
    assert hours == {0: 1, 1: 1, 3: 1, 18: 2, 19: 1, 23: 1}
    assert digest.busiest_hour == (18, 2)
    assert [(m.user.display_name, m.messages) for m in digest.top_members] == [
        ("Alice", 4),
        ("Bob", 2),
        ("Carol", 1),
    ]
    assert digest.top_words == [("coffee", 3), ("hike", 3), ("tea", 2)]  # "again": a stop word
    assert digest.new_members == 1  # Dave; Carol joined the week before
    assert digest.top_message is not None and digest.top_message.message_id == 104
    assert digest.top_message.reaction_count == 4
    assert digest.link == "https://t.me/hikers/104"


def test_the_same_week_in_utc_cuts_other_days(week, chat, make_plugin) -> None:
    utc_zone = ZoneInfo("UTC")
    window = week_before_window(utc(POSTED), utc_zone)  # Mon 23 00:00Z .. Mon 30 00:00Z
    digest = make_plugin().numbers(week.queries, chat.id, window, utc_zone)
    # Mon 00:00 Berlin is Sunday 23:00 UTC: Alice's first message leaves the
    # week; Bob's Berlin-Monday message at 22:00Z Sunday joins it.
    assert digest.messages == 7
    assert [n for _, n in digest.day_counts] == [0, 3, 0, 0, 0, 0, 4]
    assert digest.busiest_day == (date(2026, 3, 29), 4)


async def test_the_post_is_one_picture_and_a_caption(week, chat, make_plugin, job_reply) -> None:
    plugin = make_plugin()
    settings = ChatSettings(chat_id=chat.id, timezone=BERLIN, config=plugin.config)
    reply = await job_reply(plugin, now=POSTED, zone="Europe/Berlin", settings=settings)
    assert isinstance(reply, PhotoReply)
    image = Image.open(io.BytesIO(reply.png))
    assert image.width == 1080 and 1200 < image.height < 2400
    assert reply.caption.splitlines() == [
        "Hiking club — week of 23 Mar – 29 Mar 2026",
        "7 messages (▲ +250 % vs the week before, 2), 3 members active",
        "Busiest day: Tuesday (3); busiest hour: 18:00 (2)",
        "Most active: Alice 4, Bob 2, Carol 1",
        "Top words: coffee, hike, tea",
        "New members: 1",
        "Most reacted (4 reactions): “the hike” https://t.me/hikers/104",
    ]


async def test_a_quiet_week_posts_nothing_and_digest_says_so(
    store, chat, make_plugin, job_reply, command_reply
) -> None:
    plugin = make_plugin()
    assert await job_reply(plugin, now=POSTED) is None
    reply = await command_reply(plugin, now=POSTED)
    assert isinstance(reply, TextReply)
    assert reply.text == "No messages this week yet, so there is no digest to show."


async def test_digest_shows_this_week_so_far_in_the_chats_zone(
    week, chat, make_plugin, command_reply
) -> None:
    plugin = make_plugin()
    # Sunday 29 March 23:30 CEST: Monday 23 .. now; the week before to Sunday 23:30 CET.
    reply = await command_reply(
        plugin, now="2026-03-29T21:30:00Z", settings=ChatSettings(timezone=BERLIN)
    )
    assert isinstance(reply, PhotoReply)
    lines = reply.caption.splitlines()
    # Alice's 23:59:59 message is still in the future.
    assert lines[1] == "6 messages (▲ +500 % vs the week before, 1), 3 members active"


def test_no_username_no_link(store, make_plugin) -> None:
    private = Chat(-100821, "supergroup", title="Private")
    hello = make_message(private, ALICE, "hello", date="2026-03-24T10:00Z")
    fill_store(store, [hello])
    # Its own id: make_message numbers messages across the whole test session.
    reaction = make_reaction_count(private, hello.message_id, {"👍": 1}, date="2026-03-24T11Z")
    store.record_reaction_count(reaction)
    digest = make_plugin().numbers(
        store.queries, private.id, week_before_window(utc(POSTED), BERLIN), BERLIN
    )
    assert digest.top_message is not None and digest.link is None


def test_the_rule_follows_the_chats_options() -> None:
    assert chat_rule(DigestConfig()) is None  # off by default
    rule = chat_rule(DigestConfig(enabled=True, day="fri", time="18:30"))
    assert rule is not None and rule.describe() == "weekly on fri at 18:30:00"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"day": "someday"}, "schedule day"),
        ({"time": "25:00"}, "schedule time"),
        ({"enabled": "yes"}, "enabled"),
        ({"top_words": 1000}, "top_words"),
        ({"stopword_languages": ["xx"]}, "stop-word"),
        ({"width": 10}, "width"),
    ],
)
def test_bad_options_are_refused_by_name(make_plugin, options, message) -> None:
    with pytest.raises((ConfigError, ValueError), match=message):
        make_plugin(**options)


def test_change_text() -> None:
    assert change_text(7, 2) == "▲ +250 % vs the week before"
    assert change_text(1, 2) == "▼ −50 % vs the week before"
    assert change_text(2, 2) == "±0 % vs the week before"
    assert change_text(2, 0) == "none the week before"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [(1110, "18:30"), (51078, "14:11:18"), (545, "09:05"), ("09:00", "09:00"), (True, True)],
)
def test_a_time_yaml_read_as_base_60_is_turned_back(typed, stored) -> None:
    from tgstats_digest.plugin import sexagesimal_time

    assert sexagesimal_time(typed) == stored


def test_a_time_typed_in_settings_is_understood(make_plugin) -> None:
    assert make_plugin(time=1110).config.time == "18:30"  # what "18:30" is in YAML 1.1
    with pytest.raises((ConfigError, ValueError), match="schedule time"):
        make_plugin(time=1440)  # "24:00"


async def test_hostile_names_and_words_keep_the_caption_short_and_linked(
    store, chat, make_plugin, command_reply
) -> None:
    long_name = make_user(9, "N" * 200, last_name="M" * 200)
    word = "x" * 4000
    messages = [
        make_message(
            chat, long_name, f"{word} {word} spam", date="2026-03-24T10:00Z", message_id=7
        ),
        make_message(chat, ALICE, "spam " * 500, date="2026-03-24T11:00Z"),
    ]
    fill_store(store, messages)
    store.record_reaction_count(make_reaction_count(chat, 7, {"👍": 9}, date="2026-03-24T12Z"))
    reply = await command_reply(make_plugin(), now="2026-03-26T12:00:00Z")
    assert isinstance(reply, PhotoReply)
    assert len(reply.caption) <= 1024
    assert "Top words: spam" in reply.caption and word not in reply.caption
    assert reply.caption.endswith("https://t.me/hikers/7")
    assert Image.open(io.BytesIO(reply.png)).width == 1080


async def test_the_post_is_in_russian_in_a_chat_set_to_russian(
    week, chat, make_plugin, job_reply, command_reply, tmp_path
) -> None:
    plugin = make_plugin()
    settings = ChatSettings(chat_id=chat.id, timezone=BERLIN, language="ru", config=plugin.config)
    reply = await job_reply(plugin, now=POSTED, zone="Europe/Berlin", settings=settings)
    assert isinstance(reply, PhotoReply)
    (tmp_path / "digest-ru.png").write_bytes(reply.png)
    assert reply.caption.splitlines() == [
        "Hiking club — неделя 23 мар. – 29 мар. 2026",
        "7 сообщений (▲ +250 % к прошлой неделе, 2), 3 активных участника",
        "Самый активный день: вторник (3); самый активный час: 18:00 (2)",
        "Самые активные: Alice 4, Bob 2, Carol 1",
        "Частые слова: coffee, hike, tea",
        "Новые участники: 1",
        "Больше всего реакций (4 реакции): “the hike” https://t.me/hikers/104",
    ]
    quiet = await command_reply(plugin, now="2026-06-01T12:00:00Z", language="ru")
    assert isinstance(quiet, TextReply)
    assert quiet.text == "На этой неделе сообщений пока нет, так что сводку показать нельзя."
