"""What to watch, and the small interface every watcher backend implements.

hupper-style: a backend is a class with ``start(on_change)``, ``stop()`` and
``paths()``, one module per backend (``watch_poll``, ``watch_native``),
imported lazily by :func:`create_watcher` so the poll backend never pays for
importing watchfiles.

A polling backend also offers ``async check()`` (look once, now), which the
reloader uses to confirm the tree is quiet at the end of a debounce window.

A backend reports *paths that changed* (modified, created, deleted, or a
metadata entry added/removed in a ``sys.path`` directory) through
``on_change``, called on the event loop; the reloader debounces and decides
what to reload.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Literal, Protocol

import attrs

from tgstats.host.importing import METADATA_SUFFIXES
from tgstats.hotreload import patterns
from tgstats.logs import get_logger

__all__ = [
    "ChangeCallback",
    "WatchTargets",
    "Watcher",
    "create_watcher",
    "native_available",
]

log = get_logger(__name__)

ChangeCallback = Callable[[set[Path]], None]
BackendName = Literal["poll", "native"]


@attrs.frozen
class WatchTargets:
    """Everything a watcher looks at.

    ``roots``: plugin source directories, scanned recursively and filtered by
    the patterns; ``files``: single files watched whatever the patterns say
    (the operator's plugins.yaml); ``meta_dirs``: directories on ``sys.path``
    of which only the ``*.dist-info``, ``*.egg-info`` and ``*.pth`` entries
    matter (installs and uninstalls).
    """

    roots: tuple[Path, ...] = ()
    files: tuple[Path, ...] = ()
    meta_dirs: tuple[Path, ...] = ()
    watch_patterns: tuple[str, ...] = ("*.py", "*.yaml", "*.yml")
    ignore_patterns: tuple[str, ...] = ()

    def is_watched(self, root: Path, path: Path) -> bool:
        """``path`` (under ``root``) should trigger a reload."""
        return patterns.is_watched(path, root, self.watch_patterns, self.ignore_patterns)

    def list_dir(self, root: Path, directory: str) -> tuple[list[str], list[str]]:
        """One listing of ``directory`` (under ``root``, itself not pruned):
        (unpruned subdirectories, watched files), as path strings."""
        return patterns.list_dir(directory, self.watch_patterns, self.ignore_patterns)

    def watched_files(self) -> list[Path]:
        found = [
            Path(f)
            for root in self.roots
            for f in patterns.iter_watched(root, self.watch_patterns, self.ignore_patterns)
        ]
        return sorted(found) + [f for f in self.files if f.exists()]


def meta_entries(directory: Path | str) -> frozenset[str]:
    """The install-metadata entries of one ``sys.path`` directory."""
    try:
        return frozenset(n for n in os.listdir(directory) if n.endswith(METADATA_SUFFIXES))
    except OSError:
        return frozenset()


class Watcher(Protocol):
    backend: BackendName

    def start(self, on_change: ChangeCallback) -> None:
        """Begin watching; must be called with a running event loop."""

    async def stop(self) -> None: ...

    def paths(self) -> list[Path]:
        """The files currently watched (for ``hot_reload_started files=N``)."""
        ...

    async def retarget(self, targets: WatchTargets) -> None:
        """Watch a new set of targets (after a reload changed plugins or patterns).

        Returns once the new targets are being watched: a save right after a
        newly installed plugin was loaded must not be missed."""


def native_available() -> bool:
    """Whether OS notifications can be used here (watchfiles importable, a
    platform it has a notify backend for)."""
    if not sys.platform.startswith(("linux", "darwin", "win32")):
        return False
    try:
        import watchfiles  # noqa: F401
    except ImportError:
        return False
    return True


def create_watcher(
    kind: Literal["poll", "native", "auto"], targets: WatchTargets, *, interval: float
) -> Watcher:
    """The backend named by ``settings.watcher``; ``auto`` prefers native."""
    if kind == "auto":
        kind = "native" if native_available() else "poll"
    if kind == "native":
        from tgstats.hotreload.native import NativeWatcher

        return NativeWatcher(targets)
    if kind == "poll":
        from tgstats.hotreload.poll import PollWatcher

        return PollWatcher(targets, interval=interval)
    raise ValueError(f"settings.watcher: expected poll, native or auto, found {kind!r}")
