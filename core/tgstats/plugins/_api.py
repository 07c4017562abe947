"""Plugins, their commands and listeners, replies and contexts (re-exported by the SDK).

A plugin is a subclass of :class:`Plugin` published under the
``tgstats.plugins`` entry-point group.  It declares Telegram commands with
:func:`command` and message listeners with :func:`listener`; commands return a
:class:`Reply` instead of talking to Telegram themselves, which is what lets
the bot, ``tgstats demo`` and plugin tests run the very same code.

Command and listener methods may be ``async def`` (run on the bot's event
loop: keep them short) or plain ``def`` (run in a worker thread, so the event
loop stays free to fetch updates and log while a query or a picture is being
made: the right choice for database queries and image rendering).

One chat's updates reach the plugins one after another, in order; different
chats are served at the same time (up to 16 updates at once), so the same
method may run concurrently for two chats, in two threads for a plain
``def``.  Keep state per chat, or guard what chats share.  Every message is
stored before any command or listener sees it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

import attrs

from tgstats.plugins._buttons import ButtonContext, ButtonSpec, Keyboard, button_name, keyboard
from tgstats.plugins._events import EventSpec, event_kind_of
from tgstats.plugins._schedule import ScheduleContext, ScheduleSpec, schedule_of
from tgstats.plugins._settings import ChatSettings

if TYPE_CHECKING:
    import structlog
    import telegram

    from tgstats.store.queries import MessageQueries

__all__ = [
    "CommandContext",
    "CommandSpec",
    "ListenerSpec",
    "MessageContext",
    "NoConfig",
    "PhotoReply",
    "Plugin",
    "PluginHost",
    "Reply",
    "TextReply",
    "command",
    "listener",
]

_COMMAND_ATTR = "__tgstats_command__"
_LISTENER_ATTR = "__tgstats_listener__"


@attrs.frozen
class NoConfig:
    """Config class of a plugin that takes no options."""


@attrs.frozen
class CommandSpec:
    """A Telegram command a plugin answers: ``/name`` shown with ``description``."""

    name: str
    description: str
    method: str  # attribute name on the plugin class


@attrs.frozen
class ListenerSpec:
    """A method called for every message the bot records (after it is stored)."""

    method: str


@attrs.frozen
class TextReply:
    """A text answer. ``monospace`` sends it as a preformatted block (tables)."""

    text: str
    monospace: bool = False
    # Rows of inline buttons under the message (see tgstats.plugins._buttons).
    buttons: Keyboard = attrs.field(default=(), converter=keyboard)


@attrs.frozen
class PhotoReply:
    """A PNG picture with an optional caption."""

    png: bytes
    caption: str = ""
    buttons: Keyboard = attrs.field(default=(), converter=keyboard)


Reply = TextReply | PhotoReply


@attrs.frozen(kw_only=True)
class CommandContext:
    """What a command handler gets: the invocation and read access to the store.

    ``update`` is the python-telegram-bot Update when the command came from
    Telegram and ``None`` when it runs from ``tgstats demo`` or a test.
    ``now`` is the moment periods like "last 30 days" are measured back from
    (the demo pins it so its output is deterministic).  ``settings`` is the
    chat's effective settings: its time zone, default period and language if
    its admins chose them, and this plugin's options as they apply here.
    """

    command: str
    args: tuple[str, ...]
    chat_id: int
    chat_title: str | None
    user_id: int | None
    now: datetime
    store: MessageQueries
    update: telegram.Update | None = None
    settings: ChatSettings = attrs.field(factory=ChatSettings)
    # The language to answer in (a Babel locale name: "en", "ru", "pt_BR"), chosen by
    # the host; ``_()`` and the format_* helpers use it during the call.
    language: str = "en"


@attrs.frozen(kw_only=True)
class MessageContext:
    """What a listener gets: the message (already stored), the store and the chat's settings."""

    message: telegram.Message
    chat_id: int
    store: MessageQueries
    settings: ChatSettings = attrs.field(factory=ChatSettings)


