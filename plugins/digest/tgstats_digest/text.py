"""Every sentence the digest says, in one place, in the chat's language.

Each text is a whole sentence with named placeholders (a translator may
reorder them); numbers go through ``format_number`` and dates through
``format_date`` so they follow the language too.
"""

from __future__ import annotations

from datetime import date

from tgstats.plugins import _, format_date, format_number, ngettext

from tgstats_digest.numbers import Digest

__all__ = [
    "caption",
    "change_text",
    "empty_text",
    "members_active_text",
    "messages_text",
    "most_reacted_text",
    "new_members_text",
    "period_text",
    "weekday_label",
]

_QUOTE = 60  # characters of the most reacted message quoted in the caption
_NAME = 32  # characters of a chat or member name: the caption must stay under
# Telegram's 1,024 characters with its link at the end


def _cut(value: str, limit: int) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def messages_text(n: int) -> str:
    return ngettext("{n} message", "{n} messages", n).format(n=format_number(n))


def members_active_text(n: int) -> str:
    return ngettext("{n} member active", "{n} members active", n).format(n=format_number(n))


def new_members_text(n: int) -> str:
    return ngettext("{n} new member", "{n} new members", n).format(n=format_number(n))


def most_reacted_text(reactions: int) -> str:
    """``Most reacted (4 reactions):``; the quote and the link follow it."""
    count = ngettext("{n} reaction", "{n} reactions", reactions).format(n=format_number(reactions))
    return _("Most reacted ({reactions}):").format(reactions=count)


def weekday_label(day: date) -> str:
    """The short weekday name under a bar (``Mon``, ``пн``)."""
    return format_date(day, "EEE")


def change_text(current: int, previous: int) -> str:
    """``▲ +12 % vs the week before``; ``none the week before`` when there is nothing to compare."""
    if previous == 0:
        return _("none the week before")
    percent = round((current - previous) * 100 / previous)
    if percent == 0:
        return _("±0 % vs the week before")
    arrow, sign = ("▲", "+") if percent > 0 else ("▼", "−")
    return _("{arrow} {sign}{percent} % vs the week before").format(
        arrow=arrow, sign=sign, percent=format_number(abs(percent))
    )


def period_text(first: date, days: int, so_far: bool) -> str:
    last = date.fromordinal(first.toordinal() + days - 1)
    if days == 1:
        span = format_date(first, "dd MMM")
    else:
        span = f"{format_date(first, 'dd MMM')} – {format_date(last, 'dd MMM y')}"
    if so_far:
        return _("This week so far, {span}").format(span=span)
    return _("Week of {span}").format(span=span)


def empty_text(so_far: bool) -> str:
    if so_far:
        return _("No messages this week yet, so there is no digest to show.")
    return _("No messages last week, so there is no digest to show.")


def caption(digest: Digest, title: str, so_far: bool) -> str:
    """The short text under the picture: the numbers a reader wants without zooming in."""
    day, day_count = digest.busiest_day
    hour, hour_count = digest.busiest_hour
    period = period_text(digest.window.first_day, digest.window.days, so_far)
    change = change_text(digest.messages, digest.previous)
    if digest.previous:
        change = f"{change}, {format_number(digest.previous)}"
    lines = [
        f"{_cut(title, 2 * _NAME)} — {period[0].lower()}{period[1:]}",
        _("{messages} ({change}), {active}").format(
            messages=messages_text(digest.messages),
            change=change,
            active=members_active_text(digest.active_members),
        ),
        _("Busiest day: {day} ({day_count}); busiest hour: {hour}:00 ({hour_count})").format(
            day=format_date(day, "EEEE"),
            day_count=format_number(day_count),
            hour=f"{hour:02d}",
            hour_count=format_number(hour_count),
        ),
    ]
    if digest.top_members:
        names = ", ".join(
            f"{_cut(m.user.display_name, _NAME)} {format_number(m.messages)}"
            for m in digest.top_members[:3]
        )
        lines.append(_("Most active: {names}").format(names=names))
    if digest.top_words:
        words = ", ".join(word for word, _count in digest.top_words)
        lines.append(_("Top words: {words}").format(words=words))
    if digest.new_members:
        lines.append(_("New members: {n}").format(n=format_number(digest.new_members)))
    if digest.top_message is not None:
        quote = _cut(digest.top_message.text, _QUOTE)
        where = f" {digest.link}" if digest.link else ""
        said = f" “{quote}”" if quote else ""
        lines.append(f"{most_reacted_text(digest.top_message.reaction_count)}{said}{where}")
    return "\n".join(lines)
