"""The python-telegram-bot Application tgstats runs on.

It has no Updater: :mod:`tgstats.bot.polling` (or the webhook) fetches the
updates, :mod:`tgstats.bot.intake` commits them, and the per-chat lanes call
:meth:`TgstatsApplication.process_update` concurrently for different chats.

Plugin handler swaps add and remove PTB handlers, which must not happen
while PTB iterates its handler groups for an update ("dictionary changed size
during iteration"), and a swap half-way through an update would let it see
the old plugin's commands and the new plugin's listeners.  So updates run
under the shared side of :class:`SwapGuard` and a swap takes its exclusive
side (:attr:`TgstatsApplication.update_lock`): it waits for the updates in
flight, and updates that arrive meanwhile wait for it.  Recording never
waits for a swap (the intake commits before an update reaches a lane).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram.ext import Application, ApplicationBuilder

from tgstats.bot.settings import BotSettings

__all__ = ["SwapGuard", "TgstatsApplication", "build_application"]


class SwapGuard:
    """Many updates at once, or one swap alone (a writer-preferring read/write lock).

    ``async with guard:`` is the exclusive (swap) side; :meth:`shared` the updates' side.
    """

    def __init__(self) -> None:
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def shared(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: not self._writer and not self._writers_waiting)
            self._readers += 1
        try:
            yield
        finally:
            async with self._changed:
                self._readers -= 1
                self._changed.notify_all()

    async def __aenter__(self) -> None:
        async with self._changed:
            self._writers_waiting += 1
            try:
                await self._changed.wait_for(lambda: not self._writer and not self._readers)
            finally:
                self._writers_waiting -= 1
            self._writer = True

    async def __aexit__(self, *_exc: object) -> None:
        async with self._changed:
            self._writer = False
            self._changed.notify_all()


class TgstatsApplication(Application):  # type: ignore[type-arg]
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.update_lock = SwapGuard()

    async def process_update(self, update: object) -> None:
        async with self.update_lock.shared():
            await super().process_update(update)


def build_application(settings: BotSettings) -> TgstatsApplication:
    application = (
        ApplicationBuilder()
        .application_class(TgstatsApplication)
        .token(settings.token)
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        # Our own polling loop confirms only committed updates (tgstats.bot.polling).
        .updater(None)
        .build()
    )
    assert isinstance(application, TgstatsApplication)
    return application
