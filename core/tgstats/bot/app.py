"""The python-telegram-bot Application tgstats runs on.

:class:`SerialApplication` processes updates one at a time under
:attr:`~SerialApplication.update_lock`.  Plugin handler swaps take the same
lock, so a swap happens strictly between two updates: PTB iterates a copy of
its handler lists, but a swap half-way through an update would still let one
update see the old plugin's commands and the new plugin's listeners.  Updates
that arrive while a swap holds the lock wait in PTB's update queue and are
processed after it, in order, none lost.
"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram.ext import Application, ApplicationBuilder

from tgstats.bot.settings import BotSettings

__all__ = ["SerialApplication", "build_application"]


class SerialApplication(Application):  # type: ignore[type-arg]
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.update_lock = asyncio.Lock()

    async def process_update(self, update: object) -> None:
        async with self.update_lock:
            await super().process_update(update)


def build_application(settings: BotSettings) -> SerialApplication:
    application = (
        ApplicationBuilder()
        .application_class(SerialApplication)
        .token(settings.token)
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        # One update at a time: the store sees messages in order and the swap
        # lock above is enough to keep reloads between updates.
        .concurrent_updates(False)
        .build()
    )
    assert isinstance(application, SerialApplication)
    return application
