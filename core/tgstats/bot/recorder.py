"""The host's recorder: every update goes through it before any plugin sees it.

It lives in its own handler group (:data:`RECORDER_GROUP`, before the host's
commands and every plugin), so PTB runs it for every update and still runs
the later groups.  It never raises: a database hiccup is logged and the
update continues to the plugins.

The store's calls are synchronous and short (one transaction per burst of
messages, see :class:`Recorder`); they run on the event loop rather than in a
worker thread: updates are processed one at a time anyway, so a thread would
add a hop per message without adding parallelism (``bench/record_bench.py``
measures this path).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from telegram import Message, Update
from telegram.ext import ContextTypes, TypeHandler

from tgstats.logs import get_logger

__all__ = ["ALLOWED_UPDATES", "RECORDER_GROUP", "Recorder"]

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


# Most messages one transaction may carry: a getUpdates page holds 100.
MAX_BATCH = 200


class Recorder:
    """Stores every update's message, a burst at a time.

    A commit per message is the slowest step of recording (see
    ``bench/record_bench.py``), so while more updates are already waiting in
    PTB's queue a plain message is kept in memory and written together with
    the rest of the burst, in order, when the queue runs dry. Everything that
    reads the store or depends on order flushes first: commands (a plugin's
    answer must include the messages before it), listeners (they are promised
    a stored message), reactions (they update a stored row), and stopping the
    bot (:meth:`flush` from the runtime). Edits stay in the burst, in order.
    """

    def __init__(self, store: Any, *, has_listeners: Callable[[], bool] = lambda: False) -> None:
        self._store = store
        self._has_listeners = has_listeners
        self._pending: list[Message] = []
        self._last_update_id: int | None = None
        self._last_recorded = False
        self.recorded = 0
        self.failed = 0

    def handler(self) -> TypeHandler[Update, Any, None]:
        return TypeHandler(Update, self.record)

    def was_recorded(self, update: Update) -> bool:
        """Whether ``update``'s message was stored (False for opted-out senders).

        Updates are processed one at a time, so remembering the last one is enough.
        """
        return self._last_update_id == update.update_id and self._last_recorded

    async def record(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        self._last_update_id = update.update_id
        self._last_recorded = False
        message = update.message or update.edited_message
        if message is not None and self._can_wait(message, context):
            self._pending.append(message)
            return
        if message is not None:
            self._pending.append(message)
            self._last_recorded = self.flush()
            return
        self.flush()
        try:
            self._record_reaction(update)
        except Exception:
            self.failed += 1
            log.exception("record_failed", update_id=update.update_id)

    def flush(self) -> bool:
        """Write the pending messages; True if the last of them was stored."""
        if not self._pending:
            return False
        pending, self._pending = self._pending, []
        try:
            written = self._store.record_messages(pending)
        except Exception:
            # One bad message must not cost the burst: retry one by one.
            log.exception("record_batch_failed", messages=len(pending))
            written = [self._record_one(message) for message in pending]
        self.recorded += sum(written)
        return bool(written[-1])

    def _record_one(self, message: Message) -> bool:
        try:
            return bool(self._store.record_message(message))
        except Exception:
            self.failed += 1
            log.exception("record_failed", chat_id=message.chat_id, message_id=message.message_id)
            return False

    def _can_wait(self, message: Message, context: ContextTypes.DEFAULT_TYPE) -> bool:
        return (
            len(self._pending) < MAX_BATCH
            and context.application.update_queue.qsize() > 0
            and not _is_command(message)
            and not self._has_listeners()
        )

    def _record_reaction(self, update: Update) -> None:
        if update.message_reaction_count is not None:
            self._store.record_reaction_count(update.message_reaction_count)
        elif update.message_reaction is not None:
            # Groups report reactions per user; channels and anonymous ones as counts.
            self._store.record_reaction(update.message_reaction)


def _is_command(message: Message) -> bool:
    text = message.text or ""
    return text.startswith("/")
