"""The interface every watcher backend implements.

A backend (``poll``, ``native``) watches a :class:`~tgstats.hotreload.targets.WatchTargets`
and reports the *paths that changed* (modified, created, deleted, or a
metadata entry added/removed in a ``sys.path`` directory) through
``on_change``, called on the event loop.  It decides nothing: the reloader
debounces the reports and decides what to reload.

Every backend implements every member below, as a no-op where it does not
apply (each says why), so the reloader never asks a backend what it can do.
:mod:`tgstats.hotreload.backends` picks and builds one.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, Literal

from tgstats.hotreload.targets import WatchTargets

__all__ = ["BackendName", "ChangeCallback", "FailureCallback", "Watcher"]

ChangeCallback = Callable[[set[Path]], None]
FailureCallback = Callable[[BaseException], None]
BackendName = Literal["poll", "native"]


class Watcher(abc.ABC):
    """One running watch over a set of targets.

    Built with ``(targets, *, interval=seconds)``; ``interval`` is the poll
    period (``settings.reload_check_interval``), which the reloader updates in
    place when plugins.yaml changes it.
    """

    backend: ClassVar[BackendName]  # the name in ``hot_reload_started backend=...``
    interval: float

    @abc.abstractmethod
    def start(self, on_change: ChangeCallback, on_failure: FailureCallback | None = None) -> None:
        """Begin watching; must be called with a running event loop.

        ``on_failure`` is called (on the loop) if the watch stops working for
        good, after the backend logged ``watcher_failed``; the reloader then
        falls back to polling."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop watching and wait until no callback can run any more."""

    @abc.abstractmethod
    def paths(self) -> list[Path]:
        """The files currently watched (for ``hot_reload_started files=N``)."""

    @abc.abstractmethod
    async def check(self) -> set[Path]:
        """Look once, now, and return what changed since the last report.

        The reloader calls this at the end of a debounce window, so that a
        burst spanning a poll tick still becomes one reload."""

    @abc.abstractmethod
    async def retarget(self, targets: WatchTargets) -> None:
        """Watch a new set of targets (after a reload changed plugins or patterns).

        Returns once the new targets are being watched: a save right after a
        newly installed plugin was loaded must not be missed."""
