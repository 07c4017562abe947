"""One member's statistics: the queries behind the member card (``/me``, ``/whois``).

Mixed into :class:`tgstats.store.queries.MessageQueries` like the timeline
and event queries.  Every number is aggregated by the database on the
messages table through its existing indexes: the member's rows come from the
(chat, user, date) index, reply parents from the primary key, replies to the
member from the (chat, reply) index.  Python only turns a few result rows
into records (and splits the few distinct reaction strings a member used).

Counting follows :mod:`tgstats.store.counting` (commands and bots' messages
are not counted) and leaves out the members the chat's admins excluded;
members who opted out (``/optout``) never appear as reply partners.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import attrs
from sqlalchemy import ColumnElement, and_, func, literal_column, or_, select
from sqlalchemy.engine import Connection, Engine

from tgstats.store import bucketed
from tgstats.store.schema import (
    BUCKET,
    STICKER_KIND,
    activity_buckets,
    messages,
    opt_outs,
    reactions,
    reply_buckets,
    users,
)
from tgstats.store.zones import DAY, const, local_seconds

if TYPE_CHECKING:
    from tgstats.store.queries import UserInfo

__all__ = [
    "ActiveStreak",
    "EmojiCount",
    "MemberPartners",
    "MemberQueries",
    "MemberStanding",
    "MemberStickers",
    "ReplyPartner",
    "ReplyTiming",
]

# The most partners, emoji or texts one call returns, whatever a plugin asks for.
MAX_LIMIT = 100
MAX_TEXTS = 50_000


@attrs.frozen
class MemberStanding:
    """A member's counted messages against the chat's, over a period."""

    messages: int
    chat_messages: int  # every counted message of the chat (channels included)
    rank: int | None  # 1 = most messages; None for a channel or without messages
    ranked_members: int  # members with a message in the period (channels left out)
    first: datetime | None  # the member's first and last counted message in the period
    last: datetime | None


@attrs.frozen
class ActiveStreak:
    """Local calendar days with a message, and the longest run of consecutive ones."""

    active_days: int
    longest: int  # days; 0 without messages
    start: date | None  # first and last day of that run (the latest run on a tie)
    end: date | None


@attrs.frozen
class ReplyTiming:
    """How long the member takes to reply to someone else's message."""

    replies: int
    median_seconds: float | None  # None without replies


@attrs.frozen
class ReplyPartner:
    user: UserInfo
    replies: int


@attrs.frozen
class MemberPartners:
    replies_to: list[ReplyPartner]  # whom the member replies to most
    replied_by: list[ReplyPartner]  # who replies to the member most


@attrs.frozen
class EmojiCount:
    emoji: str
    count: int


@attrs.frozen
class MemberStickers:
    """The stickers a member sent, and the emoji of their favourites."""

    stickers: int  # every counted sticker in the period, with or without an emoji
    top: list[EmojiCount]  # most first, ties by emoji; stickers without one left out


# The partial index's condition, written out as the index has it (see
# schema.MEMBER_INDEXES): a bound parameter would hide it from SQLite.
_IS_STICKER = messages.c.media_kind == literal_column(f"'{STICKER_KIND}'")


def _limit(value: int, most: int = MAX_LIMIT) -> int:
    return max(0, min(int(value), most))


def _not_opted_out(family: Sequence[int], column: Any) -> ColumnElement[bool]:
    """The sender in ``column`` did not opt out of this chat (their messages are gone,
    but a reply of theirs imported later, or the users row, must not name them)."""
    opted = (
        select(opt_outs.c.user_id)
        .where(opt_outs.c.chat_id.in_(family), opt_outs.c.user_id == column)
        .exists()
    )
    return ~opted


