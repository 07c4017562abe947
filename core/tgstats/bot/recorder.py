"""The host's recorder: what an update carries, committed to the store before anything else.

:meth:`Recorder.record` is called by the intake (:mod:`tgstats.bot.intake`)
with a batch of parsed updates, before any command or listener sees them,
and returns only once everything they carry is committed.  Consecutive
messages (new or edited) go to the store in one transaction: a commit per
message is what limits recording throughput (``bench/record_bench.py``).

Every store write goes through :meth:`Recorder.commit`, which hands it to the
:class:`~tgstats.store.writer.StoreWriter`: off the event loop (SQLite waits
for a lock in the calling thread, and a loop stuck there would freeze every
chat and SIGTERM with it), in order with every other write.  A database fault
(locked, disk full, read-only, connection lost) is retried with backoff until
the write commits or the bot stops; nothing is dropped and nothing is
confirmed meanwhile.  Any other error while recording an update is that
update's own problem (a value the store cannot take): it is returned, and the
intake keeps the update in ``rejected_updates``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import attrs
from telegram import Message, Update
from telegram.constants import ChatType

from tgstats.bot.plain import PlainMessage
from tgstats.store.events import MemberChange, ReactionChange
from tgstats.store.recorder import RecordedMessage
from tgstats.store.writer import StoreStopping, StoreWriter

__all__ = ["ALLOWED_UPDATES", "Event", "Outcome", "ReactionTotal", "Recorder", "Stopping"]

# What the bot asks Telegram for.  Reaction updates are not delivered unless
# asked for explicitly (and only to a bot that is an admin of the group);
# my_chat_member tells us when we join or leave a group; callback_query
# brings presses of the bot's inline buttons; chat_member (only sent to a bot
# that is an admin, and only if asked for) when a member's status changes,
# which records joins and leaves and refreshes the chat's admin list for /settings.
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.MESSAGE_REACTION,
    Update.MESSAGE_REACTION_COUNT,
    Update.MY_CHAT_MEMBER,
    Update.CHAT_MEMBER,
    Update.CALLBACK_QUERY,
]

# Per update: True = a message row was written, False = nothing to store (or
# an opted-out sender), an exception = recording it raised (not a database fault).
Outcome = bool | Exception

T = TypeVar("T")


@attrs.frozen
class ReactionTotal:
    """A message's anonymous reaction total changed (message_reaction_count)."""

    chat_id: int
    message_id: int
    total: int
    date: int


# What a recorded update brought that was new to the store, for the plugins' event listeners.
Event = MemberChange | ReactionChange | ReactionTotal

# The writer's own name for "the bot stopped before this committed".
Stopping = StoreStopping


class Recorder:
    def __init__(self, writer: StoreWriter) -> None:
        self._writer = writer
        self.recorded = 0
        self.failed = 0
        # update_id -> events it brought, until the intake takes them (pop_events).
        self._events: dict[int, tuple[Event, ...]] = {}

    @property
    def store(self) -> Any:
        return self._writer.store

    @property
    def writer(self) -> StoreWriter:
        """The store writer every write goes through, in order."""
        return self._writer

    @property
    def healthy(self) -> bool:
        """False while the store refuses writes (an outage)."""
        return self._writer.available

    async def commit(self, write: Callable[..., T], *args: Any) -> T:
        """Run one synchronous store write in the writer's thread until it commits.

        Raises :data:`Stopping` if the bot stops first, and the write's own
        error for a value the database refuses (after the writer's retries).
        """
        return await self._writer.run(write, *args)

    def pop_events(self, update_id: int) -> tuple[Event, ...]:
        """The new events recorded for ``update_id`` (once; the intake takes them)."""
        return self._events.pop(update_id, ())

    async def record(self, updates: Sequence[Update | PlainMessage]) -> list[Outcome]:
        """Commit what each update carries, in order; see :data:`Outcome`.

        A :class:`~tgstats.bot.plain.PlainMessage` is a group message already
        turned into its row; it joins the run of messages around it.
        """
        outcomes: list[Outcome] = []
        run: list[Message | RecordedMessage] = []
        for update in updates:
            if isinstance(update, PlainMessage):
                run.append(update.record)
                continue
            message = update.message or update.edited_message
            if message is not None and message.chat.type == ChatType.PRIVATE:
                # A direct message to the bot is between that person and the bot:
                # never recorded (its commands are still answered).
                outcomes += await self._record_messages(run)
                run = []
                outcomes.append(False)
                continue
            if message is not None and not _changes_members(message):
                run.append(message)
                continue
            outcomes += await self._record_messages(run)
            run = []
            outcomes.append(await self._record_other(update))
        outcomes += await self._record_messages(run)
        return outcomes

    async def _record_messages(self, run: list[Message | RecordedMessage]) -> list[Outcome]:
        if not run:
            return []
        try:
            written: list[Outcome] = list(await self.commit(self.store.record_messages, run))
        except (Stopping, asyncio.CancelledError):
            raise
        except Exception:
            # One bad message must not cost the batch: find it, one by one.
            written = [await self._record_one(message) for message in run]
        self.recorded += sum(1 for outcome in written if outcome is True)
        return written

    async def _record_one(self, message: Message | RecordedMessage) -> Outcome:
        try:
            return bool((await self.commit(self.store.record_messages, [message]))[0])
        except (Stopping, asyncio.CancelledError):
            raise
        except Exception as error:
            self.failed += 1
            return error

    async def _record_other(self, update: Update) -> Outcome:
        try:
            events = await self._record_events(update)
        except (Stopping, asyncio.CancelledError):
            raise
        except Exception as error:
            self.failed += 1
            return error
        if events:
            self._events[update.update_id] = events
        return bool(events)

    async def _record_events(self, update: Update) -> tuple[Event, ...]:
        """Commit what a non-message update (or a join/leave service message) carries."""
        counted = update.message_reaction_count
        if counted is not None:
            if not await self.commit(self.store.record_reaction_count, counted):
                return ()
            total = sum(r.total_count for r in counted.reactions if r.type.type != "paid")
            date = int(counted.date.timestamp())
            return (ReactionTotal(counted.chat.id, counted.message_id, total, date),)
        if update.message_reaction is not None:
            # Groups report reactions per user; channels and anonymous ones as counts.
            change = await self.commit(self.store.record_reaction_change, update.message_reaction)
            return () if change is None else (change,)
        item = update.message or update.chat_member or update.my_chat_member
        if item is None or item.chat.type == ChatType.PRIVATE:
            return ()  # a member blocking the bot is no statistic
        return tuple(await self.commit(self.store.record_member_changes, item))


def _changes_members(message: Message) -> bool:
    """A service message saying members joined or left."""
    return bool(message.new_chat_members or message.left_chat_member)
