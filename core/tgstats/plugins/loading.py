"""Import a plugin class and validate its config, without setting it up.

CONTRACT (implementation owned by the plugin-host work).  Used by
``tgstats plugins list/check`` and by the manager before ``setup``.
"""

from __future__ import annotations

from typing import Any

import attrs

from tgstats.config import HostConfig, ResolvedConfig
from tgstats.plugins.api import Plugin
from tgstats.plugins.discovery import Discovery, PluginSpec
from tgstats.plugins.records import PluginRecord

__all__ = ["PreparedPlugin", "error_location", "inspect_plugins", "prepare_plugin"]


@attrs.frozen
class PreparedPlugin:
    spec: PluginSpec
    plugin_cls: type[Plugin[Any]]
    config: ResolvedConfig


def error_location(exc: BaseException, spec: PluginSpec | None) -> tuple[str | None, int | None]:
    """(file, line) to report: a SyntaxError's own, a ConfigError's, else the
    deepest traceback frame inside the plugin's source dir."""
    raise NotImplementedError


def prepare_plugin(spec: PluginSpec, host_config: HostConfig) -> PreparedPlugin:
    """ep.load() + check it is a Plugin subclass + resolve its config.

    Raises PluginLoadError (with file/line) for a missing module, an import
    error, a non-plugin object or an invalid config.
    """
    raise NotImplementedError


def inspect_plugins(host_config: HostConfig, discovery: Discovery) -> list[PluginRecord]:
    """Records for every discovered plugin: disabled, failed (with reason) or
    loaded (imported and config valid; no setup). Sorted by name."""
    raise NotImplementedError
