"""Event listeners: members joining and leaving, reactions (re-exported by the SDK).

The host records each event first and calls the listeners only for events
that are new to the store, so a join Telegram reports twice (a service
message and a ``chat_member`` update) or delivers again after a crash reaches
a plugin once.  Like message listeners, they run in their chat's lane, in
order, and may be ``async def`` or plain ``def`` (run in a worker thread).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import attrs

if TYPE_CHECKING:
    from tgstats.store.queries import MessageQueries

__all__ = [
    "EventKind",
    "EventSpec",
    "MemberContext",
    "ReactionContext",
    "event_kind_of",
    "on_member_joined",
    "on_member_left",
    "on_reaction",
]

EventKind = Literal["member_joined", "member_left", "reaction"]
EVENT_KINDS: tuple[EventKind, ...] = ("member_joined", "member_left", "reaction")
_EVENT_ATTR = "__tgstats_event__"

F = TypeVar("F", bound=Callable[..., Any])


@attrs.frozen
class EventSpec:
    """A plugin method called for every new event of one kind."""

    kind: EventKind
    method: str


@attrs.frozen(kw_only=True)
class MemberContext:
    """A member joined (``kind == "member_joined"``) or left a chat."""

    kind: EventKind
    chat_id: int
    user_id: int
    display_name: str
    username: str | None
    date: datetime
    store: MessageQueries


@attrs.frozen(kw_only=True)
class ReactionContext:
    """Reactions to a message changed.

    From a member (``user_id`` set; ``added`` and ``removed`` are emoji, or
    ``custom:ID`` for custom emoji), or as an anonymous total (``user_id`` is
    None and ``total`` is the message's new reaction count).
    """

    chat_id: int
    message_id: int
    user_id: int | None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    total: int | None = None
    date: datetime
    store: MessageQueries


def _marker(kind: EventKind) -> Callable[[F], F]:
    def mark(func: F) -> F:
        setattr(func, _EVENT_ATTR, kind)
        return func

    return mark


def on_member_joined(func: F) -> F:
    """Mark a plugin method to be called with a :class:`MemberContext` per join."""
    return _marker("member_joined")(func)


def on_member_left(func: F) -> F:
    """Mark a plugin method to be called with a :class:`MemberContext` per leave."""
    return _marker("member_left")(func)


def on_reaction(func: F) -> F:
    """Mark a plugin method to be called with a :class:`ReactionContext` per change."""
    return _marker("reaction")(func)


def event_kind_of(value: object) -> EventKind | None:
    """The event kind ``value`` was marked for, if any (the host's lookup)."""
    kind = getattr(value, _EVENT_ATTR, None)
    return kind if kind in EVENT_KINDS else None
