"""Import a plugin class and validate its config, without setting it up.

Used by ``tgstats plugins list/check`` and by the manager before ``setup``.
"""

from __future__ import annotations

import traceback
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import attrs

from tgstats.config import HostConfig, ResolvedConfig, resolve_plugin_config
from tgstats.errors import ConfigError, PluginLoadError
from tgstats.host.discovery import Discovery, PluginSpec
from tgstats.host.records import PluginRecord
from tgstats.host.router import Claims
from tgstats.logs import get_logger
from tgstats.plugins import Plugin
from tgstats.plugins._i18n import CatalogError, load_plugin_catalogs

__all__ = [
    "PreparedPlugin",
    "error_location",
    "inspect_plugins",
    "prepare_plugin",
    "problems_field",
]

log = get_logger(__name__)


@attrs.frozen
class PreparedPlugin:
    spec: PluginSpec
    plugin_cls: type[Plugin[Any]]
    config: ResolvedConfig

    def record(
        self, instance: Plugin[Any] | None = None, loaded_at: datetime | None = None
    ) -> PluginRecord:
        """The ``loaded`` record: imported and configured (and, given an
        ``instance``, set up and serving)."""
        return PluginRecord(
            name=self.spec.name,
            state="loaded",
            enabled=True,
            spec=self.spec,
            plugin_cls=self.plugin_cls,
            config=self.config,
            instance=instance,
            loaded_at=loaded_at,
        )


def error_location(exc: BaseException, spec: PluginSpec | None) -> tuple[str | None, int | None]:
    """(file, line) to report: a SyntaxError's own, a ConfigError's, else the
    deepest traceback frame inside the plugin's source dir."""
    if isinstance(exc, PluginLoadError) and (exc.file or exc.line):
        return exc.file, exc.line
    if isinstance(exc, SyntaxError) and exc.filename:
        return exc.filename, exc.lineno
    if isinstance(exc, ConfigError) and exc.path is not None:
        return str(exc.path), exc.line
    if spec is None or spec.source_dir is None:
        return None, None
    root = spec.source_dir
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _deepest_frame_in(current.__traceback__, root, spec)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return None, None


def _deepest_frame_in(
    tb: TracebackType | None, root: Path, spec: PluginSpec
) -> tuple[str, int] | None:
    found = None
    for frame, line in traceback.walk_tb(tb):
        filename = frame.f_code.co_filename
        if _inside(filename, root, spec):
            found = (filename, line)
    return found


def _inside(filename: str, root: Path, spec: PluginSpec) -> bool:
    if filename.startswith("<"):
        return False
    try:
        path = Path(filename).resolve()
    except OSError:
        return False
    if spec.is_package:
        return path.is_relative_to(root)
    return spec.source_file is not None and path == spec.source_file


