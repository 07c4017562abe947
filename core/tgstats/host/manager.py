"""Owns the live set of plugins: load, unload, and staged reload with rollback.

The bot and the demo drive plugins only through this class; the reloader
(:mod:`tgstats.hotreload.reloader`) calls ``reload`` and ``rediscover`` on it.

Reload sequence for each affected plugin:
  invalidate import caches -> purge the plugin's own modules (top-level
  package and submodules only) -> re-read config files -> import the new
  version from source (never from .pyc) -> claim its commands
  (:mod:`tgstats.host.router`) -> set it up beside the old one -> hand
  (old, new) to the swap callback, which swaps the bot's command table ->
  shut the old instance down and cancel its tasks.
On any failure before the swap the old modules go back into sys.modules, the
old instance keeps serving (its record carries the ``reload_failure``),
``plugin_reload_failed`` is logged with plugin, file, line and error, and
``on_failure`` is called with the plugin's current record (the bot tells the
admins).  When a plugin that failed loads cleanly again, ``on_recovery`` is
called.  A bad plugins.yaml is a :class:`~tgstats.host.records.ConfigProblem`,
reported the same two ways.

A plugin refused because another owns its command is retried in the same
call as soon as a swap frees that command (the owner dropped it or was
unloaded), so it needs no edit of its own to load.

``on_swap`` is called once per pass of a round (``start()`` included, with
every loaded plugin as ``old=None``) with all the changes of that pass, so the
bot has one place that swaps its route table.  Every round (file change, config
change, rediscovery, manual reload) runs under one asyncio lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import linecache
import time
import typing
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from tgstats.config import HostConfig, load_host_config, resolve_plugin_config
from tgstats.errors import ConfigError, DuplicatePluginError, PluginLoadError
from tgstats.host.discovery import Discovery, PluginSpec, discover_plugins
from tgstats.host.forgetting import FORGET_TIMEOUT, forget_member
from tgstats.host.importing import (
    PthReplayer,
    SourceOnlyFinder,
    metadata_dirs,
    purge_modules,
    restore_modules,
)
from tgstats.host.loading import error_location, prepare_plugin, problems_field
from tgstats.host.records import ConfigProblem, PluginRecord, ReloadFailure
from tgstats.host.router import Claims, CommandClashError
from tgstats.hotreload.targets import WatchTargets
from tgstats.logs import get_logger
from tgstats.plugins import PluginHost

__all__ = ["PluginChange", "PluginManager", "ReloadReport"]

log = get_logger(__name__)


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
    config_problem: ConfigProblem | None = None  # plugins.yaml unreadable, previous kept

    @property
    def ok(self) -> bool:
        return not self.failed and self.config_problem is None


SwapCallback = Callable[[list[PluginChange]], Awaitable[None]]
# A failed plugin or plugins.yaml; on recovery, the plugin's new record or the
# problem that went away.
FailureCallback = Callable[[PluginRecord | ConfigProblem], Awaitable[None]]
HostFactory = Callable[[PluginSpec], PluginHost]


@attrs.define
class _Outcome:
    """What one pass of a round did (a round is one pass plus any retries)."""

    reloaded: list[str] = attrs.field(factory=list)
    unloaded: list[str] = attrs.field(factory=list)
    failed: dict[str, PluginRecord] = attrs.field(factory=dict)


@attrs.define
class _Staged:
    """A new version set up beside the old one, waiting for the swap."""

    name: str
    old: PluginRecord | None
    new: PluginRecord
    host: PluginHost
    top_level: str
    saved: dict[str, Any]  # the old modules, for a rollback
    claims: Claims  # the round's command claims with this version's commands


class PluginManager:
    def __init__(
        self,
        *,
        config_path: Path,
        host_factory: HostFactory,
        on_swap: SwapCallback | None = None,
        on_failure: FailureCallback | None = None,
        hook_timeout: float | None = None,
        on_recovery: FailureCallback | None = None,
    ) -> None:
        """``hook_timeout``: seconds each plugin's ``setup()`` and ``shutdown()``
        may take before they are cancelled and count as failed (None: no
        bound, as in the bot; ``tgstats plugins check`` sets one)."""
        self.config_path = Path(config_path)
        self._hook_timeout = hook_timeout
        self._host_factory = host_factory
        self._on_swap = on_swap
        self._on_failure = on_failure
        self._on_recovery = on_recovery
        self._config_problem: ConfigProblem | None = None
        # plugin -> the command it was refused because someone else owns it
        self._blocked: dict[str, str] = {}
        self._config: HostConfig | None = None
        self._specs: dict[str, PluginSpec] = {}
        self._records: dict[str, PluginRecord] = {}
        self._hosts: dict[str, PluginHost] = {}  # host of each live instance
        self._lock = asyncio.Lock()
        self._finder = SourceOnlyFinder()
        self._pth = PthReplayer()

    # -- queries -----------------------------------------------------------

    @property
    def host_config(self) -> HostConfig:
        if self._config is None:
            self._config = load_host_config(self.config_path)
        return self._config

    def get_plugin(self, name: str) -> PluginRecord | None:
        return self._records.get(name)

    @property
    def config_problem(self) -> ConfigProblem | None:
        """Why the last reload of plugins.yaml failed, while the previous config serves."""
        return self._config_problem

    def claims(self) -> Claims:
        """The commands of the host and of every serving plugin."""
        return self._live_claims(exclude=())

    def list_plugins(self) -> list[PluginRecord]:
        return [self._records[name] for name in sorted(self._records)]

    def watch_roots(self) -> dict[str, Path]:
        """Source directory of every enabled plugin (failed ones too: fixing
        the file must load them)."""
        config = self.host_config
        return {
            name: spec.source_dir
            for name, spec in sorted(self._specs.items())
            if spec.source_dir is not None and config.is_enabled(name)
        }

    def watch_targets(self) -> WatchTargets:
        """What the reloader's watcher looks at, from the current plugins and settings."""
        settings = self.host_config.settings
        return WatchTargets(
            roots=tuple(sorted(set(self.watch_roots().values()))),
            files=(self.config_path.resolve(),),
            meta_dirs=tuple(metadata_dirs()),
            watch_patterns=tuple(settings.watch_patterns),
            ignore_patterns=tuple(settings.ignore_patterns),
        )

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> ReloadReport:
        """Discover and load (import, validate, set up) every enabled plugin.

        Raises ConfigError (ConfigErrors: every problem) for an invalid
        plugins.yaml (nothing to fall back on at start); a broken plugin
        becomes a failed record instead."""
        async with self._lock:
            # Parsing runs in a thread: a large or hostile file must not stall the bot.
            self._config = await asyncio.to_thread(load_host_config, self.config_path)
            self._finder.install()
            return await self._round(names=None, config_changed=False, rediscover=True, first=True)

    async def reload(
        self, names: Iterable[str] | None = None, *, config_changed: bool = False
    ) -> ReloadReport:
        """Reload ``names`` (None: all). ``config_changed`` re-reads plugins.yaml
        and re-evaluates every plugin, touching only those whose enabled flag or
        effective config changed. The manual /reload path calls this too.

        ``names=None`` also re-resolves entry points (new and removed installs),
        so ``reload(None, config_changed=True)`` is the complete manual reload."""
        selected = None if names is None else set(names)
        async with self._lock:
            return await self._round(
                names=selected, config_changed=config_changed, rediscover=selected is None
            )

    async def reload_all(self) -> ReloadReport:
        """The manual reload (``/reload``, SIGHUP): re-read plugins.yaml, pick up
        installs and uninstalls, and reload every plugin, in one round."""
        return await self.reload(None, config_changed=True)

    async def rediscover(self) -> ReloadReport:
        """Pick up installed/uninstalled distributions (replaying new .pth files)."""
        async with self._lock:
            return await self._round(names=set(), config_changed=False, rediscover=True)

    async def stop(self) -> list[PluginRecord]:
        """Shut every plugin down (in-flight work finishes first); returns a
        failed record for each plugin whose ``shutdown()`` raised."""
        failed: list[PluginRecord] = []
        async with self._lock:
            for name in sorted(self._records):
                record = self._records[name]
                if record.instance is not None:
                    error = await self._shutdown(record, self._hosts.pop(name, None))
                    if error is not None:
                        file, line = error_location(error, record.spec)
                        reason = (
                            str(error)
                            if isinstance(error, _HookTimeout)
                            else f"shutdown raised {_describe(error)}"
                        )
                        failed.append(
                            PluginRecord.failed(name, record.spec, reason, file=file, line=line)
                        )
            self._records.clear()
            self._hosts.clear()
            self._finder.uninstall()
        return failed

    async def forget_member(self, chat_id: int | None, user_id: int) -> list[str]:
        """Ask every loaded plugin to forget the member (chat_id None: every chat);
        returns the names of the plugins that raised or timed out.  Waits for a
        reload in progress, so the versions that serve afterwards are the ones asked."""
        async with self._lock:
            return await forget_member(
                self.list_plugins(), chat_id, user_id, timeout=self._hook_timeout or FORGET_TIMEOUT
            )

    # -- one round ---------------------------------------------------------

    async def _round(
        self,
        *,
        names: set[str] | None,
        config_changed: bool,
        rediscover: bool = False,
        first: bool = False,
    ) -> ReloadReport:
        started = time.perf_counter()
        troubled = {name for name, record in self._records.items() if _troubled(record)}
        old_config = self.host_config
        config = old_config
        problem = fixed = None
        if config_changed:
            try:
                config = await asyncio.to_thread(load_host_config, self.config_path)
            except ConfigError as exc:
                problem = self._config_failed(exc)
                config_changed = False  # keep the previous config, touch nothing for it
            else:
                fixed, self._config_problem = self._config_problem, None
        outcome = await self._pass(names, config_changed, rediscover, old_config, config, first)
        # A swap may have freed a command some plugin was refused: retry those
        # now (bounded: a retry that frees nothing ends the loop).
        for _ in range(len(self._specs)):
            retry = self._unblocked()
            if not retry:
                break
            log.info("retrying_plugins", plugins=sorted(retry), reason="command freed")
            again = await self._pass(retry, False, False, config, config, first)
            for name in again.reloaded:
                outcome.failed.pop(name, None)
                if name not in outcome.reloaded:
                    outcome.reloaded.append(name)
            outcome.failed.update(again.failed)
            outcome.unloaded += again.unloaded
        reloaded = tuple(outcome.reloaded)
        if reloaded or outcome.unloaded:
            _clear_typing_caches()
        duration_ms = (time.perf_counter() - started) * 1000
        if not first and (reloaded or outcome.unloaded):
            log.info(
                "plugins_reloaded",
                count=len(reloaded),
                plugins=list(reloaded),
                duration_ms=round(duration_ms, 1),
            )
        failed = tuple(outcome.failed.values())
        if not first:
            recovered = [
                record
                for name in reloaded
                if name in troubled
                and (record := self._records.get(name)) is not None
                and not _troubled(record)
            ]
            # The plugin's record as it stands now: serving an older version
            # (with its reload_failure) or not loaded at all.
            current = [self._records.get(record.name, record) for record in failed]
            await self._tell(self._on_failure, [*current, *filter(None, [problem])])
            await self._tell(self._on_recovery, [*recovered, *filter(None, [fixed])])
        return ReloadReport(
            reloaded=reloaded,
            unloaded=tuple(outcome.unloaded),
            failed=failed,
            duration_ms=duration_ms,
            config_problem=problem,
        )

    async def _tell(
        self, callback: FailureCallback | None, subjects: list[PluginRecord | ConfigProblem]
    ) -> None:
        if callback is None:
            return
        for subject in subjects:
            try:
                await callback(subject)
            except Exception as exc:
                log.error("plugin_failure_callback_failed", plugin=subject.name, error=repr(exc))

    async def _pass(
        self,
        names: set[str] | None,
        config_changed: bool,
        rediscover: bool,
        old_config: HostConfig,
        config: HostConfig,
        first: bool,
    ) -> _Outcome:
        """Plan, stage, swap and shut down once; the round's one step."""
        outcome = _Outcome()
        specs, duplicates = self._specs, {}
        if rediscover:
            self._pth.replay()
            importlib.invalidate_caches()
            found: Discovery = discover_plugins()
            specs, duplicates = dict(found.plugins), dict(found.duplicates)

        to_load, to_unload = self._plan(
            names, config_changed, specs, duplicates, old_config, config
        )
        self._finder.packages = {spec.top_level for spec in specs.values()}
        if (to_load or to_unload) and not first:
            log.info("reloading_plugins", plugins=sorted({*to_load, *to_unload}))
        # Serving plugins keep their commands; the ones loaded now claim theirs
        # in name order (to_load is sorted), each after the ones before it.
        claims = self._live_claims(exclude=to_unload)
        staged: list[_Staged] = []
        for name in to_load:
            staging = await self._stage(name, specs[name], config, claims, first=first)
            if isinstance(staging, _Staged):
                staged.append(staging)
                claims = staging.claims
            else:
                outcome.failed[name] = staging

        changes = [PluginChange(s.name, self._live(s.name), s.new) for s in staged]
        changes += [PluginChange(name, self._records[name], None) for name in to_unload]
        if changes and self._on_swap is not None:
            try:
                await self._on_swap(changes)
            except Exception as exc:
                for record in await self._swap_failed(staged, exc):
                    outcome.failed[record.name] = record
                staged, to_unload = [], []
        del changes

        for item in staged:
            old_host = self._hosts.pop(item.name, None)
            self._records[item.name] = item.new
            self._hosts[item.name] = item.host
            if item.old is not None and item.old.instance is not None:
                await self._shutdown(item.old, old_host)
        for name in to_unload:
            old = self._records.pop(name)
            await self._shutdown(old, self._hosts.pop(name, None))
            if old.spec is not None:
                purge_modules(old.spec.top_level)
        self._config = config
        self._specs = specs
        self._refresh_idle_records(specs, duplicates, config)
        outcome.reloaded = [item.name for item in staged]
        outcome.unloaded = list(to_unload)
        staged.clear()  # the old records and modules must not outlive this round
        return outcome

    def _live_claims(self, *, exclude: Iterable[str]) -> Claims:
        skip = set(exclude)
        claims = Claims.host()
        for name in sorted(self._records):
            live = self._live(name)
            if live is not None and name not in skip:
                assert live.instance is not None
                claims = claims.claim(name, live.plugin_cls or type(live.instance))
        return claims

    def _unblocked(self) -> set[str]:
        """Plugins refused for a command that nobody owns any more."""
        claims = self.claims()
        config = self.host_config
        return {
            name
            for name, command in self._blocked.items()
            if claims.is_free(command) and name in self._specs and config.is_enabled(name)
        }

    def _live(self, name: str) -> PluginRecord | None:
        record = self._records.get(name)
        return record if record is not None and record.instance is not None else None

    def _plan(
        self,
        names: set[str] | None,
        config_changed: bool,
        specs: dict[str, PluginSpec],
        duplicates: dict[str, DuplicatePluginError],
        old_config: HostConfig,
        config: HostConfig,
    ) -> tuple[list[str], list[str]]:
        """(plugins to load or reload, live plugins to unload)."""
        to_load: list[str] = []
        to_unload: list[str] = []
        for name in sorted({*specs, *self._records, *duplicates}):
            live = self._live(name)
            spec = specs.get(name)
            if spec is None or not config.is_enabled(name):
                if live is not None:
                    to_unload.append(name)
                continue
            if names is None or name in names:
                to_load.append(name)
            elif live is None:
                previous = self._specs.get(name)
                newly_installed = previous is None or previous != spec
                entry_changed = old_config.entry(name) != config.entry(name)
                if newly_installed or (config_changed and entry_changed):
                    to_load.append(name)
            elif self._specs.get(name) != spec or (
                config_changed and self._config_differs(live, spec, config)
            ):
                to_load.append(name)
        return to_load, to_unload

    def _config_differs(self, live: PluginRecord, spec: PluginSpec, config: HostConfig) -> bool:
        if live.plugin_cls is None or live.config is None:
            return True
        try:
            resolved = resolve_plugin_config(
                live.name,
                live.plugin_cls.Config,
                plugin_yaml=spec.plugin_yaml,
                host_config=config,
            )
        except (ConfigError, TypeError, ValueError):
            return True  # the reload reports the error and keeps the old version
        return resolved.effective() != live.config.effective()

    async def _stage(
        self, name: str, spec: PluginSpec, config: HostConfig, claims: Claims, *, first: bool
    ) -> _Staged | PluginRecord:
        """Import, claim the commands of and set up the new version beside the
        old; on failure put the old modules back and return a failed record."""
        live = self._live(name)
        importlib.invalidate_caches()
        linecache.checkcache()  # tracebacks must show the new source lines
        saved = purge_modules(spec.top_level)
        host: PluginHost | None = None
        try:
            prepared = prepare_plugin(spec, config)
            claims = claims.claim(name, prepared.plugin_cls)  # before setup: no wasted work
            for source in prepared.config.sources:
                log.info("plugin_config_loaded", plugin=name, path=str(source))
            host = self._host_factory(spec)
            instance = prepared.plugin_cls(prepared.config.value, host)
            await self._bounded(instance.setup(), "setup()")
        except BaseException as exc:
            restore_modules(spec.top_level, saved if live is not None else {})
            if host is not None:
                await _close_host(host)
            if not isinstance(exc, Exception | SystemExit):
                raise
            record = self._failed_record(name, spec, exc, first=first)
            if isinstance(exc, CommandClashError):
                self._blocked[name] = exc.command
            else:
                self._blocked.pop(name, None)
            if live is None:
                self._records[name] = record
            else:
                live.reload_failure = _reload_failure(record)
            return record
        self._blocked.pop(name, None)
        new = prepared.record(instance, loaded_at=datetime.now(UTC))
        return _Staged(name, live, new, host, spec.top_level, saved, claims)

    def _failed_record(
        self, name: str, spec: PluginSpec, exc: BaseException, *, first: bool
    ) -> PluginRecord:
        problems: tuple[str, ...] = ()
        if isinstance(exc, PluginLoadError):
            reason, file, line, problems = exc.message, exc.file, exc.line, exc.problems
        elif isinstance(exc, _HookTimeout):
            file, line = error_location(exc, spec)  # where setup() was waiting
            reason = str(exc)
        else:
            file, line = error_location(exc, spec)
            reason = f"setup raised {_describe(exc)}"
        event = "plugin_load_failed" if first else "plugin_reload_failed"
        log.error(
            event, plugin=name, file=file, line=line, error=reason, **problems_field(problems)
        )
        return PluginRecord.failed(name, spec, reason, file=file, line=line, problems=problems)

    def _config_failed(self, exc: ConfigError) -> ConfigProblem:
        path = str(exc.path) if exc.path is not None else str(self.config_path)
        text = str(exc) if exc.path is not None else f"{path}: {exc}"
        log.error(
            "config_reload_failed",
            path=path,
            line=exc.line,
            error=text,
            **problems_field(tuple(exc.lines())),
        )
        self._config_problem = ConfigProblem(path=path, line=exc.line, text=text)
        return self._config_problem

    async def _swap_failed(self, staged: list[_Staged], exc: Exception) -> list[PluginRecord]:
        """The swap callback raised: undo every staged plugin of this round."""
        log.error("plugin_swap_failed", plugins=[s.name for s in staged], error=repr(exc))
        failed = []
        for item in staged:
            assert item.new.instance is not None
            await self._shutdown(item.new, item.host)
            restore_modules(item.top_level, item.saved if item.old is not None else {})
            record = PluginRecord.failed(
                item.name, item.new.spec, f"swapping handlers failed: {exc!r}"
            )
            if item.old is not None:
                item.old.reload_failure = _reload_failure(record)
            failed.append(record)
        return failed

    def _refresh_idle_records(
        self,
        specs: dict[str, PluginSpec],
        duplicates: dict[str, DuplicatePluginError],
        config: HostConfig,
    ) -> None:
        """Records of plugins that run no instance: disabled, duplicate, uninstalled."""
        for name in list(self._blocked):
            if name not in specs or not config.is_enabled(name):
                del self._blocked[name]
        for name in list(self._records):
            if name not in specs and name not in duplicates and self._live(name) is None:
                del self._records[name]
        for name, spec in specs.items():
            if not config.is_enabled(name) and self._live(name) is None:
                self._records[name] = PluginRecord.disabled(name, spec)
        for name, error in duplicates.items():
            if self._live(name) is None:
                self._records[name] = PluginRecord.duplicate(error, enabled=config.is_enabled(name))

    async def _shutdown(self, record: PluginRecord, host: PluginHost | None) -> Exception | None:
        """Shut ``record``'s instance down and close its host; returns what
        ``shutdown()`` raised (logged, never propagated)."""
        instance = record.instance
        failure = None
        if instance is not None:
            try:
                await self._bounded(instance.shutdown(), "shutdown()")
            except Exception as exc:
                log.error("plugin_shutdown_failed", plugin=record.name, error=repr(exc))
                failure = exc
        if host is not None:
            await _close_host(host)
        return failure

    async def _bounded(self, hook: Awaitable[None], what: str) -> None:
        """Await a plugin hook, cancelled after ``hook_timeout`` seconds."""
        if self._hook_timeout is None:
            await hook
            return
        try:
            async with asyncio.timeout(self._hook_timeout):
                await hook
        except TimeoutError as exc:
            raise _HookTimeout(f"{what} did not finish within {self._hook_timeout:g} s") from exc


