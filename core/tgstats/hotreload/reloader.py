"""The hot-reload task: watcher -> debounce -> decide what changed -> manager.

A burst of saves (editor auto-save, a ``git checkout`` of many files) becomes
one reload: changes are gathered until the watched tree has been quiet for
``settings.reload_debounce`` seconds.  Then each changed path is mapped to
what it affects:

- a file under a plugin's source directory -> reload that plugin;
- the operator's plugins.yaml -> ``config_changed`` (every plugin
  re-evaluated; only those whose enabled flag or effective config changed
  are touched);
- a ``*.dist-info`` / ``*.egg-info`` / ``*.pth`` entry appearing or vanishing
  in a ``sys.path`` directory -> ``manager.rediscover()`` (pip install -e /
  pip uninstall while the bot runs).

If the native backend fails (inotify watch limit, an unsupported file
system), the reloader's own task switches to polling, between rounds.

Nothing is logged per poll tick at INFO: only when something changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from tgstats.config import WatcherKind
from tgstats.host.importing import METADATA_SUFFIXES
from tgstats.hotreload.backends import create_watcher
from tgstats.hotreload.targets import WatchTargets
from tgstats.hotreload.watcher import Watcher
from tgstats.logs import get_logger

if TYPE_CHECKING:
    from tgstats.host.manager import PluginManager

__all__ = ["Reloader", "classify_changes"]

log = get_logger(__name__)


def classify_changes(
    changes: set[Path], targets: WatchTargets, roots: dict[str, Path]
) -> tuple[set[str], bool, bool, list[str]]:
    """(plugin names, plugins.yaml changed, installs changed, display names)."""
    names: set[str] = set()
    config_changed = False
    installs_changed = False
    shown: list[str] = []
    config_files = {str(f) for f in targets.files}
    meta_dirs = {str(d) for d in targets.meta_dirs}
    for path in sorted(changes):
        text = str(path)
        if text in config_files:
            config_changed = True
            shown.append(path.name)
            continue
        matched = False
        for name, root in roots.items():
            if text.startswith(str(root) + os.sep):
                names.add(name)
                shown.append(path.relative_to(root).as_posix())
                matched = True
        if matched:
            continue
        if str(path.parent) in meta_dirs and path.name.endswith(METADATA_SUFFIXES):
            installs_changed = True
            shown.append(path.name)
    return names, config_changed, installs_changed, shown


class Reloader:
    """Owns the watcher and the asyncio task that turns changes into reloads."""

    def __init__(self, manager: PluginManager) -> None:
        self.manager = manager
        self.watcher: Watcher | None = None
        self._task: asyncio.Task[None] | None = None
        self._pending: set[Path] = set()
        self._changed = asyncio.Event()
        self._last_change = 0.0
        self._fall_back = False  # the native watcher failed: switch to polling
        self.reloads = 0  # completed reload rounds (tests and the benchmark read it)
        self.idle = asyncio.Event()  # set whenever no reload round is running
        self.idle.set()

    @property
    def running(self) -> bool:
        return self._task is not None

    async def start(self) -> bool:
        """Start watching; ``hot_reload: false`` starts nothing and returns False."""
        settings = self.manager.host_config.settings
        if not settings.hot_reload:
            log.info("hot_reload_disabled")
            return False
        await self._switch(settings.watcher)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="tgstats-reloader")
        return True

    def _native_failed(self, error: BaseException) -> None:
        """OS notifications stopped working: keep hot reload alive by polling.

        The switch itself runs in the reloader's task (``_run``), so it never
        overlaps a reload round's retarget."""
        log.warning("watcher_fallback", backend="poll", error=repr(error))
        self._fall_back = True
        self._changed.set()

    async def _switch(self, kind: WatcherKind) -> None:
        """Start a ``kind`` watcher on the current targets (stopping any old one)."""
        if self.watcher is not None:
            await self.watcher.stop()
        settings = self.manager.host_config.settings
        self.watcher = watcher = await asyncio.to_thread(
            create_watcher,
            kind,
            self.manager.watch_targets(),
            interval=settings.reload_check_interval,
        )
        watcher.start(self._on_change, self._native_failed)
        log.info(
            "hot_reload_started",
            interval=settings.reload_check_interval,
            backend=watcher.backend,
            files=len(watcher.paths()),
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.watcher is not None:
            await self.watcher.stop()
            self.watcher = None

    def _on_change(self, paths: set[Path]) -> None:
        self._pending |= paths
        self._last_change = asyncio.get_running_loop().time()
        self._changed.set()

    async def _settle(self) -> None:
        """Wait until the tree has been quiet for ``reload_debounce`` seconds.

        A polling watcher only looks every ``reload_check_interval``, so at
        the end of the window it is asked to look once more; a change found
        then restarts the window (native watchers report as things happen)."""
        assert self.watcher is not None
        loop = asyncio.get_running_loop()
        debounce = self.manager.host_config.settings.reload_debounce
        while True:
            quiet = loop.time() - self._last_change
            if quiet < debounce:
                await asyncio.sleep(debounce - quiet)
                continue
            late = await self.watcher.check()
            if not late:
                return
            self._on_change(late)

    async def _run(self) -> None:
        while True:
            await self._changed.wait()
            if self._fall_back:
                self._fall_back = False
                try:
                    await self._switch("poll")
                except Exception as exc:  # the reloader must survive anything
                    log.exception("hot_reload_error", error=repr(exc))
                if not self._pending:  # the failure was all that happened
                    self._changed.clear()
                    continue
            await self._settle()
            self._changed.clear()
            changes, self._pending = self._pending, set()
            self.idle.clear()
            try:
                await self._handle(changes)
            except Exception as exc:  # the watcher must survive anything
                log.exception("hot_reload_error", error=repr(exc))
            finally:
                self.reloads += 1
                if not self._changed.is_set():
                    self.idle.set()

    async def _handle(self, changes: set[Path]) -> None:
        assert self.watcher is not None
        targets = self.manager.watch_targets()
        names, config_changed, installs_changed, shown = classify_changes(
            changes, targets, self.manager.watch_roots()
        )
        if not (names or config_changed or installs_changed):
            return
        log.info("plugin_files_changed", count=len(shown), files=shown)
        if installs_changed:
            await self.manager.rediscover()
        if names or config_changed:
            await self.manager.reload(sorted(names), config_changed=config_changed)
        await self._retarget()

    async def _retarget(self) -> None:
        """Follow what the reload changed: plugin dirs, patterns, interval, backend."""
        assert self.watcher is not None
        settings = self.manager.host_config.settings
        if not settings.hot_reload:
            await self.watcher.stop()
            log.info("hot_reload_stopped")
            self.watcher = None
            self._task = None
            raise asyncio.CancelledError  # ends _run; a restart re-reads the setting
        targets = self.manager.watch_targets()
        wanted = settings.watcher
        if wanted != "auto" and wanted != self.watcher.backend:
            await self._switch(wanted)
            return
        self.watcher.interval = settings.reload_check_interval
        await self.watcher.retarget(targets)
