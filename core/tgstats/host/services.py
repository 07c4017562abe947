"""The services a running plugin instance borrows from the host.

One :class:`Host` per plugin *instance*: a reload builds a fresh one for the
new instance, and closing the old one cancels the old instance's background
tasks, so nothing of the old version keeps running (or keeps it alive).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from tgstats.logs import get_logger

if TYPE_CHECKING:
    import structlog

    from tgstats.host.discovery import PluginSpec
    from tgstats.store.queries import MessageQueries

__all__ = ["Host", "make_host_factory"]

log = get_logger(__name__)


class Host:
    """Concrete :class:`tgstats.plugins._api.PluginHost`."""

    def __init__(self, name: str, store: MessageQueries | None) -> None:
        self._name = name
        self._store = store
        self._log = get_logger(f"tgstats.plugin.{name}", plugin=name)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    @property
    def name(self) -> str:
        return self._name

    @property
    def store(self) -> MessageQueries:
        if self._store is None:
            raise RuntimeError(f"plugin {self._name!r}: no message store in this host")
        return self._store

    @property
    def log(self) -> structlog.typing.FilteringBoundLogger:
        return self._log  # type: ignore[return-value]

    @property
    def tasks(self) -> frozenset[asyncio.Task[Any]]:
        return frozenset(self._tasks)

    def create_task(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        if self._closed:
            coro.close()
            raise RuntimeError(f"plugin {self._name!r} is unloaded; no new tasks")
        task = asyncio.get_running_loop().create_task(coro, name=f"plugin:{self._name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "plugin_task_failed",
                plugin=self._name,
                task=task.get_name(),
                error=repr(task.exception()),
            )

    async def close(self) -> None:
        """Cancel every task the plugin started and wait for them to finish."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()


def make_host_factory(store_queries: MessageQueries | None) -> Callable[[PluginSpec], Host]:
    """The ``host_factory`` the bot and the demo hand to the PluginManager."""

    def factory(spec: PluginSpec) -> Host:
        return Host(spec.name, store_queries)

    return factory
