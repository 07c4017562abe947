"""Erasing a member, and the rules that keep them erased.

:func:`erase_member` is the one place that removes what identifies a member
(``/optout`` in one chat, ``/forgetme`` everywhere).  In one transaction it
deletes their messages, their joins and leaves and their rows of who
reacted with what, the answered-command rows of their commands, the
rejected updates whose raw JSON names them, and their ``users`` row (name,
@username) once no chat keeps a message of theirs; it leaves an ``opt_outs``
row (stop recording) and a tombstone (never store anything dated before now)
per chat.  The aggregates kept on write (tgstats.store.aggregates) lose the
member's share here too.

:func:`~tgstats.store.skips.skip_rules` reads them back for the recorder,
the importer and the member events.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

import attrs
import sqlalchemy
from sqlalchemy import delete, exists, select, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from tgstats.store import aggregates
from tgstats.store.aggregates import lock_chats
from tgstats.store.queries import chat_family
from tgstats.store.schema import (
    answered_commands,
    chat_migrations,
    chat_settings,
    chats,
    member_events,
    messages,
    opt_outs,
    reactions,
    rejected_updates,
    tombstones,
    users,
)
from tgstats.store.skips import SKIP_ALL, skip_rules
from tgstats.store.upserts import insert_ignore, upsert

__all__ = ["SKIP_ALL", "Erased", "erase_member", "opt_in", "skip_rules"]


@attrs.frozen
class Erased:
    """What :func:`erase_member` removed."""

    chats: tuple[int, ...]  # the chats the member is now opted out of
    messages: int
    answered_commands: int
    rejected_updates: int
    events: int  # member_events and reactions rows (joins, leaves, who reacted)
    user_row: bool  # their users row (id, name, @username) is gone


def erase_member(
    connection: Connection, user_id: int, chat_ids: Sequence[int] | None, now: int
) -> Erased:
    """Erase ``user_id`` from ``chat_ids`` (and the groups that migrated into them),
    or from every chat when ``chat_ids`` is None; opt them out there.  Runs in the
    caller's transaction."""
    family: set[int] | None
    if chat_ids is None:
        targets = _chats_of(connection, user_id)
        # The chats found, as a list: "user_id = ?" alone, or against a subquery,
        # can make PostgreSQL scan every message; this is the (chat_id, user_id) index.
        in_scope: Any = messages.c.chat_id.in_(targets)
        family = None
    else:
        targets = list(dict.fromkeys(chat_ids))
        family = {member for chat in targets for member in chat_family(connection, chat)}
        in_scope = messages.c.chat_id.in_(sorted(family))
    mine = sqlalchemy.and_(messages.c.user_id == user_id, in_scope)
    # The aggregates lose everything of theirs in the same transaction (per-chat
    # lock first on PostgreSQL, as every aggregate writer takes it).
    chats_in_scope = targets if family is None else sorted(family)
    lock_chats(connection, chats_in_scope)
    aggregates.erase_member(connection, chats_in_scope, user_id)

    # Their commands: the rows are keyed by message only, so they go before the messages.
    theirs: sqlalchemy.ColumnElement[bool] = exists().where(
        messages.c.chat_id == answered_commands.c.chat_id,
        messages.c.message_id == answered_commands.c.message_id,
        mine,
    )
    if chat_ids is None:
        # Commands sent to the bot directly: a private chat's id is the user's id.
        theirs = sqlalchemy.or_(theirs, answered_commands.c.chat_id == user_id)
    answered = connection.execute(delete(answered_commands).where(theirs)).rowcount
    rejected = _erase_rejected(connection, user_id, family)
    deleted = connection.execute(delete(messages).where(mine)).rowcount
    # Their joins and leaves, and who reacted with what.  Their reactions stay in
    # other messages' totals, anonymous: a withdrawal later moves the total down
    # by what Telegram says it had (see tgstats.store.events.record_reaction).
    events = 0
    for table in (member_events, reactions):
        events += connection.execute(
            delete(table).where(table.c.user_id == user_id, table.c.chat_id.in_(chats_in_scope))
        ).rowcount

    if targets:
        connection.execute(
            insert_ignore(connection, opt_outs),
            [{"chat_id": chat, "user_id": user_id, "since": now} for chat in targets],
        )
        connection.execute(
            upsert(connection, tombstones, ["skip_before"]),
            [{"chat_id": chat, "user_id": user_id, "skip_before": now} for chat in targets],
        )
    # An admin who set a chat setting: the value stays, without their id.  (A
    # member the admins excluded stays excluded: that is the admins' choice, and
    # like the opt-out row it holds an id only.)
    setter = chat_settings.c.updated_by == user_id
    if family is not None:
        setter = sqlalchemy.and_(setter, chat_settings.c.chat_id.in_(sorted(family)))
    connection.execute(chat_settings.update().where(setter).values(updated_by=None))
    # The name stays while another chat still shows their messages (/heatmap @name there).
    user_row = False
    if chat_ids is None or not connection.execute(_chats_with_messages(user_id)).first():
        user_row = bool(
            connection.execute(delete(users).where(users.c.user_id == user_id)).rowcount
        )
    return Erased(
        chats=tuple(targets),
        messages=int(deleted),
        answered_commands=int(answered),
        rejected_updates=rejected,
        events=int(events),
        user_row=user_row,
    )


