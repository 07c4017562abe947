"""Picks the watcher backend named by ``settings.watcher`` and builds it.

The backend modules are imported only here and only when chosen, so a
polling bot never pays for importing watchfiles.  The backends themselves
import only :mod:`~tgstats.hotreload.targets` and :mod:`~tgstats.hotreload.watcher`.
"""

from __future__ import annotations

import sys

from tgstats.config import WatcherKind
from tgstats.hotreload.targets import WatchTargets
from tgstats.hotreload.watcher import Watcher

__all__ = ["create_watcher", "native_available"]


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


def create_watcher(kind: WatcherKind, targets: WatchTargets, *, interval: float) -> Watcher:
    """The backend named by ``settings.watcher``; ``auto`` prefers native."""
    if kind == "auto":
        kind = "native" if native_available() else "poll"
    if kind == "native":
        from tgstats.hotreload.native import NativeWatcher

        return NativeWatcher(targets, interval=interval)
    if kind == "poll":
        from tgstats.hotreload.poll import PollWatcher

        return PollWatcher(targets, interval=interval)
    raise ValueError(f"settings.watcher: expected poll, native or auto, found {kind!r}")
