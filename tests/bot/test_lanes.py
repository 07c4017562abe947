"""Per-chat lanes: order within a chat, concurrency between chats, bounded queues."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tgstats.bot.lanes import ChatLanes


async def test_one_chat_in_order_and_a_slow_chat_holds_up_no_other() -> None:
    done: list[tuple[int, int, float]] = []
    start = time.monotonic()

    async def handle(item: tuple[int, int, float]) -> None:
        chat, n, seconds = item
        await asyncio.sleep(seconds)
        done.append((chat, n, time.monotonic() - start))

    lanes = ChatLanes(handle)
    assert lanes.dispatch(1, (1, 0, 0.5))  # slow, first in chat 1
    for n in range(1, 4):
        assert lanes.dispatch(1, (1, n, 0.0))
    for n in range(5):
        assert lanes.dispatch(2, (2, n, 0.0))
    assert await lanes.drain(5) == 0
    assert [n for chat, n, _ in done if chat == 1] == [0, 1, 2, 3]
    assert [n for chat, n, _ in done if chat == 2] == [0, 1, 2, 3, 4]
    assert max(t for chat, _, t in done if chat == 2) < 0.3  # not behind chat 1's slow one
    assert lanes.queued == 0


async def test_queues_are_bounded_per_chat_and_in_total(log_lines: Any) -> None:
    release = asyncio.Event()
    handled: list[int] = []

    async def handle(item: int) -> None:
        await release.wait()
        handled.append(item)

    lanes = ChatLanes(handle, per_chat=3, total=5, running=2)
    accepted = [lanes.dispatch(1, n) for n in range(10)]
    assert accepted == [True] * 3 + [False] * 7  # a flood in chat 1 stops at 3
    assert [lanes.dispatch(2, 10 + n) for n in range(3)] == [True, True, False]  # 5 in total
    assert lanes.queued == 5 and lanes.shed == 8
    assert log_lines.getvalue().count("lane_full") == 5  # rate-limited
    release.set()
    assert await lanes.drain(5) == 0
    assert sorted(handled) == [0, 1, 2, 10, 11]
    assert lanes.dispatch(1, 99)  # room again once drained
    assert await lanes.drain(5) == 0


async def test_running_updates_are_bounded_in_total() -> None:
    running = peak = 0

    async def handle(_item: int) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.05)
        running -= 1

    lanes = ChatLanes(handle, running=3)
    for chat in range(10):
        lanes.dispatch(chat, chat)
    assert await lanes.drain(5) == 0
    assert peak == 3


async def test_drain_cancels_what_outlives_the_timeout() -> None:
    async def handle(_item: int) -> None:
        await asyncio.sleep(30)

    lanes = ChatLanes(handle)
    lanes.dispatch(1, 1)
    lanes.dispatch(1, 2)
    assert await lanes.drain(0.1) == 2
    assert lanes.queued == 0