def opt_in(connection: Connection, user_id: int, chat_id: int | None, now: int) -> list[int]:
    """Record ``user_id`` again in ``chat_id`` (every chat if None) from ``now`` on;
    returns the chats they were opted out of.  The tombstone moves to ``now``, so
    an export's messages from while they were opted out stay out too."""
    where = opt_outs.c.user_id == user_id
    if chat_id is not None:
        where = sqlalchemy.and_(where, opt_outs.c.chat_id == chat_id)
    opted = list(connection.execute(select(opt_outs.c.chat_id).where(where)).scalars())
    if opted:
        connection.execute(
            upsert(connection, tombstones, ["skip_before"]),
            [{"chat_id": chat, "user_id": user_id, "skip_before": now} for chat in opted],
        )
        connection.execute(delete(opt_outs).where(where))
    return opted


def _chats_of(connection: Connection, user_id: int) -> list[int]:
    """Every chat holding anything of ``user_id``, and the supergroups those became."""
    found = union_all(
        _chats_with_messages(user_id),
        select(opt_outs.c.chat_id).where(opt_outs.c.user_id == user_id),
        # A member who only joined, left or reacted somewhere is known there too.
        select(member_events.c.chat_id).where(member_events.c.user_id == user_id).distinct(),
        select(reactions.c.chat_id).where(reactions.c.user_id == user_id).distinct(),
        select(tombstones.c.chat_id).where(tombstones.c.user_id == user_id),
    )
    seen = list(dict.fromkeys(connection.execute(found).scalars()))
    frontier = seen
    while frontier:  # a group that migrated: its supergroup records them from now on
        newer = connection.execute(
            select(chat_migrations.c.new_chat_id).where(chat_migrations.c.old_chat_id.in_(frontier))
        ).scalars()
        frontier = [chat for chat in newer if chat not in seen]
        seen.extend(frontier)
    return sorted(seen)


def _chats_with_messages(user_id: int) -> Select[tuple[int]]:
    """The chats holding a message of ``user_id``: per chat, a look into the
    (chat_id, user_id) index, never a scan of every message."""
    return (
        select(messages.c.chat_id)
        .where(messages.c.user_id == user_id, messages.c.chat_id.in_(select(chats.c.chat_id)))
        .distinct()
    )


def _erase_rejected(connection: Connection, user_id: int, family: set[int] | None) -> int:
    """Delete the rejected updates whose raw JSON names ``user_id`` (in ``family``'s chats).

    The database narrows them down to those whose text has ``"id": <number>``
    as the bot writes it (JSON, or Python's repr when it is not JSON); only
    those few are read and checked here.
    """
    raw = rejected_updates.c.raw
    candidates = connection.execute(
        select(rejected_updates.c.id, raw).where(
            sqlalchemy.or_(
                raw.contains(f'"id": {user_id}', autoescape=True),
                raw.contains(f"'id': {user_id}", autoescape=True),
            )
        )
    )
    doomed = [row_id for row_id, raw in candidates if _names(raw, user_id, family)]
    for start in range(0, len(doomed), 500):
        connection.execute(
            delete(rejected_updates).where(rejected_updates.c.id.in_(doomed[start : start + 500]))
        )
    return len(doomed)


_ID_KEY = re.compile(r"""["']id["']\s*:\s*(-?\d{1,20})(?!\d)""")


def _names(raw: str, user_id: int, family: set[int] | None) -> bool:
    """Whether a rejected update's raw text is about ``user_id`` (in one of ``family``'s chats).

    Parsed, it names them when any object in it has their ``id`` (a user, or
    the private chat with them); its chats are the ``chat`` objects' ids.
    Text that is not JSON (cut at its size cap, or never JSON) is matched on
    ``"id": <number>`` alone, and its chat is taken to be in scope: when in
    doubt the row goes.
    """
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return any(int(found) == user_id for found in _ID_KEY.findall(raw))
    ids: set[int] = set()
    chats: set[int] = set()
    for key, obj in _objects(data):
        value = obj.get("id")
        if isinstance(value, int):
            ids.add(value)
            if key == "chat":
                chats.add(value)
    if user_id not in ids:
        return False
    return family is None or not chats or bool(chats & family)


def _objects(data: Any) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """Every JSON object in ``data`` with the key it sits under, without recursion."""
    stack: list[tuple[str | None, Any]] = [(None, data)]
    while stack:
        key, value = stack.pop()
        if isinstance(value, dict):
            yield key, value
            stack.extend(value.items())
        elif isinstance(value, list):
            stack.extend((key, item) for item in value)
