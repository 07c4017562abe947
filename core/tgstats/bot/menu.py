"""The bot's command menu: exactly the commands the router answers.

Built from the same :class:`~tgstats.bot.handlers.RouteTable` that dispatches
(so a command is listed if and only if it has its one handler) and synced
with ``set_my_commands`` after start and after every swap.  Syncs are
serialised and skipped when nothing changed, so a burst of reloads costs at
most one request per actual change.

A chat that switched plugins off (``/settings disable``) gets its own menu
(``BotCommandScopeChat``) without their commands; switching them all back
on deletes it, so the chat follows the default menu again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from telegram import Bot, BotCommand, BotCommandScopeChat

from tgstats.bot.handlers import RouteTable
from tgstats.logs import get_logger

__all__ = ["MAX_COMMANDS", "CommandMenu", "build_menu"]

log = get_logger(__name__)

MAX_COMMANDS = 100  # Telegram's limit per scope


def build_menu(table: RouteTable, hidden: Collection[str] = ()) -> list[BotCommand]:
    """The plugins' commands (by plugin name, leaving out the ``hidden`` plugins'),
    then the host's.

    Past Telegram's limit the last plugin commands are left out (they still
    work when typed); the host's commands always stay listed."""
    routes = [r for r in table.menu_routes() if r.owner is None or r.owner not in hidden]
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
        self._chats: dict[int, list[tuple[str, str]]] = {}  # chats with their own menu

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

    async def sync_chat(
        self, chat_id: int, commands: list[BotCommand] | None, *, force: bool = False
    ) -> bool:
        """Give ``chat_id`` its own menu, or (None) drop it so the default applies again.

        False when nothing had to change (no request made).  ``force`` drops a
        chat's menu even if this process did not set it (a previous run may have)."""
        scope = BotCommandScopeChat(chat_id)
        async with self._lock:
            if commands is None:
                if chat_id not in self._chats and not force:
                    return False
                await self._bot.delete_my_commands(scope=scope)
                self._chats.pop(chat_id, None)
                log.info("chat_menu_dropped", chat_id=chat_id)
                return True
            wanted = [(c.command, c.description) for c in commands]
            if self._chats.get(chat_id) == wanted:
                return False
            await self._bot.set_my_commands(commands, scope=scope)
            self._chats[chat_id] = wanted
        log.info("chat_menu_set", chat_id=chat_id, count=len(wanted))
        return True

    def chats(self) -> list[int]:
        """Chats that currently have a menu of their own."""
        return sorted(self._chats)
