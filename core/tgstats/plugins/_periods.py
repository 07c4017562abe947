"""The ``[N days | all] [@user]`` arguments the analytics commands share.

Parsing is written once here so ``/heatmap``, ``/wordcloud`` and
``/engagement`` accept exactly the same spellings (``30``, ``30d``,
``30 days``, ``1 day``, ``all``, in any order with an optional ``@user``)
and answer bad input with the same short usage line.  The options behind
them are checked here too (``check_days``, ``check_zone``,
``check_chat_zones``), and ``chat_zones`` turns the zone options into a
chat id -> zone lookup.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from tgstats.plugins._api import CommandContext, TextReply
from tgstats.plugins._i18n import format_number, host_gettext, host_ngettext
from tgstats.store.queries import UserInfo

__all__ = [
    "MAX_ARGS",
    "MAX_DAYS",
    "MAX_WORD",
    "Period",
    "PeriodRequest",
    "PeriodUsageError",
    "chat_zones",
    "check_chat_zones",
    "check_days",
    "check_zone",
    "parse_period_args",
    "parse_zone",
    "period_start",
    "resolve_period",
]

# A century: large enough for any chat, small enough that now - N days never
# underflows datetime.min.
MAX_DAYS = 36_500

# What a period may look like, checked before any conversion: Python's int()
# refuses numbers past 4,300 digits with an error no user should see, and a
# reply must never quote a huge argument back.  A period and a @user fit in
# three words ("30 days @user"); a word longer than a @username is no period.
MAX_ARGS = 3
MAX_WORD = 65  # "@" and Telegram's longest username
_MAX_DIGITS = len(str(MAX_DAYS)) + 1  # one more, so "100000" still says "between 1 and ..."

_NUMBER = re.compile(r"(\d+)\s*(d|day|days)?", re.IGNORECASE)
_UNIT = re.compile(r"d|day|days", re.IGNORECASE)
_USERNAME = re.compile(r"@?[A-Za-z0-9_]{1,64}")


class PeriodUsageError(ValueError):
    """Bad arguments; ``str(error)`` is the reply for the user."""


@attrs.frozen
class PeriodRequest:
    """What the user asked for, before looking anything up in the store."""

    days: int | None  # None means all history
    username: str | None  # without the '@'


@attrs.frozen
class Period:
    """A resolved request: the time window and, optionally, one member."""

    since: datetime | None  # inclusive; None = unbounded
    until: datetime | None  # exclusive; None = unbounded
    days: int | None
    user: UserInfo | None = None

    @property
    def label(self) -> str:
        """``last 30 days`` / ``last day`` / ``all time``."""
        if self.days is None:
            return host_gettext("all time")
        if self.days == 1:
            return host_gettext("last day")
        return host_ngettext("last {n} day", "last {n} days", self.days).format(
            n=format_number(self.days)
        )

    @property
    def user_label(self) -> str | None:
        if self.user is None:
            return None
        return f"@{self.user.username}" if self.user.username else self.user.display_name


def usage(command: str, *, allow_user: bool = True) -> str:
    command = command.lstrip("/")
    if allow_user:
        return host_gettext("Usage: /{command} [N days | all] [@user]").format(command=command)
    return host_gettext("Usage: /{command} [N days | all]").format(command=command)


def parse_period_args(
    args: tuple[str, ...] | list[str],
    *,
    command: str,
    default_days: int | None,
    allow_user: bool = True,
) -> PeriodRequest:
    """Parse the words after the command; raises :class:`PeriodUsageError`.

    Telegram splits arguments on spaces, so ``30 days`` arrives as two words
    and ``30d`` as one; both (and ``30``) mean the same.
    """
    if len(args) > MAX_ARGS * 4:  # before even looking at the words
        raise PeriodUsageError(usage(command, allow_user=allow_user))
    words = [w for w in args if w.strip()]
    if len(words) > MAX_ARGS or any(len(w) > MAX_WORD for w in words):
        raise PeriodUsageError(usage(command, allow_user=allow_user))
    days: int | None = default_days
    seen_period = False
    username: str | None = None
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("@"):
            if not allow_user or username is not None or not _USERNAME.fullmatch(word):
                raise PeriodUsageError(usage(command, allow_user=allow_user))
            username = word[1:]
            i += 1
            continue
        if seen_period:
            raise PeriodUsageError(usage(command, allow_user=allow_user))
        seen_period = True
        if word.lower() == "all":
            days = None
            i += 1
            continue
        match = _NUMBER.fullmatch(word)
        if match is None:
            raise PeriodUsageError(usage(command, allow_user=allow_user))
        if match.group(2) is None and i + 1 < len(words) and _UNIT.fullmatch(words[i + 1]):
            i += 1  # "30 days"
        digits = match.group(1)
        days = int(digits) if len(digits) <= _MAX_DIGITS else MAX_DAYS + 1
        if not 1 <= days <= MAX_DAYS:
            # A huge number is shown cut short: the reply stays small.
            shown = str(days) if len(digits) <= _MAX_DIGITS else digits[:8] + "…"
            raise PeriodUsageError(
                host_gettext("The period must be between 1 and {max} days, not {days}.").format(
                    max=MAX_DAYS, days=shown
                )
                + " "
                + usage(command, allow_user=allow_user)
            )
        i += 1
    return PeriodRequest(days=days, username=username)


def resolve_period(
    ctx: CommandContext,
    *,
    default_days: int | None,
    allow_user: bool = True,
    zone: tzinfo = UTC,
) -> Period | TextReply:
    """Parse ``ctx.args`` and look the member up; a TextReply is the answer to send instead.

    "The last N days" are calendar days in the chat's time zone ``zone``:
    today (up to ``now``) and the N - 1 days before it, so a count of active
    days over the period is at most N.  ``until`` stays unbounded: a message
    Telegram stamped a second after the bot's clock read ``now`` still belongs
    to today.

    The chat's own settings (``ctx.settings``) win over ``default_days`` and
    ``zone``, which are the plugin's options.
    """
    default_days = ctx.settings.days(default_days)
    zone = ctx.settings.zone(zone)
    try:
        request = parse_period_args(
            ctx.args, command=ctx.command, default_days=default_days, allow_user=allow_user
        )
    except PeriodUsageError as error:
        return TextReply(str(error))
    user = None
    if request.username is not None:
        user = ctx.store.find_user(ctx.chat_id, request.username)
        if user is None:
            return TextReply(
                host_gettext("I have no messages from @{username} in this chat.").format(
                    username=request.username
                )
            )
    since = None if request.days is None else period_start(ctx.now, request.days, zone)
    return Period(since=since, until=None, days=request.days, user=user)


def period_start(now: datetime, days: int, zone: tzinfo) -> datetime:
    """Midnight in ``zone`` that opens the last ``days`` calendar days up to ``now``."""
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    # Midnight of a local date, then back to UTC; a zone whose midnight is
    # skipped by a DST change resolves to the first existing instant.
    start = datetime.combine(first, time(0), tzinfo=zone)
    return start.astimezone(UTC)


def parse_zone(name: str, *, key: str) -> ZoneInfo:
    """An IANA zone by name; ValueError naming the config ``key`` if unknown."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(
            f"{key}: expected an IANA time zone name like 'Europe/Berlin', got {name!r}"
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(
            f"{key}: unknown IANA time zone {name!r} "
            "(expected a name like 'Europe/Berlin' or 'UTC')"
        ) from error


