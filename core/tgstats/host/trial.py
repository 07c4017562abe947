"""A trial run of the plugins, started and stopped as the bot does: ``plugins check``.

Every enabled plugin goes through the real :class:`PluginManager` (discovery,
import, config, construction, ``setup()``) and then ``manager.stop()``
(``shutdown()`` of every plugin whose setup succeeded), against a store that
is thrown away afterwards unless a database URL is given.  Nothing is sent to
Telegram: the plugins' handlers are never registered.

Time bounds: each ``setup()`` and ``shutdown()`` is cancelled after
``timeout`` seconds (the manager's ``hook_timeout``; the failure names the
plugin line it was waiting on).  A hook that blocks the event loop instead
(``time.sleep``, a busy loop) cannot be cancelled: a watchdog thread then
prints every thread's stack, removes the throw-away store and ends the
process with status 1 after ``2 * timeout + 1`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs

from tgstats.host.discovery import PluginSpec
from tgstats.host.manager import PluginManager
from tgstats.host.records import PluginRecord
from tgstats.host.services import Host, make_host_factory
from tgstats.store import Store, open_store

__all__ = ["TrialResult", "run_trial", "throwaway_store"]

STORE_FILE = "check.db"


@attrs.frozen
class TrialResult:
    records: tuple[PluginRecord, ...]  # after setup: loaded, disabled or failed; by name
    shutdown_failed: tuple[PluginRecord, ...]  # plugins whose shutdown() raised or hung


def run_trial(config_path: Path, *, db_url: str | None, timeout: float) -> TrialResult:
    """Set every enabled plugin up and shut it down again; see the module docstring.

    Raises ConfigError for an invalid plugins.yaml and StoreError for an
    unreachable ``db_url``."""
    with throwaway_store(db_url) as (store, folder):
        watchdog = _Watchdog(2 * timeout + 1, cleanup=lambda: _remove(folder))
        try:
            return asyncio.run(_trial(config_path, store, timeout, watchdog))
        finally:
            watchdog.disarm()


@contextlib.contextmanager
def throwaway_store(db_url: str | None) -> Iterator[tuple[Store, Path | None]]:
    """The store at ``db_url``, or an empty SQLite store in a temporary folder
    that is deleted on exit; yields (store, that folder or None)."""
    if db_url is not None:
        store = open_store(db_url)
        try:
            yield store, None
        finally:
            store.close()
        return
    with tempfile.TemporaryDirectory(prefix="tgstats-check-") as name:
        folder = Path(name)
        store = open_store(f"sqlite:///{folder / STORE_FILE}")
        try:
            yield store, folder
        finally:
            store.close()


async def _trial(
    config_path: Path, store: Store, timeout: float, watchdog: _Watchdog
) -> TrialResult:
    factory = make_host_factory(store.queries)

    def host_factory(spec: PluginSpec) -> Host:
        # Called right before a plugin is constructed and set up: its own window.
        watchdog.arm(f"setting up plugin {spec.name!r} (or importing the next one)")
        return factory(spec)

    manager = PluginManager(
        config_path=config_path, host_factory=host_factory, hook_timeout=timeout
    )
    records: list[PluginRecord] = []
    watchdog.arm("discovering and importing the plugins")
    try:
        await manager.start()
        records = manager.list_plugins()
    finally:
        live = sum(r.instance is not None for r in manager.list_plugins())
        watchdog.arm("shutting the plugins down", seconds=watchdog.seconds * max(live, 1))
        shutdown_failed = await manager.stop()
    return TrialResult(records=tuple(records), shutdown_failed=tuple(shutdown_failed))


class _Watchdog:
    """Ends the process when the event loop stays blocked past a deadline."""

    def __init__(self, seconds: float, *, cleanup: Callable[[], None]) -> None:
        self.seconds = seconds
        self._cleanup = cleanup
        self._timer: threading.Timer | None = None

    def arm(self, doing: str, *, seconds: float | None = None) -> None:
        """(Re)start the countdown for the step described by ``doing``."""
        self.disarm()
        limit = self.seconds if seconds is None else seconds
        self._timer = threading.Timer(limit, self._fire, args=(doing, limit))
        self._timer.daemon = True
        self._timer.start()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fire(self, doing: str, limit: float) -> None:
        print(
            f"tgstats: error: still {doing} after {limit:g} s: a plugin blocks the event "
            "loop (a blocking call in async code?); the stack of every thread follows",
            file=sys.stderr,
            flush=True,
        )
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        self._cleanup()
        os._exit(1)  # the blocked main thread cannot be stopped any other way


def _remove(folder: Path | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
