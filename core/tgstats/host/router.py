"""Who answers which /command: the claim rules the bot, the demo and ``plugins check`` share.

Every command has exactly one owner.  The host's own commands are claimed
first.  Plugins then claim theirs in order of plugin (entry-point) name; while
the bot runs, a command stays with the plugin that serves it until that plugin
drops it (a reload without it, or an unload), so installing or editing another
plugin never takes a command away from a working one.  A plugin that declares
a command someone else owns fails to load (or, when an older version of it is
serving, fails to reload) with :class:`CommandClashError`.

This module knows nothing about python-telegram-bot: the bot builds its
dispatch table (:mod:`tgstats.bot.handlers`) from what the manager accepted.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from tgstats.errors import PluginLoadError
from tgstats.plugins import CommandSpec, Plugin

__all__ = ["HOST_COMMANDS", "Claims", "CommandClashError"]

# The host's own commands (name -> menu description), in menu order.
HOST_COMMANDS: Mapping[str, str] = MappingProxyType(
    {
        "optout": "Forget my messages in this chat and stop recording me",
        "optin": "Record my messages in this chat again",
        "forgetme": "Forget me in every chat (send it to me privately)",
        "settings": "Settings of this chat: time zone, period, plugins (chat admins)",
        "plugins": "List the plugins and their state (bot admins)",
        "reload": "Reload the plugins now (bot admins)",
    }
)


class CommandClashError(PluginLoadError):
    """A plugin declares a command that the host or another plugin owns.

    ``owner`` is the plugin that keeps the command, None for the host.
    """

    def __init__(
        self,
        plugin: str,
        command: str,
        owner: str | None,
        *,
        file: str | None = None,
        line: int | None = None,
    ) -> None:
        self.command = command
        self.owner = owner
        if owner == plugin:
            reason = f"command /{command} is declared twice in plugin {plugin!r}"
        else:
            by = "the host" if owner is None else f"plugin {owner!r}"
            reason = f"command /{command} of plugin {plugin!r} is already taken by {by}"
        super().__init__(plugin, reason, file=file, line=line)


@attrs.frozen
class Claims:
    """command -> owner (plugin name, None for the host). Immutable: claiming
    returns a new value, so a round can build on it and drop it on failure."""

    owners: Mapping[str, str | None] = attrs.field(factory=dict)

    @classmethod
    def host(cls) -> Claims:
        return cls(dict.fromkeys(HOST_COMMANDS))

    def commands_of(self, plugin: str) -> list[str]:
        return [command for command, owner in self.owners.items() if owner == plugin]

    def without(self, plugin: str) -> Claims:
        return Claims({c: o for c, o in self.owners.items() if o != plugin})

    def claim(self, plugin: str, plugin_cls: type[Plugin[Any]]) -> Claims:
        """``plugin``'s commands added (its earlier ones replaced), or
        CommandClashError naming the first command someone else owns."""
        owners = dict(self.without(plugin).owners)
        for spec in plugin_cls.commands():
            if spec.name in owners and owners[spec.name] == plugin:
                clash: str | None = plugin  # two methods of this plugin
            elif spec.name in owners:
                clash = owners[spec.name]
            else:
                owners[spec.name] = plugin
                continue
            file, line = _where(plugin_cls, spec)
            raise CommandClashError(plugin, spec.name, clash, file=file, line=line)
        return Claims(owners)

    def is_free(self, command: str) -> bool:
        return command not in self.owners


def _where(plugin_cls: type[Plugin[Any]], spec: CommandSpec) -> tuple[str | None, int | None]:
    """The file and line of the method that declares ``spec`` (its decorator)."""
    method = inspect.unwrap(getattr(plugin_cls, spec.method))
    code = getattr(method, "__code__", None)
    if code is None:
        return None, None
    return code.co_filename, code.co_firstlineno
