"""Scheduled jobs: a plugin method the host runs in every chat at set local times.

``@schedule(weekly(day="mon", time="09:00"))`` on a method makes the host call
it in each chat the bot is in (where the plugin is enabled) every Monday at
09:00 in that chat's time zone, with a :class:`ScheduleContext`; the
:class:`~tgstats.plugins.Reply` it returns (or ``None``) is sent to the chat.

``@schedule(per_chat(rule_of))`` lets each chat choose: ``rule_of`` gets the
plugin's config as it applies in that chat (its ``/settings`` options) and
returns ``daily(...)``/``weekly(...)``, or None where the job is off.

A run missed while the bot was down runs once when it is back, however many
were missed; the last run per job and chat is kept in the store.  A job's
identity is its method name, so a reload keeps its history.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

import attrs

from tgstats.plugins._settings import ChatSettings

if TYPE_CHECKING:
    from tgstats.store.queries import MessageQueries

__all__ = [
    "Daily",
    "PerChat",
    "ScheduleContext",
    "ScheduleSpec",
    "Weekly",
    "daily",
    "per_chat",
    "schedule",
    "schedule_of",
    "weekly",
]

_SCHEDULE_ATTR = "__tgstats_schedule__"
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?")

F = TypeVar("F", bound=Callable[..., Any])


def _parse_time(value: str) -> time:
    match = _TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"schedule time: expected 'HH:MM' or 'HH:MM:SS' (24 h), found {value!r}")
    return time(int(match[1]), int(match[2]), int(match[3] or 0))


def _at(day: datetime, at: time, zone: ZoneInfo) -> datetime:
    # A wall-clock time in a DST gap resolves forwards (fold=0), one that
    # exists twice resolves to its first occurrence: the job runs once.  In
    # UTC, because Python compares two datetimes of the *same* zone by wall
    # clock, which is wrong across a DST change.
    return datetime.combine(day.date(), at, tzinfo=zone).astimezone(UTC)


@attrs.frozen
class Daily:
    """Every day at ``at``, local time."""

    at: time

    def previous(self, now: datetime, zone: ZoneInfo) -> datetime:
        """The latest scheduled instant at or before ``now`` (UTC)."""
        local = now.astimezone(zone)
        candidate = _at(local, self.at, zone)
        if candidate > now:
            candidate = _at(local - timedelta(days=1), self.at, zone)
        return candidate

    def next(self, now: datetime, zone: ZoneInfo) -> datetime:
        """The first scheduled instant after ``now`` (UTC)."""
        local = now.astimezone(zone)
        candidate = _at(local, self.at, zone)
        if candidate <= now:
            candidate = _at(local + timedelta(days=1), self.at, zone)
        return candidate

    def describe(self) -> str:
        return f"daily at {self.at.isoformat()}"


@attrs.frozen
class Weekly:
    """Every week on ``weekday`` (Monday = 0) at ``at``, local time."""

    weekday: int
    at: time

    def previous(self, now: datetime, zone: ZoneInfo) -> datetime:
        local = now.astimezone(zone)
        back = (local.weekday() - self.weekday) % 7
        candidate = _at(local - timedelta(days=back), self.at, zone)
        if candidate > now:
            candidate = _at(local - timedelta(days=back + 7), self.at, zone)
        return candidate

    def next(self, now: datetime, zone: ZoneInfo) -> datetime:
        local = now.astimezone(zone)
        ahead = (self.weekday - local.weekday()) % 7
        candidate = _at(local + timedelta(days=ahead), self.at, zone)
        if candidate <= now:
            candidate = _at(local + timedelta(days=ahead + 7), self.at, zone)
        return candidate

    def describe(self) -> str:
        return f"weekly on {_DAYS[self.weekday]} at {self.at.isoformat()}"


Rule = Daily | Weekly


@attrs.frozen
class PerChat:
    """A rule each chat sets for itself through the plugin's per-chat options.

    ``rule_of`` gets the plugin's ``Config`` as it applies in the chat and
    returns the chat's :class:`Daily` or :class:`Weekly` rule, or None where
    the job is off.  The scheduler asks on every look, so a ``/settings``
    change takes effect at the next one; the run bookkeeping is per job and
    chat as for fixed rules, so a restart or a second worker never posts twice.
    """

    rule_of: Callable[[Any], Rule | None] = attrs.field(eq=False)

    def resolve(self, config: Any) -> Rule | None:
        rule = self.rule_of(config)
        if rule is not None and not isinstance(rule, Daily | Weekly):
            raise TypeError(f"per_chat: expected daily(...), weekly(...) or None, got {rule!r}")
        return rule

    def describe(self) -> str:
        return "per chat (its /settings)"


AnyRule = Rule | PerChat


def per_chat(rule_of: Callable[[Any], Rule | None]) -> PerChat:
    """A schedule each chat chooses: ``rule_of(config)`` -> daily/weekly rule, or None (off)."""
    if not callable(rule_of):
        raise TypeError(f"per_chat: expected a function of the config, found {rule_of!r}")
    return PerChat(rule_of)


def daily(time: str) -> Daily:
    """Every day at ``time`` ('HH:MM' or 'HH:MM:SS') in the chat's time zone."""
    return Daily(_parse_time(time))


def weekly(day: str, time: str) -> Weekly:
    """Every week on ``day`` ('mon' ... 'sun') at ``time`` in the chat's time zone."""
    key = day.strip().lower()[:3] if isinstance(day, str) else ""
    if key not in _DAYS:
        raise ValueError(f"schedule day: expected one of {', '.join(_DAYS)}, found {day!r}")
    return Weekly(_DAYS.index(key), _parse_time(time))


@attrs.frozen
class ScheduleSpec:
    """A job: the plugin method ``method`` run by ``rule``."""

    method: str
    rule: AnyRule


@attrs.frozen(kw_only=True)
class ScheduleContext:
    """What a scheduled job gets: the chat it runs for, when, and the store.

    ``now`` is the moment of the run (periods are measured back from it),
    ``zone`` the chat's time zone, ``scheduled`` the instant the run was due,
    ``settings`` the chat's effective settings (``settings.config``: the
    plugin's options as they apply in the chat).
    """

    job: str
    chat_id: int
    chat_title: str | None
    now: datetime
    scheduled: datetime
    zone: ZoneInfo
    store: MessageQueries
    settings: ChatSettings = attrs.field(factory=ChatSettings)


def schedule(rule: AnyRule) -> Callable[[F], F]:
    """Mark a plugin method as a job run in every chat by ``rule`` (:func:`daily`,
    :func:`weekly`, or :func:`per_chat` for a rule each chat sets).

    The method takes a :class:`ScheduleContext` and returns a Reply sent to
    the chat, or None.
    """
    if not isinstance(rule, Daily | Weekly | PerChat):
        raise TypeError(
            f"schedule: expected daily(...), weekly(...) or per_chat(...), found {rule!r}"
        )

    def mark(func: F) -> F:
        setattr(func, _SCHEDULE_ATTR, rule)
        return func

    return mark


def schedule_of(value: object) -> AnyRule | None:
    """The rule ``value`` was marked with, if any (the host's lookup)."""
    rule = getattr(value, _SCHEDULE_ATTR, None)
    return rule if isinstance(rule, Daily | Weekly | PerChat) else None
