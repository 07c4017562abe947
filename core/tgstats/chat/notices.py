"""The bot's log events a plugin author wants to see in the chat, as chat lines.

``tgstats chat`` writes the full log to a file; this handler sits beside it
and turns the few events that matter while writing a plugin into one or two
readable lines each: a plugin's command raised (with the plugin's own
``file:line`` and source line, the same fields ``plugin_handler_failed``
carries in the log), a reload failed (``file:line`` and the error), a reload
succeeded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

__all__ = ["NoticeTap", "render_notice"]


def _where(event: dict[str, Any]) -> str:
    file, line = event.get("file"), event.get("line")
    if not file:
        return "unknown file"
    return f"{file}:{line}" if line is not None else str(file)


def render_notice(event: dict[str, Any]) -> list[str]:
    """The chat lines for one log event (none for events the chat does not show)."""
    name = event.get("event")
    plugin = event.get("plugin", "?")
    if name == "plugin_handler_failed":
        if event.get("command"):
            what = f"/{event['command']}"
        elif event.get("button"):
            what = f"button {event['button']}"
        else:
            what = f"listener {event.get('listener')}"
        lines = [f"! {plugin} {what} raised {event.get('error', '')} at {_where(event)}"]
        if event.get("source"):
            lines.append(f"!     {event['source']}")
        return lines
    if name in ("plugin_reload_failed", "plugin_load_failed"):
        verb = "reload" if name == "plugin_reload_failed" else "load"
        lines = [f"! {plugin}: {verb} failed at {_where(event)}: {event.get('error', '')}"]
        lines += [f"!     {problem}" for problem in event.get("problems", ())[1:]]
        if verb == "reload":
            lines.append(f"! {plugin}: the previous version keeps answering")
        return lines
    if name == "plugins_reloaded":
        plugins = ", ".join(event.get("plugins", ()))
        return [f"* reloaded {plugins} ({event.get('duration_ms', '?')} ms)"]
    if name == "config_reload_failed":
        return [f"! configuration {event.get('path')}: {event.get('error', '')}"]
    return []


class NoticeTap(logging.Handler):
    """A logging handler that shows chosen structlog events through ``show``."""

    def __init__(self, show: Callable[[str], None]) -> None:
        super().__init__(level=logging.INFO)
        self._show = show
        self._loop: asyncio.AbstractEventLoop | None = None

    def install(self) -> None:
        self._loop = asyncio.get_running_loop()
        logging.getLogger().addHandler(self)

    def remove(self) -> None:
        logging.getLogger().removeHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        # structlog's stdlib integration hands the event dict over as the message.
        event = record.msg
        if not isinstance(event, dict) or self._loop is None:
            return
        lines = render_notice(event)
        if not lines:
            return
        try:
            here = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            here = False
        if here:  # logged on the bot's loop: show it now, inside the current reply block
            self._show_all(lines)
        else:
            self._loop.call_soon_threadsafe(self._show_all, lines)

    def _show_all(self, lines: list[str]) -> None:
        for line in lines:
            self._show(line)