def check_days(_instance: Any, attribute: attrs.Attribute[int], value: int) -> None:
    """attrs validator for a ``days`` option (the period without arguments): 1..MAX_DAYS."""
    if not 1 <= value <= MAX_DAYS:
        raise ValueError(f"{attribute.name}: expected 1..{MAX_DAYS} days, got {value}")


def check_zone(_instance: Any, attribute: attrs.Attribute[str], value: str) -> None:
    """attrs validator for a ``timezone`` option: any IANA zone name."""
    parse_zone(value, key=attribute.name)


def check_chat_zones(
    _instance: Any, attribute: attrs.Attribute[dict[str, str]], value: dict[str, str]
) -> None:
    """attrs validator for ``chat_timezones``: ``{'-100123...': 'Europe/Berlin'}``."""
    for chat_id, zone in value.items():
        # YAML keys are strings here ("-1001234567890"); they must spell a chat id,
        # which has at most 20 characters (checked first: int() of a huge one raises).
        text = str(chat_id).strip()
        if not re.fullmatch(r"[-+]?[0-9]{1,19}", text):
            shown = repr(chat_id) if len(text) <= 40 else f"{text[:40]!r}..."
            raise ValueError(
                f"{attribute.name}: expected chat ids as keys (like '-1001234567890'), got {shown}"
            )
        parse_zone(zone, key=f"{attribute.name}.{chat_id}")


def chat_zones(timezone: str, chat_timezones: Mapping[str, str]) -> Callable[[int], ZoneInfo]:
    """Chat id -> zone, from options checked by :func:`check_zone` and :func:`check_chat_zones`."""
    default = ZoneInfo(timezone)
    zones = {int(chat_id): ZoneInfo(zone) for chat_id, zone in chat_timezones.items()}
    return lambda chat_id: zones.get(chat_id, default)
