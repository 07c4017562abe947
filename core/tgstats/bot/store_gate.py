"""Commands while the store is down: a short "temporarily unavailable" answer.

A handler group of its own (:data:`STORE_GATE_GROUP`), after the recorder and
before the host's and the plugins' commands.  When the recorder could not get
a command's message committed because the store is unavailable (disk full,
read-only, locked, connection lost), the gate answers the command with
:data:`UNAVAILABLE_TEXT` and stops the update there: a statistic computed now
would miss the messages still waiting to be written.  The message itself
stays queued and is stored once the database is back.

While the bot is stopping and the write was not committed, the command is not
answered at all: the update is not confirmed either, so Telegram delivers it
again after the restart and it is answered then, once.

Commands that need no store (``/plugins``, ``/reload``) pass, so admins can
still look and reload during an outage; commands the bot does not know are
left alone, as always.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes, TypeHandler

from tgstats.bot.recorder import Recorder
from tgstats.logs import get_logger

__all__ = ["STORE_GATE_GROUP", "UNAVAILABLE_TEXT", "StoreGate", "command_name"]

log = get_logger(__name__)

STORE_GATE_GROUP = -75  # after RECORDER_GROUP (-100), before HOST_GROUP (-50)

UNAVAILABLE_TEXT = (
    "Statistics are temporarily unavailable: the database is not accepting writes right "
    "now. Nothing is lost; messages are counted as soon as it is back."
)

STORE_FREE_COMMANDS = frozenset({"plugins", "reload"})

# Telegram's command syntax: /name or /name@bot, then a space or the end.
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@(\w+))?(?:\s|$)")


def command_name(text: str | None, bot_username: str | None) -> str | None:
    """``/heatmap@MyBot 30`` -> ``heatmap``; None for non-commands and other bots' commands."""
    match = _COMMAND.match(text or "")
    if match is None:
        return None
    name, target = match.groups()
    if target and (bot_username is None or target.lower() != bot_username.lower()):
        return None
    return name.lower()


class StoreGate:
    def __init__(
        self,
        recorder: Recorder,
        commands: Callable[[], Iterable[str]],
        *,
        store_free: frozenset[str] = STORE_FREE_COMMANDS,
    ) -> None:
        self._recorder = recorder
        self._commands = commands
        self._store_free = store_free

    def handler(self) -> TypeHandler[Update, Any, None]:
        return TypeHandler(Update, self.check)

    async def check(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        state = self._recorder.state_of(update)
        if state not in ("waiting", "stopping") or update.message is None:
            return
        name = command_name(update.message.text, context.bot.username)
        if name is None or name in self._store_free or name not in set(self._commands()):
            return
        if state == "waiting":
            log.info("command_deferred", command=name, chat_id=update.message.chat_id)
            try:
                await update.message.reply_text(UNAVAILABLE_TEXT)
            except Exception as error:
                log.warning("reply_failed", command=name, error=str(error))
        raise ApplicationHandlerStop
