"""Period buttons (7 days, 30 days, 1 year, all) and a "me / everyone" toggle for analytics replies.

The shipped plugins put the same keyboard under ``/heatmap``, ``/wordcloud``
and ``/engagement``; a press re-runs the command for the period it names and
the host edits the message in place.  The payload is ``DAYS:WHO``: ``DAYS`` a
number or ``all``, ``WHO`` ``all`` (everyone), ``me`` (whoever presses) or a
member's user id (the member the message shows, so changing the period of
"Alice's heatmap" keeps it Alice's whoever presses).
"""

from __future__ import annotations

import re
from datetime import UTC, tzinfo

from tgstats.plugins._api import TextReply
from tgstats.plugins._buttons import Button, ButtonContext, Keyboard
from tgstats.plugins._i18n import N_, host_gettext
from tgstats.plugins._periods import MAX_DAYS, Period, period_start

__all__ = ["PERIOD_CHOICES", "period_buttons", "resolve_button_period"]

# (days, label); None = all history.  Labels are English msgids, translated when drawn.
PERIOD_CHOICES: tuple[tuple[int | None, str], ...] = (
    (7, N_("7 days")),
    (30, N_("30 days")),
    (365, N_("1 year")),
    (None, N_("All")),
)
_CURRENT = "• "  # marks the choice the message shows now
STALE_TEXT = N_("This button is out of date; send the command again.")
# ASCII digits only (str.isdecimal takes any script's), and ids that fit 64 bits.
_DAYS = re.compile(r"[0-9]{1,5}")
_USER_ID = re.compile(r"-?[0-9]{1,18}")


def _days(days: int | None) -> str:
    return "all" if days is None else str(days)


def _label(text: str, current: bool) -> str:
    text = host_gettext(text)
    return f"{_CURRENT}{text}" if current else text


def period_buttons(
    handler: str, period: Period, *, viewer: int | None = None, who_toggle: bool = False
) -> Keyboard:
    """The period row (and with ``who_toggle`` a "Me" / "Everyone" row) for ``period``.

    ``viewer`` is who asked for this message (the sender of the command or the
    presser): "Me" is marked when the message shows that member.
    """
    who = "all" if period.user is None else str(period.user.user_id)
    rows = [
        tuple(
            Button(_label(label, days == period.days), handler, f"{_days(days)}:{who}")
            for days, label in PERIOD_CHOICES
        )
    ]
    if who_toggle:
        span = _days(period.days)
        mine = period.user is not None and period.user.user_id == viewer
        rows.append(
            (
                Button(_label(N_("Me"), mine), handler, f"{span}:me"),
                Button(_label(N_("Everyone"), period.user is None), handler, f"{span}:all"),
            )
        )
    return tuple(rows)


def resolve_button_period(ctx: ButtonContext, *, zone: tzinfo = UTC) -> Period | TextReply:
    """The :class:`Period` a :func:`period_buttons` press asks for, or the text to show instead.

    "Me" is the member who pressed.  Days are counted like :func:`resolve_period`,
    in the chat's own time zone if its admins set one (else ``zone``).
    """
    zone = ctx.settings.zone(zone)
    days_text, sep, who = ctx.payload.partition(":")
    if not sep:
        return TextReply(host_gettext(STALE_TEXT))
    days: int | None
    if days_text == "all":
        days = None
    elif _DAYS.fullmatch(days_text) and 1 <= int(days_text) <= MAX_DAYS:
        days = int(days_text)
    else:
        return TextReply(host_gettext(STALE_TEXT))
    user = None
    if who == "me":
        if ctx.user_id is None:
            return TextReply(host_gettext(STALE_TEXT))
        user = ctx.store.member(ctx.chat_id, ctx.user_id)
        if user is None:
            return TextReply(host_gettext("I have no messages from you in this chat."))
    elif who != "all":
        if not _USER_ID.fullmatch(who):
            return TextReply(host_gettext(STALE_TEXT))
        user = ctx.store.member(ctx.chat_id, int(who))
        if user is None:
            return TextReply(
                host_gettext("I have no messages from that member in this chat any more.")
            )
    since = None if days is None else period_start(ctx.now, days, zone)
    return Period(since=since, until=None, days=days, user=user)
