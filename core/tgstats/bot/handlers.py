"""The one router between python-telegram-bot and the commands and listeners.

PTB sees a single fixed handler (in :data:`ROUTER_GROUP`, after the recorder)
that never changes while the bot runs.  For each new message it reads the
current :class:`RouteTable` once and dispatches from that snapshot: the
/command to its one owner (the host or a plugin), then the message to every
plugin's listeners.  A reload builds a new table and replaces the reference
(:meth:`PluginHandlers.apply`): an update in flight finishes with the table it
started with, the next one sees the new table, and no lock is needed, so
updates of different chats may run concurrently.  The command menu is built
from the same table (:func:`tgstats.bot.menu.build_menu`).

Button presses are routed from the same table (:mod:`tgstats.bot.presses`):
each plugin's ``@button`` handlers under its name, and the host's own under
the host namespace (:meth:`PluginHandlers.add_host_button`), so a reload
swaps a plugin's buttons together with its commands.

Who may own which command is decided by the manager (:mod:`tgstats.host.router`);
the table only has to follow it.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs
from telegram import Message, MessageEntity, Update
from telegram.ext import Application, BaseHandler, ContextTypes, filters

from tgstats.bot.language import language_for
from tgstats.bot.presses import ButtonRoute, Permission, PressHandler, build_markup
from tgstats.bot.recorder import Event, ReactionTotal
from tgstats.bot.replies import send_reply
from tgstats.host.blame import locate_error
from tgstats.host.callbacks import HOST_NAMESPACE, CallbackCodec
from tgstats.host.invoke import call_plugin_method, invoke_button, invoke_command
from tgstats.host.router import HOST_COMMANDS
from tgstats.host.scheduler import Job
from tgstats.logs import get_logger
from tgstats.plugins import (
    ButtonContext,
    ButtonSpec,
    ChatSettings,
    CommandContext,
    CommandSpec,
    EventKind,
    MemberContext,
    MessageContext,
    Plugin,
    ReactionContext,
    Reply,
)
from tgstats.plugins._buttons import keyboard
from tgstats.plugins._i18n import DEFAULT_LANGUAGE, N_, translate
from tgstats.store.events import JOIN, MemberChange

if TYPE_CHECKING:
    from tgstats.host.chat_settings import ChatSettingsService
    from tgstats.host.discovery import PluginSpec
    from tgstats.host.manager import PluginChange
    from tgstats.host.records import PluginRecord
    from tgstats.store.queries import MessageQueries

__all__ = [
    "ROUTER_GROUP",
    "CommandRoute",
    "InstalledPlugin",
    "PluginHandlers",
    "RouteTable",
    "apology",
    "event_context",
]

log = get_logger(__name__)

ROUTER_GROUP = -50  # after the recorder (-100)

# Commands and listeners see new messages only: re-running /heatmap because
# someone fixed a typo in it would be a surprise.
_NEW_MESSAGES = filters.UpdateType.MESSAGE

RouteCallback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]
ListenerCallback = Callable[[Update, MessageContext], Awaitable[None]]
EventCallback = Callable[[Update, EventKind, MemberContext | ReactionContext], Awaitable[None]]


def apology(command: str, language: str = DEFAULT_LANGUAGE) -> str:
    text = N_("Sorry, /{command} failed. The bot's admins can find the details in its log.")
    return translate(language, text).format(command=command)


@attrs.frozen
class CommandRoute:
    """/``command`` and the one callback that answers it."""

    command: str
    description: str
    owner: str | None  # plugin name; None for the host
    run: RouteCallback = attrs.field(eq=False, repr=False)


@attrs.frozen
class InstalledPlugin:
    """One plugin's part of a table: its commands and its listeners (if any)."""

    name: str
    commands: tuple[CommandSpec, ...]
    routes: tuple[CommandRoute, ...]
    listen: ListenerCallback | None = attrs.field(eq=False, repr=False)
    buttons: tuple[ButtonRoute, ...] = ()
    on_event: EventCallback | None = attrs.field(default=None, eq=False, repr=False)
    jobs: tuple[Job, ...] = attrs.field(default=(), eq=False, repr=False)

    @property
    def has_listeners(self) -> bool:
        return self.listen is not None


