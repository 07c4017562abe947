"""Member joins and leaves, and per-member reactions: the store's write side for events.

Both are written so that Telegram's at-least-once delivery cannot count
anything twice:

- A join (or leave) reaches the bot twice when it is both a service message
  (``new_chat_members`` / ``left_chat_member``) and a ``chat_member`` update,
  and any update may be delivered again after a crash.  An event is stored
  only if the member has no event of the same kind within :data:`SAME_EVENT`
  seconds of it; the unique key (chat, user, kind, date) is the last guard.
- A ``message_reaction`` update says what one member's reactions were and are.
  The member's current reactions are kept per message, so a redelivered (or
  older, out-of-order) update changes nothing, and the message's
  ``reaction_count`` moves by the difference with what was *stored*, not with
  what the update claims was there before.

Each function returns what was new, so the bot hands plugins only real events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import telegram
from sqlalchemy import and_, case, select, update
from sqlalchemy.engine import Connection, Engine

from tgstats.store.aggregates import move_reactions
from tgstats.store.bounds import check_date, check_id
from tgstats.store.cleaning import clean_text
from tgstats.store.schema import member_events, messages, reactions
from tgstats.store.skips import skip_rules
from tgstats.store.upserts import insert_ignore, upsert, upsert_chat_rows, upsert_user_rows

__all__ = [
    "JOIN",
    "LEAVE",
    "MAX_REACTIONS",
    "SAME_EVENT",
    "MemberChange",
    "ReactionChange",
    "member_changes_of",
    "reaction_keys",
    "record_member_changes",
    "record_reaction",
    "update_message_count",
]

JOIN = "join"
LEAVE = "leave"
# A join seen as a service message and as a chat_member update carries the
# same second, or one a moment apart; a real leave-and-rejoin within a minute
# with the leave missed is the only case this folds wrongly.
SAME_EVENT = 60
# Telegram allows a member at most 3 reactions per message; a forged update
# with thousands is cut here rather than stored.
MAX_REACTIONS = 16

# Statuses in which the user is in the chat (a restricted member may be
# outside it: ChatMemberRestricted.is_member says).
_INSIDE = {
    telegram.ChatMember.OWNER,
    telegram.ChatMember.ADMINISTRATOR,
    telegram.ChatMember.MEMBER,
}


@attrs.frozen
class MemberChange:
    """One member joining or leaving a chat."""

    chat_id: int
    user_id: int
    kind: str  # JOIN | LEAVE
    date: int  # unix seconds, UTC
    source: str  # "service" | "chat_member"
    display_name: str = ""
    username: str | None = None


@attrs.frozen
class ReactionChange:
    """One member's reactions to one message changed (as stored now)."""

    chat_id: int
    message_id: int
    user_id: int
    added: tuple[str, ...]
    removed: tuple[str, ...]
    date: int


def _is_inside(member: telegram.ChatMember) -> bool:
    if member.status in _INSIDE:
        return True
    return isinstance(member, telegram.ChatMemberRestricted) and member.is_member


def _change(
    chat: telegram.Chat, user: telegram.User, kind: str, date: int, source: str
) -> MemberChange:
    check_id(chat.id, "chat.id")
    check_id(user.id, "user.id")
    check_date(date, "date")
    return MemberChange(
        chat_id=chat.id,
        user_id=user.id,
        kind=kind,
        date=date,
        source=source,
        display_name=clean_text(user.full_name),
        username=user.username,
    )


def member_changes_of(
    item: telegram.Message | telegram.ChatMemberUpdated,
) -> list[MemberChange]:
    """The joins and leaves a service message or a chat_member update reports."""
    date = int(item.date.timestamp())
    if isinstance(item, telegram.ChatMemberUpdated):
        was, now = _is_inside(item.old_chat_member), _is_inside(item.new_chat_member)
        if was == now:
            return []  # a promotion, a restriction: not a join or a leave
        kind = JOIN if now else LEAVE
        return [_change(item.chat, item.new_chat_member.user, kind, date, "chat_member")]
    changes = [_change(item.chat, user, JOIN, date, "service") for user in item.new_chat_members]
    if item.left_chat_member is not None:
        changes.append(_change(item.chat, item.left_chat_member, LEAVE, date, "service"))
    return changes