class MemberQueries:
    """Mixed into :class:`tgstats.store.queries.MessageQueries`."""

    _engine: Engine
    _excluded: Callable[[int], Collection[int]]

    if TYPE_CHECKING:

        def _channel_ids(self, connection: Connection) -> list[int]: ...
        def _replies(
            self, family: Sequence[int], since: Any, until: Any, excluded: Any
        ) -> tuple[Any, Any, Any, ColumnElement[bool]]: ...

    def opted_out_member(
        self, chat_id: int, *, user_id: int | None = None, username: str | None = None
    ) -> UserInfo | None:
        """The member (by id or @username) if they opted out of ``chat_id``, else None.

        The erasure may have deleted their name too: then only the id finds
        them, and the ``UserInfo`` has no username and an empty display name.
        """
        with self._engine.connect() as connection:
            family = base.chat_family(connection, chat_id)
            opted = (
                select(opt_outs.c.user_id)
                .where(opt_outs.c.chat_id.in_(family), opt_outs.c.user_id == users.c.user_id)
                .exists()
            )
            statement = select(users).where(opted)
            if user_id is not None:
                statement = statement.where(users.c.user_id == user_id)
            elif username is not None:
                name = username.strip().removeprefix("@").lower()
                statement = statement.where(func.lower(users.c.username) == name)
            else:
                return None
            row = connection.execute(statement.order_by(users.c.user_id).limit(1)).first()
            if row is None and user_id is not None:
                # No users row: erased with the member's messages, or never stored.
                found = connection.execute(
                    select(opt_outs.c.user_id).where(
                        opt_outs.c.chat_id.in_(family), opt_outs.c.user_id == user_id
                    )
                ).first()
                if found is not None:
                    # Erased with their messages (/optout, /forgetme): no name is left.
                    return base.UserInfo(user_id=user_id, username=None, display_name="")
        return base._user_info(row) if row else None

    def member_standing(
        self,
        chat_id: int,
        user_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> MemberStanding:
        """The member's messages, the chat's, the member's rank and first and last message."""
        with self._engine.connect() as connection:
            family = base.chat_family(connection, chat_id)
            excluded = self._excluded(chat_id)
            chat = base._where(messages, family, since, until, excluded=excluded)
            mine = base._where(messages, family, since, until, user_id, excluded=excluded)
            # Messages per sender (a few hundred rows, None for messages
            # without one); the member's count, the chat's total and the rank
            # follow from those sums.  From the 15-minute aggregates when the
            # period is on their grid (a plugin's periods start at local
            # midnights), else one pass over the chat's messages.
            low, high = base._bounds(since, until)
            a = activity_buckets
            if bucketed.aligned(low, high):
                where = bucketed._conditions(
                    a, a.c.bucket, family, low, high, BUCKET, a.c.user_id, None, excluded
                )
                sums = connection.execute(
                    select(a.c.user_id, func.sum(a.c.messages)).where(*where).group_by(a.c.user_id)
                )
            else:
                sums = connection.execute(
                    select(messages.c.user_id, func.count())
                    .where(chat)
                    .group_by(messages.c.user_id)
                )
            per_sender = {(None if not uid else int(uid)): int(count) for uid, count in sums}
            channels = set(self._channel_ids(connection))
            n = per_sender.get(user_id, 0)
            total = sum(per_sender.values())
            members = [
                c for uid, c in per_sender.items() if uid is not None and uid not in channels
            ]
            ahead = sum(1 for c in members if c > n)
            # Two statements: SQLite answers min and max together with a full scan.
            first = connection.execute(select(func.min(messages.c.date)).where(mine)).scalar()
            last = connection.execute(select(func.max(messages.c.date)).where(mine)).scalar()
        rank = int(ahead) + 1 if n and user_id not in channels else None
        return MemberStanding(
            messages=int(n),
            chat_messages=int(total),
            rank=rank,
            ranked_members=len(members),
            first=base.from_timestamp(int(first)) if first is not None else None,
            last=base.from_timestamp(int(last)) if last is not None else None,
        )

    def member_media_counts(
        self,
        chat_id: int,
        user_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> dict[str, int]:
        """The member's counted messages per media kind (``sticker``, ``photo``, ...),
        kinds they never sent left out.

        The media kind is in no index, so this reads the chat's rows; it is
        a query of its own so a caller can run it beside the others.
        """
        with self._engine.connect() as connection:
            family = base.chat_family(connection, chat_id)
            mine = base._where(
                messages, family, since, until, user_id, excluded=self._excluded(chat_id)
            )
            rows = connection.execute(
                select(messages.c.media_kind, func.count())
                .where(mine, messages.c.media_kind.is_not(None))
                .group_by(messages.c.media_kind)
            ).all()
        return {str(kind): int(n) for kind, n in rows}

    def member_stickers(
        self,
        chat_id: int,
        user_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 5,
    ) -> MemberStickers:
        """How many stickers the member sent in the period, and their ``limit`` most
        used sticker emoji (capped at 100) with how often.

        Stickers without an emoji (stored before schema version 5, or sent
        without one) count in ``stickers`` but are left out of ``top``: they
        are not one sticker, so a "?" entry would add up unrelated ones and,
        in a chat recorded before the emoji was kept, top the list.  Both
        statements read only the member's sticker rows, from their partial
        index (``ix_messages_member_stickers``).
        """
        limit = _limit(limit)
        with self._engine.connect() as connection:
            family = base.chat_family(connection, chat_id)
            mine = and_(
                base._where(
                    messages, family, since, until, user_id, excluded=self._excluded(chat_id)
                ),
                _IS_STICKER,
            )
            stickers = connection.execute(select(func.count()).where(mine)).scalar_one()
            top: list[Any] = []
            if stickers and limit:
                emoji = messages.c.sticker_emoji
                n = func.count().label("n")
                # Ties in code point order on both backends (PostgreSQL's own
                # collation would order emoji by its locale).
                order = emoji.collate("C" if connection.dialect.name == "postgresql" else "BINARY")
                top = list(
                    connection.execute(
                        select(emoji, n)
                        .where(mine, emoji.is_not(None))
                        .group_by(emoji)
                        .order_by(n.desc(), order)
                        .limit(limit)
                    )
                )
        return MemberStickers(
            stickers=int(stickers),
            top=[EmojiCount(emoji=str(e), count=int(c)) for e, c in top],
        )

    def member_streak(
        self,
        chat_id: int,
        user_id: int,
        *,
        tz: ZoneInfo,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> ActiveStreak:
        """Active local days in ``tz`` and the longest run of consecutive ones.

        Gaps and islands in SQL: the distinct local days numbered in order;
        a day minus its number is the same for every day of one run, so
        grouping by it gives the runs and their lengths.
        """
        with self._engine.connect() as connection:
            family = base.chat_family(connection, chat_id)
            mine = base._where(
                messages, family, since, until, user_id, excluded=self._excluded(chat_id)
            )
            lo = connection.execute(select(func.min(messages.c.date)).where(mine)).scalar()
            if lo is None:
                return ActiveStreak(active_days=0, longest=0, start=None, end=None)
            hi = connection.execute(select(func.max(messages.c.date)).where(mine)).scalar_one()
            low, high = base._bounds(since, until)
            a = activity_buckets
            if bucketed.aligned(low, high):
                # The member's 15-minute buckets: a bucket lies inside one
                # local day of any zone, so its start gives the day.
                start = a.c.bucket * const(BUCKET)
                first = int(lo) // BUCKET * BUCKET
                day = (local_seconds(start, tz, first, int(hi)) // const(DAY)).label("day")
                where = bucketed._conditions(
                    a,
                    a.c.bucket,
                    family,
                    low,
                    high,
                    BUCKET,
                    a.c.user_id,
                    user_id,
                    self._excluded(chat_id),
                )
            else:
                date = messages.c.date
                day = (local_seconds(date, tz, int(lo), int(hi)) // const(DAY)).label("day")
                where = [mine]
            # GROUP BY, not DISTINCT: PostgreSQL hashes a few hundred days
            # instead of sorting every row of the member.
            days = select(day).where(*where).group_by(day).subquery("days")
            numbered = select(
                days.c.day,
                (days.c.day - func.row_number().over(order_by=days.c.day)).label("run"),
            ).subquery("numbered")
            runs = (
                select(
                    func.count().label("n"),
                    func.min(numbered.c.day).label("first"),
                    func.max(numbered.c.day).label("last"),
                )
                .group_by(numbered.c.run)
                .subquery("runs")
            )
            # One pass over the member's rows: the active days are the sum of the runs.
            longest = connection.execute(
                select(
                    runs.c.n,
                    runs.c.first,
                    runs.c.last,
                    func.sum(runs.c.n).over().label("active"),
                )
                .order_by(runs.c.n.desc(), runs.c.last.desc())
                .limit(1)
            ).one()
        return ActiveStreak(
            active_days=int(longest.active),
            longest=int(longest.n),
            start=_day(int(longest.first)),
            end=_day(int(longest.last)),
        )

    def member_reply_timing(
        self,
        chat_id: int,
        user_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> ReplyTiming:
        """The member's replies to others (sent in the period) and their median delay.

        The delay is the reply's date minus its parent's; the median is
        taken in SQL (the middle one or two of the delays in order).
        Replies to the member's own messages, to commands and bots are left
        out, and so are replies dated before their parent (clock skew in
        imports).
        """
        with self._engine.connect() as connection:
            family = base.chat_family(connection, chat_id)
            reply, parent, joined, where = self._member_replies(
                family, since, until, self._excluded(chat_id)
            )
            delay = (reply.c.date - parent.c.date).label("delay")
            ordered = (
                select(
                    delay,
                    func.row_number().over(order_by=delay).label("rn"),
                    func.count().over().label("n"),
                )
                .select_from(joined)
                .where(where, reply.c.user_id == user_id, reply.c.date >= parent.c.date)
                .subquery("ordered")
            )
            middle = or_(
                ordered.c.rn == (ordered.c.n + const(1)) // const(2),
                ordered.c.rn == (ordered.c.n + const(2)) // const(2),
            )
            median, n = connection.execute(
                select(func.avg(ordered.c.delay), func.max(ordered.c.n)).where(middle)
            ).one()
        if not n:
            return ReplyTiming(replies=0, median_seconds=None)
        return ReplyTiming(replies=int(n), median_seconds=float(median))

    def member_reply_partners(
        self,
        chat_id: int,
        user_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 3,
    ) -> MemberPartners:
        """Whom the member replies to most, and who replies to them most (replies sent in
        the period; most first, ties by user id; members who opted out left out)."""
        limit = _limit(limit)
        low, high = base._bounds(since, until)
        with self._engine.connect() as connection:
            family = base.chat_family(connection, chat_id)
            excluded = self._excluded(chat_id)
            counts = []
            if bucketed.aligned(low, high):
                # Replies per pair and 15-minute bucket, kept on write
                # (agg_replies): summed per partner, never a join of messages.
                r, a = reply_buckets, activity_buckets
                where = bucketed._conditions(r, r.c.bucket, family, low, high, BUCKET)
                if excluded:
                    ids = sorted(excluded)
                    where += [r.c.from_user_id.not_in(ids), r.c.to_user_id.not_in(ids)]
                pairs = ((r.c.from_user_id, r.c.to_user_id), (r.c.to_user_id, r.c.from_user_id))
                for mine, theirs in pairs:
                    grouped = (
                        select(theirs.label("partner"), func.sum(r.c.replies).label("n"))
                        .where(*where, mine == user_id, _not_opted_out(family, theirs))
                        .group_by(theirs)
                        .subquery("grouped")
                    )
                    # A pair is kept for any counted reply; a partner must also
                    # have written something counted (a bot or someone known only
                    # from a command never has): one index probe per partner.
                    wrote = (
                        select(a.c.user_id)
                        .where(a.c.chat_id.in_(family), a.c.user_id == grouped.c.partner)
                        .exists()
                    )
                    counts.append(
                        connection.execute(
                            select(grouped.c.partner, grouped.c.n)
                            .where(wrote)
                            .order_by(grouped.c.n.desc(), grouped.c.partner)
                            .limit(limit)
                        ).all()
                    )
            reply, parent, joined, where_ = self._member_replies(family, since, until, excluded)
            for me, them in ((reply, parent), (parent, reply)) if not counts else ():
                partner = bucketed.unordered(them.c.user_id).label("partner")
                n = func.count().label("n")
                counts.append(
                    connection.execute(
                        select(partner, n)
                        .select_from(joined)
                        .where(
                            where_,
                            me.c.user_id == user_id,
                            them.c.user_id != user_id,
                            _not_opted_out(family, them.c.user_id),
                        )
                        .group_by(partner)
                        .order_by(n.desc(), partner)
                        .limit(limit)
                    ).all()
                )
            ids = sorted({int(uid) for rows in counts for uid, _ in rows})
            infos: dict[int, UserInfo] = {}
            if ids:
                for row in connection.execute(select(users).where(users.c.user_id.in_(ids))):
                    infos[row.user_id] = base._user_info(row)

        def partners(rows: Sequence[Any]) -> list[ReplyPartner]:
            return [
                ReplyPartner(
                    user=infos.get(int(uid))
                    or base.UserInfo(user_id=int(uid), username=None, display_name=str(uid)),
                    replies=int(n),
                )
                for uid, n in rows
            ]

        return MemberPartners(replies_to=partners(counts[0]), replied_by=partners(counts[1]))

    def member_reaction_emoji(
        self,
        chat_id: int,
        user_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 5,
    ) -> list[EmojiCount]:
        """The emoji the member reacts with most (their current reactions, set in the
        period), most first, ties by emoji; custom emoji (``custom:ID``) left out.

        The database groups the member's reactions by the set they hold (a
        member uses a handful of distinct sets); only those are split here.
        """
        limit = _limit(limit)
        conditions = [reactions.c.user_id == user_id, reactions.c.emojis != ""]
        with self._engine.connect() as connection:
            family = base.chat_family(connection, chat_id)
            conditions.append(reactions.c.chat_id.in_(family))
            if since is not None:
                conditions.append(reactions.c.date >= base.to_timestamp(since, "since"))
            if until is not None:
                conditions.append(reactions.c.date < base.to_timestamp(until, "until"))
            rows = connection.execute(
                select(reactions.c.emojis, func.count())
                .where(and_(*conditions))
                .group_by(reactions.c.emojis)
            ).all()
        counter: Counter[str] = Counter()
        for emojis, n in rows:
            for emoji in str(emojis).split():
                if not emoji.startswith("custom:") and emoji != "paid":
                    counter[emoji] += int(n)
        ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
        return [EmojiCount(emoji=e, count=n) for e, n in ranked[:limit]]

    def member_recent_texts(
        self,
        chat_id: int,
        user_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 5000,
    ) -> list[str]:
        """The member's newest non-empty counted texts in the period, at most ``limit``
        (capped at 50,000): a bounded sample for word and emoji counts."""
        limit = _limit(limit, MAX_TEXTS)
        with self._engine.connect() as connection:
            family = base.chat_family(connection, chat_id)
            mine = base._where(
                messages, family, since, until, user_id, excluded=self._excluded(chat_id)
            )
            return list(
                connection.execute(
                    select(messages.c.text)
                    .where(mine, messages.c.text != "")
                    .order_by(messages.c.date.desc(), messages.c.message_id.desc())
                    .limit(limit)
                ).scalars()
            )

    def _member_replies(
        self,
        family: Sequence[int],
        since: datetime | None,
        until: datetime | None,
        excluded: Any,
    ) -> tuple[Any, Any, Any, ColumnElement[bool]]:
        """(reply, parent, join, where): counted replies in the period to a counted
        message of someone else (not a command or a bot's message), both senders known."""
        reply, parent, joined, where = self._replies(family, since, until, excluded)
        return reply, parent, joined, and_(where, parent.c.counted.is_(True))


def _day(unix_day: int) -> date:
    return datetime.fromtimestamp(unix_day * DAY, UTC).date()


# Last on purpose (see tgstats.store.timeline): queries.py mixes MemberQueries
# into MessageQueries, so its helpers are looked up through `base` at call time.
import tgstats.store.queries as base  # noqa: E402
