"""Owns the live set of plugins: load, unload, and staged reload with rollback.

CONTRACT (implementation owned by the hot-reload work; the bot and demo use
exactly these names).

Reload sequence for each affected plugin (see the hot-reload guide):
  invalidate import caches -> purge the plugin's own modules (top-level
  package and submodules only) -> re-read config files -> import the new
  version from source (never from .pyc) and set it up beside the old one ->
  hand (old, new) to the swap callback, which swaps handlers between updates
  -> shut the old instance down and cancel its tasks.
On any failure before the swap the old modules go back into sys.modules, the
old instance keeps serving, ``plugin_reload_failed`` is logged with plugin,
file, line and error, and ``on_failure`` is called (the bot tells admins).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

import attrs

from tgstats.config import HostConfig
from tgstats.plugins.api import PluginHost
from tgstats.plugins.discovery import PluginSpec
from tgstats.plugins.records import PluginRecord

__all__ = ["PluginChange", "PluginManager", "ReloadReport"]


@attrs.frozen
class PluginChange:
    """One plugin's before/after around a swap; either side may be None
    (newly loaded / unloaded)."""

    name: str
    old: PluginRecord | None
    new: PluginRecord | None


@attrs.frozen
class ReloadReport:
    reloaded: tuple[str, ...]  # swapped in successfully (includes newly loaded)
    unloaded: tuple[str, ...]  # disabled or uninstalled
    failed: tuple[PluginRecord, ...]  # kept the old version (or stayed failed)
    duration_ms: float

    @property
    def ok(self) -> bool:
        return not self.failed


SwapCallback = Callable[[list[PluginChange]], Awaitable[None]]
FailureCallback = Callable[[PluginRecord], Awaitable[None]]
HostFactory = Callable[[PluginSpec], PluginHost]


class PluginManager:
    def __init__(
        self,
        *,
        config_path: Path,
        host_factory: HostFactory,
        on_swap: SwapCallback | None = None,
        on_failure: FailureCallback | None = None,
    ) -> None:
        raise NotImplementedError

    @property
    def host_config(self) -> HostConfig: ...

    async def start(self) -> ReloadReport:
        """Discover and load (import, validate, set up) every enabled plugin."""
        raise NotImplementedError

    async def reload(
        self, names: Iterable[str] | None = None, *, config_changed: bool = False
    ) -> ReloadReport:
        """Reload ``names`` (None: all). ``config_changed`` re-reads plugins.yaml
        and re-evaluates every plugin, touching only those whose enabled flag or
        effective config changed. The manual /reload path calls this too."""
        raise NotImplementedError

    async def rediscover(self) -> ReloadReport:
        """Pick up installed/uninstalled distributions (replaying new .pth files)."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Shut every plugin down (in-flight work finishes first)."""
        raise NotImplementedError

    def get_plugin(self, name: str) -> PluginRecord | None: ...

    def list_plugins(self) -> list[PluginRecord]: ...

    def watched_files(self, name: str) -> list[Path]:
        """Files whose change reloads ``name`` (per watch/ignore patterns)."""
        raise NotImplementedError
