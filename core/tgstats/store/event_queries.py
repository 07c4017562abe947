"""The query API over events: joins and leaves per day, reactions per message and member.

Mixed into :class:`~tgstats.store.queries.MessageQueries`, so plugins reach
these through ``ctx.store`` like every other query.  Counting and grouping
happen in the database (local days with the same exact-offset expression the
message queries use); Python only turns rows into records.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import attrs
from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Engine

from tgstats.store.events import JOIN, LEAVE
from tgstats.store.schema import member_events, messages, reactions, users
from tgstats.store.zones import DAY, const, local_seconds

if TYPE_CHECKING:
    from tgstats.store.queries import MessageRow, UserInfo

__all__ = ["EventQueries", "MemberChangeDay", "MemberReactions"]

_UTC = ZoneInfo("UTC")
# Enough for any "top N" a reply can show; a plugin asking for a million gets this many.
MAX_TOP = 100


@attrs.frozen
class MemberChangeDay:
    """Joins and leaves on one local day (days without either are left out)."""

    day: date
    joins: int
    leaves: int


@attrs.frozen
class MemberReactions:
    """Reactions one member gave (``message_reaction`` updates) and received (on their messages)."""

    user: UserInfo
    given: int
    received: int


def _q() -> Any:
    # queries.py builds MessageQueries on this mixin, so its helpers are
    # imported when first used rather than at import time (no cycle).
    from tgstats.store import queries

    return queries


def _period(column: Any, since: datetime | None, until: datetime | None) -> list[Any]:
    conditions = []
    if since is not None:
        conditions.append(column >= _q().to_timestamp(since, "since"))
    if until is not None:
        conditions.append(column < _q().to_timestamp(until, "until"))
    return conditions


class EventQueries:
    """Event queries; needs ``self._engine`` (set by MessageQueries)."""

    _engine: Engine

    def member_changes(
        self,
        chat_id: int,
        *,
        tz: ZoneInfo = _UTC,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[MemberChangeDay]:
        """Joins and leaves per local day in ``tz``, oldest day first."""
        table = member_events.c
        with self._engine.connect() as connection:
            family = _q().chat_family(connection, chat_id)
            where = and_(table.chat_id.in_(family), *_period(table.date, since, until))
            lo, hi = (
                connection.execute(select(func.min(table.date)).where(where)).scalar(),
                connection.execute(select(func.max(table.date)).where(where)).scalar(),
            )
            if lo is None or hi is None:
                return []
            day = (local_seconds(table.date, tz, int(lo), int(hi)) // const(DAY)).label("day")
            rows = connection.execute(
                select(
                    day,
                    func.sum(case((table.kind == JOIN, 1), else_=0)),
                    func.sum(case((table.kind == LEAVE, 1), else_=0)),
                )
                .where(where)
                .group_by(day)
                .order_by(day)
            ).all()
        return [
            MemberChangeDay(
                day=datetime.fromtimestamp(int(d) * DAY, UTC).date(),
                joins=int(joins),
                leaves=int(leaves),
            )
            for d, joins, leaves in rows
        ]

    def top_reacted_messages(
        self,
        chat_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 10,
    ) -> list[MessageRow]:
        """Messages of the period with the most reactions (at least one), most first."""
        limit = max(0, min(int(limit), MAX_TOP))
        with self._engine.connect() as connection:
            family = _q().chat_family(connection, chat_id)
            rows = connection.execute(
                select(messages)
                .where(
                    messages.c.chat_id.in_(family),
                    messages.c.reaction_count > 0,
                    *_period(messages.c.date, since, until),
                )
                .order_by(messages.c.reaction_count.desc(), messages.c.date, messages.c.message_id)
                .limit(limit)
            ).all()
        return [_q()._message_row(row) for row in rows]

    def reactions_by_member(
        self,
        chat_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[MemberReactions]:
        """Per member: reactions given (their current reactions, set in the period)
        and received (on their counted messages sent in the period).

        Most reactions (given + received) first, then by user id.
        """
        with self._engine.connect() as connection:
            family = _q().chat_family(connection, chat_id)
            given = dict(
                connection.execute(
                    select(reactions.c.user_id, func.sum(reactions.c.count))
                    .where(
                        reactions.c.chat_id.in_(family), *_period(reactions.c.date, since, until)
                    )
                    .group_by(reactions.c.user_id)
                ).all()
            )
            received = dict(
                connection.execute(
                    select(messages.c.user_id, func.sum(messages.c.reaction_count))
                    .where(
                        messages.c.chat_id.in_(family),
                        messages.c.counted.is_(True),
                        messages.c.user_id.is_not(None),
                        messages.c.reaction_count > 0,
                        *_period(messages.c.date, since, until),
                    )
                    .group_by(messages.c.user_id)
                ).all()
            )
            ids = sorted(
                uid for uid in set(given) | set(received) if given.get(uid) or received.get(uid)
            )
            infos: dict[int, UserInfo] = {}
            for start in range(0, len(ids), 500):  # SQLite's bound-parameter limit
                chunk = ids[start : start + 500]
                for row in connection.execute(select(users).where(users.c.user_id.in_(chunk))):
                    infos[row.user_id] = _q()._user_info(row)
        result = [
            MemberReactions(
                user=infos.get(uid)
                or _q().UserInfo(user_id=uid, username=None, display_name=str(uid)),
                given=int(given.get(uid) or 0),
                received=int(received.get(uid) or 0),
            )
            for uid in ids
        ]
        result.sort(key=lambda r: (-(r.given + r.received), r.user.user_id))
        return result
