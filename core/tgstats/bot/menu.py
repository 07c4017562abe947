"""The bot's command menu: exactly the loaded plugins' commands plus the host's.

Synced with ``set_my_commands`` after start and after every swap.  Syncs are
serialised and skipped when nothing changed, so a burst of reloads costs at
most one request per actual change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from telegram import Bot, BotCommand

from tgstats.logs import get_logger
from tgstats.plugins import CommandSpec

__all__ = ["MAX_COMMANDS", "CommandMenu", "build_menu"]

log = get_logger(__name__)

MAX_COMMANDS = 100  # Telegram's limit per scope


def build_menu(
    plugin_commands: Iterable[CommandSpec], host_commands: Iterable[BotCommand]
) -> list[BotCommand]:
    """Plugin commands (by plugin name) then the host's; the first of a duplicate name wins."""
    menu: list[BotCommand] = []
    seen: set[str] = set()
    for command in [
        *(BotCommand(spec.name, spec.description) for spec in plugin_commands),
        *host_commands,
    ]:
        if command.command in seen:
            log.warning("duplicate_command", command=command.command)
            continue
        seen.add(command.command)
        menu.append(command)
    if len(menu) > MAX_COMMANDS:
        log.warning("command_menu_truncated", count=len(menu), limit=MAX_COMMANDS)
        menu = menu[:MAX_COMMANDS]
    return menu


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
