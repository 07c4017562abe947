"""Webhook mode: the HTTP server Telegram posts updates to, and its registration.

Telegram confirms a webhook update by the HTTP status of its POST: a 2xx
forgets it, anything else (or no answer) makes Telegram retry it later.  So
the 200 goes back only after :data:`SubmitBatch` returned, which happens once
everything the update carries is committed to the store; when it raises (the
bot is stopping, the store refuses writes) the answer is a 503 and Telegram
delivers the update again, here or to another worker behind the same proxy.
That is why tgstats serves the webhook itself: python-telegram-bot's built-in
webhook server answers 200 as soon as the update is queued, before it is
stored.

A request without ``X-Telegram-Bot-Api-Secret-Token`` gets 401, one with the
wrong token 403, and neither reaches :data:`SubmitBatch`; bodies over
:data:`MAX_BODY` get 413, bodies that are not a JSON update 400.

Workers never call ``deleteWebhook``: with N workers behind one proxy, one
worker stopping must not unregister the webhook the others still serve.
Updates that arrive while every worker is down wait at Telegram (up to 24 h)
and are retried.  Going back to long polling deletes the webhook (PTB's
``start_polling`` does, keeping the pending updates).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from telegram import Bot
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from tgstats.bot.recorder import ALLOWED_UPDATES
from tgstats.bot.settings import WebhookSettings
from tgstats.errors import TgstatsError
from tgstats.logs import get_logger

__all__ = [
    "MAX_BODY",
    "SECRET_HEADER",
    "GroupCommit",
    "SubmitBatch",
    "WebhookServer",
    "delete_webhook",
    "register_webhook",
    "start_webhook",
]

log = get_logger(__name__)

# Records the updates (in order) and returns once they are committed; raises
# when they cannot be: UpdateIntake.submit_batch.
SubmitBatch = Callable[[list[dict[str, Any]]], Awaitable[None]]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# A Telegram update is a few kilobytes at most (4,096 characters of text plus
# entities and a quoted reply); anything near this is not from Telegram.
MAX_BODY = 1024 * 1024
# How long a stopping worker lets in-flight requests finish before it closes
# their connections (Telegram then retries those updates).
SHUTDOWN_TIMEOUT = 10.0
# Rejected requests come from the internet: one log line per reason this often.
REJECT_LOG_INTERVAL = 10.0
REGISTER_ATTEMPTS = 5
# Most updates one group commit carries: a getUpdates page holds 100.
MAX_BATCH = 100


class GroupCommit:
    """Concurrent requests share one ``submit_batch`` call: a group commit.

    Telegram keeps up to ``max_connections`` requests open at once.  A commit
    per update is what limits recording (see ``bench/record_bench.py``), so
    the requests that arrive while one batch is being committed wait together
    and go in the next batch, in arrival order.  An idle worker adds no delay:
    a lone request is committed at once, as a batch of one.  Every request of
    a batch gets the batch's outcome: committed (200) or not (503, retried).
    """

    def __init__(self, submit_batch: SubmitBatch, *, max_batch: int = MAX_BATCH) -> None:
        self._submit_batch = submit_batch
        self._max_batch = max_batch
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._drain_task: asyncio.Task[None] | None = None
        self.batches = 0

    async def submit(self, data: dict[str, Any]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((data, future))
        if self._drain_task is None:
            self._drain_task = asyncio.ensure_future(self._drain())
        await future

    async def _drain(self) -> None:
        batch: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                self.batches += 1
                try:
                    await self._submit_batch([data for data, _ in batch])
                except Exception as error:
                    _settle(batch, error)
                else:
                    _settle(batch, None)
        finally:
            self._drain_task = None
            # Cancelled (the worker is stopping): nothing left waits for ever.
            _settle(batch + self._waiting, RuntimeError("the webhook is stopping"))
            self._waiting = []


def _settle(
    batch: list[tuple[dict[str, Any], asyncio.Future[None]]], error: BaseException | None
) -> None:
    for _, future in batch:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


class WebhookServer:
    """Serves ``settings.path`` on ``settings.host:settings.port`` (POST only)."""

    def __init__(
        self,
        settings: WebhookSettings,
        submit_batch: SubmitBatch,
        *,
        shutdown_timeout: float = SHUTDOWN_TIMEOUT,
    ) -> None:
        self.settings = settings
        self.group = GroupCommit(submit_batch)
        self._secret = settings.secret.encode("ascii")
        self._shutdown_timeout = shutdown_timeout
        self._runner: web.AppRunner | None = None
        self._rejections = _RateLimitedLog(REJECT_LOG_INTERVAL)
        self.port: int | None = None  # the bound port (settings.port may be 0)
        self.accepted = 0

    def app(self) -> web.Application:
        # client_max_size also bounds chunked bodies, which have no Content-Length.
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.settings.path, self._handle)
        return app

    async def start(self) -> None:
        runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=self._shutdown_timeout)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.host, self.settings.port)
        try:
            await site.start()
        except OSError as error:
            await runner.cleanup()
            raise TgstatsError(
                f"cannot listen for the webhook on {self.settings.host}:{self.settings.port}: "
                f"{error.strerror or error}"
            ) from None
        self._runner = runner
        self.port = int(runner.addresses[0][1])  # the bound port (settings.port may be 0)
        log.info(
            "webhook_listening", host=self.settings.host, port=self.port, path=self.settings.path
        )

    async def stop(self) -> None:
        """Stop accepting, let requests in flight finish (bounded), close the rest."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
            log.info("webhook_stopped", accepted=self.accepted, batches=self.group.batches)

    # -- one request -------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            return self._reject(request, 401, "no secret token")
        # Constant time, so the token cannot be guessed a character at a time.
        if not hmac.compare_digest(given.encode("utf-8", "replace"), self._secret):
            return self._reject(request, 403, "wrong secret token")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return self._reject(request, 413, "body too large")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._reject(request, 413, "body too large")
        data = _parse_update(body)
        if data is None:
            return self._reject(request, 400, "not a JSON update")
        try:
            await self.group.submit(data)
        except Exception as error:
            # Not stored: a non-2xx makes Telegram deliver it again later.
            log.warning(
                "webhook_update_failed",
                update_id=data["update_id"],
                error=f"{type(error).__name__}: {error}"[:300],
            )
            return web.Response(status=503, text="update not stored, retry later\n")
        self.accepted += 1
        return web.Response(status=200)

    def _reject(self, request: web.Request, status: int, reason: str) -> web.Response:
        self._rejections.warning(
            "webhook_rejected", key=reason, status=status, reason=reason, remote=request.remote
        )
        return web.Response(status=status, text=f"{reason}\n")