class PluginHost(Protocol):
    """Services the host lends a plugin instance for its lifetime."""

    @property
    def name(self) -> str: ...

    @property
    def store(self) -> MessageQueries: ...

    @property
    def log(self) -> structlog.typing.FilteringBoundLogger: ...

    def create_task(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Start a background task that the host cancels when the plugin unloads."""
        ...


ConfigT = TypeVar("ConfigT")
F = TypeVar("F", bound=Callable[..., Any])


def command(name: str, description: str) -> Callable[[F], F]:
    """Mark a plugin method as the handler of ``/name``.

    The method takes a :class:`CommandContext` and returns a :class:`Reply`
    (or ``None`` to stay silent).  ``description`` is what Telegram shows in
    the command menu.
    """
    if not name or not name.replace("_", "").isalnum() or not name.islower() or len(name) > 32:
        raise ValueError(f"command name {name!r}: expected 1-32 lowercase letters, digits or _")
    if not description or len(description) > 256:
        raise ValueError(f"command {name!r}: description must be 1-256 characters")

    def mark(func: F) -> F:
        setattr(func, _COMMAND_ATTR, (name, description))
        return func

    return mark


def listener(func: F) -> F:
    """Mark a plugin method to be called with a :class:`MessageContext` per message."""
    setattr(func, _LISTENER_ATTR, True)
    return func


class Plugin(Generic[ConfigT]):
    """Base class of every tgstats plugin.

    Subclasses set ``Config`` to an attrs class whose field defaults are the
    plugin's code defaults; the host fills it from ``plugin.yaml`` and the
    operator's ``plugins.yaml`` and validates every value before the plugin
    is constructed.
    """

    Config: ClassVar[type] = NoConfig
    # Names of ``Config`` fields a chat's admins may set for their chat
    # (``/settings NAME.OPTION VALUE``), validated like the rest of the config;
    # a handler reads them from ``ctx.settings.config``.
    chat_options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: ConfigT, host: PluginHost) -> None:
        self.config = config
        self.host = host

    def chat_config(
        self, ctx: CommandContext | MessageContext | ButtonContext | ScheduleContext
    ) -> ConfigT:
        """This plugin's options as they apply in ``ctx``'s chat: ``self.config``
        with the chat's per-chat options (:attr:`chat_options`) applied."""
        config = ctx.settings.config
        return config if config is not None else self.config

    async def setup(self) -> None:
        """Called once after construction, before any handler runs."""

    async def shutdown(self) -> None:
        """Called once when the plugin is unloaded or replaced by a reload."""

    async def forget_member(self, chat_id: int | None, user_id: int) -> None:
        """Delete whatever the plugin keeps about ``user_id`` in ``chat_id`` (None: every chat).

        Called when a member sends /optout (that chat) or /forgetme (every
        chat), after the host erased their messages from the store.  Keep it
        short or hand it to a thread; an exception is logged and the other
        plugins are still asked.
        """

    @classmethod
    def commands(cls) -> list[CommandSpec]:
        specs = []
        for attr, value in _members(cls):
            marked = getattr(value, _COMMAND_ATTR, None)
            if marked is not None:
                specs.append(CommandSpec(name=marked[0], description=marked[1], method=attr))
        return specs

    @classmethod
    def event_listeners(cls) -> list[EventSpec]:
        """Methods marked with ``@on_member_joined``, ``@on_member_left``, ``@on_reaction``."""
        specs = []
        for attr, value in _members(cls):
            kind = event_kind_of(value)
            if kind is not None:
                specs.append(EventSpec(kind=kind, method=attr))
        return specs

    @classmethod
    def schedules(cls) -> list[ScheduleSpec]:
        """Methods marked with ``@schedule(...)``, in definition order."""
        specs = []
        for attr, value in _members(cls):
            rule = schedule_of(value)
            if rule is not None:
                specs.append(ScheduleSpec(method=attr, rule=rule))
        return specs

    @classmethod
    def buttons(cls) -> list[ButtonSpec]:
        """The ``@button`` handlers, in definition order."""
        specs = []
        for attr, value in _members(cls):
            name = button_name(value)
            if name is not None:
                specs.append(ButtonSpec(name=name, method=attr))
        return specs

    @classmethod
    def listeners(cls) -> list[ListenerSpec]:
        return [
            ListenerSpec(method=attr)
            for attr, value in _members(cls)
            if getattr(value, _LISTENER_ATTR, False)
        ]


def _members(cls: type) -> list[tuple[str, Any]]:
    # Definition order (not alphabetical) so the command menu follows the source.
    seen: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        for attr, value in vars(klass).items():
            seen[attr] = value
    return [(attr, value) for attr, value in seen.items() if callable(value)]
