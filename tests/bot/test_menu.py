"""The command menu: plugins' commands plus the host's, set with setMyCommands."""

from __future__ import annotations

from typing import Any

from telegram import Bot, BotCommand
from tgstats.bot.admin import HOST_COMMANDS
from tgstats.bot.menu import MAX_COMMANDS, CommandMenu, build_menu
from tgstats.plugins import CommandSpec


def spec(name: str, description: str = "does things") -> CommandSpec:
    return CommandSpec(name=name, description=description, method=name)


def test_plugins_first_then_host_and_duplicates_dropped() -> None:
    menu = build_menu(
        [spec("heatmap"), spec("wordcloud"), spec("optout", "a plugin stealing a host name")],
        HOST_COMMANDS,
    )
    names = [c.command for c in menu]
    assert names == ["heatmap", "wordcloud", "optout", "optin", "plugins", "reload"]


def test_menu_is_capped_at_telegrams_limit() -> None:
    menu = build_menu([spec(f"c{i}") for i in range(150)], [])
    assert len(menu) == MAX_COMMANDS


async def test_sync_sets_the_menu_once_per_change(fake_api: Any) -> None:
    async with Bot(fake_api.token, base_url=fake_api.url) as bot:
        menu = CommandMenu(bot)
        first = build_menu([spec("heatmap")], HOST_COMMANDS)
        assert await menu.sync(first) is True
        assert fake_api.menu() == ["heatmap", "optout", "optin", "plugins", "reload"]
        assert await menu.sync(build_menu([spec("heatmap")], HOST_COMMANDS)) is False
        assert fake_api.call_count("setMyCommands") == 1
        assert await menu.sync([BotCommand("optout", "x")]) is True
        assert fake_api.menu() == ["optout"]
        assert [c.command for c in await bot.get_my_commands()] == ["optout"]
