"""The digest's numbers: which week, and what the store says about it.

Every count comes from an aggregating query of the SDK's ``MessageQueries``;
Python only picks maxima out of 7 days, 24 hours and a few hundred word rows.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs
from tgstats.plugins import MemberCount, MessageQueries, MessageRow

__all__ = ["Digest", "Window", "compute", "so_far_window", "week_before_window"]

# Longer "words" are pasted hashes, keys or keyboard mashing, not what a chat talks about.
_LONGEST = 30
# Pieces of links (the store drops whole links; a bare "www" or "com" is no topic).
_LINK_PIECES = frozenset({"http", "https", "www", "com", "org", "net"})


@attrs.frozen
class Window:
    """A digest's period and the one it is compared with, as UTC instants."""

    since: datetime
    until: datetime
    previous_since: datetime
    previous_until: datetime
    first_day: date  # local day ``since`` falls on
    days: int  # local days drawn (7 for a whole week, fewer so far)


@attrs.frozen
class Digest:
    window: Window
    messages: int
    previous: int
    active_members: int
    day_counts: list[tuple[date, int]]  # per local day of the window
    hour_counts: list[int]  # 24, local hours summed over the window
    top_members: list[MemberCount]
    top_words: list[tuple[str, int]]
    new_members: int
    top_message: MessageRow | None
    link: str | None  # https://t.me/USERNAME/ID where the chat has a username

    @property
    def busiest_day(self) -> tuple[date, int]:
        # Ties: the earlier day.
        return max(self.day_counts, key=lambda d: (d[1], -d[0].toordinal()))

    @property
    def busiest_hour(self) -> tuple[int, int]:
        hour = max(range(24), key=lambda h: (self.hour_counts[h], -h))
        return hour, self.hour_counts[hour]


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def so_far_window(now: datetime, zone: ZoneInfo) -> Window:
    """This week (Monday 00:00 local) up to ``now``, against the same stretch a week earlier.

    The stretch a week earlier ends at the same local wall-clock time, so a
    Wednesday-noon digest compares Monday..Wednesday noon with the same of
    the week before, across a DST change too.
    """
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    week_ago = datetime.combine(
        local.date() - timedelta(days=7), local.timetz().replace(tzinfo=None)
    )
    return Window(
        since=_midnight(monday, zone),
        until=now,
        previous_since=_midnight(monday - timedelta(days=7), zone),
        previous_until=week_ago.replace(tzinfo=zone),
        first_day=monday,
        days=local.weekday() + 1,
    )


def week_before_window(scheduled: datetime, zone: ZoneInfo) -> Window:
    """The 7 whole local days before the day of ``scheduled``, against the 7 before those."""
    day = scheduled.astimezone(zone).date()
    first = day - timedelta(days=7)
    return Window(
        since=_midnight(first, zone),
        until=_midnight(day, zone),
        previous_since=_midnight(first - timedelta(days=7), zone),
        previous_until=_midnight(first, zone),
        first_day=first,
        days=7,
    )


def compute(
    store: MessageQueries,
    chat_id: int,
    window: Window,
    zone: ZoneInfo,
    *,
    top_members: int,
    top_words: int,
    stopwords: frozenset[str],
) -> Digest | None:
    """The digest of ``window``, or None when nobody wrote in it."""
    since, until = window.since, window.until
    totals = store.activity_totals(chat_id, since=since, until=until)
    if totals.messages == 0:
        return None
    previous = store.activity_totals(
        chat_id, since=window.previous_since, until=window.previous_until
    )
    days = store.activity_timeline(chat_id, tz=zone, unit="day", since=since, until=until)
    grid = store.counts_by_weekday_hour(chat_id, tz=zone, since=since, until=until)
    members = [
        m
        for m in store.member_message_counts(chat_id, since=since, until=until)
        if not m.user.is_channel
    ]
    # Filtered and ranked by the store: stop words and all (tgstats.store.word_ranking).
    words = store.top_words(
        chat_id,
        since=since,
        until=until,
        min_length=3,
        max_length=_LONGEST,
        leave_out=stopwords | _LINK_PIECES,
        limit=top_words,
    )
    joins = sum(d.joins for d in store.member_changes(chat_id, tz=zone, since=since, until=until))
    reacted = store.top_reacted_messages(chat_id, since=since, until=until, limit=1)
    top = reacted[0] if reacted else None
    chat = store.chat(chat_id)
    link = None
    if top is not None and chat is not None and chat.username:
        link = f"https://t.me/{chat.username}/{top.message_id}"
    by_day = {b.start: b.messages for b in days}
    return Digest(
        window=window,
        messages=totals.messages,
        previous=previous.messages,
        active_members=totals.active_members,
        day_counts=[
            (
                window.first_day + timedelta(days=i),
                by_day.get(window.first_day + timedelta(days=i), 0),
            )
            for i in range(window.days)
        ],
        hour_counts=[sum(row[hour] for row in grid) for hour in range(24)],
        top_members=members[:top_members],
        top_words=[(w.word, w.count) for w in words],
        new_members=joins,
        top_message=top,
        link=link,
    )