@attrs.frozen
class RouteTable:
    """An immutable snapshot: who answers each command, who listens."""

    host: tuple[CommandRoute, ...] = ()
    plugins: Mapping[str, InstalledPlugin] = MappingProxyType({})
    commands: Mapping[str, CommandRoute] = MappingProxyType({})
    listeners: tuple[InstalledPlugin, ...] = ()
    event_listeners: tuple[InstalledPlugin, ...] = ()
    host_buttons: tuple[ButtonRoute, ...] = ()
    # (namespace, handler) -> route: the plugins' buttons and the host's.
    buttons: Mapping[tuple[str, str], ButtonRoute] = MappingProxyType({})

    @classmethod
    def build(
        cls,
        host: Iterable[CommandRoute],
        plugins: Iterable[InstalledPlugin],
        host_buttons: Iterable[ButtonRoute] = (),
    ) -> RouteTable:
        """Host routes first, then the plugins' by plugin name.

        The manager never hands over two owners of one command; should a
        direct install do so anyway, the first owner keeps it and the clash
        is logged (``command_clash``) with both names."""
        host = tuple(host)
        by_name = {plugin.name: plugin for plugin in sorted(plugins, key=lambda p: p.name)}
        commands = {route.command: route for route in host}
        for plugin in by_name.values():
            for route in plugin.routes:
                holder = commands.get(route.command)
                if holder is not None:
                    log.warning(
                        "command_clash",
                        command=route.command,
                        plugin=plugin.name,
                        owner=holder.owner or "host",
                    )
                    continue
                commands[route.command] = route
        host_buttons = tuple(host_buttons)
        buttons = {(b.namespace, b.handler): b for b in host_buttons}
        for plugin in by_name.values():
            buttons.update({(b.namespace, b.handler): b for b in plugin.buttons})
        return cls(
            host=host,
            plugins=MappingProxyType(by_name),
            commands=MappingProxyType(commands),
            listeners=tuple(p for p in by_name.values() if p.has_listeners),
            event_listeners=tuple(p for p in by_name.values() if p.on_event is not None),
            host_buttons=host_buttons,
            buttons=MappingProxyType(buttons),
        )

    def menu_routes(self) -> list[CommandRoute]:
        """Every command once, in menu order: the plugins' by plugin name, then the host's."""
        routes = [route for route in self.commands.values() if route.owner is not None]
        return [*routes, *self.host]

    def route_for(self, message: Message) -> tuple[CommandRoute | None, tuple[str, ...]]:
        """The route of ``message``'s /command (``/cmd@thisbot`` too) and its arguments."""
        text, entities = message.text, message.entities
        if not (text and entities and entities[0].type == MessageEntity.BOT_COMMAND):
            return None, ()
        if entities[0].offset != 0:
            return None, ()
        name, _, addressee = text[1 : entities[0].length].partition("@")
        if addressee and addressee.lower() != (message.get_bot().username or "").lower():
            return None, ()  # meant for another bot in the group
        return self.commands.get(name.lower()), tuple(text.split()[1:])


@attrs.frozen
class _Dispatch:
    """What the router decided for one update, from one table."""

    table: RouteTable
    route: CommandRoute | None
    args: tuple[str, ...]


