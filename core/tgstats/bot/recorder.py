"""The host's recorder: every update goes through it before any plugin sees it.

It lives in its own handler group (:data:`RECORDER_GROUP`, before the host's
commands and every plugin), so PTB runs it for every update and still runs
the later groups.  It never raises: a database hiccup is logged and the
update continues to the plugins.

The store's calls are synchronous and short (one transaction per message);
they run on the event loop rather than in a worker thread: updates are
processed one at a time anyway, so a thread would add a hop per message
without adding parallelism (``bench/record_bench.py`` measures this path).
"""

from __future__ import annotations

from typing import Any

from telegram import Update
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


class Recorder:
    def __init__(self, store: Any) -> None:
        self._store = store
        self._last_update_id: int | None = None
        self._last_recorded = False
        self.recorded = 0
        self.failed = 0

    def handler(self) -> TypeHandler[Update, Any]:
        return TypeHandler(Update, self.record)

    def was_recorded(self, update: Update) -> bool:
        """Whether ``update``'s message was stored (False for opted-out senders).

        Updates are processed one at a time, so remembering the last one is enough.
        """
        return self._last_update_id == update.update_id and self._last_recorded

    async def record(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        self._last_update_id = update.update_id
        self._last_recorded = False
        try:
            self._last_recorded = self._record(update)
        except Exception:
            self.failed += 1
            log.exception("record_failed", update_id=update.update_id)
        else:
            if self._last_recorded:
                self.recorded += 1

    def _record(self, update: Update) -> bool:
        message = update.message or update.edited_message
        if message is not None:
            # The store handles edits (update the row), group -> supergroup
            # migrations (history follows) and opted-out senders (False).
            return bool(self._store.record_message(message))
        if update.message_reaction_count is not None:
            self._store.record_reaction_count(update.message_reaction_count)
        elif update.message_reaction is not None:
            # Groups report reactions per user; channels and anonymous ones as counts.
            self._store.record_reaction(update.message_reaction)
        return False
