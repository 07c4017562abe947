"""Long polling that confirms an update only after it is committed.

python-telegram-bot's Updater confirms a page of updates on its very next
``getUpdates``, while the page is still only in memory, and parses the page
as a whole (one malformed update raises for all of them, again and again).
This loop fetches the raw JSON itself, hands the page to the intake and moves
the offset past it only when :meth:`~tgstats.bot.intake.UpdateIntake.submit_batch`
returned, i.e. when everything the page carries is committed.  Telegram then
forgets those updates on the next ``getUpdates`` (the offset is the
confirmation); after a crash it sends everything after the last confirmed
one again, and the store's upserts make that harmless.

While the store refuses writes the intake does not return, so no new page is
fetched: memory stays bounded by one page (``limit``, 100).  Meanwhile the
loop looks again, every few seconds, at what Telegram holds from the same
offset (which confirms nothing) and hands it to ``on_blocked``, so commands
sent during the outage still get a "temporarily unavailable" answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram.error import InvalidToken, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from tgstats.bot.quiet import RateLimitedLog, truncate
from tgstats.bot.recorder import Stopping
from tgstats.logs import get_logger

__all__ = ["Poller"]

log = get_logger(__name__)

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
READ_MARGIN = 10.0  # seconds beyond the long-poll timeout before the request counts as lost
PEEK_INTERVAL = 1.0  # seconds between looks at Telegram's queue while an outage blocks us

SubmitBatch = Callable[[Sequence[Any]], Awaitable[None]]


class Poller:
    def __init__(
        self,
        bot: Any,
        submit_batch: SubmitBatch,
        *,
        timeout: float = 10.0,
        allowed_updates: Sequence[str] | None = None,
        limit: int = 100,
        blocked: Callable[[], bool] = lambda: False,
        on_blocked: SubmitBatch | None = None,
    ) -> None:
        self._bot = bot
        self._submit_batch = submit_batch
        self._blocked = blocked
        self._on_blocked = on_blocked
        self.timeout = timeout
        self.allowed_updates = list(allowed_updates) if allowed_updates is not None else None
        self.limit = limit
        self.offset: int | None = None  # next update id wanted = everything below is committed
        self._confirmed: int | None = None  # the offset Telegram last saw
        self._stop = asyncio.Event()
        self._fetching: asyncio.Task[Any] | None = None
        self._fail_log = RateLimitedLog(__name__, "polling_failed", burst=5, window=60)

    def stop(self) -> None:
        """Stop after the page being committed (if any); an idle long poll is cancelled."""
        self._stop.set()
        if self._fetching is not None:
            self._fetching.cancel()

    async def run(self) -> None:
        """Fetch, commit, confirm until :meth:`stop`; then confirm what was committed."""
        delay = BACKOFF_FIRST
        try:
            while not self._stop.is_set():
                try:
                    batch = await self._fetch()
                except asyncio.CancelledError:
                    if self._stop.is_set():
                        break
                    raise
                except InvalidToken:
                    raise
                except RetryAfter as error:
                    await self._pause(_retry_after(error))
                    continue
                except Exception as error:
                    # Whatever a fetch raises (5xx, an HTML page, a reset, a warning
                    # promoted to an error), polling must not die: wait and ask again.
                    self._fail_log("warning", error=truncate(str(error)), retry_in=delay)
                    await self._pause(delay)
                    delay = min(delay * 2, BACKOFF_MAX)
                    continue
                delay = BACKOFF_FIRST
                self._confirmed = self.offset
                if not batch:
                    continue
                try:
                    await self._submit_watching(batch)
                except Stopping:
                    log.info("polling_stopped_uncommitted", updates=len(batch))
                    break
                self.offset = _next_offset(batch, self.offset)
        finally:
            await self._confirm()

    async def _submit_watching(self, batch: list[Any]) -> None:
        """Submit ``batch``; while an outage holds it up, show ``on_blocked`` what else came."""
        submit = asyncio.ensure_future(self._submit_batch(batch))
        try:
            while not submit.done():
                await asyncio.wait({submit}, timeout=PEEK_INTERVAL)
                if submit.done() or self._on_blocked is None or not self._blocked():
                    continue
                try:
                    # The same offset: Telegram confirms nothing and shows what is new.
                    seen = await self._bot._post(
                        "getUpdates",
                        {
                            "offset": self.offset,
                            "limit": self.limit,
                            "timeout": 0,
                            "allowed_updates": self.allowed_updates,
                        },
                        read_timeout=5,
                    )
                except TelegramError:
                    continue
                if isinstance(seen, list):
                    await self._on_blocked(seen)
        except asyncio.CancelledError:
            submit.cancel()
            raise
        await submit

    async def _fetch(self) -> list[Any]:
        data = {
            "offset": self.offset,
            "limit": self.limit,
            "timeout": self.timeout,
            "allowed_updates": self.allowed_updates,
        }
        # Bot._post is what Bot.get_updates calls before parsing the whole page
        # at once: we want the raw JSON to parse update by update.
        self._fetching = asyncio.ensure_future(
            self._bot._post("getUpdates", data, read_timeout=self.timeout + READ_MARGIN)
        )
        try:
            result = await self._fetching
        finally:
            self._fetching = None
        if not isinstance(result, list):
            raise ValueError(f"getUpdates returned {type(result).__name__}, expected a list")
        return result

    async def _confirm(self) -> None:
        """Tell Telegram about the last committed page (what the next getUpdates would do)."""
        if self.offset is None or self.offset == self._confirmed:
            return
        try:
            await self._bot._post(
                "getUpdates", {"offset": self.offset, "limit": 1, "timeout": 0}, read_timeout=5
            )
            self._confirmed = self.offset
        except TelegramError as error:
            # Not fatal: Telegram sends those updates again and the store ignores the copies.
            log.warning("confirm_failed", offset=self.offset, error=truncate(str(error)))

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)


def _next_offset(batch: Sequence[Any], offset: int | None) -> int | None:
    ids = [
        item["update_id"]
        for item in batch
        if isinstance(item, dict) and isinstance(item.get("update_id"), int)
    ]
    if not ids:
        return offset
    return max(max(ids) + 1, offset or 0)


def _retry_after(error: RetryAfter) -> float:
    # PTB 22.2+ warns that retry_after becomes a timedelta; accept either.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return float(value.total_seconds()) if hasattr(value, "total_seconds") else float(value)
