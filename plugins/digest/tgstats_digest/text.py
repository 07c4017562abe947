"""Every sentence the digest says, in one place (to be wrapped for translation later)."""

from __future__ import annotations

from datetime import date

from tgstats_digest.numbers import Digest

__all__ = ["caption", "change_text", "empty_text", "period_text", "plural"]

_QUOTE = 60  # characters of the most reacted message quoted in the caption
_NAME = 32  # characters of a chat or member name: the caption must stay under
# Telegram's 1,024 characters with its link at the end


def _cut(value: str, limit: int) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def change_text(current: int, previous: int) -> str:
    """``▲ +12 % vs the week before``; ``none the week before`` when there is nothing to compare."""
    if previous == 0:
        return "none the week before"
    percent = round((current - previous) * 100 / previous)
    if percent == 0:
        return "±0 % vs the week before"
    arrow, sign = ("▲", "+") if percent > 0 else ("▼", "−")
    return f"{arrow} {sign}{abs(percent)} % vs the week before"


def period_text(first: date, days: int, so_far: bool) -> str:
    last = date.fromordinal(first.toordinal() + days - 1)
    span = f"{first:%d %b}" if days == 1 else f"{first:%d %b} – {last:%d %b %Y}"
    return f"This week so far, {span}" if so_far else f"Week of {span}"


def empty_text(so_far: bool) -> str:
    when = "this week yet" if so_far else "last week"
    return f"No messages {when}, so there is no digest to show."


def caption(digest: Digest, title: str, so_far: bool) -> str:
    """The short text under the picture: the numbers a reader wants without zooming in."""
    day, day_count = digest.busiest_day
    hour, hour_count = digest.busiest_hour
    period = period_text(digest.window.first_day, digest.window.days, so_far)
    lines = [
        f"{_cut(title, 2 * _NAME)} — {period[0].lower()}{period[1:]}",
        f"{plural(digest.messages, 'message')} ({change_text(digest.messages, digest.previous)}"
        f"{'' if digest.previous == 0 else f', {digest.previous:,}'}), "
        f"{plural(digest.active_members, 'member')} active",
        f"Busiest day: {day:%A} ({day_count:,}); busiest hour: {hour:02d}:00 ({hour_count:,})",
    ]
    if digest.top_members:
        names = ", ".join(
            f"{_cut(m.user.display_name, _NAME)} {m.messages:,}" for m in digest.top_members[:3]
        )
        lines.append(f"Most active: {names}")
    if digest.top_words:
        lines.append("Top words: " + ", ".join(word for word, _ in digest.top_words))
    if digest.new_members:
        lines.append(f"New members: {digest.new_members:,}")
    if digest.top_message is not None:
        quote = _cut(digest.top_message.text, _QUOTE)
        reactions = plural(digest.top_message.reaction_count, "reaction")
        where = f" {digest.link}" if digest.link else ""
        said = f" “{quote}”" if quote else ""
        lines.append(f"Most reacted ({reactions}):{said}{where}")
    return "\n".join(lines)
