"""Every sentence the card plugin says, in one place (to be wrapped for translation)."""

from __future__ import annotations

from tgstats.plugins import Period, UserInfo

WHOIS_USAGE = "Usage: /whois @user [N days | all], or send /whois in reply to their message"
PLAIN_USAGE = "Usage: /whois [N days | all] [@user]"
NO_SENDER = "I cannot tell who sent this, so there is no card to draw."
STALE = "This button is out of date; send the command again."
YOU_OPTED_OUT = (
    "You opted out of the statistics in this chat, so there is no card about you. "
    "Send /optin to be counted again."
)
NO_MESSAGES_FROM_YOU = "I have no messages from you in this chat."

# Labels drawn on the card.
MESSAGES = "Messages"
RANK = "Rank"
STREAK = "Longest streak"
REPLY_TIME = "Median reply time"
FIRST_SEEN = "First seen"
LAST_SEEN = "Last seen"
PEAK_HOURS = "When they write"
TOP_WORDS = "Top words"
EMOJI = "Favourite emoji"
REPLIES_TO = "Replies to most"
REPLIED_BY = "Replied to most by"
NONE = "none yet"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def name(user: UserInfo) -> str:
    return f"@{user.username}" if user.username else user.display_name


def plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def opted_out(user: UserInfo) -> str:
    # Opting out may have erased the name too: then the member is not named.
    who = name(user) if user.username or user.display_name else "This member"
    return f"{who} opted out of the statistics in this chat, so there is no card about them."


def unknown_member(username: str | None) -> str:
    if username is None:
        return "I have no messages from that member in this chat."
    return f"I have no messages from @{username} in this chat."


def excluded(user: UserInfo) -> str:
    return f"{name(user)} is left out of this chat's statistics by its admins."


def no_messages(user: UserInfo, period: Period) -> str:
    span = "yet" if period.days is None else f"in the {period.label}"
    return f"No messages from {name(user)} {span}, so there is no card to draw."