def prepare_plugin(spec: PluginSpec, host_config: HostConfig) -> PreparedPlugin:
    """ep.load() + check it is a Plugin subclass + resolve its config.

    Raises PluginLoadError (with file/line) for a missing module, an import
    error, a non-plugin object or an invalid config.
    """
    try:
        obj = spec.entry_point.load()
    except SyntaxError as error:
        reason = f"syntax error: {error.msg}"
        raise _load_error(spec, reason, error) from error
    except ModuleNotFoundError as error:
        if error.name and spec.module.startswith(error.name) and spec.source_dir is None:
            reason = f"module {spec.module!r} not found (is {spec.distribution} installed?)"
        else:
            reason = f"cannot import {spec.module}: {type(error).__name__}: {error}"
        raise _load_error(spec, reason, error) from error
    except AttributeError as error:
        reason = f"entry point {spec.value!r}: {error}"
        raise _load_error(spec, reason, error) from error
    except (Exception, SystemExit) as error:  # a plugin's import-time code can do anything
        reason = f"importing {spec.module} raised {type(error).__name__}: {_one_line(error)}"
        raise _load_error(spec, reason, error) from error
    if not (isinstance(obj, type) and issubclass(obj, Plugin)) or obj is Plugin:
        found = f"class {obj.__qualname__}" if isinstance(obj, type) else type(obj).__name__
        reason = (
            f"entry point {spec.value!r} is {found}; expected a subclass of tgstats.plugins.Plugin"
        )
        raise PluginLoadError(spec.name, reason, file=_file_of(spec), line=None)
    config_cls = getattr(obj, "Config", None)
    if not (isinstance(config_cls, type) and attrs.has(config_cls)):
        reason = f"{obj.__qualname__}.Config must be an attrs class, found {config_cls!r}"
        raise PluginLoadError(spec.name, reason, file=_file_of(spec), line=None)
    try:
        config = resolve_plugin_config(
            spec.name, config_cls, plugin_yaml=spec.plugin_yaml, host_config=host_config
        )
    except ConfigError as error:
        raise _config_error(spec, error) from error
    except (TypeError, ValueError) as error:  # unresolvable type hints, a broken default
        reason = f"invalid Config class: {_one_line(error)}"
        raise _load_error(spec, reason, error) from error
    try:
        # Read now, so a broken .po fails this load (the previous version keeps serving).
        load_plugin_catalogs(obj)
    except CatalogError as error:
        reason = f"translation catalog: {error.message}"
        raise PluginLoadError(spec.name, reason, file=str(error.file), line=error.line) from error
    return PreparedPlugin(spec=spec, plugin_cls=obj, config=config)


def _config_error(spec: PluginSpec, error: ConfigError) -> PluginLoadError:
    """The plugin's config is invalid: one-line reason (the first problem and
    how many more), file:line of the first, and every problem's line."""
    reason = f"invalid config: {error.key}: {error.message}" if error.key else error.message
    if len(error.problems) > 1:
        reason += f" (and {len(error.problems) - 1} more)"
    file, line = error_location(error, spec)
    return PluginLoadError(spec.name, reason, file=file, line=line, problems=tuple(error.lines()))


def _load_error(spec: PluginSpec, reason: str, error: BaseException) -> PluginLoadError:
    file, line = error_location(error, spec)
    return PluginLoadError(spec.name, reason, file=file, line=line)


def problems_field(problems: tuple[str, ...]) -> dict[str, list[str]]:
    """``problems=[...]`` for a failure log event when a config had several
    problems (one problem is the event's own file/line/error already)."""
    return {"problems": list(problems)} if len(problems) > 1 else {}


def _file_of(spec: PluginSpec) -> str | None:
    return str(spec.source_file) if spec.source_file else None


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def inspect_plugins(host_config: HostConfig, discovery: Discovery) -> list[PluginRecord]:
    """Records for every discovered plugin: disabled, failed (with reason) or
    loaded (imported, config valid, commands free; no setup). Sorted by name,
    which is also the order the plugins claim their commands in, as at start."""
    records: list[PluginRecord] = []
    claims = Claims.host()
    for name in sorted({*discovery.plugins, *discovery.duplicates}):
        enabled = host_config.is_enabled(name)
        duplicate = discovery.duplicates.get(name)
        if duplicate is not None:
            records.append(PluginRecord.duplicate(duplicate, enabled=enabled))
            continue
        spec = discovery.plugins[name]
        if not enabled:
            records.append(PluginRecord.disabled(name, spec))
            continue
        try:
            prepared = prepare_plugin(spec, host_config)
            claims = claims.claim(name, prepared.plugin_cls)
        except PluginLoadError as error:
            log.error(
                "plugin_load_failed",
                plugin=name,
                reason=error.message,
                file=error.file,
                line=error.line,
                **problems_field(error.problems),
            )
            records.append(
                PluginRecord.failed(
                    name,
                    spec,
                    error.message,
                    file=error.file,
                    line=error.line,
                    problems=error.problems,
                )
            )
            continue
        records.append(prepared.record())
    return records