def record_member_changes(
    engine: Engine, chat: telegram.Chat, changes: Sequence[MemberChange]
) -> list[MemberChange]:
    """Store the changes not stored yet, in one transaction; return those."""
    if not changes:
        return []
    new: list[MemberChange] = []
    with engine.begin() as connection:
        # A member who opted out (or, before their tombstone, was erased) leaves
        # no row and no name behind (see tgstats.store.erasure).
        skips = skip_rules(connection, sorted({c.chat_id for c in changes}))
        changes = [c for c in changes if c.date >= skips.get((c.chat_id, c.user_id), 0)]
        upsert_chat_rows(
            connection,
            [
                {
                    "chat_id": chat.id,
                    "title": chat.effective_name,
                    "type": str(chat.type),
                    "username": chat.username,
                }
            ],
        )
        upsert_user_rows(
            connection,
            [
                {
                    "user_id": c.user_id,
                    "username": c.username,
                    "display_name": c.display_name,
                    "is_channel": False,
                }
                for c in changes
            ],
        )
        for change in changes:
            if _seen(connection, change):
                continue
            connection.execute(
                insert_ignore(connection, member_events),
                {
                    "chat_id": change.chat_id,
                    "user_id": change.user_id,
                    "kind": change.kind,
                    "date": change.date,
                    "source": change.source,
                },
            )
            new.append(change)
    return new


def _seen(connection: Connection, change: MemberChange) -> bool:
    table = member_events.c
    return (
        connection.execute(
            select(table.id)
            .where(
                table.chat_id == change.chat_id,
                table.user_id == change.user_id,
                table.kind == change.kind,
                table.date.between(change.date - SAME_EVENT, change.date + SAME_EVENT),
            )
            .limit(1)
        ).first()
        is not None
    )


def reaction_keys(kinds: Sequence[telegram.ReactionType]) -> tuple[str, ...]:
    """Stable keys of reactions, sorted: the emoji, or ``custom:ID``; paid (Stars) left out."""
    keys: set[str] = set()
    for kind in kinds:
        if isinstance(kind, telegram.ReactionTypeEmoji):
            keys.add(kind.emoji)
        elif isinstance(kind, telegram.ReactionTypeCustomEmoji):
            keys.add(f"custom:{kind.custom_emoji_id}")
    return tuple(sorted(keys))[:MAX_REACTIONS]


def _reactor(update: telegram.MessageReactionUpdated) -> int | None:
    if update.user is not None:
        return update.user.id
    return update.actor_chat.id if update.actor_chat is not None else None


def record_reaction(
    engine: Engine, update: telegram.MessageReactionUpdated
) -> ReactionChange | None:
    """Apply one member's reaction change; the change, or None if it was no news."""
    reactor = _reactor(update)
    if reactor is None:
        return None
    chat_id, message_id = update.chat.id, update.message_id
    check_id(chat_id, "chat.id")
    check_id(message_id, "message_id")
    check_id(reactor, "user.id")
    date = int(update.date.timestamp())
    check_date(date, "date")
    new = reaction_keys(update.new_reaction)
    key = and_(
        reactions.c.chat_id == chat_id,
        reactions.c.message_id == message_id,
        reactions.c.user_id == reactor,
    )
    with engine.begin() as connection:
        if date < skip_rules(connection, [chat_id]).get((chat_id, reactor), 0):
            # An opted-out member: the message's count moves, but no row (and no
            # event for the plugins) says who reacted.
            delta = len(new) - len(reaction_keys(update.old_reaction))
            if delta:
                total = messages.c.reaction_count + delta
                # Through move_reactions like any other reaction: the aggregates
                # count reactions too (the property test found them left behind).
                move_reactions(connection, chat_id, message_id, case((total < 0, 0), else_=total))
            return None
        stored = connection.execute(select(reactions.c.emojis, reactions.c.date).where(key)).first()
        if stored is not None:
            if stored.date > date:
                return None  # an older update delivered late
            old = tuple(stored.emojis.split()) if stored.emojis else ()
        else:
            old = reaction_keys(update.old_reaction)
        if stored is not None and old == new:
            return None  # delivered again
        connection.execute(
            upsert(connection, reactions, ["emojis", "count", "date"]),
            {
                "chat_id": chat_id,
                "message_id": message_id,
                "user_id": reactor,
                "emojis": " ".join(new),
                "count": len(new),
                "date": date,
            },
        )
        delta = len(new) - len(old)
        if delta:
            total = messages.c.reaction_count + delta
            # The aggregates (reactions received) move in the same transaction.
            move_reactions(connection, chat_id, message_id, case((total < 0, 0), else_=total))
    added = tuple(k for k in new if k not in old)
    removed = tuple(k for k in old if k not in new)
    return ReactionChange(chat_id, message_id, reactor, added, removed, date)


def update_message_count(chat_id: int, message_id: int, value: Any) -> Any:
    """UPDATE of one message's reaction count (a no-op for a message not stored)."""
    return (
        update(messages)
        .where(messages.c.chat_id == chat_id, messages.c.message_id == message_id)
        .values(reaction_count=value)
    )
