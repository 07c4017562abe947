"""Running a plugin's command, button or listener: one path for the bot, the demo and tests."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, cast

import attrs

from tgstats.host.callbacks import ButtonDataError, payload_room
from tgstats.plugins import (
    ButtonContext,
    ButtonSpec,
    CommandContext,
    CommandSpec,
    PhotoReply,
    Plugin,
    Reply,
    ScheduleContext,
    ScheduleSpec,
    TextReply,
)
from tgstats.plugins._i18n import catalogs_for, resolve_language, use_language

__all__ = ["call_plugin_method", "check_buttons", "invoke_button", "invoke_command", "invoke_job"]

PlainMethod = Callable[..., Reply | None]
AsyncMethod = Callable[..., Awaitable[Reply | None]]

MAX_ROWS = 8  # a keyboard taller than this hides the picture on a phone
MAX_PER_ROW = 8  # Telegram's own limit


async def call_plugin_method(method: PlainMethod | AsyncMethod, *args: Any) -> Reply | None:
    """Run a command/listener: coroutines on the loop, plain functions in a thread."""
    if inspect.iscoroutinefunction(method):
        return await method(*args)
    # Not a coroutine function, so a plain one (iscoroutinefunction narrows
    # only the branch above).
    return await asyncio.to_thread(cast(PlainMethod, method), *args)


async def invoke_command(
    plugin: Plugin[Any], spec: CommandSpec, ctx: CommandContext
) -> Reply | None:
    """Run one command of a loaded plugin: the single path the bot, the demo and tests share.

    A context without the plugin's effective config (the demo, a test) gets
    the plugin's own: no chat settings apply there.  The language is set
    before the call: asyncio.to_thread copies the context, so a plain-def
    handler's worker thread sees it too."""
    if ctx.settings.config is None:
        ctx = attrs.evolve(ctx, settings=ctx.settings.with_config(plugin.config))
    with use_language(ctx.language, catalogs_for(type(plugin))):
        reply = await call_plugin_method(getattr(plugin, spec.method), ctx)
    return _checked(plugin, f"/{spec.name}", reply)


async def invoke_button(plugin: Plugin[Any], spec: ButtonSpec, ctx: ButtonContext) -> Reply | None:
    """Run one button handler of a loaded plugin (the bot's and the tests' path)."""
    if ctx.settings.config is None:
        ctx = attrs.evolve(ctx, settings=ctx.settings.with_config(plugin.config))
    with use_language(ctx.language, catalogs_for(type(plugin))):
        reply = await call_plugin_method(getattr(plugin, spec.method), ctx)
    return _checked(plugin, f"button {spec.name!r}", reply)


def _checked(plugin: Plugin[Any], what: str, reply: object) -> Reply | None:
    if reply is not None and not isinstance(reply, TextReply | PhotoReply):
        raise TypeError(
            f"{what} returned {type(reply).__name__}; expected TextReply, PhotoReply or None"
        )
    if reply is not None:
        check_buttons(plugin.host.name, type(plugin), reply)
    return reply


async def invoke_job(plugin: Plugin[Any], spec: ScheduleSpec, ctx: ScheduleContext) -> Reply | None:
    """Run one scheduled job of a loaded plugin: the path the scheduler and tests share."""
    # Nobody asked, so no member's language: the chat's own setting (which the
    # scheduler passes in ctx.settings), English when its admins chose none.
    language = resolve_language(ctx.settings.language, None)
    with use_language(language, catalogs_for(type(plugin))):
        reply = await call_plugin_method(getattr(plugin, spec.method), ctx)
    return _checked(plugin, f"job {spec.method!r}", reply)


def check_buttons(name: str, plugin_cls: type[Plugin[Any]], reply: Reply) -> None:
    """ButtonDataError naming the plugin if a button of ``reply`` cannot be sent.

    Checked at reply time, in tests and the demo too, so a plugin author
    sees a payload past Telegram's 64 bytes (or a button whose handler the
    plugin does not declare) before any user presses it.
    """
    if not reply.buttons:
        return
    handlers = {spec.name for spec in plugin_cls.buttons()}
    if len(reply.buttons) > MAX_ROWS:
        raise ButtonDataError(name, f"{len(reply.buttons)} rows of buttons; at most {MAX_ROWS}")
    for row in reply.buttons:
        if len(row) > MAX_PER_ROW:
            raise ButtonDataError(name, f"{len(row)} buttons in a row; at most {MAX_PER_ROW}")
        for item in row:
            if item.handler not in handlers:
                known = ", ".join(sorted(handlers)) or "none"
                raise ButtonDataError(
                    name,
                    f"button {item.label!r} calls handler {item.handler!r}, which the plugin "
                    f"does not declare with @button (declared: {known})",
                )
            room = payload_room(name, item.handler)
            size = len(item.payload.encode("utf-8"))
            if size > room:
                raise ButtonDataError(
                    name,
                    f"button {item.label!r}: payload {item.payload[:40]!r} is {size} bytes; "
                    f"with the plugin's name and handler {item.handler!r} Telegram's 64-byte "
                    f"callback data leaves room for {max(room, 0)}",
                )
