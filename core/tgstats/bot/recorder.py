"""The host's recorder: every update goes through it before any plugin sees it.

It lives in its own handler group (:data:`RECORDER_GROUP`, before the host's
commands and every plugin), so PTB runs it for every update and still runs
the later groups.  It never raises.

Writes go to the :class:`~tgstats.store.writer.StoreWriter`: its thread does
the database work (never the event loop, so a lock held by another process
freezes nothing) and puts consecutive messages into one transaction, so a
burst costs a few commits, not one per message.  A plain message is only
queued; a command, or any message while plugins listen, waits until it is
committed (a plugin's answer must include the messages before it, listeners
are promised a stored message) -- unless the store is unavailable, in which
case the update goes on at once and :class:`~tgstats.bot.store_gate.StoreGate`
answers the command.  The write an intake must await before it confirms the
update to Telegram is handed to ``on_write``; an update that carries nothing
to write has none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Literal

from telegram import Message, Update
from telegram.ext import ContextTypes, TypeHandler

from tgstats.logs import get_logger
from tgstats.store.writer import StoreStopping, StoreWriter

__all__ = ["ALLOWED_UPDATES", "RECORDER_GROUP", "Recorder", "WriteState"]

log = get_logger(__name__)

RECORDER_GROUP = -100

# What the bot asks Telegram for.  Reaction updates are not delivered unless
# asked for explicitly (and only to a bot that is an admin of the group);
# my_chat_member tells us when we join or leave a group.
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.MESSAGE_REACTION,
    Update.MESSAGE_REACTION_COUNT,
    Update.MY_CHAT_MEMBER,
]

# What became of the last update's write, for the handlers after the recorder:
# stored / not stored (opted out, a service message, refused as data) /
# queued (not waited for) / waiting (the store is unavailable) / stopping (the
# bot is stopping and it was not committed: the update must not be answered).
WriteState = Literal["stored", "not_stored", "queued", "waiting", "stopping", "none"]


class Recorder:
    """Submits every update's message or reaction to the store writer, in order."""

    def __init__(
        self,
        writer: StoreWriter,
        *,
        has_listeners: Callable[[], bool] = lambda: False,
        on_write: Callable[[Update, asyncio.Future[Any]], None] | None = None,
    ) -> None:
        self._writer = writer
        self._has_listeners = has_listeners
        # For an at-least-once intake: told each update's write (a future that
        # resolves once committed, or raises StoreStopping) as it is submitted.
        self.on_write = on_write
        self._last_update_id: int | None = None
        self._last_state: WriteState = "none"

    @property
    def recorded(self) -> int:
        """Message rows written so far."""
        return self._writer.written

    @property
    def failed(self) -> int:
        """Messages the store refused as data (after its retries)."""
        return self._writer.rejected

    def handler(self) -> TypeHandler[Update, Any, None]:
        return TypeHandler(Update, self.record)

    def state_of(self, update: Update) -> WriteState:
        """What became of ``update``'s write (updates are processed one at a time)."""
        return self._last_state if self._last_update_id == update.update_id else "none"

    def was_recorded(self, update: Update) -> bool:
        """Whether ``update``'s message is stored (False for opted-out senders)."""
        return self.state_of(update) == "stored"

    async def record(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        self._last_update_id = update.update_id
        self._last_state = "none"
        message = update.message or update.edited_message
        wait = update.message is not None and (_is_command(update.message) or self._has_listeners())
        try:
            if message is not None:
                # More updates already fetched and this one is not waited for:
                # let the writer commit them together.
                more = not wait and context.application.update_queue.qsize() > 0
                future = await self._writer.submit_messages([message], more_coming=more)
            elif update.message_reaction_count is not None:
                future = await self._writer.submit_call(
                    "record_reaction_count", update.message_reaction_count
                )
            elif update.message_reaction is not None:
                # Groups report reactions per user; channels and anonymous ones as counts.
                future = await self._writer.submit_call("record_reaction", update.message_reaction)
            else:
                return
        except StoreStopping:
            self._last_state = "stopping"
            return
        if self.on_write is not None:
            self.on_write(update, future)
        self._last_state = "queued"
        if not wait:
            return
        if not await self._writer.wait_settled(future):
            self._last_state = "waiting"
            return
        try:
            written = future.result()
        except StoreStopping:
            self._last_state = "stopping"
        except Exception:
            self._last_state = "not_stored"
        else:
            self._last_state = "stored" if written[0] else "not_stored"

    async def flush(self) -> None:
        """Wait until every write submitted so far is committed (or failed)."""
        await self._writer.drain()


def _is_command(message: Message) -> bool:
    text = message.text or ""
    return text.startswith("/")
