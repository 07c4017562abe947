"""Per-chat lanes: one chat's updates are handled in order, different chats concurrently.

The intake has already committed every message before it puts an update in
a lane, so a lane only runs commands and listeners; a slow ``/wordcloud all``
in one chat holds up that chat's later commands (order) and nothing else.

Bounds (so a flood in one chat cannot grow memory or starve the others):

- one update of a chat runs at a time (its order);
- at most :data:`MAX_RUNNING` updates run at once over all chats;
- at most :data:`PER_CHAT_QUEUE` updates wait per chat and :data:`TOTAL_QUEUE`
  over all chats.  Beyond that an update is *shed*: its message is stored
  (the intake did that first) but its command is not answered, logged
  (rate-limited) as ``lane_full``.  Shedding instead of waiting keeps a
  spammed chat from stopping the polling, and with it every other chat.

A lane's task ends when its queue is empty, so idle chats cost nothing.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from tgstats.bot.quiet import RateLimitedLog
from tgstats.logs import get_logger

__all__ = ["MAX_RUNNING", "PER_CHAT_QUEUE", "TOTAL_QUEUE", "ChatLanes"]

log = get_logger(__name__)

MAX_RUNNING = 16
PER_CHAT_QUEUE = 100
TOTAL_QUEUE = 2_000

Handle = Callable[[Any], Awaitable[None]]


class ChatLanes:
    def __init__(
        self,
        handle: Handle,
        *,
        per_chat: int = PER_CHAT_QUEUE,
        total: int = TOTAL_QUEUE,
        running: int = MAX_RUNNING,
    ) -> None:
        self._handle = handle
        self.per_chat = per_chat
        self.total = total
        self._running = asyncio.Semaphore(running)
        self._lanes: dict[int, deque[Any]] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._queued = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._shed_log = RateLimitedLog(__name__, "lane_full", burst=5, window=60)
        self.shed = 0

    @property
    def queued(self) -> int:
        """Updates waiting or running, over all chats."""
        return self._queued

    def dispatch(self, chat_id: int, item: Any) -> bool:
        """Queue ``item`` behind the chat's earlier ones; False if shed (see module doc)."""
        lane = self._lanes.get(chat_id)
        waiting = len(lane) if lane is not None else 0
        if waiting >= self.per_chat or self._queued >= self.total:
            self.shed += 1
            self._shed_log("warning", chat_id=chat_id, chat_queued=waiting, queued=self._queued)
            return False
        if lane is None:
            lane = self._lanes[chat_id] = deque()
        lane.append(item)
        self._queued += 1
        self._idle.clear()
        if chat_id not in self._tasks:
            task = asyncio.get_running_loop().create_task(self._run(chat_id, lane))
            self._tasks[chat_id] = task
        return True

    async def wait_idle(self) -> None:
        """Return once no update is waiting or running (``tgstats chat`` waits for this)."""
        await self._idle.wait()

    async def drain(self, timeout: float) -> int:
        """Wait up to ``timeout`` s for every lane to finish; cancel the rest, return how many."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return 0
        except TimeoutError:
            left = self._queued
            for task in list(self._tasks.values()):
                task.cancel()
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
            log.warning("lanes_cancelled", updates=left, timeout=timeout)
            return left

    async def _run(self, chat_id: int, lane: deque[Any]) -> None:
        try:
            while lane:
                item = lane[0]  # stays counted while it runs
                async with self._running:
                    try:
                        await self._handle(item)
                    except Exception:
                        # The handler catches its own errors; this is a host bug. Go on.
                        log.exception("lane_handler_failed", chat_id=chat_id)
                lane.popleft()
                self._queued -= 1
        finally:
            self._queued -= len(lane)
            lane.clear()
            del self._lanes[chat_id]
            del self._tasks[chat_id]
            if not self._tasks:
                self._idle.set()
