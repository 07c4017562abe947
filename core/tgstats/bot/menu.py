"""The bot's command menu: exactly the commands the router answers.

Built from the same :class:`~tgstats.bot.handlers.RouteTable` that dispatches
(so a command is listed if and only if it has its one handler) and synced
with ``set_my_commands`` after start and after every swap.  Syncs are
serialised and skipped when nothing changed, so a burst of reloads costs at
most one request per actual change.
"""

from __future__ import annotations

import asyncio

from telegram import Bot, BotCommand

from tgstats.bot.handlers import RouteTable
from tgstats.logs import get_logger

__all__ = ["MAX_COMMANDS", "CommandMenu", "build_menu"]

log = get_logger(__name__)

MAX_COMMANDS = 100  # Telegram's limit per scope


def build_menu(table: RouteTable) -> list[BotCommand]:
    """The plugins' commands (by plugin name), then the host's.

    Past Telegram's limit the last plugin commands are left out (they still
    work when typed); the host's commands always stay listed."""
    routes = table.menu_routes()
    if len(routes) > MAX_COMMANDS:
        log.warning("command_menu_truncated", count=len(routes), limit=MAX_COMMANDS)
        routes = [r for r in routes if r.owner is not None][: MAX_COMMANDS - len(table.host)]
        routes += table.host
    return [BotCommand(route.command, route.description) for route in routes]


class CommandMenu:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot
        self._lock = asyncio.Lock()
        self._current: list[tuple[str, str]] | None = None

    async def sync(self, commands: list[BotCommand]) -> bool:
        """Set the menu to ``commands``; False when it already was (no request made)."""
        wanted = [(c.command, c.description) for c in commands]
        async with self._lock:
            if wanted == self._current:
                return False
            await self._bot.set_my_commands(commands)
            self._current = wanted
        log.info("command_menu_set", count=len(wanted), commands=[name for name, _ in wanted])
        return True
