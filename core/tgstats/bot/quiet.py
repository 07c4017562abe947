"""Log lines that cannot flood: a per-event rate limit and truncated values.

A burst of bad updates (or a database that keeps refusing writes) must not
turn into megabytes of log that rotation then throws away together with the
useful lines before them.
"""

from __future__ import annotations

import time
from typing import Any

from tgstats.logs import get_logger

__all__ = ["RateLimitedLog", "truncate"]

MAX_VALUE_CHARS = 300


def truncate(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} chars)"


class RateLimitedLog:
    """At most ``burst`` lines per ``window`` seconds for one event; then one summary line.

    The first line after a quiet window carries ``suppressed=N`` when lines
    were dropped meanwhile, so nothing disappears without a trace.
    """

    def __init__(
        self, logger_name: str, event: str, *, burst: int = 10, window: float = 60.0
    ) -> None:
        self._log = get_logger(logger_name)
        self.event = event
        self.burst = burst
        self.window = window
        self._window_start = float("-inf")
        self._in_window = 0
        self.suppressed = 0

    def __call__(self, level: str, **fields: Any) -> bool:
        """Log ``event`` at ``level`` (e.g. "warning") unless over the limit; True if logged."""
        now = time.monotonic()
        if now - self._window_start >= self.window:
            self._window_start, self._in_window = now, 0
        if self._in_window >= self.burst:
            self.suppressed += 1
            return False
        self._in_window += 1
        if self.suppressed:
            fields["suppressed"] = self.suppressed
            self.suppressed = 0
        getattr(self._log, level)(self.event, **fields)
        return True
