"""The polling backend: stat the known files every ``interval`` seconds.

Each file's (mtime_ns, size, inode) is compared for *inequality*, so a
restore with an older mtime (``cp -p``, ``git checkout``) is a change, and an
editor's write-temp-then-rename save is seen through the new inode.

A tick stats the files it already knows plus one stat per directory: a
directory's mtime changes when an entry is added, removed or renamed in it,
and only then is that one directory listed again.  That keeps a tick close
to the cost of stat-ing each file once, instead of re-walking the tree.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

from tgstats.hotreload.targets import WatchTargets, meta_entries
from tgstats.hotreload.watcher import ChangeCallback, FailureCallback, Watcher
from tgstats.logs import get_logger

__all__ = ["PollSnapshot", "PollWatcher"]

log = get_logger(__name__)

Key = tuple[int, int, int]  # (mtime_ns, size, inode)
MISSING: Key = (-1, -1, -1)  # a watched single file that does not exist (yet)


def _key(path: str) -> Key:
    try:
        st = os.stat(path)
    except OSError:
        return MISSING
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _dir_mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


class PollSnapshot:
    """The last seen state of every watched file and directory; ``tick()``
    updates it and returns the paths that changed."""

    def __init__(self, targets: WatchTargets) -> None:
        self.targets = targets
        self.files: dict[str, Key] = {}
        self.fixed: set[str] = {str(f) for f in targets.files}  # kept even when missing
        self.dirs: dict[str, tuple[Path, int | None]] = {}  # dir -> (its root, mtime)
        self.meta: dict[str, tuple[int | None, frozenset[str]]] = {}
        for root in targets.roots:
            self._scan(root, str(root), report=None)
        for path in self.fixed:
            self.files[path] = _key(path)
        for directory in targets.meta_dirs:
            d = str(directory)
            self.meta[d] = (_dir_mtime(d), meta_entries(d))

    def paths(self) -> list[Path]:
        return sorted(Path(p) for p, key in self.files.items() if key != MISSING)

    def _scan(self, root: Path, top: str, report: set[Path] | None) -> None:
        """List ``top`` again, and any directory below it not known yet."""
        stack = [top]
        while stack:
            directory = stack.pop()
            # mtime first: an entry added while we list shows up on the next tick.
            self.dirs[directory] = (root, _dir_mtime(directory))
            subdirs, files = self.targets.list_dir(root, directory)
            stack.extend(d for d in subdirs if d not in self.dirs)
            for path in files:
                if path not in self.files:
                    self.files[path] = _key(path)
                    if report is not None:
                        report.add(Path(path))

    def _forget_dir(self, directory: str, changed: set[Path]) -> None:
        prefix = directory + os.sep
        for d in [d for d in self.dirs if d == directory or d.startswith(prefix)]:
            del self.dirs[d]
        for f in [f for f in self.files if f.startswith(prefix) and f not in self.fixed]:
            del self.files[f]
            changed.add(Path(f))

    def tick(self) -> set[Path]:
        changed: set[Path] = set()
        for directory, (root, mtime) in list(self.dirs.items()):
            if directory not in self.dirs:
                continue  # forgotten with a parent in this tick
            now = _dir_mtime(directory)
            if now == mtime:
                continue
            if now is None:
                self._forget_dir(directory, changed)
            else:
                self._scan(root, directory, report=changed)
        files = self.files
        stat = os.stat
        updates: list[tuple[str, Key]] = []
        # The hot loop: one stat per file and three int comparisons (unpacking
        # the stored key is cheaper than building a tuple per file).
        for path, (mtime, size, inode) in files.items():
            try:
                st = stat(path)
            except OSError:
                if mtime != -1:
                    updates.append((path, MISSING))
                continue
            if st.st_mtime_ns != mtime or st.st_size != size or st.st_ino != inode:
                updates.append((path, (st.st_mtime_ns, st.st_size, st.st_ino)))
        for path, key in updates:
            changed.add(Path(path))
            if key == MISSING and path not in self.fixed:
                del files[path]
            else:
                files[path] = key
        for directory, (mtime, entries) in list(self.meta.items()):
            now = _dir_mtime(directory)
            if now == mtime:
                continue
            current = meta_entries(directory)
            self.meta[directory] = (now, current)
            changed.update(Path(directory, name) for name in entries ^ current)
        return changed


class PollWatcher(Watcher):
    """Ticks every ``interval`` seconds in a task; each tick runs in a thread."""

    backend = "poll"

    def __init__(self, targets: WatchTargets, *, interval: float) -> None:
        if interval <= 0:
            raise ValueError(f"reload_check_interval: expected a positive number, found {interval}")
        self.interval = interval
        self.snapshot = PollSnapshot(targets)
        self._lock = asyncio.Lock()
        self._on_change: ChangeCallback | None = None
        self._task: asyncio.Task[None] | None = None

    def paths(self) -> list[Path]:
        return self.snapshot.paths()

    async def retarget(self, targets: WatchTargets) -> None:
        async with self._lock:  # never under a running tick
            old = self.snapshot
            new = await asyncio.to_thread(PollSnapshot, targets)
            vanished = _carry_over(old, new)
            self.snapshot = new
        if vanished and self._on_change is not None:
            self._on_change(vanished)

    def start(self, on_change: ChangeCallback, on_failure: FailureCallback | None = None) -> None:
        # ``on_failure`` is never called: a tick only stats and lists
        # directories, and a path it cannot read counts as missing, so there
        # is no failure to fall back from.
        self._on_change = on_change
        self._task = asyncio.get_running_loop().create_task(
            self._run(on_change), name="tgstats-poll-watcher"
        )

    async def _run(self, on_change: ChangeCallback) -> None:
        while True:
            await asyncio.sleep(self.interval)
            changed = await self.check()
            if changed:
                on_change(changed)

    async def check(self) -> set[Path]:
        """One tick now.  The reloader calls this at the end of a debounce
        window: the poll interval is seconds, and without it a burst that
        spans a tick would become two reloads."""
        async with self._lock:
            # A tick over thousands of files takes milliseconds: off the loop.
            return await asyncio.to_thread(self.snapshot.tick)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def _carry_over(old: PollSnapshot, new: PollSnapshot) -> set[Path]:
    """Make ``new`` compare against what ``old`` last saw, so that nothing
    changed between the last tick and the rebuild (a reload round runs in
    between) is lost.  Returns the files that vanished meanwhile.

    Under roots both snapshots watch: known files keep their old state, files
    that appeared since are marked missing (the next tick reports them), and
    files gone since are returned.  A brand-new root (a plugin just loaded)
    starts from what is on disk now.
    """
    kept = tuple(str(r) + os.sep for r in set(old.targets.roots) & set(new.targets.roots))
    for path in new.files:
        if path in old.files:
            new.files[path] = old.files[path]
        elif kept and path.startswith(kept):
            new.files[path] = MISSING
    for directory in new.meta.keys() & old.meta.keys():
        new.meta[directory] = old.meta[directory]
    return {
        Path(p)
        for p in old.files.keys() - new.files.keys()
        if kept and p.startswith(kept) and old.files[p] != MISSING
    }
