"""The numbers on a member card, asked of the store, and the words that show them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

import attrs
from tgstats.plugins import (
    ActiveStreak,
    MemberPartners,
    MemberStanding,
    MemberStickers,
    MessageQueries,
    Period,
    ReplyTiming,
    TextReply,
    UserInfo,
    _,
    format_date,
    format_number,
    ngettext,
)

from tgstats_profile import texts
from tgstats_profile.words import LONGEST_WORD, count_emoji, stop_words

__all__ = ["Card", "Tile", "build_card", "duration_text"]

TOP_WORDS = 8
TOP_EMOJI = 6
TOP_STICKERS = 5
TOP_PARTNERS = 3


@attrs.frozen
class Tile:
    """One number on the card: a label, the value in large type, a muted line under it."""

    label: str
    value: str
    note: str


@attrs.frozen
class Card:
    """Everything the picture shows (tests check these exactly)."""

    title: str  # the member
    subtitle: str  # chat · period · zone
    user: UserInfo
    standing: MemberStanding
    streak: ActiveStreak
    timing: ReplyTiming
    partners: MemberPartners
    hours: list[list[int]]  # 7 x 24, Monday first, in the chat's zone
    words: list[tuple[str, int]]
    emoji: list[tuple[str, int]]  # in texts and reactions given, together
    stickers: MemberStickers  # how many, and the emoji of the favourite ones
    tiles: list[Tile]
    caption: str


def build_card(
    store: MessageQueries,
    *,
    chat_id: int,
    chat_title: str,
    user: UserInfo,
    period: Period,
    zone: ZoneInfo,
    text_sample: int,
    languages: tuple[str, ...],
) -> Card | TextReply:
    since, until, uid = period.since, period.until, user.user_id
    span = {"since": since, "until": until}
    # The queries are independent and each waits on the database (which
    # releases the GIL, and on PostgreSQL runs in its own server process):
    # side by side they take as long as the slowest, not the sum.
    # (An empty period costs little: every query is an index probe that finds nothing.)
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="member-card") as pool:
        standing_f = pool.submit(store.member_standing, chat_id, uid, **span)
        streak_f = pool.submit(store.member_streak, chat_id, uid, tz=zone, **span)
        timing_f = pool.submit(store.member_reply_timing, chat_id, uid, **span)
        partners_f = pool.submit(
            store.member_reply_partners, chat_id, uid, limit=TOP_PARTNERS, **span
        )
        hours_f = pool.submit(store.counts_by_weekday_hour, chat_id, tz=zone, user_id=uid, **span)
        stickers_f = pool.submit(store.member_stickers, chat_id, uid, limit=TOP_STICKERS, **span)
        reactions_f = pool.submit(
            store.member_reaction_emoji, chat_id, uid, limit=TOP_EMOJI * 2, **span
        )
        # Words from the store's word counts (the member's spans and days:
        # exact over the period); emoji from a bounded sample of their texts.
        words_f = pool.submit(
            lambda: store.top_words(
                chat_id,
                user_id=uid,
                min_length=3,
                max_length=LONGEST_WORD,
                leave_out=stop_words(tuple(languages)),
                limit=TOP_WORDS,
                since=since,
                until=until,
            )
        )
        sample = store.member_recent_texts(chat_id, uid, limit=text_sample, **span)
        text_emoji = count_emoji(sample, TOP_EMOJI * 2)
        words = [(w.word, w.count) for w in words_f.result()]
        standing = standing_f.result()
        streak, timing, partners = streak_f.result(), timing_f.result(), partners_f.result()
        hours, stickers = hours_f.result(), stickers_f.result()
        reaction_emoji = [(e.emoji, e.count) for e in reactions_f.result()]
    if standing.messages == 0:
        return TextReply(texts.no_messages(user, period))
    emoji = _merge(text_emoji, reaction_emoji)[:TOP_EMOJI]
    tiles = _tiles(standing, stickers.stickers, streak, timing, zone)
    subtitle = f"{chat_title} · {period.label.capitalize()} · {zone.key}"
    return Card(
        title=_title(user),
        subtitle=subtitle,
        user=user,
        standing=standing,
        streak=streak,
        timing=timing,
        partners=partners,
        hours=hours,
        words=words,
        emoji=emoji,
        stickers=stickers,
        tiles=tiles,
        caption=_caption(user, standing, period, emoji, stickers),
    )


def _merge(*lists: list[tuple[str, int]]) -> list[tuple[str, int]]:
    totals: dict[str, int] = {}
    for items in lists:
        for key, n in items:
            totals[key] = totals.get(key, 0) + n
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))


def _title(user: UserInfo) -> str:
    if user.username and user.display_name:
        return f"{user.display_name} (@{user.username})"
    return texts.name(user)


def share_text(part: int, whole: int) -> str:
    """``12.3 % of the chat``; one decimal, ``<0.1 %`` rather than a misleading 0."""
    if whole <= 0:
        return ""
    share = part * 100 / whole
    if 0 < share < 0.1:
        return _("<{share} % of the chat").format(share=format_number(0.1, 1))
    return _("{share} % of the chat").format(share=format_number(share, 1))


def duration_text(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3.5 h``, ``2.1 days``."""
    if seconds < 90:
        return _("{n} s").format(n=format_number(round(seconds)))
    if seconds < 90 * 60:
        return _("{n} min").format(n=format_number(round(seconds / 60)))
    if seconds < 48 * 3600:
        return _("{n} h").format(n=format_number(seconds / 3600, 1))
    return _("{n} days").format(n=format_number(seconds / 86400, 1))