class PluginHandlers:
    """The current route table of one Application and the one PTB handler reading it."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any] | None,
        queries: MessageQueries,
        *,
        was_recorded: Callable[[Update], bool] = lambda _update: True,
        events_of: Callable[[Update], tuple[Event, ...]] = lambda _update: (),
        codec: CallbackCodec | None = None,
        permits: Callable[[str, Update], bool | Awaitable[bool]] | None = None,
        settings: ChatSettingsService | None = None,
    ) -> None:
        self._queries = queries
        # May this update use plugin NAME here? One check for a plugin's commands
        # and its buttons alike, so a press is allowed exactly when the command
        # that made the button is (per-chat enablement plugs in here).
        self._permits = permits
        self._was_recorded = was_recorded
        self.events_of = events_of
        # Per-chat settings: a plugin a chat switched off does not answer there.
        self._settings = settings
        self._table = RouteTable()
        # Signs and checks button data; the runtime sets it from the store's key.
        self.codec = codec
        if application is not None:
            application.add_handler(_RouterHandler(self), ROUTER_GROUP)
            application.add_handler(PressHandler(self), ROUTER_GROUP)

    # -- queries ---------------------------------------------------------------

    @property
    def queries(self) -> MessageQueries:
        return self._queries

    @property
    def table(self) -> RouteTable:
        """The current snapshot (read it once per update)."""
        return self._table

    def installed(self) -> list[str]:
        return list(self._table.plugins)

    def has_listeners(self) -> bool:
        """Whether any installed plugin listens to messages (the recorder must not defer)."""
        return bool(self._table.listeners)

    def jobs(self) -> list[Job]:
        """The scheduled jobs of the installed plugins (the current versions)."""
        return [job for plugin in self._table.plugins.values() for job in plugin.jobs]

    def has_event_listeners(self) -> bool:
        """Whether any installed plugin listens to joins, leaves or reactions."""
        return bool(self._table.event_listeners)

    def commands(self) -> list[CommandSpec]:
        """Commands of the installed plugins, by plugin name (stable across reloads)."""
        return [spec for plugin in self._table.plugins.values() for spec in plugin.commands]

    def owner_of(self, command: str) -> str | None:
        """The plugin answering /``command`` (None: the host's, or nobody's)."""
        route = self._table.commands.get(command)
        return None if route is None else route.owner

    # -- changes: each builds a new table and swaps the reference once ---------

    def set_host_commands(self, callbacks: Mapping[str, RouteCallback]) -> None:
        """The host's own commands (names from :data:`HOST_COMMANDS`)."""
        unknown = sorted(set(callbacks) - set(HOST_COMMANDS))
        if unknown:
            raise ValueError(
                f"not host commands: {unknown}; expected some of {list(HOST_COMMANDS)}"
            )
        host = [
            CommandRoute(name, HOST_COMMANDS[name], None, callbacks[name])
            for name in HOST_COMMANDS
            if name in callbacks
        ]
        self._table = RouteTable.build(host, self._table.plugins.values(), self._table.host_buttons)

    def add_host_button(
        self,
        handler: str,
        run: Callable[[ButtonContext], Awaitable[Reply | None]],
        *,
        allowed: Permission | None = None,
    ) -> None:
        """Route presses of the host's buttons named ``handler`` to ``run``.

        For host features (the ``/settings`` menu, say).  ``run`` gets a
        :class:`~tgstats.plugins.ButtonContext` and returns the reply that
        replaces the message (or None to leave it); ``allowed(update)``, sync
        or async, decides whether the presser may (refused presses get a
        short answer and nothing else).  Registering a name again replaces
        its route.  Make the buttons with :meth:`host_markup`.
        """
        route = ButtonRoute(HOST_NAMESPACE, handler, run, allowed or (lambda _update: True))
        kept = [b for b in self._table.host_buttons if b.handler != handler]
        self._table = RouteTable.build(
            self._table.host, self._table.plugins.values(), [*kept, route]
        )

    def host_markup(self, rows: Any, chat_id: int) -> Any:
        """The ``InlineKeyboardMarkup`` of host buttons (rows of :class:`~tgstats.plugins.Button`)
        for a message to ``chat_id``; pass it as ``reply_markup``, or return a reply with
        ``buttons=`` from a host button handler."""
        if self.codec is None:
            raise RuntimeError("buttons are not ready: no callback codec yet")
        return build_markup(self.codec, HOST_NAMESPACE, keyboard(rows), chat_id)

    def apply(self, changes: Iterable[PluginChange]) -> None:
        """Swap in the round's new versions and drop the unloaded ones, in one step."""
        plugins = dict(self._table.plugins)
        for change in changes:
            if change.new is not None and change.new.instance is not None:
                plugins[change.name] = self._routes_of(change.new)
            else:
                plugins.pop(change.name, None)
        self._swap(plugins)

    def install(self, record: PluginRecord) -> None:
        """Route ``record``'s commands and listeners, replacing any earlier version's."""
        self._swap({**self._table.plugins, record.name: self._routes_of(record)})

    def remove(self, name: str) -> None:
        plugins = dict(self._table.plugins)
        if plugins.pop(name, None) is not None:
            self._swap(plugins)

    def _swap(self, plugins: dict[str, InstalledPlugin]) -> None:
        # The old table (and with it the old instances) lives on only in the
        # updates still running with it.
        self._table = RouteTable.build(self._table.host, plugins.values(), self._table.host_buttons)
        log.debug("routes_swapped", plugins=sorted(plugins), commands=len(self._table.commands))

    def _routes_of(self, record: PluginRecord) -> InstalledPlugin:
        plugin = record.instance
        if plugin is None:
            raise ValueError(f"plugin {record.name!r} has no instance (state {record.state})")
        commands = tuple(type(plugin).commands())
        routes = tuple(
            CommandRoute(
                spec.name,
                spec.description,
                record.name,
                self._command(record.name, plugin, spec, record.spec),
            )
            for spec in commands
        )
        methods = [spec.method for spec in type(plugin).listeners()]
        listen = self._listener(record.name, plugin, methods, record.spec) if methods else None
        allowed = self._permission(record.name)
        buttons = tuple(
            ButtonRoute(
                record.name,
                spec.name,
                self._button(record.name, plugin, spec),
                allowed,
                source=record.spec,
            )
            for spec in type(plugin).buttons()
        )
        event_specs = type(plugin).event_listeners()
        on_event = (
            self._event_listener(
                record.name, plugin, [(s.kind, s.method) for s in event_specs], allowed
            )
            if event_specs
            else None
        )
        jobs = tuple(Job(record.name, spec, plugin) for spec in type(plugin).schedules())
        return InstalledPlugin(
            record.name, commands, routes, listen, buttons=buttons, on_event=on_event, jobs=jobs
        )

    def _permission(self, plugin_name: str) -> Permission:
        permits = self._permits

        async def allowed(update: Update) -> bool:
            if permits is not None and not await _verdict(
                lambda u: permits(plugin_name, u), update
            ):
                return False
            # A plugin the chat switched off: its commands and buttons are silent there.
            chat = update.effective_chat
            if self._settings is None or chat is None:
                return True
            return await self.chat_settings(chat.id, plugin_name) is not None

        return allowed

    def _button(
        self, plugin_name: str, plugin: Plugin[Any], spec: ButtonSpec
    ) -> Callable[[ButtonContext], Awaitable[Reply | None]]:
        async def run_button(ctx: ButtonContext) -> Reply | None:
            settings = await self.chat_settings(ctx.chat_id, plugin_name)
            if settings is None:
                return None  # switched off in this chat since the permission check
            return await invoke_button(plugin, spec, attrs.evolve(ctx, settings=settings))

        return run_button

    # -- callbacks -------------------------------------------------------------

    def _command(
        self,
        plugin_name: str,
        plugin: Plugin[Any],
        spec: CommandSpec,
        source: PluginSpec | None = None,
    ) -> RouteCallback:
        queries = self._queries

        async def run_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            message = update.effective_message
            chat = update.effective_chat
            if message is None or chat is None:
                return
            if not await _verdict(self._permission(plugin_name), update):
                log.info(
                    "command_not_permitted", plugin=plugin_name, command=spec.name, chat_id=chat.id
                )
                return
            settings = await self.chat_settings(chat.id, plugin_name)
            if settings is None:
                log.debug("plugin_off_in_chat", plugin=plugin_name, chat_id=chat.id)
                return
            user = update.effective_user
            # The chat's language setting, else the sender's app language, else English.
            language = language_for(update, settings.language)
            ctx = CommandContext(
                command=spec.name,
                args=tuple(context.args or ()),
                chat_id=chat.id,
                chat_title=chat.title or chat.full_name,
                user_id=user.id if user else None,
                now=datetime.now(UTC),
                store=queries,
                update=update,
                language=language,
                settings=settings,
            )
            try:
                reply = await invoke_command(plugin, spec, ctx)
            except Exception as error:
                # The log names the line of the plugin's own code that raised;
                # the group sees only the apology.
                log.exception(
                    "plugin_handler_failed",
                    plugin=plugin_name,
                    command=spec.name,
                    chat_id=chat.id,
                    update_id=update.update_id,
                    **locate_error(error, source).log_fields(),
                )
                await _send_quietly(message.reply_text(apology(spec.name, language)), plugin_name)
                return
            if reply is not None:
                try:
                    markup = (
                        build_markup(self.codec, plugin_name, reply.buttons, chat.id)
                        if reply.buttons and self.codec is not None
                        else None
                    )
                except Exception as error:
                    log.exception(
                        "plugin_handler_failed",
                        plugin=plugin_name,
                        command=spec.name,
                        **locate_error(error, source).log_fields(),
                    )
                    await _send_quietly(
                        message.reply_text(apology(spec.name, language)), plugin_name
                    )
                    return
                await _send_quietly(
                    send_reply(message, reply, markup), plugin_name, command=spec.name
                )

        return run_command

    def _listener(
        self,
        plugin_name: str,
        plugin: Plugin[Any],
        methods: list[str],
        source: PluginSpec | None = None,
    ) -> ListenerCallback:
        async def run_listeners(update: Update, ctx: MessageContext) -> None:
            settings = await self.chat_settings(ctx.chat_id, plugin_name)
            if settings is None:
                return  # switched off in this chat
            ctx = attrs.evolve(ctx, settings=settings)
            for method in methods:
                try:
                    await call_plugin_method(getattr(plugin, method), ctx)
                except Exception as error:
                    log.exception(
                        "plugin_handler_failed",
                        plugin=plugin_name,
                        listener=method,
                        chat_id=ctx.chat_id,
                        update_id=update.update_id,
                        **locate_error(error, source).log_fields(),
                    )

        return run_listeners

    def _event_listener(
        self,
        plugin_name: str,
        plugin: Plugin[Any],
        methods: list[tuple[EventKind, str]],
        allowed: Permission,
    ) -> EventCallback:
        async def run_event_listeners(
            update: Update, kind: EventKind, ctx: MemberContext | ReactionContext
        ) -> None:
            if not any(wanted == kind for wanted, _ in methods):
                return
            if not await _verdict(allowed, update):
                return  # the plugin is off in this chat: it hears nothing there
            for wanted, method in methods:
                if wanted != kind:
                    continue
                try:
                    await call_plugin_method(getattr(plugin, method), ctx)
                except Exception:
                    log.exception(
                        "plugin_handler_failed",
                        plugin=plugin_name,
                        event_kind=kind,
                        listener=method,
                        chat_id=ctx.chat_id,
                        update_id=update.update_id,
                    )

        return run_event_listeners

    async def dispatch_events(self, update: Update, table: RouteTable) -> None:
        """Hand each new event ``update`` brought to every plugin listening for its kind."""
        for event in self.events_of(update):
            kind, ctx = event_context(event, self._queries)
            for plugin in table.event_listeners:
                assert plugin.on_event is not None
                await plugin.on_event(update, kind, ctx)

    async def language_of(self, update: Update) -> str:
        """The language to answer ``update`` in when no plugin's settings are at hand
        (a button press): the chat's setting, else the member's, else English."""
        chat = update.effective_chat
        chat_language = None
        if self._settings is not None and chat is not None:
            try:
                stored = await self._settings.load(chat.id)
                chat_language = self._settings.effective(chat.id, None, stored).language
            except Exception as error:
                log.warning("chat_settings_unavailable", chat_id=chat.id, error=str(error)[:200])
        return language_for(update, chat_language)

    async def chat_settings(self, chat_id: int, plugin_name: str) -> ChatSettings | None:
        """``plugin_name``'s settings in ``chat_id``; None if the chat switched it off.

        A settings store that cannot be read must not silence every plugin:
        the plugin answers with its operator's configuration (logged)."""
        if self._settings is None:
            return ChatSettings(chat_id=chat_id)
        try:
            stored = await self._settings.load(chat_id)
            if not self._settings.is_enabled(chat_id, plugin_name, stored):
                return None
            return self._settings.effective(chat_id, plugin_name, stored)
        except Exception as error:
            log.warning(
                "chat_settings_unavailable",
                chat_id=chat_id,
                plugin=plugin_name,
                error=str(error)[:200],
            )
            return ChatSettings(chat_id=chat_id)

    async def dispatch(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, dispatch: _Dispatch
    ) -> None:
        """The command (if it has a route), then every listener, all from one table."""
        context.args = list(dispatch.args)
        try:
            if dispatch.route is not None:
                await dispatch.route.run(update, context)
        finally:
            message = update.message
            if dispatch.table.listeners and message is not None and self._was_recorded(update):
                # Opted-out senders are invisible to plugins too (not recorded).
                ctx = MessageContext(message=message, chat_id=message.chat_id, store=self._queries)
                for plugin in dispatch.table.listeners:
                    assert plugin.listen is not None
                    await plugin.listen(update, ctx)
            await self.dispatch_events(update, dispatch.table)


