"""The native backend: OS file notifications through watchfiles (inotify,
FSEvents, ReadDirectoryChangesW), so a save is seen within milliseconds and
an idle bot does no scanning at all.

Two watches run side by side: a recursive one over the plugin source
directories, and a non-recursive one over the directories holding the single
files (plugins.yaml) and the ``sys.path`` metadata directories; watching
site-packages recursively would cost an inotify watch per installed folder.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path

import watchfiles

from tgstats.host.importing import METADATA_SUFFIXES
from tgstats.hotreload.targets import WatchTargets
from tgstats.hotreload.watcher import ChangeCallback, FailureCallback, Watcher
from tgstats.logs import get_logger

__all__ = ["NativeWatcher"]

log = get_logger(__name__)

# How long watchfiles waits for more events before yielding a batch.  The
# reloader does the real debouncing; this only groups one save's events.
STEP_MS = 5


class _RootsFilter:
    """watchfiles filter: a path under one of the roots that the patterns watch."""

    def __init__(self, targets: WatchTargets) -> None:
        self.targets = targets
        self.roots = [(str(r) + "/", r) for r in targets.roots]

    def __call__(self, _change: watchfiles.Change, path: str) -> bool:
        for prefix, root in self.roots:
            if path.startswith(prefix):
                p = Path(path)
                # Deleted files can no longer be told apart from directories;
                # the pattern match on the name is what matters.
                return self.targets.is_watched(root, p)
        return False


class _FlatFilter:
    """watchfiles filter for the non-recursive watch: the single files, and
    metadata entries directly inside a ``sys.path`` directory."""

    def __init__(self, targets: WatchTargets) -> None:
        self.files = {str(f) for f in targets.files}
        self.meta_dirs = {str(d) for d in targets.meta_dirs}

    def __call__(self, _change: watchfiles.Change, path: str) -> bool:
        if path in self.files:
            return True
        parent, _, name = path.rpartition("/")
        return parent in self.meta_dirs and name.endswith(METADATA_SUFFIXES)


class NativeWatcher(Watcher):
    """Two watchfiles tasks (recursive roots, flat single files and metadata)."""

    backend = "native"

    def __init__(self, targets: WatchTargets, *, interval: float) -> None:
        self.targets = targets
        # Unused: the OS reports changes as they happen, nothing is polled.
        # Kept so that ``settings.reload_check_interval`` reads the same on
        # every backend.
        self.interval = interval
        self._tasks: list[asyncio.Task[None]] = []
        self._stop: asyncio.Event | None = None
        self._on_change: ChangeCallback | None = None
        # Called with the error when the OS watch fails (inotify limit, an
        # unsupported file system); the reloader falls back to polling.
        self._on_failure: FailureCallback | None = None

    def paths(self) -> list[Path]:
        return self.targets.watched_files()

    def start(self, on_change: ChangeCallback, on_failure: FailureCallback | None = None) -> None:
        self._on_change = on_change
        self._on_failure = on_failure
        self._stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        roots = [r for r in self.targets.roots if r.is_dir()]
        flat = sorted(
            {str(f.parent) for f in self.targets.files if f.parent.is_dir()}
            | {str(d) for d in self.targets.meta_dirs if d.is_dir()}
        )
        if roots:
            self._tasks.append(
                loop.create_task(
                    self._run(roots, _RootsFilter(self.targets), recursive=True),
                    name="tgstats-native-watcher",
                )
            )
        if flat:
            self._tasks.append(
                loop.create_task(
                    self._run(flat, _FlatFilter(self.targets), recursive=False),
                    name="tgstats-native-watcher-flat",
                )
            )

    async def _run(
        self,
        paths: Sequence[Path | str],
        watch_filter: Callable[[watchfiles.Change, str], bool],
        *,
        recursive: bool,
    ) -> None:
        assert self._stop is not None
        try:
            async for batch in watchfiles.awatch(
                *paths,
                watch_filter=watch_filter,
                step=STEP_MS,
                debounce=1000,
                stop_event=self._stop,
                recursive=recursive,
            ):
                if self._on_change is not None:
                    self._on_change({Path(p) for _, p in batch})
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # e.g. inotify watch limit reached
            log.error("watcher_failed", backend="native", error=repr(exc))
            if self._on_failure is not None:
                self._on_failure(exc)

    async def retarget(self, targets: WatchTargets) -> None:
        if targets == self.targets:
            return
        old_tasks, old_stop = self._tasks, self._stop
        self.targets = targets
        self._tasks = []
        if self._on_change is not None:
            # New watches first (RustNotify registers them as soon as the task
            # runs), then the old ones go: no save falls between the two.
            self.start(self._on_change, self._on_failure)
            for _ in range(3):
                await asyncio.sleep(0)
        await _end(old_tasks, old_stop)

    async def check(self) -> set[Path]:
        # Nothing to look at late: every event was reported as it happened,
        # so a quiet debounce window is quiet for certain.
        return set()

    async def stop(self) -> None:
        await _end(self._tasks, self._stop)
        self._tasks = []


async def _end(tasks: list[asyncio.Task[None]], stop: asyncio.Event | None) -> None:
    """Stop the watches ``tasks`` (started with ``stop``) and wait for them."""
    if stop is not None:
        stop.set()
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
