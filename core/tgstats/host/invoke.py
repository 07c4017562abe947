"""Running a plugin's command or listener: the one path the bot, the demo and tests share."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, cast

import attrs

from tgstats.plugins import CommandContext, CommandSpec, PhotoReply, Plugin, Reply, TextReply

__all__ = ["call_plugin_method", "invoke_command"]

PlainMethod = Callable[..., Reply | None]
AsyncMethod = Callable[..., Awaitable[Reply | None]]


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
    the plugin's own: no chat settings apply there."""
    if ctx.settings.config is None:
        ctx = attrs.evolve(ctx, settings=ctx.settings.with_config(plugin.config))
    reply = await call_plugin_method(getattr(plugin, spec.method), ctx)
    if reply is not None and not isinstance(reply, TextReply | PhotoReply):
        raise TypeError(
            f"/{spec.name} returned {type(reply).__name__}; expected TextReply, PhotoReply or None"
        )
    return reply