def _parse_update(body: bytes) -> dict[str, Any] | None:
    """The update object, or None unless ``body`` is a JSON object with an integer update_id."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # also UnicodeDecodeError; nesting past the stack
        return None
    if not isinstance(data, dict):
        return None
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None
    return data


class _RateLimitedLog:
    """At most one line per key per ``interval``; the next one says how many were skipped."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._last: dict[str, float] = {}
        self._skipped: dict[str, int] = {}

    def warning(self, event: str, *, key: str, **fields: Any) -> None:
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self._interval:
            self._skipped[key] = self._skipped.get(key, 0) + 1
            return
        self._last[key] = now
        skipped = self._skipped.pop(key, 0)
        log.warning(event, **fields, **({"suppressed": skipped} if skipped else {}))


# -- registration ------------------------------------------------------------------


async def register_webhook(bot: Bot, settings: WebhookSettings) -> None:
    """``setWebhook`` with our URL, secret, update kinds and connection limit.

    Every worker calls it at start with the same values, which Telegram treats
    as a no-op.  Pending updates are kept (``drop_pending_updates`` false): they
    are messages not stored yet.  A flood limit (429) or a network error is
    retried a few times; Telegram refusing the URL stops the start.
    """
    for attempt in range(1, REGISTER_ATTEMPTS + 1):
        try:
            await bot.set_webhook(
                url=settings.url,
                secret_token=settings.secret,
                allowed_updates=list(ALLOWED_UPDATES),
                max_connections=settings.max_connections,
                drop_pending_updates=False,
            )
            break
        except RetryAfter as error:
            delay = _seconds(error.retry_after)
        except (BadRequest, Forbidden, InvalidToken) as error:
            # PTB's BadRequest is a NetworkError: it must not be retried.
            raise TgstatsError(
                f"Telegram refused the webhook URL {settings.url!r}: {error} "
                "(api.telegram.org wants a public https URL on port 443, 80, 88 or 8443)"
            ) from None
        except NetworkError as error:
            delay = float(attempt)
            if attempt == REGISTER_ATTEMPTS:
                raise TgstatsError(f"setWebhook failed for {settings.url!r}: {error}") from None
        except TelegramError as error:
            raise TgstatsError(f"setWebhook failed for {settings.url!r}: {error}") from None
        if attempt == REGISTER_ATTEMPTS:
            raise TgstatsError(f"setWebhook kept being rate-limited for {settings.url!r}")
        log.warning("webhook_register_retry", attempt=attempt, delay=delay)
        await asyncio.sleep(delay)
    log.info(
        "webhook_registered",
        url=settings.url,
        max_connections=settings.max_connections,
        allowed_updates=list(ALLOWED_UPDATES),
    )


def _seconds(value: Any) -> float:
    return float(value.total_seconds()) if hasattr(value, "total_seconds") else float(value)


async def start_webhook(
    settings: WebhookSettings, bot: Bot, submit_batch: SubmitBatch
) -> WebhookServer:
    """Listen first, then register: Telegram's first POST must find us serving."""
    server = WebhookServer(settings, submit_batch)
    await server.start()
    try:
        await register_webhook(bot, settings)
    except BaseException:
        await server.stop()
        raise
    return server


async def delete_webhook(bot: Bot) -> None:
    """Before long polling: Telegram refuses getUpdates (409) while a webhook is set.

    Pending updates are kept (``drop_pending_updates`` false): the poller
    receives them.  A failure is logged, not fatal: polling then reports the
    conflict itself, rate-limited, and retries.
    """
    try:
        await bot.delete_webhook(drop_pending_updates=False)
    except TelegramError as error:
        log.warning("webhook_delete_failed", error=str(error)[:300])
