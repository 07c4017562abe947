"""Each plugin's commands and listeners as python-telegram-bot handlers.

Every plugin owns a pair of handler groups (commands, then listeners), so a
plugin's handlers never shadow another plugin's (PTB runs at most one handler
per group) and unloading a plugin is "drop its groups".  Groups are handed out
by plugin name and kept across reloads, so a reloaded plugin keeps its place.

:meth:`PluginHandlers.apply` must run between updates: the caller holds the
application's update lock (see :mod:`tgstats.bot.app`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs
from telegram import Update
from telegram.ext import Application, BaseHandler, CommandHandler, ContextTypes, filters

from tgstats.bot.replies import send_reply
from tgstats.host.invoke import call_plugin_method, invoke_command
from tgstats.logs import get_logger
from tgstats.plugins import CommandContext, CommandSpec, MessageContext, Plugin

if TYPE_CHECKING:
    from tgstats.host.manager import PluginChange
    from tgstats.host.records import PluginRecord
    from tgstats.store.queries import MessageQueries

__all__ = ["FIRST_PLUGIN_GROUP", "InstalledPlugin", "PluginHandlers", "apology"]

log = get_logger(__name__)

FIRST_PLUGIN_GROUP = 100
_GROUPS_PER_PLUGIN = 2  # commands, listeners

# Commands answer new messages only: re-running /heatmap because someone
# fixed a typo in it would be a surprise.
_COMMAND_FILTER = filters.UpdateType.MESSAGE
_LISTENER_FILTER = filters.UpdateType.MESSAGE


def apology(command: str) -> str:
    return f"Sorry, /{command} failed. The bot's admins can find the details in its log."


@attrs.define
class InstalledPlugin:
    name: str
    commands: list[CommandSpec]
    handlers: list[tuple[BaseHandler[Any, Any, Any], int]]
    has_listeners: bool = False


class PluginHandlers:
    """The plugin handlers currently registered on one Application."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        queries: MessageQueries,
        *,
        was_recorded: Callable[[Update], bool] = lambda _update: True,
    ) -> None:
        self._application = application
        self._queries = queries
        self._was_recorded = was_recorded
        self._slots: dict[str, int] = {}
        self._installed: dict[str, InstalledPlugin] = {}

    # -- queries ---------------------------------------------------------------

    def installed(self) -> list[str]:
        return list(self._installed)

    def has_listeners(self) -> bool:
        """Whether any installed plugin listens to messages (the recorder must not defer)."""
        return any(plugin.has_listeners for plugin in self._installed.values())

    def commands(self) -> list[CommandSpec]:
        """Commands of the installed plugins, by plugin name (stable across reloads)."""
        return [spec for name in sorted(self._installed) for spec in self._installed[name].commands]

    def group_of(self, name: str) -> int | None:
        slot = self._slots.get(name)
        return None if slot is None else FIRST_PLUGIN_GROUP + _GROUPS_PER_PLUGIN * slot

    # -- changes (caller holds the update lock) ---------------------------------

    def apply(self, changes: Iterable[PluginChange]) -> None:
        for change in changes:
            if change.new is not None and change.new.instance is not None:
                self.install(change.new)
            else:
                self.remove(change.name)

    def install(self, record: PluginRecord) -> None:
        """Register ``record``'s handlers, replacing any earlier version's."""
        plugin = record.instance
        if plugin is None:
            raise ValueError(f"plugin {record.name!r} has no instance (state {record.state})")
        self.remove(record.name)
        group = self._group(record.name)
        handlers: list[tuple[BaseHandler[Any, Any, Any], int]] = []
        commands = type(plugin).commands()
        for spec in commands:
            handler: BaseHandler[Any, Any, Any] = CommandHandler(
                spec.name,
                self._command_callback(record.name, plugin, spec),
                filters=_COMMAND_FILTER,
            )
            handlers.append((handler, group))
        listener_methods = [spec.method for spec in type(plugin).listeners()]
        if listener_methods:
            handler = _ListenerHandler(
                self._listener_callback(record.name, plugin, listener_methods)
            )
            handlers.append((handler, group + 1))
        for handler, handler_group in handlers:
            self._application.add_handler(handler, handler_group)
        self._installed[record.name] = InstalledPlugin(
            record.name, commands, handlers, has_listeners=bool(listener_methods)
        )
        log.debug("plugin_handlers_installed", plugin=record.name, group=group, count=len(handlers))

    def remove(self, name: str) -> None:
        installed = self._installed.pop(name, None)
        if installed is None:
            return
        for handler, group in installed.handlers:
            self._application.remove_handler(handler, group)
        # Drop our references too: the old instance must become collectable.
        installed.handlers.clear()
        log.debug("plugin_handlers_removed", plugin=name)

    def _group(self, name: str) -> int:
        if name not in self._slots:
            self._slots[name] = len(self._slots)
        return FIRST_PLUGIN_GROUP + _GROUPS_PER_PLUGIN * self._slots[name]

    # -- callbacks -------------------------------------------------------------

    def _command_callback(
        self, plugin_name: str, plugin: Plugin[Any], spec: CommandSpec
    ) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Any]:
        queries = self._queries

        async def run_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            message = update.effective_message
            chat = update.effective_chat
            if message is None or chat is None:
                return
            user = update.effective_user
            ctx = CommandContext(
                command=spec.name,
                args=tuple(context.args or ()),
                chat_id=chat.id,
                chat_title=chat.title or chat.full_name,
                user_id=user.id if user else None,
                now=datetime.now(UTC),
                store=queries,
                update=update,
            )
            try:
                reply = await invoke_command(plugin, spec, ctx)
            except Exception:
                log.exception(
                    "plugin_handler_failed",
                    plugin=plugin_name,
                    command=spec.name,
                    chat_id=chat.id,
                    update_id=update.update_id,
                )
                await _send_quietly(message.reply_text(apology(spec.name)), plugin_name)
                return
            if reply is not None:
                await _send_quietly(send_reply(message, reply), plugin_name, command=spec.name)

        return run_command

    def _listener_callback(
        self, plugin_name: str, plugin: Plugin[Any], methods: list[str]
    ) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Any]:
        queries = self._queries
        was_recorded = self._was_recorded

        async def run_listeners(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
            message = update.message
            if message is None or not was_recorded(update):
                return  # opted-out senders are invisible to plugins too
            ctx = MessageContext(message=message, chat_id=message.chat_id, store=queries)
            for method in methods:
                try:
                    await call_plugin_method(getattr(plugin, method), ctx)
                except Exception:
                    log.exception(
                        "plugin_handler_failed",
                        plugin=plugin_name,
                        listener=method,
                        chat_id=message.chat_id,
                        update_id=update.update_id,
                    )

        return run_listeners


class _ListenerHandler(BaseHandler[Update, Any, None]):
    """Every new message (commands included) goes to the plugin's listeners."""

    def check_update(self, update: object) -> bool:
        return isinstance(update, Update) and bool(_LISTENER_FILTER.check_update(update))


async def _send_quietly(send: Any, plugin_name: str, **fields: Any) -> None:
    # A failed send (chat gone, message too long) is not the plugin's crash:
    # log it and let the next update through.
    try:
        await send
    except Exception as error:
        log.warning("reply_failed", plugin=plugin_name, error=str(error), **fields)
