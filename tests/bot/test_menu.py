"""The command menu: built from the router's table, set with setMyCommands."""

from __future__ import annotations

from typing import Any

from telegram import Bot, BotCommand
from tgstats.bot.handlers import CommandRoute, InstalledPlugin, RouteTable
from tgstats.bot.menu import MAX_COMMANDS, CommandMenu, build_menu
from tgstats.host.router import HOST_COMMANDS
from tgstats.plugins import CommandSpec


async def _answer(_update: Any, _context: Any) -> None:
    raise AssertionError("the menu never runs a route")


def plugin(name: str, *commands: str) -> InstalledPlugin:
    specs = tuple(CommandSpec(name=c, description=f"{c} things", method=c) for c in commands)
    routes = tuple(CommandRoute(s.name, s.description, name, _answer) for s in specs)
    return InstalledPlugin(name, specs, routes, None)


HOST = [CommandRoute(name, text, None, _answer) for name, text in HOST_COMMANDS.items()]


def test_plugins_by_name_then_the_host_each_command_once() -> None:
    table = RouteTable.build(
        HOST,
        [plugin("word_cloud", "wordcloud"), plugin("heatmap", "heatmap"), plugin("x", "optout")],
    )
    menu = build_menu(table)
    names = [c.command for c in menu]
    # The plugin's /optout is not in the table, so not in the menu either.
    assert names == [
        "heatmap",
        "wordcloud",
        "optout",
        "optin",
        "forgetme",
        "settings",
        "plugins",
        "reload",
    ]
    assert menu[2].description == HOST_COMMANDS["optout"]
    assert [c.command for c in menu] == [r.command for r in table.menu_routes()]


def test_menu_is_capped_at_telegrams_limit_keeping_the_hosts() -> None:
    table = RouteTable.build(HOST, [plugin("many", *(f"c{i}" for i in range(150)))])
    menu = build_menu(table)
    assert len(menu) == MAX_COMMANDS
    assert [c.command for c in menu[-len(HOST_COMMANDS) :]] == list(HOST_COMMANDS)
    assert menu[0].command == "c0"


async def test_sync_sets_the_menu_once_per_change(fake_api: Any) -> None:
    table = RouteTable.build(HOST, [plugin("heatmap", "heatmap")])
    async with Bot(fake_api.token, base_url=fake_api.url) as bot:
        menu = CommandMenu(bot)
        assert await menu.sync(build_menu(table)) is True
        assert fake_api.menu() == [
            "heatmap",
            "optout",
            "optin",
            "forgetme",
            "settings",
            "plugins",
            "reload",
        ]
        assert await menu.sync(build_menu(table)) is False
        assert fake_api.call_count("setMyCommands") == 1
        assert await menu.sync([BotCommand("optout", "x")]) is True
        assert fake_api.menu() == ["optout"]
        assert [c.command for c in await bot.get_my_commands()] == ["optout"]
