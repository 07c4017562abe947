"""/activity: exact numbers per bucket, the comparison with the period before, the picture."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from tgstats.plugins import ConfigError, PhotoReply, TextReply
from tgstats.testing import fill_store, make_channel, make_chat, make_message, make_user
from tgstats_activity.plugin import Activity, ActivityConfig, bucket_unit, change_text
from tgstats_activity.render import ActivityPicture, MemberFlow, render_activity

ALICE = make_user(1, "Alice", username="alice")
BOB = make_user(2, "Bob", username="bob")
CAROL = make_user(3, "Carol")
NOW = "2026-11-01T12:00:00Z"  # Sunday; Berlin went back to CET on 25 October


@pytest.fixture
def chat():
    return make_chat(-100800, "Book club")


@pytest.fixture
def history(store, chat):
    def at(user, when):
        return make_message(chat, user, "hello", date=when)

    fill_store(
        store,
        [
            at(BOB, "2026-09-02T21:59:59Z"),  # before both periods (in Berlin)
            at(BOB, "2026-09-02T22:00:00Z"),  # Berlin 3 Sep 00:00: the previous 30 days start
            at(ALICE, "2026-10-02T21:59:59Z"),  # Berlin 2 Oct 23:59:59: still the previous
            at(ALICE, "2026-10-02T22:00:00Z"),  # Berlin 3 Oct 00:00: the last 30 days start
            at(BOB, "2026-10-25T00:30:00Z"),  # 02:30 CEST
            at(BOB, "2026-10-25T01:30:00Z"),  # 02:30 CET (the hour that repeats)
            at(CAROL, "2026-10-31T23:00:00Z"),  # Berlin 1 Nov 00:00
            at(ALICE, "2026-11-01T11:00:00Z"),
        ],
    )
    return chat


def labels(reply) -> list[list[str]]:
    return [[b.label for b in row] for row in reply.buttons]


def nonzero(data: Activity) -> list[tuple[str, int, int]]:
    return [(b.start.isoformat(), b.messages, b.active_members) for b in data.buckets if b.messages]


async def test_last_30_days_in_berlin_against_the_30_before(make_plugin, make_context, history):
    plugin = make_plugin(timezone="Europe/Berlin")
    data = plugin.compute(make_context(now=NOW))
    assert isinstance(data, Activity)
    assert data.unit == "day"
    assert len(data.buckets) == 30
    assert (data.buckets[0].start.isoformat(), data.buckets[-1].start.isoformat()) == (
        "2026-10-03",
        "2026-11-01",
    )
    assert nonzero(data) == [("2026-10-03", 1, 1), ("2026-10-25", 2, 1), ("2026-11-01", 2, 2)]
    assert (data.totals.messages, data.totals.active_members) == (5, 3)
    assert data.previous is not None
    assert (data.previous.messages, data.previous.active_members) == (2, 2)
    assert data.title == "Book club"
    assert data.subtitle == "Last 30 days · 3 members active · days in Europe/Berlin"
    assert data.headline == "5 messages"
    assert data.change == "▲ +150 % vs the 30 days before"
    assert data.caption.splitlines() == [
        "5 messages, +150 % vs the 30 days before (2)",
        "Busiest day: Sun 25 Oct 2026 (2 messages)",
        "3 members wrote in this period; at most 2 in one day",
    ]


async def test_the_same_history_counted_in_utc(make_plugin, make_context, history):
    data = make_plugin().compute(make_context(now=NOW))
    assert nonzero(data) == [("2026-10-25", 2, 1), ("2026-10-31", 1, 1), ("2026-11-01", 1, 1)]
    assert data.previous is not None
    assert (data.totals.messages, data.previous.messages) == (4, 2)
    assert data.change == "▲ +100 % vs the 30 days before"


async def test_per_chat_zone_and_a_falling_week(make_plugin, make_context, store, history):
    other = make_chat(-100900, "Mumbai")
    fill_store(
        store,
        [
            make_message(other, ALICE, "a", date="2026-10-25T18:29:59Z"),  # Sun 25 Oct IST
            make_message(other, BOB, "b", date="2026-10-25T18:30:00Z"),  # Mon 26 Oct IST
            make_message(other, BOB, "c", date="2026-10-26T10:00:00Z"),
        ],
    )
    plugin = make_plugin(chat_timezones={str(other.id): "Asia/Kolkata"}, daily_up_to=7)
    data = plugin.compute(make_context("14", now=NOW, chat_id=other.id))
    assert data.unit == "week"  # 14 days > daily_up_to
    assert nonzero(data) == [("2026-10-19", 1, 1), ("2026-10-26", 2, 1)]
    assert data.change == "none in the 14 days before"
    assert data.subtitle.endswith("weeks in Asia/Kolkata")
    # The period starts on Monday 19 Oct in Kolkata; the last week ends after today.
    assert data.buckets[-1].end.isoformat() == "2026-11-02"


async def test_all_time_by_month_without_comparison(make_plugin, make_context, history):
    plugin = make_plugin(timezone="Europe/Berlin", daily_up_to=30, weekly_up_to=31)
    data = plugin.compute(make_context("all", now=NOW))
    assert data.unit == "month"
    assert nonzero(data) == [("2026-09-01", 2, 1), ("2026-10-01", 4, 2), ("2026-11-01", 2, 2)]
    assert data.previous is None and data.change == ""
    assert data.caption.splitlines()[0] == "8 messages"
    assert data.subtitle == "All time · 3 members active · months in Europe/Berlin"


async def test_one_member(make_plugin, make_context, history):
    data = make_plugin(timezone="Europe/Berlin").compute(make_context("30d", "@bob", now=NOW))
    assert data.title == "Book club — @bob"
    assert not data.show_members
    assert nonzero(data) == [("2026-10-25", 2, 1)]
    assert data.previous is not None and data.previous.messages == 1
    assert data.change == "▲ +100 % vs the 30 days before"
    assert len(data.caption.splitlines()) == 2  # no member line for one member


async def test_channel_posts_are_messages_but_not_members(make_plugin, make_context, store, chat):
    news = make_channel(-100555, "News")
    fill_store(
        store,
        [
            make_message(chat, news, "digest", date="2026-10-30T08:00:00Z"),
            make_message(chat, ALICE, "hi", date="2026-10-30T09:00:00Z"),
        ],
    )
    data = make_plugin().compute(make_context("7", now=NOW))
    assert nonzero(data) == [("2026-10-30", 2, 1)]
    assert data.totals.active_members == 1


async def test_text_answers_instead_of_an_empty_picture(make_plugin, command_reply, history):
    plugin = make_plugin()
    empty = await command_reply(plugin, "1", now="2027-06-01T12:00:00Z")
    assert empty.text == "No messages in the last day, so there is no activity chart to draw."
    assert labels(empty) == [["7 days", "30 days", "1 year", "All"], ["Me", "• Everyone"]]
    unknown = await command_reply(plugin, "@nobody", now=NOW)
    assert unknown == TextReply("I have no messages from @nobody in this chat.")
    usage = await command_reply(plugin, "banana", now=NOW)
    assert usage == TextReply("Usage: /activity [N days | all] [@user]")


async def test_buttons_redraw_the_period_and_the_member(make_plugin, command_reply, press, history):
    plugin = make_plugin(timezone="Europe/Berlin")
    first = await command_reply(plugin, now=NOW, user_id=BOB.id)
    assert isinstance(first, PhotoReply)
    assert labels(first) == [["7 days", "• 30 days", "1 year", "All"], ["Me", "• Everyone"]]
    everything = await press(plugin, first, "All", user_id=BOB.id, now=NOW)
    assert isinstance(everything, PhotoReply)
    assert everything.png == (await command_reply(plugin, "all", now=NOW, user_id=BOB.id)).png
    assert everything.caption.startswith("8 messages")
    mine = await press(plugin, everything, "Me", user_id=BOB.id, now=NOW)
    assert mine.caption.startswith("4 messages")  # Bob's, all time
    assert labels(mine)[1] == ["• Me", "Everyone"]
    week = await press(plugin, mine, "7 days", user_id=BOB.id, now=NOW)
    assert (
        week.text
        == "No messages from @bob in the last 7 days, so there is no activity chart to draw."
    )
    assert labels(week)[0][0] == "• 7 days"  # a way back from an empty week


async def test_the_picture_is_a_phone_sized_png(make_plugin, command_reply, history):
    plugin = make_plugin(timezone="Europe/Berlin")
    reply = await command_reply(plugin, "all", now=NOW)
    assert isinstance(reply, PhotoReply)
    assert reply.caption.startswith("8 messages")
    with Image.open(io.BytesIO(reply.png)) as image:
        assert image.format == "PNG"
        assert image.width == 1080 and 900 <= image.height <= 1400
        # Not blank: the bars are drawn in the shared primary colour.
        colours = {c for _, c in image.convert("RGB").getcolors(1 << 20)}
        assert (227, 74, 51) in colours
    again = await command_reply(plugin, "all", now=NOW)
    assert again.png == reply.png  # deterministic


def test_joins_and_leaves_panel_makes_the_picture_taller(make_plugin) -> None:
    from datetime import date

    from tgstats.plugins import ActivityBucket

    buckets = [ActivityBucket(date(2026, 1, d), date(2026, 1, d + 1), d, 1) for d in (1, 2, 3)]
    base = ActivityPicture("T", "S", "6 messages", "day", buckets)
    flow = [MemberFlow(joins=2, leaves=0), MemberFlow(0, 1), MemberFlow(1, 1)]
    plain = Image.open(io.BytesIO(render_activity(base, width=600)))
    with_flow = Image.open(io.BytesIO(render_activity(attrs_evolve(base, flow=flow), width=600)))
    assert plain.width == with_flow.width == 600
    assert with_flow.height > plain.height
    with pytest.raises(ValueError, match="no buckets"):
        render_activity(attrs_evolve(base, buckets=[]))


def attrs_evolve(picture: ActivityPicture, **changes: object) -> ActivityPicture:
    import attrs

    return attrs.evolve(picture, **changes)


def test_bucket_unit_and_change_text() -> None:
    config = ActivityConfig()
    assert [bucket_unit(n, config) for n in (1, 92, 93, 730, 731)] == [
        "day",
        "day",
        "week",
        "week",
        "month",
    ]
    assert change_text(112, 100) == "+12 %"
    assert change_text(95, 100) == "−5 %"
    assert change_text(1001, 1000) == "±0 %"
    assert change_text(3, 0) == "new"
    assert change_text(0, 4) == "−100 %"


def test_config_is_checked(make_plugin) -> None:
    with pytest.raises(ConfigError, match="weekly_up_to: expected at least daily_up_to"):
        make_plugin(daily_up_to=100, weekly_up_to=50)
    with pytest.raises(ConfigError, match=r"width: expected 400\.\.4096 pixels, got 100"):
        make_plugin(width=100)
    with pytest.raises(ConfigError, match="timezone"):
        make_plugin(timezone="Mars/Olympus")


async def test_only_messages_dated_after_today_give_text(make_plugin, command_reply, store, chat):
    # A clock far ahead of the bot's: nothing to draw up to today.
    fill_store(store, [make_message(chat, ALICE, "from the future", date="2026-11-05T10:00:00Z")])
    reply = await command_reply(make_plugin(), "all", now=NOW)
    assert reply.text == "No messages yet, so there is no activity chart to draw."


async def test_joins_and_leaves_are_counted_into_the_local_day_buckets(
    store, make_plugin, make_context, history
):
    from tgstats.testing import make_chat_member

    dave = make_user(4, "Dave")
    # Berlin days: 24 Oct (CEST) and 1 Nov (CET); 2 Oct is before the period.
    for when, old, new, who in [
        ("2026-10-02T21:00:00Z", "left", "member", dave),  # Berlin 2 Oct 23:00: outside
        ("2026-10-24T21:59:00Z", "left", "member", dave),  # Berlin 24 Oct 23:59
        ("2026-10-31T23:30:00Z", "member", "left", dave),  # Berlin 1 Nov 00:30
        ("2026-11-01T10:00:00Z", "left", "member", CAROL),
    ]:
        store.record_member_changes(make_chat_member(history, who, old=old, new=new, date=when))
    plugin = make_plugin(timezone="Europe/Berlin")
    data = plugin.compute(make_context(now=NOW))
    assert isinstance(data, Activity) and data.flow is not None
    by_day = {
        b.start.isoformat(): (f.joins, f.leaves)
        for b, f in zip(data.buckets, data.flow, strict=True)
        if f.joins or f.leaves
    }
    assert by_day == {"2026-10-24": (1, 0), "2026-11-01": (1, 1)}
    # One member's chart has no member panel.
    alone = plugin.compute(make_context("@alice", now=NOW))
    assert isinstance(alone, Activity) and alone.flow is None


async def test_russian(make_plugin, command_reply, history, tmp_path):
    plugin = make_plugin(timezone="Europe/Berlin")
    reply = await command_reply(plugin, now=NOW, language="ru")
    assert isinstance(reply, PhotoReply)
    (tmp_path / "activity-ru.png").write_bytes(reply.png)
    assert reply.caption.splitlines() == [
        "5 сообщений, +150 % к предыдущим 30 дням (2)",
        "Самый активный день: вс 25 окт. 2026 (2 сообщения)",
        "За этот период писали 3 участника; не больше 2 за день",
    ]
    assert labels(reply) == [["7 дней", "• 30 дней", "1 год", "Всё"], ["Я", "• Все"]]
    # By month: the month stands alone ("октябрь", not "октября"), the unit's gender agrees.
    monthly = make_plugin(timezone="Europe/Berlin", daily_up_to=30, weekly_up_to=31)
    everything = await command_reply(monthly, "all", now=NOW, language="ru")
    assert everything.caption.splitlines() == [
        "8 сообщений",
        "Самый активный месяц: октябрь 2026 (4 сообщения)",
        "За этот период писали 3 участника; не больше 2 за месяц",
    ]
    (tmp_path / "activity-ru-months.png").write_bytes(everything.png)
    empty = await command_reply(plugin, "1", now="2027-06-01T12:00:00Z", language="ru")
    assert empty.text == "За последний день нет сообщений, поэтому график активности не построить."