def _when(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return "—"
    return format_date(moment.astimezone(zone).date(), "dd MMM y")


def _tiles(
    standing: MemberStanding,
    stickers: int,
    streak: ActiveStreak,
    timing: ReplyTiming,
    zone: ZoneInfo,
) -> list[Tile]:
    rank = (
        Tile(
            _(texts.RANK),
            f"#{standing.rank}",
            ngettext("of {n} member", "of {n} members", standing.ranked_members).format(
                n=format_number(standing.ranked_members)
            ),
        )
        if standing.rank is not None
        else Tile(_(texts.RANK), "—", _("a channel: not ranked"))
    )
    span = _day_span(streak)
    if timing.median_seconds is not None:
        reply = Tile(
            _(texts.REPLY_TIME),
            duration_text(timing.median_seconds),
            ngettext("over {n} reply", "over {n} replies", timing.replies).format(
                n=format_number(timing.replies)
            ),
        )
    else:
        reply = Tile(_(texts.REPLY_TIME), "—", _("no replies to others"))
    sticker_note = ""
    if stickers:
        sticker_note = ", " + ngettext("{n} sticker", "{n} stickers", stickers).format(
            n=format_number(stickers)
        )
    return [
        Tile(
            _(texts.MESSAGES),
            format_number(standing.messages),
            share_text(standing.messages, standing.chat_messages) + sticker_note,
        ),
        rank,
        Tile(
            _(texts.STREAK),
            ngettext("{n} day", "{n} days", streak.longest).format(n=format_number(streak.longest)),
            span,
        ),
        reply,
        Tile(
            _(texts.FIRST_SEEN),
            _when(standing.first, zone),
            ngettext("{n} active day since", "{n} active days since", streak.active_days).format(
                n=format_number(streak.active_days)
            ),
        ),
        Tile(_(texts.LAST_SEEN), _when(standing.last, zone), ""),
    ]


def _day_span(streak: ActiveStreak) -> str:
    """``28 Oct 2026``, ``25–26 Oct 2026``, ``30 Oct – 2 Nov 2026``: short enough for a tile."""
    start, end = streak.start, streak.end
    if start is None or end is None:
        return ""
    if start == end:
        return format_date(end, "d MMM y")
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{format_date(end, 'd MMM y')}"
    if start.year == end.year:
        return f"{format_date(start, 'd MMM')} – {format_date(end, 'd MMM y')}"
    return f"{format_date(start, 'd MMM y')} – {format_date(end, 'd MMM y')}"


def sticker_text(emoji: str, count: int) -> str:
    """``😂 ×120``: a favourite sticker's emoji and how many times it was sent."""
    return f"{emoji} ×{format_number(count)}"


def _caption(
    user: UserInfo,
    standing: MemberStanding,
    period: Period,
    emoji: list[tuple[str, int]],
    stickers: MemberStickers,
) -> str:
    lines = [
        _("{who}: {messages} ({share}), {period}").format(
            who=texts.name(user),
            messages=texts.messages(standing.messages),
            share=share_text(standing.messages, standing.chat_messages),
            period=period.label,
        )
    ]
    if emoji:
        # Telegram draws every emoji in a caption; the picture's font cannot draw them all.
        lines.append(
            _("{label}: {emoji}").format(
                label=_(texts.EMOJI), emoji=" ".join(e for e, _count in emoji)
            )
        )
    if stickers.top:
        lines.append(
            _("{label}: {emoji}").format(
                label=_(texts.STICKERS),
                emoji="  ".join(sticker_text(s.emoji, s.count) for s in stickers.top),
            )
        )
    return "\n".join(lines)