class _HookTimeout(TimeoutError):
    """A plugin's setup() or shutdown() ran past the manager's hook_timeout."""


def _describe(exc: BaseException) -> str:
    """``TypeError: first line of the message`` (just the type if it has none)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _troubled(record: PluginRecord) -> bool:
    """Failed, or serving an older version because the newest one failed."""
    return record.state == "failed" or record.reload_failure is not None


def _reload_failure(record: PluginRecord) -> ReloadFailure:
    return ReloadFailure(
        record.reason or "unknown error", record.error_file, record.error_line, record.problems
    )


def _clear_typing_caches() -> None:
    """Let go of old plugin classes held by typing's subscription cache.

    ``class P(Plugin[Config])`` caches the alias ``Plugin[Config]`` in the LRU
    cache (128 entries) behind ``Generic.__class_getitem__``, which keeps up to
    128 old Config classes (and their attrs-generated code) alive after their
    plugin was unloaded: about 14 MB over 1,000 reloads.  Only that cache is
    cleared (user generics are rarely subscripted at run time); the caches of
    ``Mapping[str, Any]``-style aliases stay warm.  ``typing._cleanups`` is
    what CPython's own test runner clears; if its shape changes, we skip.
    """
    for clear in getattr(typing, "_cleanups", ()):
        wrapped = getattr(getattr(clear, "__self__", None), "__wrapped__", None)
        if getattr(wrapped, "__qualname__", None) == "Generic.__class_getitem__":
            with contextlib.suppress(Exception):
                clear()


async def _close_host(host: PluginHost) -> None:
    close = getattr(host, "close", None)
    if close is not None:
        await close()
