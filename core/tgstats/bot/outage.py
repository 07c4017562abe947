"""Commands while the store is down: the answer they get, and which commands need no store.

While the store refuses writes (disk full, read-only, locked, connection
lost), the intake (:mod:`tgstats.bot.intake`) holds the updates, unconfirmed,
until the writes commit; a command among them is answered :data:`UNAVAILABLE_TEXT`
once instead of waiting in silence: a statistic computed now would miss the
messages still waiting to be written.
"""

from __future__ import annotations

import re

from tgstats.plugins._i18n import N_

__all__ = ["STORE_FREE_COMMANDS", "UNAVAILABLE_TEXT", "command_name"]

UNAVAILABLE_TEXT = N_(
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