class _RouterHandler(BaseHandler[Update, Any, None]):
    """The one PTB handler: takes the table snapshot for each new message."""

    def __init__(self, handlers: PluginHandlers) -> None:
        super().__init__(self._never_called)
        self._handlers = handlers

    def check_update(self, update: object) -> _Dispatch | None:
        if not isinstance(update, Update):
            return None
        table = self._handlers.table  # this update keeps this snapshot to the end
        has_events = bool(table.event_listeners and self._handlers.events_of(update))
        if not _NEW_MESSAGES.check_update(update):
            return _Dispatch(table, None, ()) if has_events else None
        assert update.message is not None
        route, args = table.route_for(update.message)
        if route is None and not table.listeners and not has_events:
            return None
        return _Dispatch(table, route, args)

    async def handle_update(
        self,
        update: Update,
        application: Application[Any, Any, Any, Any, Any, Any],
        check_result: object,
        context: ContextTypes.DEFAULT_TYPE,
    ) -> None:
        assert isinstance(check_result, _Dispatch)
        await self._handlers.dispatch(update, context, check_result)

    @staticmethod
    async def _never_called(_update: object, _context: object) -> None:
        raise AssertionError("the router dispatches in handle_update")


async def _verdict(permission: Permission, update: Update) -> bool:
    verdict = permission(update)
    if inspect.isawaitable(verdict):
        verdict = await verdict
    return bool(verdict)


