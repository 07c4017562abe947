"""One member's statistics (store/member_queries.py), exact numbers on SQLite and PostgreSQL.

The history crosses Berlin's return to CET (25 Oct 2026, 01:00 UTC): the
same messages fall on other local days in Berlin than in UTC, which changes
the streak and the active days.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
import telegram
from telegram import MessageEntity
from tgstats.plugins import ActiveStreak, EmojiCount, ReplyTiming, UserInfo
from tgstats.store import Store
from tgstats.testing import (
    fill_store,
    make_channel,
    make_chat,
    make_message,
    make_reaction,
    make_user,
    utc,
)

CHAT = make_chat(-100720, "Book club")
ALICE = make_user(1, "Alice", username="alice")
BOB = make_user(2, "Bob", username="bob")
CAROL = make_user(3, "Carol")
DAVE = make_user(4, "Dave", username="dave")
NEWS = make_channel(-100999, "News channel")
BERLIN = ZoneInfo("Europe/Berlin")
UTC_ZONE = ZoneInfo("UTC")


def msg(sender, when, text="x", **kw):
    return make_message(CHAT, sender, text, date=when, **kw)


SENT: dict[str, object] = {}


@pytest.fixture
def club(store: Store) -> Store:
    a1 = msg(ALICE, "2026-10-23T21:30:00Z", "Coffee coffee tea 😀")  # Berlin Fri 23 Oct 23:30
    b1 = msg(BOB, "2026-10-23T21:40:00Z", "coffee!", reply_to=a1)  # 600 s after a1
    a2 = msg(ALICE, "2026-10-24T22:30:00Z")  # Berlin Sun 25 Oct 00:30 CEST; UTC 24 Oct
    a3 = msg(ALICE, "2026-10-25T01:30:00Z", reply_to=b1)  # 02:30 CET, 100,200 s after b1
    a4 = msg(ALICE, "2026-10-26T22:59:00Z")  # Berlin Mon 26 Oct 23:59 CET
    c1 = msg(CAROL, "2026-10-28T09:00:00Z", "hello")
    SENT.update(a1=a1, b1=b1, a4=a4, c1=c1)
    fill_store(
        store,
        [
            a1,
            b1,
            msg(CAROL, "2026-10-24T00:00:00Z", reply_to=a1),  # Carol -> Alice
            a2,
            a3,
            a4,
            msg(BOB, "2026-10-27T06:00:00Z", reply_to=a4),  # Bob -> Alice, 25,260 s
            c1,
            msg(ALICE, "2026-10-28T09:02:00Z", reply_to=c1),  # Alice -> Carol, 120 s
            msg(BOB, "2026-10-28T09:10:00Z", reply_to=c1),  # Bob -> Carol, 600 s
            msg(ALICE, "2026-10-28T10:00:00Z", None, media="sticker"),  # Berlin Wed 11:00
            # A command: stored, not counted (nor a reply anyone wrote).
            msg(
                ALICE,
                "2026-10-28T11:00:00Z",
                "/me",
                entities=[MessageEntity("bot_command", 0, 3)],
                reply_to=c1,
            ),
            msg(NEWS, "2026-10-28T12:00:00Z", "digest"),  # a channel: counted, not ranked
        ],
    )
    return store


def test_standing_counts_share_rank_and_first_last(club: Store) -> None:
    q = club.queries
    alice = q.member_standing(CHAT.id, ALICE.id)
    assert (alice.messages, alice.chat_messages) == (6, 12)
    assert (alice.rank, alice.ranked_members) == (1, 3)  # the channel is not a member
    assert alice.first == utc("2026-10-23T21:30:00Z")
    assert alice.last == utc("2026-10-28T10:00:00Z")
    assert q.member_media_counts(CHAT.id, ALICE.id) == {"sticker": 1}
    assert q.member_media_counts(CHAT.id, ALICE.id, since=utc("2026-10-28T10:00:01Z")) == {}
    bob = q.member_standing(CHAT.id, BOB.id)
    assert (bob.messages, bob.rank) == (3, 2)
    news = q.member_standing(CHAT.id, NEWS.id)
    assert (news.messages, news.rank) == (1, None)
    # A period: Berlin's last 7 days on 1 Nov start at 26 Oct 00:00 CET (25 Oct 23:00 UTC).
    week = q.member_standing(CHAT.id, ALICE.id, since=utc("2026-10-25T23:00:00Z"))
    assert (week.messages, week.chat_messages, week.rank) == (3, 7, 1)
    nobody = q.member_standing(CHAT.id, 99)
    assert (nobody.messages, nobody.rank, nobody.first) == (0, None, None)


def test_streak_is_counted_in_local_days(club: Store) -> None:
    q = club.queries
    # Berlin: 23, 25, 26 and 28 Oct (a2 at 00:30 CEST is the 25th there).
    assert q.member_streak(CHAT.id, ALICE.id, tz=BERLIN) == ActiveStreak(
        active_days=4, longest=2, start=date(2026, 10, 25), end=date(2026, 10, 26)
    )
    # UTC: 23, 24, 25, 26 and 28 Oct.
    assert q.member_streak(CHAT.id, ALICE.id, tz=UTC_ZONE) == ActiveStreak(
        active_days=5, longest=4, start=date(2026, 10, 23), end=date(2026, 10, 26)
    )
    # Ties go to the latest run: 26 and 28 Oct are one day each.
    assert q.member_streak(
        CHAT.id, ALICE.id, tz=BERLIN, since=utc("2026-10-25T23:00:00Z")
    ) == ActiveStreak(active_days=2, longest=1, start=date(2026, 10, 28), end=date(2026, 10, 28))
    assert q.member_streak(CHAT.id, 99, tz=BERLIN) == ActiveStreak(0, 0, None, None)


def test_median_reply_time_in_sql(club: Store) -> None:
    q = club.queries
    # Alice: 100,200 s (to Bob) and 120 s (to Carol); the command reply does not count.
    assert q.member_reply_timing(CHAT.id, ALICE.id) == ReplyTiming(2, 50_160.0)
    # Bob: 600, 25,260 and 600 s: the middle one.
    assert q.member_reply_timing(CHAT.id, BOB.id) == ReplyTiming(3, 600.0)
    assert q.member_reply_timing(CHAT.id, BOB.id, since=utc("2026-10-27T00:00:00Z")) == ReplyTiming(
        2, 12_930.0
    )
    assert q.member_reply_timing(CHAT.id, NEWS.id) == ReplyTiming(0, None)


def test_reply_partners_both_ways_without_opted_out_members(club: Store) -> None:
    q = club.queries
    partners = q.member_reply_partners(CHAT.id, ALICE.id)
    assert [(p.user.user_id, p.replies) for p in partners.replies_to] == [(2, 1), (3, 1)]
    assert [(p.user.user_id, p.replies) for p in partners.replied_by] == [(2, 2), (3, 1)]
    assert partners.replied_by[0].user.username == "bob"
    assert [
        (p.user.user_id, p.replies)
        for p in q.member_reply_partners(CHAT.id, ALICE.id, limit=1).replied_by
    ] == [(2, 2)]
    # Dave replies to Alice twice, then opts out: gone from her card.
    fill_store(
        club,
        [
            msg(DAVE, "2026-10-29T10:00:00Z", reply_to=SENT["a1"]),
            msg(DAVE, "2026-10-29T10:01:00Z", reply_to=SENT["a4"]),
        ],
    )
    replied_by = q.member_reply_partners(CHAT.id, ALICE.id).replied_by
    assert [(p.user.user_id, p.replies) for p in replied_by] == [(2, 2), (4, 2), (3, 1)]
    assert q.opted_out_member(CHAT.id, user_id=DAVE.id) is None
    club.opt_out(CHAT.id, DAVE.id)
    assert [p.user.user_id for p in q.member_reply_partners(CHAT.id, ALICE.id).replied_by] == [2, 3]
    # The erasure took Dave's name too (he wrote nowhere else): only his id finds him.
    assert q.opted_out_member(CHAT.id, user_id=DAVE.id) == UserInfo(4, None, "")
    assert q.opted_out_member(CHAT.id, username="@DAVE") is None
    # Bob opts out too; he keeps a users row (a message in another chat): found by name.
    fill_store(club, [make_message(make_chat(-100721, "Other"), BOB, "hi")])
    club.opt_out(CHAT.id, BOB.id)
    assert q.opted_out_member(CHAT.id, username="@BOB").user_id == BOB.id
    assert q.opted_out_member(-100721, username="bob") is None
    assert q.opted_out_member(CHAT.id, username="alice") is None


def test_reaction_emoji_and_recent_texts(club: Store) -> None:
    for name, emoji, when in (
        ("b1", ["👍"], "2026-10-24T08:00:00Z"),
        ("a4", ["👍", "❤"], "2026-10-27T08:00:00Z"),
        ("c1", ["❤"], "2026-10-28T09:30:00Z"),
    ):
        message_id = SENT[name].message_id  # type: ignore[attr-defined]
        club.record_reaction(make_reaction(CHAT, message_id, ALICE, new=emoji, date=when))
    q = club.queries
    assert q.member_reaction_emoji(CHAT.id, ALICE.id) == [EmojiCount("❤", 2), EmojiCount("👍", 2)]
    assert q.member_reaction_emoji(CHAT.id, ALICE.id, since=utc("2026-10-28T00:00:00Z")) == [
        EmojiCount("❤", 1)
    ]
    assert q.member_recent_texts(CHAT.id, ALICE.id, limit=2) == ["x", "x"]
    assert q.member_recent_texts(CHAT.id, ALICE.id)[-1] == "Coffee coffee tea 😀"
    assert len(q.member_recent_texts(CHAT.id, ALICE.id, limit=10**9)) == 5  # no sticker text


def test_the_card_reads_the_aggregates_and_agrees_with_the_messages(club: Store) -> None:
    # A period on the 15-minute grid is answered from agg_activity/agg_replies,
    # one a second off it from the messages: both must give the same card.
    robot = telegram.User(id=77, first_name="Helper bot", is_bot=True)
    answer = msg(robot, "2026-10-28T13:00:00Z", "a chart")  # a bot's message: not counted
    fill_store(club, [answer, msg(ALICE, "2026-10-28T13:05:00Z", "thanks", reply_to=answer)])
    q = club.queries
    on_grid, off_grid = utc("2026-10-23T00:00:00Z"), utc("2026-10-23T00:00:01Z")
    for since in (None, on_grid, off_grid):
        partners = q.member_reply_partners(CHAT.id, ALICE.id, since=since)
        # Alice's reply to the bot is counted, but a bot is nobody's partner.
        assert [(p.user.user_id, p.replies) for p in partners.replies_to] == [(2, 1), (3, 1)]
        assert [(p.user.user_id, p.replies) for p in partners.replied_by] == [(2, 2), (3, 1)]
        standing = q.member_standing(CHAT.id, ALICE.id, since=since)
        assert (standing.messages, standing.rank, standing.ranked_members) == (7, 1, 3)
        streak = q.member_streak(CHAT.id, ALICE.id, tz=BERLIN, since=since)
        assert (streak.active_days, streak.longest) == (4, 2)  # Fri 23; Sun 25-Mon 26; Wed 28
