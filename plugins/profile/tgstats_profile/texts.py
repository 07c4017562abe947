"""Every sentence the card plugin says, in one place, in the chat's language.

Module-level labels are marked with ``N_`` and translated with ``_()`` where
they are drawn (the language is only known while a command is answered).
"""

from __future__ import annotations

from datetime import date, timedelta

from tgstats.plugins import N_, Period, UserInfo, _, format_date, format_number, ngettext

WHOIS_USAGE = N_("Usage: /whois @user [N days | all], or send /whois in reply to their message")
NO_SENDER = N_("I cannot tell who sent this, so there is no card to draw.")
STALE = N_("This button is out of date; send the command again.")
YOU_OPTED_OUT = N_(
    "You opted out of the statistics in this chat, so there is no card about you. "
    "Send /optin to be counted again."
)
NO_MESSAGES_FROM_YOU = N_("I have no messages from you in this chat.")

# Labels drawn on the card.
MESSAGES = N_("Messages")
RANK = N_("Rank")
STREAK = N_("Longest streak")
REPLY_TIME = N_("Median reply time")
FIRST_SEEN = N_("First seen")
LAST_SEEN = N_("Last seen")
PEAK_HOURS = N_("When they write")
TOP_WORDS = N_("Top words")
EMOJI = N_("Favourite emoji")
STICKERS = N_("Favourite stickers")
REPLIES_TO = N_("Replies to most")
REPLIED_BY = N_("Replied to most by")
NONE = N_("none yet")
MORE_IN_CAPTION = N_("more in the caption")

_MONDAY = date(2024, 1, 1)  # its week gives the weekday names in the reply's language


def weekdays() -> list[str]:
    """``Mon`` .. ``Sun`` (``пн`` .. ``вс``)."""
    return [format_date(_MONDAY + timedelta(days=i), "EEE") for i in range(7)]


def name(user: UserInfo) -> str:
    return f"@{user.username}" if user.username else user.display_name


def messages(n: int) -> str:
    return ngettext("{n} message", "{n} messages", n).format(n=format_number(n))


def opted_out(user: UserInfo) -> str:
    # Opting out may have erased the name too: then the member is not named.
    if user.username or user.display_name:
        return _(
            "{who} opted out of the statistics in this chat, so there is no card about them."
        ).format(who=name(user))
    return _(
        "This member opted out of the statistics in this chat, so there is no card about them."
    )


def unknown_member(username: str | None) -> str:
    if username is None:
        return _("I have no messages from that member in this chat.")
    return _("I have no messages from {who} in this chat.").format(who=f"@{username}")


def excluded(user: UserInfo) -> str:
    return _("{who} is left out of this chat's statistics by its admins.").format(who=name(user))


def no_messages(user: UserInfo, period: Period) -> str:
    if period.days is None:
        text = _("No messages from {who} yet, so there is no card to draw.")
    else:
        text = _("No messages from {who} in the {period}, so there is no card to draw.")
    return text.format(who=name(user), period=period.label)