def event_context(
    event: Event, queries: MessageQueries
) -> tuple[EventKind, MemberContext | ReactionContext]:
    """The SDK context a plugin's event listener gets for one recorded event."""
    if isinstance(event, MemberChange):
        kind: EventKind = "member_joined" if event.kind == JOIN else "member_left"
        return kind, MemberContext(
            kind=kind,
            chat_id=event.chat_id,
            user_id=event.user_id,
            display_name=event.display_name,
            username=event.username,
            date=datetime.fromtimestamp(event.date, UTC),
            store=queries,
        )
    if isinstance(event, ReactionTotal):
        return "reaction", ReactionContext(
            chat_id=event.chat_id,
            message_id=event.message_id,
            user_id=None,
            total=event.total,
            date=datetime.fromtimestamp(event.date, UTC),
            store=queries,
        )
    return "reaction", ReactionContext(
        chat_id=event.chat_id,
        message_id=event.message_id,
        user_id=event.user_id,
        added=event.added,
        removed=event.removed,
        date=datetime.fromtimestamp(event.date, UTC),
        store=queries,
    )


async def _send_quietly(send: Any, plugin_name: str, **fields: Any) -> None:
    # A failed send (chat gone, message too long) is not the plugin's crash:
    # log it and let the next update through.
    try:
        await send
    except Exception as error:
        log.warning("reply_failed", plugin=plugin_name, error=str(error), **fields)
