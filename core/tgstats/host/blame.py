"""Where in a plugin's own code an error happened: ``file:line`` and the source line.

A plugin author reading ``plugin_handler_failed`` wants the line of *their*
code that raised, not the host's frames around it (the router, the thread
pool, asyncio).  This is the same rule the reload failures use
(:func:`tgstats.host.loading.error_location`: the deepest traceback frame
inside the plugin's source directory), plus the text of that line.
"""

from __future__ import annotations

import linecache
from typing import Any

import attrs

from tgstats.host.discovery import PluginSpec
from tgstats.host.loading import error_location

__all__ = ["ErrorSite", "locate_error"]

MAX_SOURCE = 200  # characters of the source line kept in a log line


@attrs.frozen
class ErrorSite:
    file: str | None
    line: int | None
    source: str | None  # the stripped source line, when the file can be read
    error: str  # "ZeroDivisionError: division by zero" (first line of the message)

    def where(self) -> str:
        if self.file is None:
            return "unknown file"
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    def log_fields(self) -> dict[str, Any]:
        """The key=value pairs every plugin failure is logged with."""
        return {"file": self.file, "line": self.line, "source": self.source, "error": self.error}


def locate_error(exc: BaseException, spec: PluginSpec | None) -> ErrorSite:
    """The deepest frame of ``exc`` (or its causes) inside the plugin ``spec`` describes."""
    file, line = error_location(exc, spec)
    source = None
    if file is not None and line is not None:
        # checkcache: after a reload the file on disk may be newer than the cache.
        linecache.checkcache(file)
        source = linecache.getline(file, line).strip()[:MAX_SOURCE] or None
    return ErrorSite(file, line, source, describe(exc))


def describe(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
