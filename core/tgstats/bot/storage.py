"""The bot's store: opened with a short lock wait, proven writable, written by one thread.

``tgstats run`` refuses to start on a database it cannot write to (a read-only
file or file system, a role without INSERT/UPDATE rights): one line on stderr
and a non-zero exit, like an unreachable database, instead of starting and
then losing every message.  Once running, every write goes through a
:class:`~tgstats.store.writer.StoreWriter`, which retries outages without
blocking the event loop (see that module for the contract).
"""

from __future__ import annotations

import asyncio

import attrs

from tgstats.store import Store, open_store
from tgstats.store.writer import StoreWriter

__all__ = ["BOT_BUSY_TIMEOUT", "BotStorage"]

# One statement waits this long for another process's lock, then the writer
# retries with backoff: short, so a held lock flags the store unavailable
# (commands get their answer) and SIGTERM is never stuck behind it for long.
BOT_BUSY_TIMEOUT = 1.0


@attrs.define
class BotStorage:
    store: Store
    writer: StoreWriter

    @classmethod
    async def open(cls, db_url: str, *, busy_timeout: float = BOT_BUSY_TIMEOUT) -> BotStorage:
        """Open the store, prove it takes writes (StoreError if not), start the writer."""
        store = await asyncio.to_thread(open_store, db_url, busy_timeout=busy_timeout)
        try:
            await asyncio.to_thread(store.check_writable)
        except BaseException:
            store.close()
            raise
        writer = StoreWriter(store)
        writer.start()
        return cls(store, writer)

    def request_stop(self) -> None:
        """Stop retrying failed writes soon (signal-handler safe): SIGTERM must be prompt."""
        self.writer.request_stop()

    async def close(self) -> None:
        """Write what is queued (within the writer's stop grace), then close the store."""
        try:
            await self.writer.stop()
        finally:
            # Closing SQLite's last connection checkpoints the WAL: off the loop too.
            await asyncio.to_thread(self.store.close)
